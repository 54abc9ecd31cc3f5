"""Invariants of the ledger, tried by Hypothesis on real SQLite files."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bouncetool.model import Blame, Bounce, Kind, Record, Verdict
from bouncetool.policy import Policy
from bouncetool.state import Ledger
from tests.ledger_records import dump, record

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
ANY_TEXT = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=40)  # + surrogates
KINDS = [Kind.HARD, Kind.SOFT, Kind.COMPLAINT, Kind.DELAYED, Kind.AUTO_REPLY, Kind.DELIVERED]


def mailboxes(
    first_day: int, last_day: int, addresses: int = 5, kinds: list[Kind] = KINDS, min_size: int = 0
) -> st.SearchStrategy[list[Record]]:
    """Bounces for a few addresses, dated `first_day`..`last_day` of January 2026 (may be
    negative: December and before); some messages are read twice."""
    one = st.tuples(
        st.integers(0, addresses - 1),
        st.sampled_from(kinds),
        st.integers(first_day, last_day),
        st.integers(0, 23),
        st.sampled_from([Blame.RECIPIENT, Blame.SENDER, Blame.UNKNOWN]),
    )

    def build(drawn: list[tuple[int, Kind, int, int, Blame]], repeats: list[int]) -> list[Record]:
        records = [
            record(
                f"user{who}@example.cz",
                kind,
                (datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=day - 1)).isoformat(),
                f"<m{number}@mailer.example.cz>",
                blame=blame,
            )
            for number, (who, kind, day, hour, blame) in enumerate(drawn)
        ]
        return records + [records[i % len(records)] for i in repeats] if records else records

    return st.builds(
        build,
        st.lists(one, min_size=min_size, max_size=25),
        st.lists(st.integers(0, 100), max_size=5),
    )


def _on_day(day: int, *, hour: int, blame: Blame) -> Record:
    """One hard bounce of user0, dated as `mailboxes` dates day `day` at `hour`."""
    moment = datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=day - 1)
    return record(
        "user0@example.cz", Kind.HARD, moment.isoformat(), "<m0@mailer.example.cz>", blame=blame
    )


def ledger_in(folder: str) -> Ledger:
    return Ledger.open(Path(folder) / "ledger.sqlite3")


class TestTwice:
    """Ingesting the same records twice (in any batch size) gives the same ledger.

    The second read comes five minutes later; an event that those minutes
    carry past retention goes either way, so the first ledger is pruned to
    that moment before the two are compared.
    """

    @settings(max_examples=40, deadline=None)
    @given(records=mailboxes(-100, 31), batch=st.integers(1, 10))
    # Found by Hypothesis: a sender-blamed bounce dated exactly 60 days before NOW.
    @example(records=[_on_day(-28, hour=12, blame=Blame.SENDER)], batch=1)
    def test_same_ledger(self, records, batch) -> None:
        later = NOW + timedelta(minutes=5)
        with tempfile.TemporaryDirectory() as folder:
            with ledger_in(folder) as ledger:
                ledger.ingest(records, NOW)
                ledger.prune(later)
            once = dump(Path(folder) / "ledger.sqlite3")
            with ledger_in(folder) as ledger:
                summary = ledger.ingest(records, later, batch_size=batch)
            assert summary.new == 0
            assert dump(Path(folder) / "ledger.sqlite3") == once


class TestOrder:
    """Within retention, the order and grouping of ingests do not change any status."""

    @settings(max_examples=40, deadline=None)
    @given(records=mailboxes(-25, 31), data=st.data())
    def test_same_statuses(self, records, data) -> None:
        shuffled = data.draw(st.permutations(records))
        cut = data.draw(st.integers(0, len(records)))
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            with ledger_in(one) as ledger:
                ledger.ingest(records, NOW)
                expected = ledger.address_statuses(Policy(), NOW)
            with ledger_in(two) as ledger:
                ledger.ingest(shuffled[:cut], NOW, batch_size=3)
                ledger.ingest(shuffled[cut:], NOW)
                assert ledger.address_statuses(Policy(), NOW) == expected


class TestPruneKeepsDecisions:
    """Pruning never changes a status: what expires was no longer deciding, or was frozen."""

    @settings(max_examples=40, deadline=None)
    @given(records=mailboxes(-100, 31), later=st.integers(0, 120))
    def test_before_and_after(self, records, later) -> None:
        then = NOW + timedelta(days=later)
        with tempfile.TemporaryDirectory() as folder, ledger_in(folder) as ledger:
            ledger.ingest(records, NOW)
            before = ledger.address_statuses(Policy(), then)
            ledger.prune(then, 60)
            assert ledger.address_statuses(Policy(), then) == before


class TestSuppressionsStay:
    """Time alone never lifts a suppression, whether the ledger was pruned or not."""

    @settings(max_examples=40, deadline=None)
    @given(
        records=mailboxes(-60, 31, 2, [*KINDS, Kind.SOFT, Kind.SOFT, Kind.SOFT], min_size=4),
        later=st.integers(1, 400),
    )
    def test_still_suppressed(self, records, later) -> None:
        then = NOW + timedelta(days=later)
        with tempfile.TemporaryDirectory() as folder, ledger_in(folder) as ledger:
            ledger.ingest(records, NOW)
            suppressed = {
                a for a, s in ledger.address_statuses(Policy(), NOW).items() if s.suppressed
            }
            ledger.prune(then, 60)
            after = ledger.address_statuses(Policy(), then)
            assert {a for a, s in after.items() if s.suppressed} == suppressed


class TestHostileText:
    """Any text in any field (control characters, lone surrogates, no @) is stored or
    skipped, never a crash; and still only once."""

    @settings(max_examples=60, deadline=None)
    @given(
        texts=st.lists(
            st.tuples(ANY_TEXT, ANY_TEXT, st.one_of(st.none(), ANY_TEXT)),
            min_size=1,
            max_size=8,
        )
    )
    def test_ingest(self, texts) -> None:
        records = [
            Record(
                Bounce(Kind.HARD, recipient=rcpt, diagnostic=diag, date=date, campaign=diag),
                Verdict(Kind.HARD, diag, "x", Blame.RECIPIENT, rcpt, diag, diag, diag),
            )
            for rcpt, diag, date in texts
        ]
        with tempfile.TemporaryDirectory() as folder, ledger_in(folder) as ledger:
            first = ledger.ingest(records, NOW)
            again = ledger.ingest(records, NOW)
            stored = list(ledger.events())
            ledger.address_statuses(Policy(), NOW)
        assert first.new == len(stored)
        # read again, every stored record is a duplicate, repeats in the input included
        assert again.new == 0
        assert again.duplicate == first.new + first.duplicate
        assert first.no_recipient == sum("@" not in rcpt for rcpt, _d, _t in texts)
