"""The ledger: every bounce event between runs, in one SQLite file.

One writer at a time, any number of readers: the file is in WAL mode, every
write is a short ``BEGIN IMMEDIATE`` transaction, and a writer that finds the
file locked waits (``busy_timeout``) instead of failing. A process killed in
the middle of a write leaves the last committed state. (``synchronous=NORMAL``:
in WAL mode that survives any crash of the process; a power cut may lose the
last transactions but never corrupts the file, and ingesting again restores
them, because ingest is idempotent.)

What is kept (see `bouncetool.policy` for why): every stored event until it
expires by retention; complaints and hard bounces until forgotten or reset by
a delivery; and escalations frozen as rows of ``suppressions`` when the soft
bounces that proved them expire. ``forget`` deletes an address's events and
suppression and remembers when it was forgotten, so reading an old mailbox
again does not bring the address back.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bouncetool.addresses import normalise_address
from bouncetool.errors import StateError
from bouncetool.model import AddressStatus, Event, Kind, Record
from bouncetool.policy import Policy, decide, settle
from bouncetool.state import sql
from bouncetool.state.location import resolve_state_path
from bouncetool.state.rows import (
    EVENT_COLUMNS,
    aware,
    event_from_row,
    record_row,
    suppression_from_row,
    suppression_row,
)
from bouncetool.state.schema import check, migrate

BATCH_SIZE = 5000
"""Records per write transaction: big enough to be fast, small enough to hold the lock briefly."""

_TS = EVENT_COLUMNS.index("bounced_ts")
_ADDRESS = EVENT_COLUMNS.index("address")


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What one `Ledger.ingest` did with the records it was given."""

    new: int = 0  # stored for the first time
    duplicate: int = 0  # already in the ledger, or twice in the input: counted once
    updated: int = 0  # of the duplicates, those whose verdict changed (re-read with other rules)
    not_bounce: int = 0  # ordinary mail: not stored
    no_recipient: int = 0  # a bounce naming no address: nothing to store it under
    forgotten: int = 0  # dated before the address was forgotten: not stored again
    expired: int = 0  # new, but already past retention: kept only as the suppression they prove
    pruned: int = 0  # older events that expired during this ingest

    @property
    def read(self) -> int:
        """All records given to `ingest`."""
        return (
            self.new
            + self.duplicate
            + self.not_bounce
            + self.no_recipient
            + self.forgotten
            + self.expired
        )


