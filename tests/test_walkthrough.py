"""A marketer's whole journey through the real CLI, on copies of the bundled examples.

classify → ingest → clean → annotate → export-errors → stats --html, each step
checked for what the user gets, not only for its exit status. The examples'
bounces are from March 2025, so their soft and sender-side events are already
past the ledger's retention; a few recent bounces written here (a mailbox full,
a sender block) make the "never remove for these" checks mean something.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from bouncetool.state import Ledger
from tests.mailfactory import dsn, soft_dsn
from tests.support import PROJECT, CliResult, run_cli

EXAMPLES = PROJECT / "examples"
# What examples/bounces.mbox says about the people in examples/contacts.csv.
HARD_BOUNCED = {
    "lukas.cerny@volny.cz",
    "tomas.horak@outlook.com",
    "anna.nowak@wp.pl",
    "marek.zielinski@onet.pl",
}
COMPLAINED = "eva.kralova@centrum.cz"
SOFT_ONLY = "petra.svobodova@email.cz"  # one mailbox-full bounce, recent (see `recent_mbox`)
SENDER_BLOCKED = "zofia.wojcik@interia.pl"  # refused because of us, recent, added to the list


def recent_mbox() -> bytes:
    """Two recent bounces that must not get anybody removed: a full mailbox, a sender block."""
    block = dsn(
        SENDER_BLOCKED,
        status="5.7.1",
        diagnostic="smtp; 554 5.7.1 Service unavailable; sender is blacklisted",
    )
    return b"".join(
        b"From MAILER-DAEMON  Mon Nov 23 10:15:02 2026\n" + message.replace(b"\r\n", b"\n") + b"\n"
        for message in (soft_dsn(SOFT_ONLY, 1), block)
    )


def rows(path: Path, encoding: str = "cp1250") -> list[dict[str, str]]:
    """The rows of a semicolon CSV as dicts."""
    text = path.read_text(encoding=encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def emails(path: Path) -> set[str]:
    """The E-mail column of a contacts file in the example's dialect."""
    return {row["E-mail"].lower() for row in rows(path)}


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run the whole journey once; each test checks one outcome of it."""
    work = tmp_path_factory.mktemp("walkthrough")
    for name in ("bounces.mbox", "contacts.csv"):
        shutil.copy(EXAMPLES / name, work / name)
    (work / "recent.mbox").write_bytes(recent_mbox())
    # The sender-blocked person is on the list too, in the file's own dialect.
    with (work / "contacts.csv").open("ab") as handle:
        handle.write("Zofia;Wójcik;zofia.wojcik@interia.pl;Kraków;1.11.2026\r\n".encode("cp1250"))
    original = (work / "contacts.csv").read_bytes()
    env = {"BOUNCETOOL_STATE": str(work / "ledger.sqlite3"), "BOUNCETOOL_LANG": "en"}

    def cli(*args: str | Path) -> CliResult:
        return run_cli(list(args), env=env, cwd=work)

    steps = {
        "classify": cli("classify", "bounces.mbox", "recent.mbox", "--format", "jsonl"),
        "classify_cs": cli("classify", "bounces.mbox", "--format", "csv", "--lang", "cs"),
        "ingest": cli("ingest", "bounces.mbox", "recent.mbox"),
        "ingest_again": cli("ingest", "bounces.mbox", "recent.mbox"),
        "dry_run": cli("clean", "contacts.csv", "--dry-run"),
    }
    steps["after_dry_run"] = (work / "contacts.csv").read_bytes()  # type: ignore[assignment]
    steps["clean"] = cli("clean", "contacts.csv")
    steps["annotate"] = cli("annotate", "contacts.csv", "--output", "annotated.csv", "--lang", "cs")
    steps["export"] = cli("export-errors", "--csv", "--output", "errors.csv")
    steps["stats"] = cli("stats", "--format", "jsonl", "--html", "report.html", "--lang", "cs")
    return {"work": work, "original": original, **steps}


class TestClassify:
    """classify gives one record per bounced recipient, with the rule's verdict and why."""

    def test_records(self, journey: dict[str, object]) -> None:
        result = journey["classify"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        by_recipient = {(r["recipient"], r["kind"]): r for r in records}
        for address in HARD_BOUNCED:
            assert (address, "hard") in by_recipient
        blocked = by_recipient[(SENDER_BLOCKED, "soft")]
        assert blocked["blame"] == "sender"
        assert by_recipient[(COMPLAINED, "complaint")]["feedback_type"] == "abuse"
        assert {r["kind"] for r in records} >= {"auto-reply", "delivered", "not-bounce"}

    def test_czech_explanations(self, journey: dict[str, object]) -> None:
        result = journey["classify_cs"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        table = list(csv.DictReader(io.StringIO(result.stdout)))
        full = next(r for r in table if r["recipient"] == SOFT_ONLY)
        assert "Schránka příjemce je plná" in full["explanation"]


class TestIngest:
    """ingest stores each message once: reading the same mailboxes again adds nothing."""

    def test_second_read_adds_nothing(self, journey: dict[str, object]) -> None:
        first, again = journey["ingest"], journey["ingest_again"]
        assert isinstance(first, CliResult) and isinstance(again, CliResult)
        assert first.exit_code == again.exit_code == 0
        assert " 0 new" not in first.stderr
        assert " 0 new" in again.stderr


class TestClean:
    """clean removes the dead and the complaining, keeps everybody else, loses no row."""

    def test_dry_run_writes_nothing(self, journey: dict[str, object]) -> None:
        result = journey["dry_run"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        assert journey["after_dry_run"] == journey["original"]
        assert "would go" in result.stderr

    def test_rows_are_partitioned(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        result = journey["clean"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        original = journey["original"]
        assert isinstance(original, bytes)
        kept, removed = rows(work / "contacts.csv"), rows(work / "contacts.removed.csv")
        input_rows = len(original.splitlines()) - 1
        assert len(kept) + len(removed) == input_rows
        assert (work / "contacts.bak").read_bytes() == original

    def test_dead_and_complaining_go(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        removed = {row["E-mail"].lower(): row for row in rows(work / "contacts.removed.csv")}
        assert set(removed) == HARD_BOUNCED | {COMPLAINED}
        assert {removed[a]["kind"] for a in HARD_BOUNCED} == {"hard"}
        assert removed[COMPLAINED]["kind"] == "complaint"

    def test_sender_block_and_one_soft_bounce_stay(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        kept = emails(work / "contacts.csv")
        assert SENDER_BLOCKED in kept
        assert SOFT_ONLY in kept

    def test_kept_rows_keep_their_bytes(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        original = journey["original"]
        assert isinstance(work, Path) and isinstance(original, bytes)
        kept_lines = (work / "contacts.csv").read_bytes().splitlines(keepends=True)
        original_lines = original.splitlines(keepends=True)
        assert kept_lines[0] == original_lines[0]
        assert all(line in original_lines for line in kept_lines)


class TestAnnotate:
    """annotate keeps every remaining row and says, in Czech, what the ledger knows."""

    def test_every_row_annotated(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        result = journey["annotate"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        annotated = rows(work / "annotated.csv")
        assert {r["E-mail"].lower() for r in annotated} == emails(work / "contacts.csv")
        by_address = {r["E-mail"].lower(): r for r in annotated}
        petra = by_address[SOFT_ONLY]
        assert petra["bounce_status"] == "watch"
        assert petra["bounce_kind"] == "soft"
        assert petra["bounce_count"] == "1"
        assert "Schránka příjemce je plná" in petra["bounce_explanation"]
        assert by_address["sarka.zdarska@seznam.cz"]["bounce_status"] == "ok"

    def test_delivery_resets(self, journey: dict[str, object]) -> None:
        """A hard bounce that a later delivery notice reset leaves the address ok, not watch."""
        work = journey["work"]
        assert isinstance(work, Path)
        by_address = {r["E-mail"].lower(): r for r in rows(work / "annotated.csv")}
        # examples/bounces.mbox: message 1 a hard bounce, message 12 a later delivery notice.
        assert by_address["jan.novak@seznam.cz"]["bounce_status"] == "ok"


class TestExportErrors:
    """export-errors lists every error address once, for the CRM."""

    def test_export(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        result = journey["export"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        exported = list(csv.DictReader(io.StringIO((work / "errors.csv").read_text("utf-8"))))
        by_address = {r["address"]: r for r in exported}
        assert len(by_address) == len(exported)
        assert set(by_address) >= HARD_BOUNCED | {COMPLAINED, SOFT_ONLY}
        assert by_address["anna.nowak@wp.pl"]["status"] == "suppressed"
        assert by_address["anna.nowak@wp.pl"]["campaign"] == "brezen-2025-pl"
        assert by_address[SOFT_ONLY]["status"] == "watch"


class TestStats:
    """stats counts what the ledger holds and writes a self-contained Czech report."""

    def test_counts_and_report(self, journey: dict[str, object]) -> None:
        work = journey["work"]
        assert isinstance(work, Path)
        result = journey["stats"]
        assert isinstance(result, CliResult)
        assert result.exit_code == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        total = lines[0]
        assert total["dimension"] == "total"
        assert total["hard"] == len(HARD_BOUNCED)
        assert total["complaint"] == 1
        html = (work / "report.html").read_text("utf-8")
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert 'lang="cs"' in html
        assert "<svg" in html
        assert "<script" not in html.lower()
        assert "volny.cz" in html


class TestOutputFolderMissing:
    """An output in a missing folder, or that is a folder, is one error line, status 2, no file."""

    @pytest.fixture(scope="class")
    @classmethod
    def folder(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        """The examples, a ledger that knows their bounces, and an empty folder 'afolder/'."""
        work = tmp_path_factory.mktemp("missing-folder")
        for name in ("bounces.mbox", "contacts.csv"):
            shutil.copy(EXAMPLES / name, work / name)
        (work / "afolder").mkdir()
        ingested = run_cli(["ingest", "bounces.mbox"], env=cls.env(work), cwd=work)
        assert ingested.exit_code == 0, ingested.stderr
        return work

    @staticmethod
    def env(work: Path) -> dict[str, str]:
        """The ledger in `work`."""
        return {"BOUNCETOOL_STATE": str(work / "ledger.sqlite3")}

    @pytest.mark.parametrize(
        "args",
        [
            ["annotate", "contacts.csv", "--output", "missing/annotated.csv"],
            ["export-errors", "--output", "missing/errors.csv"],
            ["clean", "contacts.csv", "--output", "missing/kept.csv"],
            ["clean", "contacts.csv", "--removed", "missing/removed.csv"],
            ["stats", "--html", "missing/report.html"],
            ["classify", "bounces.mbox", "--output", "missing/records.csv"],
            ["annotate", "contacts.csv", "--output", "afolder"],
            ["export-errors", "--output", "afolder"],
        ],
    )
    def test_one_line(self, folder: Path, args: list[str]) -> None:
        before = sorted(p.name for p in folder.iterdir())
        result = run_cli(args, env=self.env(folder), cwd=folder)
        assert result.exit_code == 2
        assert "Traceback" not in result.stderr
        error_lines = [
            line for line in result.stderr.splitlines() if "missing/" in line or "afolder" in line
        ]
        assert len(error_lines) == 1
        assert error_lines[0].startswith("bouncetool: ")
        assert sorted(p.name for p in folder.iterdir()) == before
        assert list((folder / "afolder").iterdir()) == []
        assert (folder / "contacts.csv").read_bytes() == (EXAMPLES / "contacts.csv").read_bytes()


class TestContactMistakes:
    """Mistakes a user makes with contact files get one line naming the file and line."""

    def test_single_ragged_row(self, tmp_path: Path) -> None:
        path = tmp_path / "ragged.csv"
        path.write_bytes(b"email;city\njan.novak@seznam.cz;Praha;extra\n")
        state = tmp_path / "ledger.sqlite3"
        with Ledger.open(state):
            pass
        result = run_cli(["clean", path, "--state", state])
        assert result.exit_code == 2
        assert "line 2" in result.stderr
        assert "3 fields" in result.stderr

    def test_clean_needs_a_ledger(self, tmp_path: Path) -> None:
        shutil.copy(EXAMPLES / "contacts.csv", tmp_path / "contacts.csv")
        missing = tmp_path / "mistyped.sqlite3"
        result = run_cli(["clean", "contacts.csv", "--state", missing], cwd=tmp_path)
        assert result.exit_code == 2
        assert "no ledger here yet" in result.stderr
        assert not missing.exists()


class TestNotMail:
    """A file that is not mail at all is reported, not read as an ordinary message."""

    def test_binary_file_is_reported(self, tmp_path: Path) -> None:
        path = tmp_path / "bounces.mbox"
        path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
        result = run_cli(["classify", path, "--format", "jsonl"])
        assert result.exit_code == 1
        assert str(path) in result.stderr
