"""Between records and rows: fingerprints, dates, and the column order of the events table."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from typing import Any

from bouncetool.addresses import normalise_address
from bouncetool.model import AddressStatus, Blame, Event, Kind, Record

EVENT_COLUMNS: tuple[str, ...] = (
    "fingerprint",
    "address",
    "domain",
    "recipient",
    "kind",
    "bounce_kind",
    "reason",
    "category",
    "blame",
    "rule",
    "matched",
    "explanation_cs",
    "explanation_en",
    "action",
    "status",
    "reply_code",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "original_message_id",
    "original_sender",
    "campaign",
    "feedback_type",
    "bounced_at",
    "bounced_ts",
    "read_at",
    "source",
    "message",
)
"""The columns `record_row` fills, in its order."""

# The bounce fields that identify a message when it carries no original Message-ID:
# what the bounce says, never where it was read from (the same message may sit in
# two mailboxes).
_CONTENT_FIELDS = (
    "original_recipient",
    "action",
    "status",
    "reply_code",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "date",
    "original_sender",
    "campaign",
    "feedback_type",
)

EVENT_SELECT = (
    "fingerprint, address, domain, kind, reason, category, blame, rule, status, reply_code,"
    " diagnostic, campaign, bounced_at, read_at, source, explanation_cs, explanation_en, matched"
)
"""The columns `event_from_row` reads, in its order."""

SUPPRESSION_COLUMNS: tuple[str, ...] = (
    "address",
    "kind",
    "reason",
    "category",
    "rule",
    "why",
    "count",
    "first_at",
    "last_at",
    "last_diagnostic",
    "explanation_cs",
    "explanation_en",
    "campaign",
)
"""The `AddressStatus` fields a frozen escalation keeps, in table order."""


# Bounces repeat addresses (every campaign, every retry): normalise each spelling once.
_normalise = functools.lru_cache(maxsize=1 << 16)(normalise_address)


def fingerprint(record: Record) -> str:
    """The identity of one bounce of one recipient of one message.

    The original Message-ID (else a hash of what the bounce says) + the
    bounce's own date + the normalised recipient + the extractor's kind. A
    bounce read twice, from any file, gives the same fingerprint; a delay
    notice and the final failure for the same message do not, and neither do
    two bounces of a message re-sent with the same Message-ID on another day
    (some mailers re-send that way: each bounce must count). The verdict's
    kind is left out so that re-reading with a changed rule table updates the
    verdict in place. The date is the one the bounce carries, never the
    read-time fallback, so an undated bounce is the same on every read.
    """
    bounce = record.bounce
    if bounce.original_message_id and bounce.original_message_id.strip("<> \t"):
        identity = "mid:" + bounce.original_message_id.strip().strip("<>").strip()
    else:
        content = "\x1f".join(str(getattr(bounce, name) or "") for name in _CONTENT_FIELDS)
        identity = "content:" + hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    recipient = _normalise(bounce.recipient or "")
    key = "\x1e".join((identity, _date_key(bounce.date), recipient, str(bounce.kind)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _date_key(text: str | None) -> str:
    """One spelling per instant (``Z`` or ``+00:00``, any offset), else the text as given."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text.strip()
    return aware(moment).astimezone(UTC).isoformat()


def bounce_date(text: str | None, now: datetime) -> datetime:
    """The bounce's own date from its ISO 8601 text; `now` when it has none or it is unreadable.

    A date without an offset is taken as UTC.
    """
    if text:
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            return now
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return now


def aware(moment: datetime) -> datetime:
    """`moment` with a time zone: naive datetimes are taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_row(record: Record, now: datetime, read_at: str) -> tuple[Any, ...]:
    """The events-table row of `record` (which must have a recipient), in `EVENT_COLUMNS` order.

    `read_at` is `now` in ISO 8601 (formatted once per batch, not per record).
    """
    bounce, verdict = record.bounce, record.verdict
    recipient = bounce.recipient or ""
    address = _normalise(recipient)
    bounced = bounce_date(bounce.date, now)
    return (
        fingerprint(record),
        address,
        address.rpartition("@")[2],
        recipient,
        str(record.kind),
        str(bounce.kind),
        verdict.reason if verdict else None,
        verdict.category if verdict else None,
        str(verdict.blame) if verdict else None,
        verdict.rule if verdict else None,
        verdict.matched if verdict else None,
        verdict.explanation_cs if verdict else None,
        verdict.explanation_en if verdict else None,
        bounce.action,
        bounce.status,
        bounce.reply_code,
        bounce.diagnostic,
        bounce.remote_mta,
        bounce.reporting_mta,
        bounce.original_message_id,
        bounce.original_sender,
        bounce.campaign,
        bounce.feedback_type,
        bounced.isoformat(),
        int(bounced.timestamp()),
        read_at,
        bounce.source,
        bounce.message,
    )


# Reading every event back is the hot path of `address_statuses`: look enums up in
# plain dicts and parse each distinct read time once (a whole batch shares one).
_KINDS = {kind.value: kind for kind in Kind}
_BLAMES: dict[str | None, Blame | None] = {blame.value: blame for blame in Blame}
_BLAMES[None] = None
_read_time = functools.lru_cache(maxsize=1024)(datetime.fromisoformat)


def event_from_row(row: tuple[Any, ...]) -> Event:
    """The `Event` of a row selected with `EVENT_SELECT`."""
    (fp, address, domain, kind, reason, category, blame, rule, status, reply_code) = row[:10]
    (diagnostic, campaign, bounced_at, read_at, source, expl_cs, expl_en, matched) = row[10:]
    return Event(
        fingerprint=fp,
        address=address,
        domain=domain,
        kind=_KINDS[kind],
        reason=reason,
        category=category,
        blame=_BLAMES[blame or None],
        rule=rule,
        status=status,
        reply_code=reply_code,
        diagnostic=diagnostic,
        campaign=campaign,
        bounced_at=datetime.fromisoformat(bounced_at),
        read_at=_read_time(read_at),
        source=source,
        explanation_cs=expl_cs,
        explanation_en=expl_en,
        matched=matched,
    )


def suppression_row(status: AddressStatus) -> tuple[Any, ...]:
    """The suppressions-table values of a frozen escalation, in `SUPPRESSION_COLUMNS` order."""
    return (
        status.address,
        str(status.kind),
        status.reason,
        status.category,
        status.rule,
        status.why,
        status.count,
        status.first_at.isoformat(),
        status.last_at.isoformat(),
        status.last_diagnostic,
        status.explanation_cs,
        status.explanation_en,
        status.campaign,
    )


def suppression_from_row(row: tuple[Any, ...]) -> AddressStatus:
    """The frozen escalation of a suppressions row selected as `SUPPRESSION_COLUMNS`."""
    (address, kind, reason, category, rule, why, count, first_at, last_at) = row[:9]
    (last_diagnostic, explanation_cs, explanation_en, campaign) = row[9:]
    return AddressStatus(
        address=address,
        suppressed=True,
        kind=Kind(kind),
        reason=reason,
        category=category,
        rule=rule,
        why=why,
        count=count,
        first_at=datetime.fromisoformat(first_at),
        last_at=datetime.fromisoformat(last_at),
        last_diagnostic=last_diagnostic,
        explanation_cs=explanation_cs,
        explanation_en=explanation_en,
        campaign=campaign,
    )
