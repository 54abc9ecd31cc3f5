"""Records built by hand for the ledger tests (the ledger does not care where they came from)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from bouncetool.model import Blame, Bounce, Kind, Record, Verdict

_VERDICTS = {
    Kind.HARD: ("userunknown", "invalid-recipient", "Adresa neexistuje.", "No such address."),
    Kind.SOFT: ("mailboxfull", "mailbox-full", "Schránka je plná.", "The mailbox is full."),
    Kind.COMPLAINT: ("feedback", "spam-complaint", "Stížnost na spam.", "A spam complaint."),
    Kind.DELAYED: ("delayed", "timeout", "Doručení se zdržuje.", "Delivery is delayed."),
    Kind.AUTO_REPLY: ("vacation", "out-of-office", "Automatická odpověď.", "An auto-reply."),
    Kind.DELIVERED: ("delivered", "delivered", "Doručeno.", "Delivered."),
    Kind.NOT_BOUNCE: ("none", "not-bounce", "Není to nedoručenka.", "Not a bounce."),
}


def record(
    recipient: str | None = "jan.novak@example.cz",
    kind: Kind = Kind.HARD,
    date: str | None = "2026-01-05T10:00:00+01:00",
    message_id: str | None = "<m1@mailer.example.cz>",
    *,
    blame: Blame = Blame.RECIPIENT,
    rule: str | None = None,
    diagnostic: str | None = None,
    source: str = "inbox.mbox",
    message: int = 1,
    campaign: str | None = "jaro-2026",
    verdict_kind: Kind | None = None,
) -> Record:
    """One classified bounce; `verdict_kind` lets the rules disagree with the extractor."""
    decided = verdict_kind or kind
    reason, category, cs, en = _VERDICTS[decided]
    bounce = Bounce(
        kind=kind,
        recipient=recipient,
        status="5.1.1" if kind is Kind.HARD else "4.2.2",
        reply_code="550" if kind is Kind.HARD else "452",
        diagnostic=diagnostic or f"{kind} for {recipient}",
        date=date,
        original_message_id=message_id,
        campaign=campaign,
        source=source,
        message=message,
    )
    verdict = Verdict(
        kind=decided,
        reason=reason,
        category=category,
        blame=blame,
        rule=rule or f"test-{reason}",
        matched=bounce.status,
        explanation_cs=cs,
        explanation_en=en,
    )
    return Record(bounce, verdict)


def mailbox(count: int, seed: int = 0, addresses: int = 200) -> list[Record]:
    """`count` varied records over `addresses` addresses, the same for the same `seed`."""
    rng = random.Random(seed)  # noqa: S311  (test data, not secrets)
    kinds = [Kind.HARD, Kind.SOFT, Kind.SOFT, Kind.SOFT, Kind.DELAYED, Kind.COMPLAINT]
    out = []
    for number in range(count):
        kind = rng.choice(kinds)
        day = rng.randint(1, 28)
        out.append(
            record(
                f"user{rng.randrange(addresses)}@example.cz",
                kind,
                f"2026-01-{day:02d}T{rng.randint(0, 23):02d}:00:00+01:00",
                f"<m{seed}-{number}@mailer.example.cz>",
                blame=Blame.SENDER if rng.random() < 0.1 else Blame.RECIPIENT,
                message=number + 1,
            )
        )
    return out


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the ledger at `path`, rows sorted, without row ids and read times."""
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
        keep = [c for c in columns if c not in ("id", "read_at")]
        tables = {
            "events": sorted(conn.execute(f"SELECT {', '.join(keep)} FROM events").fetchall()),  # noqa: S608
            "suppressions": sorted(conn.execute("SELECT * FROM suppressions").fetchall(), key=repr),
            "forgotten": sorted(conn.execute("SELECT * FROM forgotten").fetchall()),
        }
    conn.close()
    return tables
