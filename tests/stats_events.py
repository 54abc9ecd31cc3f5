"""Hand-built ledger events for the statistics tests."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from typing import Any

from bouncetool.addresses import domain_of, normalise_address
from bouncetool.model import Blame, Event, Kind

_serial = itertools.count(1)

_REASONS: dict[Kind, tuple[str, str, Blame]] = {
    Kind.HARD: ("userunknown", "invalid-recipient", Blame.RECIPIENT),
    Kind.SOFT: ("mailboxfull", "mailbox-full", Blame.RECIPIENT),
    Kind.COMPLAINT: ("feedback", "spam-complaint", Blame.RECIPIENT),
    Kind.AUTO_REPLY: ("vacation", "out-of-office", Blame.UNKNOWN),
    Kind.DELAYED: ("expired", "timeout", Blame.UNKNOWN),
}

EXPLANATIONS: dict[str, tuple[str, str]] = {
    "userunknown": ("Adresa neexistuje.", "The address does not exist."),
    "mailboxfull": ("Schránka je plná.", "The mailbox is full."),
    "blocked": ("Server odesílatele je blokován.", "The sending server is blocked."),
}


def event(
    address: str,
    kind: Kind = Kind.HARD,
    *,
    when: str = "2026-11-20T10:00:00+00:00",
    campaign: str | None = None,
    reason: str | None = None,
    category: str | None = None,
    blame: Blame | None = None,
    diagnostic: str | None = None,
) -> Event:
    """One event as the ledger would return it; reason/category/blame default by kind."""
    default_reason, default_category, default_blame = _REASONS.get(
        kind, ("delivered", "delivered", Blame.UNKNOWN)
    )
    reason = reason or default_reason
    cs, en = EXPLANATIONS.get(reason, (None, None))
    bounced_at = datetime.fromisoformat(when)
    serial = next(_serial)
    return Event(
        fingerprint=hashlib.sha256(f"{serial}{address}".encode()).hexdigest(),
        address=normalise_address(address),
        domain=domain_of(address),
        kind=kind,
        reason=reason,
        category=category or default_category,
        blame=blame or default_blame,
        rule=f"test-{reason}",
        status="5.1.1" if kind is Kind.HARD else "4.2.2",
        reply_code="550" if kind is Kind.HARD else "452",
        diagnostic=diagnostic,
        campaign=campaign,
        bounced_at=bounced_at,
        read_at=datetime(2026, 11, 23, tzinfo=UTC),
        source="test.mbox",
        explanation_cs=cs,
        explanation_en=en,
    )


def many(domain: str, count: int, kind: Kind = Kind.HARD, **kwargs: Any) -> list[Event]:
    """`count` events for distinct addresses user1@domain ... userN@domain."""
    return [event(f"user{i}@{domain}", kind, **kwargs) for i in range(1, count + 1)]