class Ledger:
    """An open ledger file. Use `Ledger.open` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path, timeout: float) -> None:
        """Wrap an open, migrated connection; call `Ledger.open` instead."""
        self._conn = conn
        self.path = path
        self._timeout = timeout

    @classmethod
    def open(cls, path: Path | None = None, *, timeout: float = 30.0) -> Ledger:
        """Open (creating and migrating as needed) the ledger at `path`.

        `path` None means ``BOUNCETOOL_STATE``, else the user data folder.
        `timeout` is how many seconds a write waits for another process.
        """
        location = resolve_state_path(path)
        try:
            location.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(location, timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"{location}: cannot open the ledger ({error})") from error
        ledger = cls(conn, location, timeout)
        try:
            with ledger._guard("open"):
                conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                check(conn, location)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: safe against crashes
                conn.execute("PRAGMA temp_store = MEMORY")
                conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: index pages of big batches
                migrate(conn, location)
                conn.execute("CREATE TEMP TABLE picked (address TEXT PRIMARY KEY)")
        except BaseException:
            conn.close()
            raise
        return ledger

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def __enter__(self) -> Self:
        """The ledger itself."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the file."""
        self.close()

    def ingest(
        self,
        records: Iterable[Record],
        now: datetime | None = None,
        *,
        policy: Policy | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> IngestSummary:
        """Store `records` (idempotently), then prune what `policy`'s retention lets go.

        Each batch of `batch_size` records is one transaction. `now` is the
        read time (and the date of a bounce without one); default: the clock.
        """
        moment = aware(now) if now else datetime.now(UTC)
        counts: Counter[str] = Counter()
        first_new = self._last_id()
        iterator = iter(records)
        while batch := list(itertools.islice(iterator, batch_size)):
            rows = self._rows(batch, moment, counts)
            if rows:
                self._merge(rows, counts)
        pruned, expired = self._prune(moment, policy or Policy(), first_new)
        return IngestSummary(
            new=counts["new"] - expired,
            duplicate=counts["duplicate"],
            updated=counts["updated"],
            not_bounce=counts["not_bounce"],
            no_recipient=counts["no_recipient"],
            forgotten=counts["forgotten"],
            expired=expired,
            pruned=pruned,
        )

    def prune(
        self,
        now: datetime | None = None,
        retention_days: int | None = None,
        *,
        policy: Policy | None = None,
    ) -> int:
        """Delete the events that expired by `now`; returns how many.

        `retention_days` overrides `policy`'s; escalations whose evidence
        expires are frozen by `policy` (default `Policy()`) first.
        """
        rules = policy or Policy()
        if retention_days is not None:
            rules = Policy(rules.soft_threshold, rules.window_days, retention_days)
        pruned, expired = self._prune(aware(now) if now else datetime.now(UTC), rules, None)
        return pruned + expired

    def forget(self, addresses: Iterable[str], now: datetime | None = None) -> int:
        """Clear `addresses`: their events and suppressions go, and bounces dated
        up to `now` are not stored for them again. Returns how many had anything."""
        moment = aware(now) if now else datetime.now(UTC)
        keys = sorted({normalise_address(a) for a in addresses if a.strip()})
        known = 0
        with self._write("forget addresses") as conn:
            for key in keys:
                events = conn.execute("DELETE FROM events WHERE address = ?", (key,)).rowcount
                frozen = conn.execute("DELETE FROM suppressions WHERE address = ?", (key,)).rowcount
                known += bool(events or frozen)
                conn.execute(
                    sql.UPSERT_FORGOTTEN,
                    (key, moment.isoformat(), int(moment.timestamp())),
                )
        return known

    def events(self, since: datetime | None = None) -> Iterator[Event]:
        """The stored events, oldest bounce first; only those bounced at or after `since`."""
        floor = aware(since) if since else None
        with self._guard("read events"):
            if floor is None:
                rows = self._conn.execute(sql.SELECT_EVENTS_IN_ORDER)
            else:
                rows = self._conn.execute(sql.SELECT_EVENTS_SINCE, (math.floor(floor.timestamp()),))
            for row in rows:
                event = event_from_row(row)
                if floor is None or event.bounced_at >= floor:
                    yield event

    def address_statuses(
        self, policy: Policy | None = None, now: datetime | None = None
    ) -> dict[str, AddressStatus]:
        """The policy's status of every address the ledger knows, keyed by normalised address."""
        rules = policy or Policy()
        moment = aware(now) if now else datetime.now(UTC)
        with self._guard("read statuses"):
            frozen = self._frozen()
            # grouping in a dict beats ORDER BY address: a full scan, no index walk
            grouped: dict[str, list[Event]] = {}
            for row in self._conn.execute(sql.SELECT_EVENTS):
                event = event_from_row(row)
                grouped.setdefault(event.address, []).append(event)
        statuses: dict[str, AddressStatus] = {}
        for address, events in grouped.items():
            status = decide(events, rules, moment, frozen.pop(address, None))
            if status is not None:
                statuses[address] = status
        for address, escalation in frozen.items():
            status = decide((), rules, moment, escalation)
            if status is not None:
                statuses[address] = status
        return statuses

    def error_addresses(
        self,
        policy: Policy | None = None,
        since: datetime | None = None,
        kinds: Collection[Kind] | None = None,
        now: datetime | None = None,
    ) -> list[AddressStatus]:
        """The addresses with something against them, by address: suppressed, or with
        counted failures; only those last seen at or after `since` and of `kinds`."""
        floor = aware(since) if since else None
        chosen = [
            status
            for status in self.address_statuses(policy, now).values()
            if (status.suppressed or status.count > 0)
            and (kinds is None or status.kind in kinds)
            and (floor is None or status.last_at >= floor)
        ]
        return sorted(chosen, key=lambda status: status.address)

    def _rows(self, batch: list[Record], now: datetime, counts: Counter[str]) -> list[Any]:
        rows = []
        read_at = now.isoformat()
        for record in batch:
            recipient = record.bounce.recipient
            if record.kind is Kind.NOT_BOUNCE:
                counts["not_bounce"] += 1
            elif not recipient or "@" not in recipient:
                counts["no_recipient"] += 1
            else:
                rows.append(record_row(record, now, read_at))
        return rows

    def _merge(self, rows: list[Any], counts: Counter[str]) -> None:
        """Add one batch of rows in one transaction; count what happened to them.

        A row already there (same fingerprint) keeps its dates and takes the
        new verdict if the verdict changed: re-reading with another rule table
        reclassifies instead of duplicating.
        """
        with self._write("store bounces") as conn:
            forgotten = dict(conn.execute("SELECT address, forgotten_ts FROM forgotten").fetchall())
            if forgotten:
                kept = [r for r in rows if r[_TS] > forgotten.get(r[_ADDRESS], r[_TS] - 1)]
                counts["forgotten"] += len(rows) - len(kept)
                rows = kept
            last = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            before = conn.total_changes
            try:
                conn.executemany(sql.UPSERT_EVENT, rows)
            except UnicodeEncodeError:
                # A lone surrogate (undecodable bytes kept by the parser) cannot go into
                # SQLite's UTF-8; store it as U+FFFD. Rows already inserted by the failed
                # attempt meet themselves again as unchanged duplicates.
                rows = [tuple(map(_storable, row)) for row in rows]
                conn.executemany(sql.UPSERT_EVENT, rows)
            changes = conn.total_changes - before
            new = conn.execute("SELECT count(*) FROM events WHERE id > ?", (last,)).fetchone()[0]
        counts["new"] += new
        counts["updated"] += changes - new
        counts["duplicate"] += len(rows) - new

    def _prune(self, now: datetime, policy: Policy, first_new: int | None) -> tuple[int, int]:
        """Apply `settle` to every address with something past retention, in one transaction.

        Returns (events pruned, of them stored after id `first_new`: new but already expired).
        """
        cutoff = math.ceil(policy.cutoff(now).timestamp())
        pruned = expired = 0
        with self._write("prune old events") as conn:
            conn.execute("DELETE FROM temp.picked")
            conn.execute(sql.PICK_EXPIRY_CANDIDATES, {"cutoff": cutoff})
            frozen = self._frozen(picked=True)
            rows = conn.execute(sql.SELECT_PICKED_EVENTS).fetchall()
            doomed: list[tuple[int]] = []
            for address, group in itertools.groupby(rows, key=lambda row: row[2]):
                ids = {}
                events = []
                for row in group:
                    event = event_from_row(row[1:])
                    ids[event.fingerprint] = row[0]
                    events.append(event)
                earlier = frozen.pop(address, None)
                settled = settle(events, policy, now, earlier)
                doomed.extend((ids[e.fingerprint],) for e in settled.expired)
                self._refreeze(address, earlier, settled.frozen, now)
            for address, earlier in frozen.items():
                self._refreeze(address, earlier, settle((), policy, now, earlier).frozen, now)
            conn.executemany("DELETE FROM events WHERE id = ?", doomed)
            conn.execute("DELETE FROM temp.picked")
        for (event_id,) in doomed:
            if first_new is not None and event_id > first_new:
                expired += 1
            else:
                pruned += 1
        return pruned, expired

    def _refreeze(
        self,
        address: str,
        earlier: AddressStatus | None,
        now_frozen: AddressStatus | None,
        now: datetime,
    ) -> None:
        if now_frozen == earlier:
            return
        if now_frozen is None:
            self._conn.execute("DELETE FROM suppressions WHERE address = ?", (address,))
            return
        self._conn.execute(sql.UPSERT_SUPPRESSION, (*suppression_row(now_frozen), now.isoformat()))

    def _frozen(self, *, picked: bool = False) -> dict[str, AddressStatus]:
        query = sql.SELECT_PICKED_SUPPRESSIONS if picked else sql.SELECT_SUPPRESSIONS
        return {row[0]: suppression_from_row(row) for row in self._conn.execute(query)}

    def _last_id(self) -> int:
        with self._guard("read the ledger"):
            row = self._conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
        return int(row[0])

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it."""
        with self._guard(doing):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn SQLite's failures (locked, disk full, not a database) into one clear StateError."""
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # our bugs, not the user's problem: keep the traceback
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StateError(
                    f"{self.path}: cannot {doing}: another process kept the ledger locked"
                    f" for {self._timeout:g} s"
                ) from error
            raise StateError(f"{self.path}: cannot {doing} ({error})") from error
        except sqlite3.DatabaseError as error:
            raise StateError(f"{self.path}: cannot {doing} ({error})") from error


def _storable(value: Any) -> Any:
    """`value`, with any lone surrogate in a text replaced so SQLite can store it."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value
