"""The ledger commands, run as a user runs them: `prune`, `forget` (and `ingest`, with sources)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

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


class TestNoLedgerYet:
    """`prune` and `forget` on a ledger that does not exist say so (status 2) and create nothing."""

    def test_prune_and_forget(self, tmp_path) -> None:
        path = tmp_path / "mistyped.sqlite3"
        for args in (["prune"], ["forget", "jan@example.cz"]):
            result = run_cli([*args, "--state", path])
            assert result.exit_code == 2
            assert result.stderr == (
                f"bouncetool: error: {path}: no ledger here yet; read bounces into it first\n"
            )
        assert list(tmp_path.iterdir()) == []


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
        assert "Missing argument 'ADDRESS'" in result.stderr


def dsn(recipient: str, status: str, days: int, number: int) -> str:
    """A Postfix-style delivery status notification for `recipient`, `days` old, as mbox text."""
    date = format_datetime(datetime.now(UTC) - timedelta(days=days))
    action = "delayed" if status == "4.4.1" else "failed"
    return f"""From MAILER-DAEMON  Mon Nov 23 10:15:02 2026
Date: {date}
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: newsletter@sender.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b{number}"
Message-Id: <bounce{number}@mx.sender.example>

--b{number}
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to {recipient}.

--b{number}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status.replace(".", "")[0]}50 {status} <{recipient}>: test bounce

--b{number}
Content-Type: text/rfc822-headers

From: Newsletter <newsletter@sender.example>
To: {recipient}
Subject: Novinky
Message-Id: <campaign.{number}@sender.example>

--b{number}--

"""


def write_mbox(path, *messages: str):
    path.write_text("".join(messages), encoding="utf-8")
    return path


class TestIngest:
    """`ingest` reads sources into the ledger, each message once, and sums up on stderr."""

    def test_ingest_and_again(self, tmp_path) -> None:
        ledger = tmp_path / "ledger.sqlite3"
        mbox = write_mbox(
            tmp_path / "bounces.mbox",
            dsn("dead@example.cz", "5.1.1", 3, 1),
            dsn("Full@Example.cz", "4.2.2", 2, 2),
            dsn("gone@example.org", "5.1.1", 1, 3),
        )
        first = run_cli(["ingest", mbox, "--state", ledger, "--workers", "1"])
        assert (first.exit_code, first.stdout) == (0, "")
        assert first.stderr == f"read 3 records into {ledger}: 3 new, 0 already in the ledger\n"
        with Ledger.open(ledger) as opened:
            statuses = opened.address_statuses()
        assert set(statuses) == {"dead@example.cz", "full@example.cz", "gone@example.org"}
        assert statuses["dead@example.cz"].suppressed
        assert not statuses["full@example.cz"].suppressed
        again = run_cli(["ingest", mbox, "--state", ledger])
        assert again.exit_code == 0
        assert again.stderr == f"read 3 records into {ledger}: 0 new, 3 already in the ledger\n"

    def test_bad_input_is_reported_and_the_rest_stored(self, tmp_path) -> None:
        ledger = tmp_path / "ledger.sqlite3"
        mbox = write_mbox(tmp_path / "bounces.mbox", dsn("dead@example.cz", "5.1.1", 3, 1))
        missing = tmp_path / "missing.mbox"
        result = run_cli(["ingest", missing, mbox, "--state", ledger])
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert lines[0].startswith(f"bouncetool: {missing}: ")
        assert (
            lines[1]
            == f"read 1 record into {ledger}: 1 new, 0 already in the ledger; 1 problem (see above)"
        )
        assert addresses(ledger) == {"dead@example.cz"}

    def test_standard_input(self, tmp_path) -> None:
        ledger = tmp_path / "ledger.sqlite3"
        text = dsn("dead@example.cz", "5.1.1", 3, 1) + dsn("dead@example.cz", "5.1.1", 3, 1)
        result = run_cli(["ingest", "-", "--state", ledger], input=text.encode())
        assert result.exit_code == 0
        assert result.stderr == f"read 2 records into {ledger}: 1 new, 1 already in the ledger\n"

    def test_verdicts_are_stored(self, tmp_path) -> None:
        ledger = tmp_path / "ledger.sqlite3"
        mbox = write_mbox(tmp_path / "bounces.mbox", dsn("dead@example.cz", "5.1.1", 3, 1))
        assert run_cli(["ingest", mbox, "--state", ledger]).exit_code == 0
        with Ledger.open(ledger) as opened:
            [event] = opened.events()
            status = opened.address_statuses()["dead@example.cz"]
        assert (event.kind, event.reason, event.category) == (
            Kind.HARD,
            "userunknown",
            "invalid-recipient",
        )
        assert event.rule and event.explanation_cs and event.explanation_en
        assert status.why.startswith("hard bounce on ")
        assert f"(rule {event.rule})" in status.why

    def test_user_rules_decide_first(self, tmp_path) -> None:
        rules = tmp_path / "mine.toml"
        rules.write_text(
            """
[[rule]]
id = "test-bounce-is-soft"
text = ['test bounce']
kind = "soft"
reason = "mailboxfull"
category = "mailbox-full"
blame = "recipient"
cs = "Testovací pravidlo."
en = "A test rule."
""",
            encoding="utf-8",
        )
        ledger = tmp_path / "ledger.sqlite3"
        mbox = write_mbox(tmp_path / "bounces.mbox", dsn("dead@example.cz", "5.1.1", 3, 1))
        assert run_cli(["ingest", mbox, "--state", ledger, "--rules", rules]).exit_code == 0
        with Ledger.open(ledger) as opened:
            [event] = opened.events()
        assert (event.kind, event.rule, event.explanation_en) == (
            Kind.SOFT,
            "test-bounce-is-soft",
            "A test rule.",
        )
        again = run_cli(["ingest", mbox, "--state", ledger])
        assert again.stderr.endswith("0 new, 1 already in the ledger, 1 of them reclassified\n")
        with Ledger.open(ledger) as opened:
            [event] = opened.events()
        assert event.kind is Kind.HARD

    def test_missing_rule_file(self, tmp_path) -> None:
        mbox = write_mbox(tmp_path / "bounces.mbox", dsn("dead@example.cz", "5.1.1", 3, 1))
        result = run_cli(
            ["ingest", mbox, "--state", tmp_path / "l.sqlite3", "--rules", tmp_path / "no.toml"]
        )
        assert result.exit_code == 2
        assert not (tmp_path / "l.sqlite3").exists()

    def test_state_that_is_not_a_ledger(self, tmp_path) -> None:
        bogus = tmp_path / "bogus.sqlite3"
        bogus.write_bytes(b"\x00" * 4096)
        mbox = write_mbox(tmp_path / "bounces.mbox", dsn("dead@example.cz", "5.1.1", 3, 1))
        result = run_cli(["ingest", mbox, "--state", bogus])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"bouncetool: error: {bogus}: not a bouncetool ledger")
