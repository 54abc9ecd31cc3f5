"""`bouncetool classify` as a user runs it: formats, output file, stdin, problems, exit status.

Tests marked `needs_extract` run the real CLI end to end with the real
extractor; the others inject the tiny parser of `test_pipeline` (so the
command's own wiring is tested without depending on the extractor) or need
no parsing at all.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bouncetool.cli import app
from bouncetool.model import RECORD_FIELDS, RawMessage
from bouncetool.pipeline import worker
from bouncetool.sources import iter_messages
from tests.support import PROJECT, run_cli
from tests.test_pipeline import dsn, parse_final_recipients, write_mbox

needs_extract = pytest.mark.skipif(
    importlib.util.find_spec("bouncetool.extract") is None,
    reason="bouncetool.extract (the extractor) is not in this tree yet",
)


@pytest.fixture
def tiny_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the pipeline use the tiny Final-Recipient parser instead of the extractor."""
    monkeypatch.setattr(worker, "default_parse", lambda: parse_final_recipients)


def invoke(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run the command in this process; exit status, stdout and stderr."""
    result = CliRunner().invoke(app, ["classify", *args], input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


class TestProblems:
    """Each unreadable input is one stderr line naming it; the run goes on; exit status 1."""

    def test_missing_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "missing.mbox"
        empty = tmp_path / "empty.mbox"
        empty.write_bytes(b"")
        result = run_cli(["classify", "--format", "jsonl", missing, empty])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == f"bouncetool: {missing}: cannot open: No such file or directory\n"

    def test_corrupt_gzip(self, tmp_path: Path) -> None:
        bad = tmp_path / "bounces.mbox.gz"
        bad.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 100)
        result = run_cli(["classify", bad])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"bouncetool: {bad}: cannot read gzip data: ")
        assert "Traceback" not in result.stderr

    def test_parse_failure_names_message(self, tmp_path: Path, tiny_parser: None) -> None:
        mbox = write_mbox(
            tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example", extra=b"EXPLODE\n")]
        )
        status, out, err = invoke(["--format", "jsonl", str(mbox)])
        assert status == 1
        error = "cannot parse: ValueError: a message the parser cannot handle"
        assert err == f"bouncetool: {mbox}, message 2: {error}\n"
        assert [json.loads(line)["recipient"] for line in out.splitlines()] == ["a@x.example"]


class TestEmpty:
    """An empty file holds no message: no output, exit status 0."""

    def test_empty_file(self, tmp_path: Path) -> None:
        empty = tmp_path / "empty"
        empty.write_bytes(b"")
        result = run_cli(["classify", empty])
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


class TestFormats:
    """JSON Lines when piped, CSV on request or for a .csv output file, a table on request."""

    def test_jsonl_by_default_when_piped(self, tmp_path: Path, tiny_parser: None) -> None:
        mbox = write_mbox(tmp_path / "in.mbox", [dsn("a@x.example", "b@x.example")])
        status, out, err = invoke([str(mbox)])
        assert (status, err) == (0, "")
        rows = [json.loads(line) for line in out.splitlines()]
        assert [(r["source"], r["message"], r["recipient"], r["status"]) for r in rows] == [
            (str(mbox), 1, "a@x.example", "5.1.1"),
            (str(mbox), 1, "b@x.example", "5.1.1"),
        ]
        assert tuple(rows[0]) == RECORD_FIELDS

    def test_csv(self, tmp_path: Path, tiny_parser: None) -> None:
        mbox = write_mbox(tmp_path / "in.mbox", [dsn("a@x.example")])
        status, out, _ = invoke(["--format", "csv", str(mbox)])
        assert status == 0
        header, row = csv.reader(io.StringIO(out, newline=""))
        assert tuple(header) == RECORD_FIELDS
        assert row[header.index("recipient")] == "a@x.example"

    def test_table(self, tmp_path: Path, tiny_parser: None) -> None:
        mbox = write_mbox(tmp_path / "in.mbox", [dsn("a@x.example")])
        status, out, _ = invoke(["--format", "table", str(mbox)])
        assert status == 0
        assert "in.mbox:1" in out
        assert "a@x.example" in out

    def test_stdin(self, tiny_parser: None) -> None:
        status, out, _ = invoke(["-"], stdin=gzip.compress(dsn("a@x.example")))
        assert status == 0
        assert [(r["source"], r["message"]) for r in map(json.loads, out.splitlines())] == [
            ("-", 1)
        ]


class TestOutputFile:
    """--output writes the file whole (CSV for a .csv name) and nothing to stdout."""

    def test_csv_file(self, tmp_path: Path, tiny_parser: None) -> None:
        mbox = write_mbox(tmp_path / "in.mbox", [dsn("a@x.example"), dsn("b@x.example")])
        target = tmp_path / "out.csv"
        status, out, _ = invoke([str(mbox), "--output", str(target)])
        assert (status, out) == (0, "")
        rows = list(csv.DictReader(target.open(newline="", encoding="utf-8")))
        assert [r["recipient"] for r in rows] == ["a@x.example", "b@x.example"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mbox", "out.csv"]

    def test_missing_folder_is_a_usage_error(self, tmp_path: Path) -> None:
        target = tmp_path / "no" / "such" / "out.jsonl"
        result = run_cli(["classify", tmp_path, "--output", target])
        assert result.exit_code == 2
        assert (
            result.stderr
            == f"bouncetool: error: cannot write {target}: No such file or directory\n"
        )


class TestUsage:
    """Wrong options exit with status 2 and say why."""

    def test_unknown_format(self, tmp_path: Path) -> None:
        result = run_cli(["classify", "--format", "xml", tmp_path])
        assert result.exit_code == 2
        assert "xml" in result.stderr


@needs_extract
class TestEndToEnd:
    """The real command with the real extractor: stdin, and the same records with 1 or 2 workers."""

    def test_stdin(self) -> None:
        message = (Path(__file__).parent / "data" / "dsn-postfix.eml").read_bytes()
        result = run_cli(["classify", "--format", "jsonl", "-"], input=message)
        assert result.exit_code == 0, result.stderr
        [row] = [json.loads(line) for line in result.stdout.splitlines()]
        assert (row["source"], row["message"], row["recipient"]) == ("-", 1, "nobody@example.org")
        assert row["status"] == "5.1.1"

    def test_workers_agree(self, tmp_path: Path) -> None:
        message = (Path(__file__).parent / "data" / "dsn-postfix.eml").read_bytes()
        mbox = write_mbox(tmp_path / "many.mbox", [message] * 2500)
        one = run_cli(["classify", "--format", "jsonl", "--workers", "1", mbox])
        two = run_cli(["classify", "--format", "jsonl", "--workers", "2", mbox])
        assert one.exit_code == two.exit_code == 0
        assert one.stdout == two.stdout
        assert len(one.stdout.splitlines()) == 2500


@needs_extract
class TestHostileInput:
    """Garbage and huge messages give a record, not a traceback or a hang."""

    def test_binary_garbage_is_reported_not_read(self, tmp_path: Path) -> None:
        garbage = tmp_path / "garbage.bin"
        garbage.write_bytes(b"\x00" + random.Random(7).randbytes(100_000))  # noqa: S311
        result = run_cli(["classify", "--format", "jsonl", garbage])
        assert result.exit_code == 1
        assert (
            result.stderr == f"bouncetool: {garbage}, message 1: not an email message: "
            "it does not start with header fields\n"
        )
        assert result.stdout == ""

    def test_fifteen_megabyte_message(self, tmp_path: Path) -> None:
        message = (Path(__file__).parent / "data" / "dsn-postfix.eml").read_bytes()
        huge = tmp_path / "huge.mbox"
        padding = b"".join(b"X-Filler-%d: %s\n" % (n, b"z" * 70) for n in range(190_000))
        huge.write_bytes(b"From x  Mon Nov 23 2026\n" + padding + message)
        assert huge.stat().st_size > 15_000_000
        started = time.perf_counter()
        result = run_cli(["classify", "--format", "jsonl", huge])
        assert time.perf_counter() - started < 20  # generous: the machine may be busy
        assert result.exit_code == 0, result.stderr
        assert len(result.stdout.splitlines()) == 1


@needs_extract
@pytest.mark.corpus
class TestCorpus:
    """Every message of the corpus gives at least one record, and nothing is a problem."""

    def test_every_message_is_accounted_for(self, corpus: Path) -> None:
        emails = corpus / "emails"
        result = run_cli(["classify", "--format", "jsonl", emails])
        # size-2 holds the two bytes "22": not mail, so reported rather than read
        not_mail = f"{emails / 'size-2'}, message 1"
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            f"bouncetool: {not_mail}: not an email message: it does not start with header fields"
        ]
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        places = {(row["source"], row["message"]) for row in rows}
        messages = {
            (m.source, m.number) for m in iter_messages(str(emails)) if isinstance(m, RawMessage)
        }
        assert places == messages - {(str(emails / "size-2"), 1)}


class TestStartup:
    """classify starts light: pandas and dnspython are never imported on its path."""

    def test_no_heavy_imports(self, tmp_path: Path) -> None:
        empty = tmp_path / "empty"
        empty.write_bytes(b"")
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bouncetool", "classify", str(empty)],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
            check=False,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
        assert "bouncetool" in imported
        assert not imported & {"pandas", "numpy", "dns"}


class TestSave:
    """`classify --save` prints the records and stores them in the ledger, each message once."""

    def test_saved_records_are_in_the_ledger_once(self, tmp_path: Path) -> None:
        from bouncetool.state import Ledger

        state = tmp_path / "ledger.sqlite3"
        example = PROJECT / "examples" / "bounces.mbox"
        first = run_cli(["classify", example, "--save", "--state", state, "--format", "jsonl"])
        again = run_cli(["classify", example, "--save", "--state", state, "--format", "csv"])
        assert first.exit_code == again.exit_code == 0
        printed = [json.loads(line) for line in first.stdout.splitlines()]
        assert any(row["kind"] == "hard" for row in printed)
        assert "0 new" in again.stderr
        assert len(list(csv.DictReader(io.StringIO(again.stdout)))) == len(printed)
        with Ledger.open(state) as ledger:
            stored = {event.address for event in ledger.events()}
        assert "jan.novak@seznam.cz" in stored
        assert first.stderr.count(" new") == 1
