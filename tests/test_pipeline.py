"""The pipeline: sources to records, placed, classified, in order, in one process or two.

The extractor is injected: `parse_final_recipients` is a tiny real parser (it
reads RFC 3464 ``Final-Recipient`` fields) so the pipeline is tested on its own.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from bouncetool.model import Blame, Bounce, Kind, Lang, Problem, RawMessage, Record, Verdict
from bouncetool.pipeline import Batch, Encoded, iter_batches, iter_encoded, iter_records
from bouncetool.pipeline.tasks import MessagesTask
from bouncetool.pipeline.worker import Worker
from bouncetool.render import LineEncoder, OutputFormat
from tests.support import run_python

_FINAL_RECIPIENT = re.compile(rb"^Final-Recipient:\s*rfc822;\s*(\S+)", re.MULTILINE | re.IGNORECASE)
_STATUS = re.compile(rb"^Status:\s*([245]\.\d{1,3}\.\d{1,3})", re.MULTILINE | re.IGNORECASE)


def parse_final_recipients(data: bytes) -> list[Bounce]:
    """One bounce per Final-Recipient field; hard/soft by the Status class."""
    if b"EXPLODE" in data:
        raise ValueError("a message the parser cannot handle")
    statuses = [s.decode() for s in _STATUS.findall(data)]
    bounces = []
    for index, address in enumerate(_FINAL_RECIPIENT.findall(data)):
        status = statuses[index] if index < len(statuses) else None
        kind = Kind.SOFT if status and status.startswith("4") else Kind.HARD
        bounces.append(Bounce(kind, recipient=address.decode(), status=status))
    return bounces


def parse_with_pid(data: bytes) -> list[Bounce]:
    """Like `parse_final_recipients`, noting in `diagnostic` which process parsed."""
    return [
        Bounce(b.kind, recipient=b.recipient, diagnostic=str(os.getpid()))
        for b in parse_final_recipients(data)
    ]


def parse_nothing(data: bytes) -> list[Bounce]:
    """An extractor that finds nothing at all."""
    return []


class StatusTable:
    """A tiny picklable rule table: 5.1.1 is userunknown, anything else undefined."""

    def classify(self, bounce: Bounce) -> Verdict:
        """The verdict for `bounce`, by its status code alone."""
        unknown = bounce.status == "5.1.1"
        return Verdict(
            kind=Kind.HARD if unknown else Kind.SOFT,
            reason="userunknown" if unknown else "undefined",
            category="invalid-recipient" if unknown else "undetermined",
            blame=Blame.RECIPIENT if unknown else Blame.UNKNOWN,
            rule="test-5.1.1" if unknown else "test-fallback",
            matched=bounce.status,
            explanation_cs="Adresa neexistuje." if unknown else "Nevíme.",
            explanation_en="The address does not exist." if unknown else "Unknown.",
        )


def dsn(*recipients: str, status: str = "5.1.1", extra: bytes = b"") -> bytes:
    """A minimal delivery-status body naming `recipients`."""
    fields = b"".join(
        b"Final-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n\n"
        % (r.encode(), status.encode())
        for r in recipients
    )
    return b"Subject: Delivery Status Notification\n\n" + extra + fields


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(
        b"".join(b"From MAILER-DAEMON  Mon Nov 23 2026\n" + m + b"\n" for m in messages)
    )
    return path


def records(items: list[Record | Problem]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


class TestPlacing:
    """Each bounce carries the file and 1-based message number it came from."""

    def test_records_are_placed(self, tmp_path: Path) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example", "c@x.example")]
        )
        got = list(iter_records([str(mbox)], workers=1, parse=parse_final_recipients))
        assert [(r.bounce.source, r.bounce.message, r.bounce.recipient) for r in records(got)] == [
            (str(mbox), 1, "a@x.example"),
            (str(mbox), 2, "b@x.example"),
            (str(mbox), 2, "c@x.example"),
        ]
        assert all(isinstance(item, Record) and item.verdict is None for item in got)

    def test_a_message_without_bounces_still_gives_a_record(self, tmp_path: Path) -> None:
        eml = tmp_path / "hello.eml"
        eml.write_bytes(b"Subject: hello\n\nJust a letter.\n")
        got = list(iter_records([str(eml)], workers=1, parse=parse_nothing))
        assert got == [Record(Bounce(Kind.NOT_BOUNCE, source=str(eml), message=1))]


class TestClassifying:
    """With a table, every record gets the table's verdict."""

    def test_verdicts(self, tmp_path: Path) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example", status="4.2.2")]
        )
        got = records(
            list(
                iter_records(
                    [str(mbox)], table=StatusTable(), workers=1, parse=parse_final_recipients
                )
            )
        )
        assert [(r.bounce.recipient, r.kind, r.verdict and r.verdict.rule) for r in got] == [
            ("a@x.example", Kind.HARD, "test-5.1.1"),
            ("b@x.example", Kind.SOFT, "test-fallback"),
        ]


