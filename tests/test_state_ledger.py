"""The ledger keeps every bounce once, forgets on request and lets old noise go."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bouncetool.errors import StateError
from bouncetool.model import Blame, Kind
from bouncetool.policy import Policy
from bouncetool.state import Ledger, default_state_path, resolve_state_path
from bouncetool.state.schema import APPLICATION_ID, LATEST
from tests.ledger_records import dump, mailbox, record

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ledger.sqlite3"


def ingest(path: Path, records, now: datetime = NOW, **options):
    with Ledger.open(path) as ledger:
        return ledger.ingest(records, now, **options)


def statuses(path: Path, now: datetime = NOW, policy: Policy = Policy()):  # noqa: B008
    with Ledger.open(path) as ledger:
        return ledger.address_statuses(policy, now)


class TestLocation:
    """The ledger is --state, else BOUNCETOOL_STATE, else a file in the user data folder."""

    def test_explicit_path_wins(self, tmp_path, monkeypatch) -> None:
        monkeypatch.setenv("BOUNCETOOL_STATE", str(tmp_path / "env.sqlite3"))
        assert resolve_state_path(tmp_path / "given.sqlite3") == tmp_path / "given.sqlite3"

    def test_environment_next(self, tmp_path, monkeypatch) -> None:
        monkeypatch.setenv("BOUNCETOOL_STATE", str(tmp_path / "env.sqlite3"))
        assert resolve_state_path(None) == tmp_path / "env.sqlite3"

    def test_user_data_folder_last(self, tmp_path, monkeypatch) -> None:
        monkeypatch.delenv("BOUNCETOOL_STATE", raising=False)
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        assert resolve_state_path(None) == tmp_path / "data" / "bouncetool" / "ledger.sqlite3"
        assert default_state_path() == resolve_state_path(None)
        with Ledger.open() as ledger:
            assert ledger.path.is_file()


class TestFile:
    """The file is a WAL-mode SQLite database marked as a ledger; strangers are refused."""

    def test_created_with_folders_in_wal_mode(self, ledger_path) -> None:
        with Ledger.open(ledger_path):
            pass
        conn = sqlite3.connect(ledger_path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        conn.close()

    def test_not_a_database(self, tmp_path) -> None:
        path = tmp_path / "notes.txt"
        path.write_text("this is not SQLite\n" * 100)
        with pytest.raises(StateError, match=r"notes\.txt: not a bouncetool ledger"):
            Ledger.open(path)
        assert path.read_text() == "this is not SQLite\n" * 100

    def test_someone_elses_database(self, tmp_path) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE customers (name TEXT)")
        conn.close()
        with pytest.raises(StateError, match=r"other\.db: not a bouncetool ledger"):
            Ledger.open(path)

    def test_newer_schema(self, ledger_path) -> None:
        with Ledger.open(ledger_path):
            pass
        with sqlite3.connect(ledger_path) as conn:
            conn.execute(f"PRAGMA user_version = {LATEST + 1}")
        conn.close()
        with pytest.raises(StateError, match="written by a newer bouncetool"):
            Ledger.open(ledger_path)

    def test_a_writer_that_never_lets_go(self, ledger_path) -> None:
        with Ledger.open(ledger_path):
            pass
        holder = sqlite3.connect(ledger_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with Ledger.open(ledger_path, timeout=0.2) as ledger:
                assert list(ledger.events()) == []  # readers are not blocked
                with pytest.raises(StateError, match="another process kept the ledger locked"):
                    ledger.ingest([record()], NOW)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def test_folder_cannot_be_made(self, tmp_path) -> None:
        (tmp_path / "file").write_text("")
        with pytest.raises(StateError, match="cannot open the ledger"):
            Ledger.open(tmp_path / "file" / "ledger.sqlite3")


class TestIdempotentIngest:
    """The same message read twice counts once; re-reading a mailbox changes nothing."""

    def test_counts(self, ledger_path) -> None:
        records = [record("a@example.cz"), record("b@example.cz"), record("a@example.cz")]
        first = ingest(ledger_path, records)
        assert (first.new, first.duplicate) == (2, 1)
        second = ingest(ledger_path, records)
        assert (second.new, second.duplicate, second.updated) == (0, 3, 0)

    def test_rereading_a_mailbox_changes_nothing(self, ledger_path) -> None:
        box = mailbox(500, seed=1)
        ingest(ledger_path, box)
        before = dump(ledger_path)
        again = ingest(ledger_path, box, NOW + timedelta(days=1), batch_size=7)
        assert again.new == 0
        assert dump(ledger_path) == before

    def test_same_message_in_two_mailboxes(self, ledger_path) -> None:
        summary = ingest(
            ledger_path,
            [record(source="a.mbox", message=3), record(source="maildir/", message=17)],
        )
        assert (summary.new, summary.duplicate) == (1, 1)

    def test_message_id_spelling(self, ledger_path) -> None:
        summary = ingest(ledger_path, [record(message_id="<x@y>"), record(message_id=" x@y ")])
        assert summary.new == 1

    def test_without_message_id_the_content_decides(self, ledger_path) -> None:
        same = [record(message_id=None, source="a"), record(message_id=None, source="b")]
        assert ingest(ledger_path, same).new == 1
        other = record(message_id=None, diagnostic="550 5.1.1 unknown user jan")
        assert ingest(ledger_path, [other]).new == 1

    def test_recipient_spelling_does_not_matter(self, ledger_path) -> None:
        summary = ingest(
            ledger_path, [record("Jan.Novak@EXAMPLE.cz"), record("jan.novak@example.cz")]
        )
        assert summary.new == 1

    def test_a_message_resent_under_the_same_id_bounces_anew(self, ledger_path) -> None:
        summary = ingest(
            ledger_path,
            [
                record(kind=Kind.SOFT, date="2026-01-05T10:00:00+01:00"),
                record(kind=Kind.SOFT, date="2026-01-05T09:00:00Z"),  # the same instant
                record(kind=Kind.SOFT, date="2026-01-06T10:00:00+01:00"),  # re-sent next day
            ],
        )
        assert (summary.new, summary.duplicate) == (2, 1)

    def test_an_undated_bounce_is_the_same_on_every_read(self, ledger_path) -> None:
        ingest(ledger_path, [record(date=None)], NOW)
        again = ingest(ledger_path, [record(date=None)], NOW + timedelta(days=3))
        assert (again.new, again.duplicate) == (0, 1)

    def test_a_delay_and_the_final_failure_are_two_events(self, ledger_path) -> None:
        summary = ingest(ledger_path, [record(kind=Kind.DELAYED), record(kind=Kind.SOFT)])
        assert summary.new == 2

    def test_a_changed_verdict_updates_in_place(self, ledger_path) -> None:
        ingest(ledger_path, [record(kind=Kind.SOFT)])
        summary = ingest(ledger_path, [record(kind=Kind.SOFT, verdict_kind=Kind.HARD)])
        assert (summary.new, summary.duplicate, summary.updated) == (0, 1, 1)
        with Ledger.open(ledger_path) as ledger:
            [event] = ledger.events()
        assert event.kind is Kind.HARD
        assert event.reason == "userunknown"


class TestWhatIsStored:
    """Events keep bounce, verdict and both dates; not-bounces and nameless ones are skipped."""

    def test_skipped(self, ledger_path) -> None:
        summary = ingest(
            ledger_path,
            [record(kind=Kind.NOT_BOUNCE), record(recipient=None), record(recipient="postmaster")],
        )
        assert (summary.new, summary.not_bounce, summary.no_recipient) == (0, 1, 2)
        assert summary.read == 3

    def test_fields(self, ledger_path) -> None:
        ingest(ledger_path, [record("Jan@Příklad.CZ", rule="r-550", diagnostic="550 no such user")])
        with Ledger.open(ledger_path) as ledger:
            [event] = ledger.events()
        assert event.address == "jan@příklad.cz"
        assert event.domain == "příklad.cz"
        assert (event.kind, event.reason, event.category) == (
            Kind.HARD,
            "userunknown",
            "invalid-recipient",
        )
        assert (event.blame, event.rule, event.matched) == (Blame.RECIPIENT, "r-550", "5.1.1")
        assert (event.status, event.reply_code) == ("5.1.1", "550")
        assert event.diagnostic == "550 no such user"
        assert event.explanation_cs == "Adresa neexistuje."
        assert event.explanation_en == "No such address."
        assert event.campaign == "jaro-2026"
        assert event.source == "inbox.mbox"
        assert event.bounced_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        assert event.bounced_at.utcoffset() == timedelta(hours=1)  # the bounce's own offset
        assert event.read_at == NOW

    @pytest.mark.parametrize("date", [None, "", "yesterday", "2026-13-45"])
    def test_no_usable_date_means_now(self, ledger_path, date) -> None:
        ingest(ledger_path, [record(date=date)])
        with Ledger.open(ledger_path) as ledger:
            [event] = ledger.events()
        assert event.bounced_at == NOW

    def test_a_date_without_offset_is_utc(self, ledger_path) -> None:
        ingest(ledger_path, [record(date="2026-01-05T10:00:00")])
        with Ledger.open(ledger_path) as ledger:
            [event] = ledger.events()
        assert event.bounced_at == datetime(2026, 1, 5, 10, tzinfo=UTC)


class TestEvents:
    """`events(since)` yields stored events, oldest bounce first."""

    def test_order_and_since(self, ledger_path) -> None:
        days = [20, 3, 11, 7]
        ingest(
            ledger_path,
            [record(f"u{d}@example.cz", date=f"2026-01-{d:02d}T08:00:00+00:00") for d in days],
        )
        with Ledger.open(ledger_path) as ledger:
            assert [e.bounced_at.day for e in ledger.events()] == [3, 7, 11, 20]
            since = datetime(2026, 1, 7, 8, 0, tzinfo=UTC)
            assert [e.bounced_at.day for e in ledger.events(since)] == [7, 11, 20]
            assert [e.bounced_at.day for e in ledger.events(since + timedelta(seconds=1))] == [
                11,
                20,
            ]


class TestStatuses:
    """`address_statuses` applies the policy to every address, keyed by the normalised address."""

    def test_keys_and_decisions(self, ledger_path) -> None:
        ingest(
            ledger_path,
            [
                record("Dead@Example.CZ", Kind.HARD),
                *[
                    record("full@example.cz", Kind.SOFT, f"2026-01-0{d}T10:00:00Z", f"<s{d}@x>")
                    for d in (1, 2, 3)
                ],
                record("later@example.cz", Kind.SOFT),
                record("blocked@example.cz", Kind.SOFT, blame=Blame.SENDER),
            ],
        )
        found = statuses(ledger_path)
        assert set(found) == {
            "dead@example.cz",
            "full@example.cz",
            "later@example.cz",
            "blocked@example.cz",
        }
        assert found["dead@example.cz"].suppressed
        assert found["full@example.cz"].suppressed
        assert found["full@example.cz"].kind is Kind.HARD
        assert not found["later@example.cz"].suppressed
        assert not found["blocked@example.cz"].suppressed
        assert not statuses(ledger_path, policy=Policy(soft_threshold=4))[
            "full@example.cz"
        ].suppressed

    def test_error_addresses(self, ledger_path) -> None:
        ingest(
            ledger_path,
            [
                record("hard@example.cz", Kind.HARD, "2026-01-02T10:00:00Z", "<1@x>"),
                record("soft@example.cz", Kind.SOFT, "2026-01-20T10:00:00Z", "<2@x>"),
                record("spam@example.cz", Kind.COMPLAINT, "2026-01-25T10:00:00Z", "<3@x>"),
                record("late@example.cz", Kind.DELAYED, "2026-01-25T10:00:00Z", "<4@x>"),
                record(
                    "ours@example.cz",
                    Kind.SOFT,
                    "2026-01-25T10:00:00Z",
                    "<5@x>",
                    blame=Blame.SENDER,
                ),
            ],
        )
        with Ledger.open(ledger_path) as ledger:
            every = [s.address for s in ledger.error_addresses(now=NOW)]
            assert every == ["hard@example.cz", "soft@example.cz", "spam@example.cz"]
            recent = ledger.error_addresses(now=NOW, since=datetime(2026, 1, 10, tzinfo=UTC))
            assert [s.address for s in recent] == ["soft@example.cz", "spam@example.cz"]
            hard = ledger.error_addresses(now=NOW, kinds={Kind.HARD, Kind.COMPLAINT})
            assert [s.address for s in hard] == ["hard@example.cz", "spam@example.cz"]
            [soft] = ledger.error_addresses(now=NOW, kinds={Kind.SOFT})
        assert (soft.count, soft.last_diagnostic, soft.campaign) == (
            1,
            "soft for soft@example.cz",
            "jaro-2026",
        )
        assert soft.explanation_en == "The mailbox is full."


class TestRetention:
    """Soft, delay and sender-side events expire 60 days after their own date; suppressions stay."""

    def test_prune_counts_from_the_bounce_date(self, ledger_path) -> None:
        ingest(
            ledger_path,
            [
                record("a@example.cz", Kind.SOFT, "2026-01-01T10:00:00Z", "<1@x>"),
                record("b@example.cz", Kind.DELAYED, "2026-01-20T10:00:00Z", "<2@x>"),
                record("c@example.cz", Kind.HARD, "2026-01-01T10:00:00Z", "<3@x>"),
                record(
                    "d@example.cz", Kind.HARD, "2026-01-01T10:00:00Z", "<4@x>", blame=Blame.SENDER
                ),
            ],
            now=datetime(2026, 1, 25, tzinfo=UTC),
        )
        with Ledger.open(ledger_path) as ledger:
            assert ledger.prune(datetime(2026, 3, 1, tzinfo=UTC), 60) == 0
            # 2 March 10:00 is 60 days after 1 January 10:00: a and d go, b (20 Jan) stays
            assert ledger.prune(datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC), 60) == 2
            assert {e.address for e in ledger.events()} == {"b@example.cz", "c@example.cz"}
            assert ledger.prune(datetime(2026, 3, 2, 10, 0, 1, tzinfo=UTC), 30) == 1

    def test_an_old_mailbox_read_today_still_suppresses(self, ledger_path) -> None:
        old = [
            record("dead@example.cz", Kind.HARD, "2025-06-01T10:00:00Z", "<1@x>"),
            *[
                record("full@example.cz", Kind.SOFT, f"2025-06-0{d}T10:00:00Z", f"<s{d}@x>")
                for d in (1, 2, 3)
            ],
            record("once@example.cz", Kind.SOFT, "2025-06-01T10:00:00Z", "<2@x>"),
        ]
        summary = ingest(ledger_path, old)
        assert (summary.new, summary.expired, summary.pruned) == (1, 4, 0)
        found = statuses(ledger_path)
        assert set(found) == {"dead@example.cz", "full@example.cz"}
        assert found["full@example.cz"].suppressed
        assert found["full@example.cz"].why.startswith("3 soft bounces on distinct days")
        again = ingest(ledger_path, old)
        assert (again.new, again.duplicate, again.expired) == (0, 1, 4)
        assert statuses(ledger_path) == found

    def test_ingest_prunes(self, ledger_path) -> None:
        ingest(ledger_path, [record(kind=Kind.SOFT, date="2026-01-01T10:00:00Z")], now=NOW)
        later = ingest(ledger_path, [], now=NOW + timedelta(days=60))
        assert later.pruned == 1

    def test_configurable(self, ledger_path) -> None:
        ingest(ledger_path, [record(kind=Kind.SOFT, date="2026-01-01T10:00:00Z")])
        assert ingest(ledger_path, [], policy=Policy(retention_days=10)).pruned == 1


class TestForget:
    """`forget` clears an address and resets its count; an old mailbox does not bring it back."""

    def test_forget(self, ledger_path) -> None:
        box = [
            record("dead@example.cz", Kind.HARD, message_id="<1@x>"),
            record("spam@example.cz", Kind.COMPLAINT, message_id="<2@x>"),
            record("kept@example.cz", Kind.HARD, message_id="<3@x>"),
        ]
        ingest(ledger_path, box)
        with Ledger.open(ledger_path) as ledger:
            assert (
                ledger.forget(["DEAD@example.cz", "spam@example.cz", "never@example.cz"], NOW) == 2
            )
        assert set(statuses(ledger_path)) == {"kept@example.cz"}
        again = ingest(ledger_path, box, NOW + timedelta(hours=1))
        assert (again.new, again.forgotten, again.duplicate) == (0, 2, 1)
        assert set(statuses(ledger_path)) == {"kept@example.cz"}

    def test_resets_the_soft_count(self, ledger_path) -> None:
        soft = [
            record("full@example.cz", Kind.SOFT, f"2026-01-0{d}T10:00:00Z", f"<s{d}@x>")
            for d in (1, 2, 3, 4)
        ]
        ingest(ledger_path, soft[:2])
        with Ledger.open(ledger_path) as ledger:
            ledger.forget(["full@example.cz"], datetime(2026, 1, 2, 23, tzinfo=UTC))
        ingest(ledger_path, soft)
        status = statuses(ledger_path)["full@example.cz"]
        assert (status.suppressed, status.count) == (False, 2)

    def test_a_frozen_escalation_is_forgotten_too(self, ledger_path) -> None:
        ingest(
            ledger_path,
            [
                record("f@example.cz", Kind.SOFT, f"2025-06-0{d}T10:00:00Z", f"<s{d}@x>")
                for d in (1, 2, 3)
            ],
        )
        assert statuses(ledger_path)["f@example.cz"].suppressed
        with Ledger.open(ledger_path) as ledger:
            assert ledger.forget(["f@example.cz"]) == 1
        assert statuses(ledger_path) == {}
