"""Ranges of an mbox split where the planner found the separators read like the whole file."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool.model import Problem, RawMessage
from bouncetool.pipeline.tasks import RangeTask
from bouncetool.sources import iter_messages
from bouncetool.sources import mbox as mbox_module
from bouncetool.sources import ranges as ranges_module
from bouncetool.sources.ranges import MboxRange, iter_range, mbox_ranges

FROM_LINE = b"From MAILER-DAEMON Mon Nov 23 10:00:00 2026"

# Body lines as mail holds them: plain text, lines that a writer must escape
# ("From ..." and ">From ..."), ">From" within a line, quoted text, blanks.
LINES = st.one_of(
    st.sampled_from(
        [
            b"",
            b"From the desk of the postmaster",
            b">From quoted",
            b">>From deeper",
            b"x >From mid-line",
            b"> quoted reply",
            b"From:",
            b"Subject: Undelivered Mail",
        ]
    ),
    st.binary(max_size=40).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
)


def escaped(line: bytes) -> bytes:
    """`line` as an mboxrd writer stores it: a ">" more before any ">*From "."""
    return b">" + line if line.lstrip(b">").startswith(b"From ") else line


@st.composite
def mboxes(draw: st.DrawFn) -> bytes:
    """An mbox in one line-ending style: escaped lines, huge messages, blank lines or not."""
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    messages = draw(
        st.lists(
            st.tuples(
                st.lists(LINES, max_size=12),
                st.integers(min_value=0, max_value=900),  # a filler line: some are over the limit
                st.booleans(),  # followed by a blank line, as writers do (not all do)
            ),
            min_size=1,
            max_size=25,
        )
    )
    parts = [eol * draw(st.integers(min_value=0, max_value=2))]
    for lines, filler, blank in messages:
        body = [escaped(line) for line in lines] + [b"y" * filler]
        parts.append(FROM_LINE + eol + eol.join(body) + eol + (eol if blank else b""))
    return b"".join(parts)


@contextmanager
def mbox_file(data: bytes) -> Iterator[str]:
    # (A temporary directory of its own: hypothesis runs the test many times.)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "planned.mbox"
        path.write_bytes(data)
        yield str(path)


def read_in_ranges(path: str, every: int) -> list[RawMessage | Problem]:
    cut = mbox_ranges(path, every)
    assert cut is not None
    return [item for part in cut for item in iter_range(path, part)]


def never_search(*_: object) -> Iterator[bytes | None]:
    raise AssertionError("a planned range was searched for separators")


class TestPlannedRanges:
    """Ranges split where planned give the messages and numbers of reading the file whole."""

    @settings(max_examples=300, deadline=None)
    @given(
        data=mboxes(),
        every=st.integers(min_value=1, max_value=3000),
        read_size=st.sampled_from([6, 7, 64, 1 << 20]),  # separators straddle the planner's reads
    )
    def test_like_the_whole_file(self, data: bytes, every: int, read_size: int) -> None:
        with (
            mbox_file(data) as path,
            mock.patch.object(ranges_module, "CHUNK_SIZE", read_size),
            mock.patch.object(mbox_module, "MAX_MESSAGE_BYTES", 700),
            mock.patch.object(ranges_module, "split_mbox", never_search),
        ):
            whole = list(iter_messages(path))
            assert read_in_ranges(path, every) == whole

    def test_escapes_are_restored_and_huge_messages_skipped(self, tmp_path: Path) -> None:
        path = tmp_path / "planned.mbox"
        bodies = [b"A: 1\n>From one\n>>From two\n", b"B: 2\n" + b"z" * 900 + b"\n", b"C: 3\n"]
        path.write_bytes(b"".join(FROM_LINE + b"\n" + body + b"\n" for body in bodies))
        with (
            mock.patch.object(mbox_module, "MAX_MESSAGE_BYTES", 700),
            mock.patch.object(ranges_module, "split_mbox", never_search),
        ):
            items = read_in_ranges(str(path), 10)
        assert items == [
            RawMessage(str(path), 1, b"A: 1\nFrom one\n>From two\n"),
            Problem(str(path), 2, "message larger than 700 bytes: skipped"),
            RawMessage(str(path), 3, b"C: 3\n"),
        ]

    def test_the_plan_travels_to_a_worker(self, tmp_path: Path) -> None:
        # The offsets go packed: a range of a few hundred messages pickles to a
        # few kilobytes, and reads the same after the trip.
        path = tmp_path / "planned.mbox"
        path.write_bytes(b"".join(FROM_LINE + b"\nX: %d\n\n" % n for n in range(500)))
        [part] = list(mbox_ranges(str(path), 10**9) or [])
        task = RangeTask(str(path), part)
        travelled = pickle.loads(pickle.dumps(task, pickle.HIGHEST_PROTOCOL))  # noqa: S301
        assert travelled == task
        assert len(pickle.dumps(task, pickle.HIGHEST_PROTOCOL)) < 8 * 500 + 1000
        assert list(iter_range(travelled.path, travelled.part)) == list(iter_messages(str(path)))


class TestChangedAfterPlanning:
    """A file changed after planning is searched again: nothing lost or misnumbered."""

    def plan(self, path: Path) -> list[MboxRange]:
        bodies = [b"X: %d\n" % n + b"y" * 20 + b"\n" for n in range(1, 13)]
        path.write_bytes(b"".join(FROM_LINE + b"\n" + body + b"\n" for body in bodies))
        cut = mbox_ranges(str(path), 200)
        assert cut is not None
        parts = list(cut)
        assert len(parts) > 2
        assert all(part.layout is not None for part in parts)
        return parts

    def test_separators_moved_within_a_range(self, tmp_path: Path) -> None:
        # Two messages in one range change size (the range stays as long), and
        # the modification time is put back: the separators are not where planned.
        path = tmp_path / "changed.mbox"
        parts = self.plan(path)
        before = path.stat()
        data = path.read_bytes()
        changed = data.replace(b"X: 1\n" + b"y" * 20, b"X: 1\n" + b"y" * 10, 1).replace(
            b"X: 2\n" + b"y" * 20, b"X: 2\n" + b"y" * 30, 1
        )
        assert len(changed) == len(data)
        path.write_bytes(changed)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        got = [item for part in parts for item in iter_range(str(path), part)]
        assert got == list(iter_messages(str(path)))
        assert got[0] == RawMessage(str(path), 1, b"X: 1\n" + b"y" * 10 + b"\n")

    def test_an_escape_written_in_place(self, tmp_path: Path) -> None:
        # Same size, same separators; only the modification time tells.
        path = tmp_path / "changed.mbox"
        parts = self.plan(path)
        before = path.stat()
        path.write_bytes(path.read_bytes().replace(b"X: 5\nyyyyyy", b"X: 5\n>From ", 1))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
        got = [item for part in parts for item in iter_range(str(path), part)]
        assert got == list(iter_messages(str(path)))
        assert RawMessage(str(path), 5, b"X: 5\nFrom " + b"y" * 14 + b"\n") in got

    @pytest.mark.parametrize("extra", [b"", b"From late\nX: 13\n\n"])
    def test_grown_or_truncated(self, tmp_path: Path, extra: bytes) -> None:
        # Mail appended after planning is left for the next run; a file cut
        # short is read as far as it goes.
        path = tmp_path / "changed.mbox"
        parts = self.plan(path)
        data = path.read_bytes()
        path.write_bytes(data + extra if extra else data[: parts[-1].start + 10])
        got = [item for part in parts for item in iter_range(str(path), part)]
        want = [item for item in iter_messages(str(path)) if item.number <= len(got)]
        assert got == want
