"""The ledger's SQL statements, built once from the column lists in `rows`.

Only constant column names are formatted into these strings; every value
travels as a ``?`` or ``:name`` parameter. (Hence the S608 waivers below.)
"""

from __future__ import annotations

from bouncetool.state.rows import EVENT_COLUMNS, EVENT_SELECT, SUPPRESSION_COLUMNS

VERDICT_COLUMNS = (
    "kind",
    "reason",
    "category",
    "blame",
    "rule",
    "matched",
    "explanation_cs",
    "explanation_en",
)
"""What re-reading a message with another rule table may change."""

_COLUMNS = ", ".join(EVENT_COLUMNS)
_MARKS = ", ".join("?" * len(EVENT_COLUMNS))
_SET_VERDICT = ", ".join(f"{c} = excluded.{c}" for c in VERDICT_COLUMNS)
_VERDICT_CHANGED = " OR ".join(f"events.{c} IS NOT excluded.{c}" for c in VERDICT_COLUMNS)

UPSERT_EVENT = (
    f"INSERT INTO events ({_COLUMNS}) VALUES ({_MARKS})"  # noqa: S608
    f" ON CONFLICT (fingerprint) DO UPDATE SET {_SET_VERDICT} WHERE {_VERDICT_CHANGED}"
)
"""Store a new event; for a known fingerprint, take the new verdict only if it differs."""

SELECT_EVENTS = f"SELECT {EVENT_SELECT} FROM events"  # noqa: S608

SELECT_EVENTS_SINCE = f"{SELECT_EVENTS} WHERE bounced_ts >= ? ORDER BY bounced_ts, id"

SELECT_EVENTS_IN_ORDER = f"{SELECT_EVENTS} ORDER BY bounced_ts, id"


SELECT_PICKED_EVENTS = (
    f"SELECT e.id, {', '.join('e.' + c.strip() for c in EVENT_SELECT.split(','))}"  # noqa: S608
    " FROM events AS e JOIN temp.picked AS p ON p.address = e.address ORDER BY e.address"
)
"""The events of the addresses in ``temp.picked``, each with its row id first."""

PICK_EXPIRY_CANDIDATES = """
    INSERT INTO temp.picked
    SELECT DISTINCT e.address FROM events AS e
    WHERE e.bounced_ts <= :cutoff AND (
        e.kind IN ('soft', 'delayed', 'auto-reply', 'delivered', 'not-bounce')
        OR (e.blame = 'sender' AND e.kind != 'complaint')
        OR (e.kind = 'hard' AND EXISTS (
            SELECT 1 FROM events AS d
            WHERE d.address = e.address AND d.kind = 'delivered' AND d.bounced_ts >= e.bounced_ts
        ))
    )
    UNION
    SELECT s.address FROM suppressions AS s
    WHERE EXISTS (SELECT 1 FROM events AS d WHERE d.address = s.address AND d.kind = 'delivered')
"""
"""Addresses with an event past the `cutoff` that `policy.settle` may expire, or a frozen
escalation a delivery may have reset. A superset is fine: the policy decides exactly."""

SELECT_SUPPRESSIONS = f"SELECT {', '.join(SUPPRESSION_COLUMNS)} FROM suppressions"  # noqa: S608

SELECT_PICKED_SUPPRESSIONS = (
    f"{SELECT_SUPPRESSIONS} WHERE address IN (SELECT address FROM temp.picked)"  # noqa: S608
)

UPSERT_SUPPRESSION = (
    f"INSERT OR REPLACE INTO suppressions ({', '.join(SUPPRESSION_COLUMNS)}, cause, frozen_at)"  # noqa: S608
    f" VALUES ({', '.join('?' * len(SUPPRESSION_COLUMNS))}, 'escalated', ?)"
)

UPSERT_FORGOTTEN = (
    "INSERT INTO forgotten (address, forgotten_at, forgotten_ts) VALUES (?, ?, ?)"
    " ON CONFLICT (address) DO UPDATE SET forgotten_at = excluded.forgotten_at,"
    " forgotten_ts = excluded.forgotten_ts"
)