class TestProblems:
    """A message the parser fails on, or an unreadable source, is a Problem; the run goes on."""

    def test_parse_error_names_file_and_message(self, tmp_path: Path) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox",
            [dsn("a@x.example"), dsn("b@x.example", extra=b"EXPLODE\n"), dsn("c@x.example")],
        )
        got = list(iter_records([str(mbox)], workers=1, parse=parse_final_recipients))
        assert got[1] == Problem(
            str(mbox), 2, "cannot parse: ValueError: a message the parser cannot handle"
        )
        assert [r.bounce.recipient for r in records(got)] == ["a@x.example", "c@x.example"]

    def test_unreadable_source_then_the_next(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.mbox"
        good = write_mbox(tmp_path / "good.mbox", [dsn("a@x.example")])
        got = list(iter_records([str(missing), str(good)], workers=1, parse=parse_final_recipients))
        assert got[0] == Problem(str(missing), None, "cannot open: No such file or directory")
        assert [r.bounce.recipient for r in records(got)] == ["a@x.example"]


PADDING = b"X-Padding: " + b"x" * 2000 + b"\n"  # makes inputs large with few messages


def large_messages(count: int) -> list[bytes]:
    """`count` padded messages, two recipients each; message 301 makes the parser fail."""
    messages = [dsn(f"user{n}@x.example", f"alt{n}@x.example", extra=PADDING) for n in range(count)]
    messages[300] = dsn("boom@x.example", extra=b"EXPLODE\n")
    return messages


class TestWorkers:
    """Large inputs are parsed in worker processes, with records in input order; small ones here."""

    COUNT = 4000  # about 8 MB: several tasks of every kind

    @pytest.fixture(scope="class")
    @classmethod
    def large(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return write_mbox(
            tmp_path_factory.mktemp("large") / "large.mbox", large_messages(cls.COUNT)
        )

    def test_large_mbox_order_is_kept(self, large: Path) -> None:
        one = list(
            iter_records([str(large)], table=StatusTable(), workers=1, parse=parse_final_recipients)
        )
        two = list(
            iter_records([str(large)], table=StatusTable(), workers=2, parse=parse_final_recipients)
        )
        assert two == one
        assert len(one) == self.COUNT * 2 - 1
        assert one[600] == Problem(
            str(large), 301, "cannot parse: ValueError: a message the parser cannot handle"
        )
        assert [r.bounce.message for r in records(one)][-1] == self.COUNT

    def test_folder_and_compressed_order_is_kept(self, tmp_path: Path, large: Path) -> None:
        folder = tmp_path / "folder"
        folder.mkdir()
        for n, data in enumerate(large_messages(1500)):
            (folder / f"{n:05}.eml").write_bytes(data)
        packed = tmp_path / "packed.mbox.gz"
        packed.write_bytes(gzip.compress(large.read_bytes()))
        specs = [str(folder), str(packed), str(tmp_path / "missing")]
        one = list(iter_records(specs, workers=1, parse=parse_final_recipients))
        two = list(iter_records(specs, workers=2, parse=parse_final_recipients))
        assert two == one
        assert len(one) == (1500 * 2 - 1) + (self.COUNT * 2 - 1) + 1
        assert one[-1] == Problem(
            str(tmp_path / "missing"), None, "cannot open: No such file or directory"
        )

    def test_workers_do_the_parsing(self, large: Path) -> None:
        got = records(list(iter_records([str(large)], workers=2, parse=parse_with_pid)))
        pids = {r.bounce.diagnostic for r in got}
        assert str(os.getpid()) not in pids
        assert len(pids) == 2

    def test_small_input_stays_in_this_process(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "small.mbox", [dsn(f"u{n}@x.example") for n in range(10)])
        got = records(list(iter_records([str(mbox)], workers=2, parse=parse_with_pid)))
        assert {r.bounce.diagnostic for r in got} == {str(os.getpid())}

    def test_table_reaches_the_workers(self, large: Path) -> None:
        got = records(
            list(
                iter_records(
                    [str(large)], table=StatusTable(), workers=2, parse=parse_final_recipients
                )
            )
        )
        assert {r.verdict.rule for r in got if r.verdict} == {"test-5.1.1"}
        assert all(r.verdict for r in got)

    def test_stopping_early_ends_the_workers(self, large: Path) -> None:
        items = iter_records([str(large)], workers=2, parse=parse_final_recipients)
        first = [next(items) for _ in range(5)]
        items.close()  # type: ignore[attr-defined]
        assert [r.bounce.message for r in records(first)] == [1, 1, 2, 2, 3]

    def test_named_pipe_is_read_once_in_order(self, tmp_path: Path, large: Path) -> None:
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        # The writer is another process, as in a shell: a thread of this one
        # would leave the pipe's write end open in the forked workers.
        writer = subprocess.Popen(["dd", f"if={large}", f"of={fifo}", "status=none"])
        got = list(iter_records([str(fifo)], workers=2, parse=parse_final_recipients))
        assert writer.wait(timeout=30) == 0
        assert [r.bounce.message for r in records(got)][-1] == self.COUNT
        assert len(got) == self.COUNT * 2 - 1


class TestEncoded:
    """iter_encoded gives the text the encoder makes of each record of iter_records, in order."""

    def test_same_as_encoding_records(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "large.mbox", large_messages(3000))
        encoder = LineEncoder(OutputFormat.JSONL, Lang.CS)
        want = [
            item if isinstance(item, Problem) else encoder(item)
            for item in iter_records(
                [str(mbox)], table=StatusTable(), workers=1, parse=parse_final_recipients
            )
        ]
        got = [
            item if isinstance(item, Problem) else item.text
            for item in iter_encoded(
                [str(mbox)], encoder, table=StatusTable(), workers=2, parse=parse_final_recipients
            )
        ]
        assert got == want
        assert '"explanation": "Adresa neexistuje."' in got[0]

    def test_places_come_along(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example")])
        encoder = LineEncoder(OutputFormat.CSV, Lang.EN)
        got = list(iter_encoded([str(mbox)], encoder, workers=1, parse=parse_final_recipients))
        assert [(e.source, e.message) for e in got if isinstance(e, Encoded)] == [
            (str(mbox), 1),
            (str(mbox), 2),
        ]


def joined(items: list[Encoded | Batch | Problem]) -> list[str | Problem]:
    """Consecutive texts (of lines or batches) joined into one; problems kept in place."""
    out: list[str | Problem] = []
    for item in items:
        if isinstance(item, Problem):
            out.append(item)
        elif out and isinstance(out[-1], str):
            out[-1] += item.text
        else:
            out.append(item.text)
    return out


class TestBatches:
    """iter_batches gives iter_encoded's lines joined per task, problems in place, with counts."""

    def test_same_text_and_problems_as_lines(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "large.mbox", large_messages(3000))
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        lines = list(iter_encoded([str(mbox)], encoder, workers=1, parse=parse_final_recipients))
        batches = list(iter_batches([str(mbox)], encoder, workers=2, parse=parse_final_recipients))
        assert len(batches) < len(lines) // 100  # a handful of objects, not one per record
        assert joined(list(batches)) == joined(list(lines))
        assert batches[1] == Problem(
            str(mbox), 301, "cannot parse: ValueError: a message the parser cannot handle"
        )

    def test_counts_and_places(self, tmp_path: Path) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox", [dsn("a@x.example", "b@x.example"), dsn("c@x.example")]
        )
        encoder = LineEncoder(OutputFormat.CSV, Lang.EN)
        (batch,) = iter_batches([str(mbox)], encoder, workers=1, parse=parse_final_recipients)
        assert isinstance(batch, Batch)
        assert (batch.records, batch.messages) == (3, 2)
        assert (batch.first, batch.last) == ((str(mbox), 1), (str(mbox), 2))
        assert batch.text.count("\r\n") == 3


class TestBatchBytes:
    """A batch carries its lines as UTF-8 bytes, ready to be written as they are."""

    def test_data_is_the_text_in_utf8(self, tmp_path: Path) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example", status="4.2.2")]
        )
        encoder = LineEncoder(OutputFormat.JSONL, Lang.CS)
        (batch,) = iter_batches(
            [str(mbox)], encoder, table=StatusTable(), workers=1, parse=parse_final_recipients
        )
        assert isinstance(batch, Batch)
        assert isinstance(batch.data, bytes)
        assert batch.data == batch.text.encode("utf-8")
        assert "Nevíme." in batch.text  # non-ASCII text survives the round trip


class TestExtractorBeforeWorkers:
    """With workers, the real extractor is imported here before they are forked: they share it."""

    def test_extractor_is_loaded_in_this_process(self, tmp_path: Path) -> None:
        mbox = write_mbox(tmp_path / "large.mbox", large_messages(2500))
        script = (
            "import sys\n"
            "from bouncetool.pipeline import iter_records\n"
            "assert 'bouncetool.extract' not in sys.modules\n"
            f"items = list(iter_records([{str(mbox)!r}], workers=2))\n"
            "assert len(items) > 2500, len(items)\n"
            "print('bouncetool.extract' in sys.modules)\n"
        )
        done = run_python(script)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "True"


class FussyTable(StatusTable):
    """StatusTable, except that it fails on any recipient at bad.example."""

    def classify(self, bounce: Bounce) -> Verdict:
        """The verdict for `bounce`; a RuntimeError for bad.example."""
        if (bounce.recipient or "").endswith("@bad.example"):
            raise RuntimeError("cannot classify this one")
        return super().classify(bounce)


class TestBatchedWorker:
    """A message that fails half way leaves no line in the batch: a problem takes its place."""

    def test_failure_after_a_first_record(self) -> None:
        def parse(data: bytes) -> list[Bounce]:
            return [Bounce(Kind.HARD, recipient=r, status="5.1.1") for r in data.decode().split()]

        items = tuple(
            RawMessage("in.mbox", number, text.encode())
            for number, text in enumerate(
                ["a@x.example", "b@x.example c@bad.example", "d@x.example e@x.example"], 1
            )
        )
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        Worker.setup(parse, FussyTable(), encoder)
        try:
            first, problem, last = Worker.run_batched(MessagesTask(items, 0))
        finally:
            Worker.setup(None, None, None)
        assert isinstance(first, Batch) and isinstance(last, Batch)
        assert [line["recipient"] for line in map(json.loads, first.text.splitlines())] == [
            "a@x.example"
        ]
        assert (first.records, first.messages, first.first, first.last) == (
            1,
            1,
            ("in.mbox", 1),
            ("in.mbox", 1),
        )
        assert problem == Problem(
            "in.mbox", 2, "cannot parse: RuntimeError: cannot classify this one"
        )
        assert isinstance(problem, Problem) and problem.data == b"b@x.example c@bad.example"
        assert (last.records, last.messages, last.first, last.last) == (
            2,
            1,
            ("in.mbox", 3),
            ("in.mbox", 3),
        )
