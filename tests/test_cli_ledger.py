"""The ledger commands, run as a user runs them: `prune`, `forget` (and `ingest`, with sources)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bouncetool.model import Kind
from bouncetool.state import Ledger
from tests.ledger_records import record
from tests.support import run_cli


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def seed(path, records) -> None:
    with Ledger.open(path) as ledger:
        ledger.ingest(records, datetime.now(UTC) - timedelta(days=200))


def addresses(path) -> set[str]:
    with Ledger.open(path) as ledger:
        return {event.address for event in ledger.events()}


class TestPrune:
    """`prune` deletes what retention lets go and says how much, on stderr."""

    def test_prune(self, tmp_path) -> None:
        path = tmp_path / "ledger.sqlite3"
        seed(
            path,
            [
                record("old-soft@example.cz", Kind.SOFT, days_ago(100), "<1@x>"),
                record("old-hard@example.cz", Kind.HARD, days_ago(100), "<2@x>"),
                record("new-soft@example.cz", Kind.SOFT, days_ago(10), "<3@x>"),
            ],
        )
        kept = run_cli(["prune", "--state", path, "--days", "120"])
        assert (kept.exit_code, kept.stdout) == (0, "")
        assert kept.stderr.startswith("pruned 0 events older than 120 days from ")
        result = run_cli(["prune", "--state", path])
        assert result.exit_code == 0
        assert result.stderr.startswith("pruned 1 event older than 60 days from ")
        assert addresses(path) == {"old-hard@example.cz", "new-soft@example.cz"}

    def test_environment_names_the_ledger(self, tmp_path) -> None:
        path = tmp_path / "env.sqlite3"
        seed(path, [record("old@example.cz", Kind.DELAYED, days_ago(100))])
        result = run_cli(["prune"], env={"BOUNCETOOL_STATE": str(path)})
        assert result.exit_code == 0
        assert f"pruned 1 event older than 60 days from {path}" in result.stderr
        assert addresses(path) == set()

    def test_not_a_ledger(self, tmp_path) -> None:
        path = tmp_path / "contacts.csv"
        path.write_text("email\njan@example.cz\n" * 50)
        result = run_cli(["prune", "--state", path])
        assert result.exit_code == 2
        assert (
            result.stderr
            == f"bouncetool: error: {path}: not a bouncetool ledger (file is not a database)\n"
        )
        assert path.read_text() == "email\njan@example.cz\n" * 50


class TestForget:
    """`forget` clears addresses and says which had nothing to clear."""

    def test_forget(self, tmp_path) -> None:
        path = tmp_path / "ledger.sqlite3"
        seed(
            path,
            [
                record("dead@example.cz", Kind.HARD, days_ago(5), "<1@x>"),
                record("kept@example.cz", Kind.HARD, days_ago(5), "<2@x>"),
            ],
        )
        result = run_cli(["forget", "--state", path, "DEAD@Example.CZ", "nobody@example.cz"])
        assert result.exit_code == 0
        assert result.stderr == "forgot 1 address (1 address had nothing in the ledger)\n"
        assert addresses(path) == {"kept@example.cz"}

    def test_needs_an_address(self, tmp_path) -> None:
        result = run_cli(["forget", "--state", tmp_path / "ledger.sqlite3"])
        assert result.exit_code == 2
        assert "Missing argument 'ADDRESS...'" in result.stderr
