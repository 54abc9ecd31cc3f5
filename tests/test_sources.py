"""Reading messages from every kind of source, streaming, with problems reported."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import lzma
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bouncetool.model import Problem, RawMessage
from bouncetool.sources import iter_messages
from bouncetool.sources import mbox as mbox_module
from bouncetool.sources import ranges as ranges_module
from bouncetool.sources.mbox import split_mbox
from bouncetool.sources.ranges import iter_range, mbox_ranges


def message(number: int, eol: bytes = b"\n") -> bytes:
    """A small bounce-like message; its number shows in the subject and the body."""
    lines = [
        b"From: MAILER-DAEMON@mx.example.net",
        b"To: sender@example.com",
        b"Subject: Undelivered Mail Returned to Sender #%d" % number,
        b"",
        b"<user%d@example.org>: host mx.example.org said: 550 5.1.1 User unknown" % number,
        b"",
    ]
    return eol.join(lines)


def mbox_of(messages: list[bytes], eol: bytes = b"\n") -> bytes:
    """An mbox holding `messages`, each after a From line and followed by a blank line."""
    return b"".join(
        b"From MAILER-DAEMON Mon Nov 23 10:00:00 2026" + eol + data + eol for data in messages
    )


def read(spec: str | Path) -> list[RawMessage | Problem]:
    return list(iter_messages(str(spec)))


def datas(items: list[RawMessage | Problem]) -> list[bytes]:
    return [item.data for item in items if isinstance(item, RawMessage)]


class TestMbox:
    """An mbox gives each message in order, numbered from 1, without its From line."""

    def test_messages_in_order(self, tmp_path: Path) -> None:
        path = tmp_path / "bounces.mbox"
        path.write_bytes(mbox_of([message(1), message(2), message(3)]))
        items = read(path)
        assert [(m.source, m.number) for m in items if isinstance(m, RawMessage)] == [
            (str(path), 1),
            (str(path), 2),
            (str(path), 3),
        ]
        assert datas(items) == [message(1), message(2), message(3)]

    def test_escaped_from_lines_are_restored(self, tmp_path: Path) -> None:
        body = message(1) + b">From the desk of the postmaster\n>>From quoted\n"
        path = tmp_path / "escaped.mbox"
        path.write_bytes(mbox_of([body, message(2)]))
        first, second = datas(read(path))
        assert b"\nFrom the desk of the postmaster\n>From quoted\n" in first
        assert second == message(2)

    def test_blank_lines_before_the_first_from_line(self, tmp_path: Path) -> None:
        path = tmp_path / "leading.mbox"
        path.write_bytes(b"\n\n" + mbox_of([message(1), message(2)]))
        assert datas(read(path)) == [message(1), message(2)]

    def test_a_from_line_without_a_message(self, tmp_path: Path) -> None:
        path = tmp_path / "hollow.mbox"
        path.write_bytes(b"From nobody Mon Nov 23 10:00:00 2026\n" + mbox_of([message(2)]))
        assert datas(read(path)) == [b"", message(2)]


class TestLineEndings:
    """LF, CRLF and CR-only mboxes all split; CR-only lines are handed on as LF."""

    def test_crlf_keeps_its_line_endings(self, tmp_path: Path) -> None:
        path = tmp_path / "crlf.mbox"
        path.write_bytes(mbox_of([message(1, b"\r\n"), message(2, b"\r\n")], b"\r\n"))
        assert datas(read(path)) == [message(1, b"\r\n"), message(2, b"\r\n")]

    def test_cr_only_splits_and_becomes_lf(self, tmp_path: Path) -> None:
        path = tmp_path / "mac.mbox"
        path.write_bytes(mbox_of([message(1, b"\r"), message(2, b"\r")], b"\r"))
        assert datas(read(path)) == [message(1), message(2)]

    def test_cr_only_single_message_becomes_lf(self, tmp_path: Path) -> None:
        path = tmp_path / "mac.eml"
        path.write_bytes(message(7, b"\r"))
        assert datas(read(path)) == [message(7)]

    @given(
        bodies=st.lists(st.binary(max_size=60), min_size=1, max_size=6),
        eol=st.sampled_from([b"\n", b"\r\n"]),
        cut=st.integers(min_value=1, max_value=13),
    )
    def test_split_does_not_depend_on_chunk_size(
        self, bodies: list[bytes], eol: bytes, cut: int
    ) -> None:
        # Bodies are made mbox-safe the way a writer would: no line may start
        # with "From " or ">From " unescaped, and each ends with a line ending.
        safe = [b"X: " + body.replace(b"\r", b"").replace(b"\n", b" ") + eol for body in bodies]
        whole = mbox_of(safe, eol)
        chunks = [whole[i : i + cut] for i in range(0, len(whole), cut)]
        assert list(split_mbox(chunks)) == safe


class TestChunksUntouched:
    """Splitting only reads the chunks: a bytearray chunk is left as it came."""

    @pytest.mark.parametrize("cut", [1, 7, 10**6])
    def test_bytearray_chunks(self, cut: int) -> None:
        whole = b"\n\n" + mbox_of([message(1), message(2) + b">From x\n", message(3)])
        chunks = [bytearray(whole[i : i + cut]) for i in range(0, len(whole), cut)]
        copies = [bytes(chunk) for chunk in chunks]
        got = list(split_mbox(chunks))
        assert got == [message(1), message(2) + b"From x\n", message(3)]
        assert all(isinstance(data, bytes) for data in got)
        assert [bytes(chunk) for chunk in chunks] == copies


class TestEscapesAcrossChunks:
    """Escaped From lines are restored in every line-ending style, wherever the chunks are cut."""

    @pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
    def test_every_cut(self, eol: bytes) -> None:
        escaped = (
            b"A: 1" + eol + b">From one" + eol + b">>>>>>From deep" + eol + b"x >From mid" + eol
        )
        plain = b"B: 2" + eol + b"From-less" + eol
        whole = mbox_of([escaped, plain, escaped], eol)
        lf = eol if eol != b"\r" else b"\n"
        restored = b"A: 1" + lf + b"From one" + lf + b">>>>>From deep" + lf + b"x >From mid" + lf
        want = [restored, plain.replace(b"\r", b"\n") if eol == b"\r" else plain, restored]
        for cut in (1, 2, 3, 5, 8, 13, len(whole)):
            chunks = [whole[i : i + cut] for i in range(0, len(whole), cut)]
            assert list(split_mbox(chunks)) == want, cut


class TestSingleFiles:
    """A file that does not start with a From line is one message; an empty one is none."""

    def test_message_file(self, tmp_path: Path) -> None:
        path = tmp_path / "bounce.eml"
        path.write_bytes(message(1) + b"\nFrom here on, a From line inside the body\n")
        items = read(path)
        assert items == [RawMessage(str(path), 1, path.read_bytes())]

    @pytest.mark.parametrize("content", [b"", b" ", b"\n\r\n", b"\t \n"])
    def test_empty_or_blank_file_holds_nothing(self, tmp_path: Path, content: bytes) -> None:
        path = tmp_path / "empty"
        path.write_bytes(content)
        assert read(path) == []

    def test_mbox_without_from_line_is_one_message(self, tmp_path: Path) -> None:
        path = tmp_path / "no-from.mbox"
        path.write_bytes(b"22\n")
        assert read(path) == [RawMessage(str(path), 1, b"22\n")]


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


class TestCompression:
    """gzip, bzip2 and xz are recognised by their first bytes, not by the file name."""

    @pytest.mark.parametrize("kind", sorted(COMPRESSORS))
    def test_compressed_mbox(self, tmp_path: Path, kind: str) -> None:
        path = tmp_path / "bounces.txt"  # a name that says nothing
        path.write_bytes(COMPRESSORS[kind](mbox_of([message(1), message(2)])))
        assert datas(read(path)) == [message(1), message(2)]

    def test_plain_file_named_gz_is_read_plain(self, tmp_path: Path) -> None:
        path = tmp_path / "bounce.eml.gz"
        path.write_bytes(message(1))
        assert datas(read(path)) == [message(1)]

    def test_concatenated_gzip_members(self, tmp_path: Path) -> None:
        path = tmp_path / "two.gz"
        path.write_bytes(
            gzip.compress(mbox_of([message(1)])) + gzip.compress(mbox_of([message(2)]))
        )
        assert datas(read(path)) == [message(1), message(2)]

    @pytest.mark.parametrize(
        ("kind", "garbage"),
        [
            ("gzip", b"\x1f\x8b\x08garbage"),
            ("bzip2", b"BZh9garbage"),
            ("xz", b"\xfd7zXZ\x00garbage"),
        ],
    )
    def test_corrupt_compression_is_a_problem(
        self, tmp_path: Path, kind: str, garbage: bytes
    ) -> None:
        path = tmp_path / "corrupt"
        path.write_bytes(garbage * 50)
        [problem] = read(path)
        assert isinstance(problem, Problem)
        assert problem.source == str(path)
        assert problem.message is None
        assert problem.error.startswith(f"cannot read {kind} data: ")

    def test_truncated_gzip_keeps_the_messages_before_the_damage(self, tmp_path: Path) -> None:
        messages = [message(n) + b"x" * 2000 + b"\n" for n in range(1, 201)]
        whole = gzip.compress(mbox_of(messages))
        path = tmp_path / "truncated.gz"
        path.write_bytes(whole[: len(whole) // 2])
        items = read(path)
        *good, problem = items
        assert isinstance(problem, Problem)
        assert datas(good) == messages[: len(good)]
        assert 0 < len(good) < 200
        assert problem.message == len(good) + 1
        assert "ended before the end-of-stream marker" in problem.error


class TestUnreadable:
    """A source that cannot be opened is a Problem naming it; reading goes on."""

    def test_missing_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.mbox"
        assert read(missing) == [
            Problem(str(missing), None, "cannot open: No such file or directory")
        ]

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
    def test_unreadable_file(self, tmp_path: Path) -> None:
        path = tmp_path / "secret.mbox"
        path.write_bytes(mbox_of([message(1)]))
        path.chmod(0)
        assert read(path) == [Problem(str(path), None, "cannot open: Permission denied")]

    def test_folder_goes_on_after_a_bad_file(self, tmp_path: Path) -> None:
        (tmp_path / "a.gz").write_bytes(b"\x1f\x8bnot really gzip")
        (tmp_path / "b.eml").write_bytes(message(2))
        first, second = read(tmp_path)
        assert isinstance(first, Problem)
        assert first.source == str(tmp_path / "a.gz")
        assert second == RawMessage(str(tmp_path / "b.eml"), 1, message(2))


class TestMaildir:
    """A Maildir gives cur/ and new/ sorted by name; tmp/ and hidden files stay out."""

    def test_maildir(self, tmp_path: Path) -> None:
        for sub in ("cur", "new", "tmp"):
            (tmp_path / sub).mkdir()
        (tmp_path / "cur" / "1700000002.M2P1.host:2,S").write_bytes(message(2))
        (tmp_path / "new" / "1700000001.M1P1.host").write_bytes(message(1))
        (tmp_path / "new" / "1700000003.M3P1.host").write_bytes(message(3))
        (tmp_path / "tmp" / "1700000004.M4P1.host").write_bytes(message(4))
        (tmp_path / "cur" / ".hidden").write_bytes(message(5))
        (tmp_path / "dovecot-uidlist").write_bytes(b"3 V1 N4\n")
        items = read(tmp_path)
        assert datas(items) == [message(1), message(2), message(3)]
        assert [m.source for m in items if isinstance(m, RawMessage)] == [
            str(tmp_path / "new" / "1700000001.M1P1.host"),
            str(tmp_path / "cur" / "1700000002.M2P1.host:2,S"),
            str(tmp_path / "new" / "1700000003.M3P1.host"),
        ]


class TestFolder:
    """A folder gives every file sorted by name: mboxes split, other files one message each."""

    def test_mixed_folder(self, tmp_path: Path) -> None:
        (tmp_path / "b.mbox").write_bytes(mbox_of([message(2), message(3)]))
        (tmp_path / "a.eml").write_bytes(message(1))
        (tmp_path / "c.eml.xz").write_bytes(lzma.compress(message(4)))
        (tmp_path / ".hidden.eml").write_bytes(message(9))
        (tmp_path / "empty.eml").write_bytes(b"")
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "d.eml").write_bytes(message(5))
        items = read(tmp_path)
        placed = [(Path(m.source).name, m.number) for m in items if isinstance(m, RawMessage)]
        assert placed == [("a.eml", 1), ("b.mbox", 1), ("b.mbox", 2), ("c.eml.xz", 1), ("d.eml", 1)]
        assert datas(items) == [message(n) for n in (1, 2, 3, 4, 5)]


class TestStdin:
    """`-` reads standard input like a file, compressed or not."""

    def test_plain_mbox(self) -> None:
        stdin = io.BytesIO(mbox_of([message(1), message(2)]))
        items = list(iter_messages("-", stdin=stdin))
        assert items == [RawMessage("-", 1, message(1)), RawMessage("-", 2, message(2))]

    def test_gzip_message(self) -> None:
        stdin = io.BytesIO(gzip.compress(message(1)))
        assert list(iter_messages("-", stdin=stdin)) == [RawMessage("-", 1, message(1))]


class TestStreaming:
    """Memory stays flat: reading a large mbox holds about one message at a time."""

    def test_large_mbox_in_flat_memory(self, tmp_path: Path) -> None:
        path = tmp_path / "large.mbox"
        one = mbox_of([message(1) + b"y" * 3000 + b"\n"])
        with path.open("wb") as out:
            for _ in range(10_000):  # about 32 MB
                out.write(one)
        tracemalloc.start()
        try:
            count = sum(1 for _ in iter_messages(str(path)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert count == 10_000
        assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 32 MB mbox"


@pytest.mark.corpus
class TestCorpus:
    """The corpus files split into the message numbers truth.jsonl expects."""

    def test_message_numbers(self, corpus: Path, truth: list[dict[str, object]]) -> None:
        counts: dict[str, int] = {}
        for item in iter_messages(str(corpus / "emails")):
            assert isinstance(item, RawMessage), item
            counts[Path(item.source).name] = item.number
        assert counts.get("mbox-0") == 37
        assert counts.get("rfc3464-28.eml") == 2
        assert "size-0" not in counts
        assert "size-1" not in counts
        for row in truth:
            if row["message"] is not None and row["file"] not in {
                # Not mboxes: they start with headers, and a "From " line
                # further down is body text (see README, "Reading bounces").
                "lhost-postfix-49.eml",
                "lhost-postfix-50.eml",
            }:
                assert counts[str(row["file"])] >= int(str(row["message"])), row["file"]


class TestRanges:
    """An mbox cut into ranges gives the messages and numbers of reading it whole."""

    @pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
    @pytest.mark.parametrize("every", [1, 700, 5000, 10**9])
    def test_ranges_read_like_the_whole(self, tmp_path: Path, eol: bytes, every: int) -> None:
        path = tmp_path / "cut.mbox"
        bodies = [message(n, eol) + b"y" * (n * 37 % 900) + eol for n in range(1, 40)]
        path.write_bytes(eol * 2 + mbox_of(bodies, eol))
        cut = mbox_ranges(str(path), every)
        assert cut is not None
        parts = list(cut)
        assert parts[0].start == 0
        assert parts[-1].end == path.stat().st_size
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        pieces = [item for part in parts for item in iter_range(str(path), part)]
        assert pieces == read(path)

    @pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
    @pytest.mark.parametrize("read_size", [1, 5, 7, 64])
    def test_cuts_do_not_depend_on_read_size(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, eol: bytes, read_size: int
    ) -> None:
        # Separators straddle the reads of the scan; the cuts and numbers stay.
        path = tmp_path / "cut.mbox"
        bodies = [message(n, eol) + b"y" * (n * 37 % 300) + eol for n in range(1, 30)]
        path.write_bytes(eol + mbox_of(bodies, eol))
        whole = mbox_ranges(str(path), 500)
        assert whole is not None
        expected = list(whole)
        monkeypatch.setattr(ranges_module, "CHUNK_SIZE", read_size)
        small = mbox_ranges(str(path), 500)
        assert small is not None
        parts = list(small)
        assert parts == expected
        assert len(parts) > 5
        pieces = [item for part in parts for item in iter_range(str(path), part)]
        assert pieces == read(path)

    @pytest.mark.parametrize("whole", [0, 1 << 30])
    def test_read_whole_or_in_chunks_alike(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole: int
    ) -> None:
        # Ranges up to WHOLE_RANGE_BYTES are read in one go into a reused buffer,
        # larger ones in chunks (here 700 bytes: messages straddle them).
        path = tmp_path / "cut.mbox"
        bodies = [
            message(n) + b">From x\n" * (n % 3) + b"y" * (n * 37 % 900) + b"\n"
            for n in range(1, 40)
        ]
        path.write_bytes(mbox_of(bodies))
        monkeypatch.setattr(ranges_module, "WHOLE_RANGE_BYTES", whole)
        monkeypatch.setattr(ranges_module, "CHUNK_SIZE", 700)
        cut = mbox_ranges(str(path), 3000)
        assert cut is not None
        parts = list(cut)
        pieces = [item for part in parts for item in iter_range(str(path), part)]
        assert pieces == read(path)

    def test_ranges_read_side_by_side(self, tmp_path: Path) -> None:
        # Each range has a buffer of its own while it is read, even when the
        # next one starts before it is done (or it is never finished).
        path = tmp_path / "cut.mbox"
        path.write_bytes(
            mbox_of([message(n) + b"y" * (n * 53 % 700) + b"\n" for n in range(1, 60)])
        )
        cut = mbox_ranges(str(path), 2000)
        assert cut is not None
        parts = list(cut)
        expected = [list(iter_range(str(path), part)) for part in parts]
        abandoned = iter_range(str(path), parts[-1])
        next(abandoned)
        readers = [iter_range(str(path), part) for part in parts]
        got: list[list[RawMessage | Problem]] = [[] for _ in parts]
        for items in itertools.zip_longest(*readers):
            for index, item in enumerate(items):
                if item is not None:
                    got[index].append(item)
        assert got == expected
        assert len(parts) > 5

    def test_last_ranges_are_smaller(self, tmp_path: Path) -> None:
        # Processes that parse ranges side by side then run out of work together.
        path = tmp_path / "even.mbox"
        path.write_bytes(mbox_of([message(n) + b"y" * 900 + b"\n" for n in range(1, 401)]))
        every = 40_000
        cut = mbox_ranges(str(path), every)
        assert cut is not None
        sizes = [part.end - part.start for part in cut]
        assert sizes[0] >= every
        assert all(size >= every // ranges_module.SMALLEST for size in sizes[:-1])
        assert max(sizes[-4:]) < every // 2
        assert sum(sizes) == path.stat().st_size

    def test_not_an_mbox_is_not_cut(self, tmp_path: Path) -> None:
        plain = tmp_path / "one.eml"
        plain.write_bytes(message(1))
        packed = tmp_path / "packed.gz"
        packed.write_bytes(gzip.compress(mbox_of([message(1)])))
        assert mbox_ranges(str(plain), 10) is None
        assert mbox_ranges(str(packed), 10) is None
        assert mbox_ranges(str(tmp_path / "missing"), 10) is None


class TestTooLarge:
    """A message over the size limit is reported and skipped, never held; the others are read."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(mbox_module, "MAX_MESSAGE_BYTES", 5000)

    @pytest.mark.parametrize("cut", [1000, 1 << 20])
    def test_in_an_mbox(self, tmp_path: Path, cut: int) -> None:
        path = tmp_path / "big.mbox"
        huge = message(2) + b"z" * 20_000 + b"\n"
        path.write_bytes(mbox_of([message(1), huge, message(3), huge]))
        chunks = [path.read_bytes()[i : i + cut] for i in range(0, path.stat().st_size, cut)]
        assert list(split_mbox(chunks)) == [message(1), None, message(3), None]
        items = read(path)
        assert items[1] == Problem(str(path), 2, "message larger than 5,000 bytes: skipped")
        assert datas(items) == [message(1), message(3)]

    def test_single_message(self, tmp_path: Path) -> None:
        path = tmp_path / "big.eml"
        path.write_bytes(message(1) + b"z" * 20_000)
        assert read(path) == [Problem(str(path), 1, "message larger than 5,000 bytes: skipped")]

    def test_in_a_range(self, tmp_path: Path) -> None:
        path = tmp_path / "big.mbox"
        path.write_bytes(mbox_of([message(1), message(2) + b"z" * 20_000 + b"\n", message(3)]))
        cut = mbox_ranges(str(path), 10**9)
        assert cut is not None
        [part] = list(cut)
        assert [type(item).__name__ for item in iter_range(str(path), part)] == [
            "RawMessage",
            "Problem",
            "RawMessage",
        ]


class TestLinks:
    """A broken link in a folder is reported, not skipped; a link loop is read once."""

    def test_broken_link(self, tmp_path: Path) -> None:
        (tmp_path / "a.eml").write_bytes(message(1))
        (tmp_path / "b.eml").symlink_to(tmp_path / "gone.eml")
        items = read(tmp_path)
        assert items[1] == Problem(
            str(tmp_path / "b.eml"), None, "cannot open: No such file or directory"
        )
        assert datas(items) == [message(1)]

    def test_link_loop(self, tmp_path: Path) -> None:
        (tmp_path / "a.eml").write_bytes(message(1))
        (tmp_path / "again").symlink_to(tmp_path)
        assert datas(read(tmp_path)) == [message(1)]
