"""Bounce statistics over ledger events: counts, rates, and the warnings a sender needs.

Pure: `summarise` takes any ``Iterable[Event]`` (one pass, streamed) and returns
a frozen `Report`; nothing here prints or touches a file.

What is counted
    *events* are the bounce events the ledger keeps (it already counts the same
    message read twice once); *addresses* are distinct normalised recipients
    among them. Counts by kind (hard, soft, complaint, other) are events. Rates
    are addresses, because the number sent counts recipients: an address that
    bounced twice in a campaign is one recipient that bounced.

    bounce rate    = distinct addresses with a hard or soft bounce / sent
    hard rate      = distinct addresses with a hard bounce / sent
    complaint rate = distinct addresses that complained / sent

Days and ISO weeks are those of the bounce's own date, in UTC.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bouncetool.alerts import Alert, SenderBlocks, Thresholds, find_alerts
from bouncetool.model import Blame, Event, Kind, Lang
from bouncetool.providers import provider_of


class Dimension(enum.StrEnum):
    """An axis events are grouped by."""

    KIND = "kind"
    CATEGORY = "category"
    REASON = "reason"
    DOMAIN = "domain"
    CAMPAIGN = "campaign"
    DAY = "day"
    WEEK = "week"

    @property
    def is_time(self) -> bool:
        """True for the axes whose groups are ordered by date, not by size."""
        return self in (Dimension.DAY, Dimension.WEEK)


def event_keys(event: Event) -> tuple[str | None, ...]:
    """The group `event` belongs to on each axis, in `Dimension` order (None: it does not say)."""
    when = event.bounced_at.astimezone(UTC)
    day, (year, week, _weekday) = when.date(), when.isocalendar()
    return (
        event.kind.value,
        event.category or None,
        event.reason or None,
        event.domain or None,
        event.campaign or None,
        day.isoformat(),
        f"{year}-W{week:02d}",
    )


KIND_COLUMNS: tuple[str, ...] = ("hard", "soft", "complaint", "other")
"""The kind columns of a group: auto-replies, delays and the rest count as ``other``."""


@dataclass(frozen=True, slots=True)
class SentCounts:
    """How many recipients were mailed: in total (``--sent``) and/or per campaign."""

    total: int | None = None
    campaigns: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Group:
    """The events of one group on one axis (one row of a statistics table)."""

    dimension: Dimension | None  # None for the total row
    key: str | None  # None: events that do not say (no campaign, no category, ...)
    events: int
    addresses: int
    hard: int
    soft: int
    complaint: int
    other: int
    bounced_addresses: int  # distinct addresses with a hard or soft bounce
    hard_addresses: int
    dead_addresses: int  # hard-bounced for a recipient-side reason (blame not sender)
    complaint_addresses: int
    share: float  # of all events
    sent: int | None = None

    @property
    def bounce_rate(self) -> float | None:
        """Distinct bounced addresses per recipient sent, when the number sent is known."""
        return self.bounced_addresses / self.sent if self.sent else None

    @property
    def hard_rate(self) -> float | None:
        """Distinct hard-bounced addresses per recipient sent, when known."""
        return self.hard_addresses / self.sent if self.sent else None

    @property
    def complaint_rate(self) -> float | None:
        """Distinct complaining addresses per recipient sent, when known."""
        return self.complaint_addresses / self.sent if self.sent else None

    def count(self, column: str) -> int:
        """The event count in kind column `column` (one of `KIND_COLUMNS`)."""
        counts = {"hard": self.hard, "soft": self.soft, "complaint": self.complaint}
        return counts.get(column, self.other)

    def as_dict(self) -> dict[str, Any]:
        """The flat mapping written as one JSON line or CSV row (`GROUP_FIELDS`)."""
        return {
            "dimension": str(self.dimension) if self.dimension else "total",
            "key": self.key,
            "events": self.events,
            "addresses": self.addresses,
            "hard": self.hard,
            "soft": self.soft,
            "complaint": self.complaint,
            "other": self.other,
            "share": round(self.share, 6),
            "sent": self.sent,
            "bounced_addresses": self.bounced_addresses,
            "hard_addresses": self.hard_addresses,
            "dead_addresses": self.dead_addresses,
            "complaint_addresses": self.complaint_addresses,
            "bounce_rate": _rounded(self.bounce_rate),
            "hard_rate": _rounded(self.hard_rate),
            "complaint_rate": _rounded(self.complaint_rate),
        }


GROUP_FIELDS: tuple[str, ...] = (
    "dimension",
    "key",
    "events",
    "addresses",
    "hard",
    "soft",
    "complaint",
    "other",
    "share",
    "sent",
    "bounced_addresses",
    "hard_addresses",
    "dead_addresses",
    "complaint_addresses",
    "bounce_rate",
    "hard_rate",
    "complaint_rate",
)
"""The keys of `Group.as_dict`, in order: the columns of ``stats --format csv``."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything ``bouncetool stats`` shows: totals, groups per axis, warnings."""

    total: Group
    groups: Mapping[Dimension, tuple[Group, ...]]
    alerts: tuple[Alert, ...]
    explanations: Mapping[str, tuple[str | None, str | None]]  # reason -> (cs, en)
    examples: Mapping[str, str]  # reason -> a server's diagnostic text for it, as seen
    first_at: datetime | None
    last_at: datetime | None

    def explanation(self, reason: str | None, lang: Lang) -> str | None:
        """What `reason` means, in `lang` (the most common rule explanation seen for it)."""
        if reason is None or reason not in self.explanations:
            return None
        cs, en = self.explanations[reason]
        return cs if lang is Lang.CS else en


EXAMPLE_LENGTH = 300
"""Diagnostic examples are cut to this many characters: enough to read, short in a report."""


_COLUMN_OF = {Kind.HARD: 0, Kind.SOFT: 1, Kind.COMPLAINT: 2}  # index in KIND_COLUMNS, else 3


class _Tally:
    """Running counts for one group while the events stream past."""

    __slots__ = ("addresses", "bounced", "complained", "dead", "events", "hard", "kinds")

    def __init__(self) -> None:
        self.events = 0
        self.kinds = [0, 0, 0, 0]  # events per KIND_COLUMNS
        self.addresses: set[str] = set()
        self.bounced: set[str] = set()
        self.hard: set[str] = set()
        self.dead: set[str] = set()
        self.complained: set[str] = set()

    def add(self, column: int, address: str, dead: bool) -> None:
        # Hot loop (7 groups per event): the caller works out the kind column once.
        self.events += 1
        self.kinds[column] += 1
        self.addresses.add(address)
        if column < 2:  # hard or soft
            self.bounced.add(address)
        if column == 0:
            self.hard.add(address)
            if dead:
                self.dead.add(address)
        elif column == 2:
            self.complained.add(address)

    def freeze(
        self, dimension: Dimension | None, key: str | None, total: int, sent: int | None
    ) -> Group:
        hard, soft, complaint, other = self.kinds
        return Group(
            dimension=dimension,
            key=key,
            events=self.events,
            addresses=len(self.addresses),
            hard=hard,
            soft=soft,
            complaint=complaint,
            other=other,
            bounced_addresses=len(self.bounced),
            hard_addresses=len(self.hard),
            dead_addresses=len(self.dead),
            complaint_addresses=len(self.complained),
            share=self.events / total if total else 0.0,
            sent=sent,
        )


class _Pass:
    """Everything counted in one pass over the events."""

    def __init__(self) -> None:
        self.total = _Tally()
        self.tallies: tuple[dict[str | None, _Tally], ...] = tuple({} for _dim in Dimension)
        self.blocks = SenderBlocks()
        self.explanations: dict[str, Counter[tuple[str | None, str | None]]] = {}
        self.examples: dict[str, str] = {}
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None

    def add(self, event: Event) -> None:
        column = _COLUMN_OF.get(event.kind, 3)
        # a hard bounce blamed on the sender (a block) says nothing of the address
        dead = column == 0 and event.blame is not Blame.SENDER
        self.total.add(column, event.address, dead)
        for by_key, key in zip(self.tallies, event_keys(event), strict=True):
            tally = by_key.get(key)
            if tally is None:
                tally = by_key[key] = _Tally()
            tally.add(column, event.address, dead)
        if event.blame is Blame.SENDER and column < 2:
            self.blocks.add(provider_of(event.domain), event.domain, event.address)
        if event.reason:
            self._explain(event.reason, event)
        when = event.bounced_at
        self.first_at = when if self.first_at is None or when < self.first_at else self.first_at
        self.last_at = when if self.last_at is None or when > self.last_at else self.last_at

    def _explain(self, reason: str, event: Event) -> None:
        if event.explanation_cs or event.explanation_en:
            pair = (event.explanation_cs, event.explanation_en)
            seen = self.explanations.get(reason)
            if seen is None:
                seen = self.explanations[reason] = Counter()
            seen[pair] += 1
        if event.diagnostic and reason not in self.examples:
            self.examples[reason] = event.diagnostic[:EXAMPLE_LENGTH]

    def report(self, sent: SentCounts, thresholds: Thresholds) -> Report:
        campaigns = self.tallies[list(Dimension).index(Dimension.CAMPAIGN)]
        for campaign in sent.campaigns:  # a campaign nobody bounced from still has its 0 %
            campaigns.setdefault(campaign, _Tally())
        count = self.total.events
        total = self.total.freeze(None, None, count, sent.total)
        groups = {
            dim: _ordered(
                dim,
                (t.freeze(dim, key, count, _sent_for(dim, key, sent)) for key, t in by_key.items()),
            )
            for dim, by_key in zip(Dimension, self.tallies, strict=True)
        }
        alerts = find_alerts(
            total=total,
            campaigns=groups[Dimension.CAMPAIGN],
            domains=groups[Dimension.DOMAIN],
            blocks=self.blocks,
            thresholds=thresholds,
        )
        return Report(
            total=total,
            groups=groups,
            alerts=alerts,
            explanations={r: c.most_common(1)[0][0] for r, c in self.explanations.items()},
            examples=self.examples,
            first_at=self.first_at,
            last_at=self.last_at,
        )


def summarise(
    events: Iterable[Event],
    *,
    sent: SentCounts | None = None,
    thresholds: Thresholds | None = None,
) -> Report:
    """Count `events` on every axis, compute rates where the number sent is known, warn."""
    counting = _Pass()
    for event in events:
        counting.add(event)
    return counting.report(sent or SentCounts(), thresholds or Thresholds())


def _sent_for(dim: Dimension, key: str | None, sent: SentCounts) -> int | None:
    if dim is Dimension.CAMPAIGN and key is not None:
        return sent.campaigns.get(key)
    return None


def _ordered(dim: Dimension, groups: Iterable[Group]) -> tuple[Group, ...]:
    # Time runs forward; every other axis shows the largest groups first, the
    # events that do not say (key None) last, ties by name for a stable order.
    if dim.is_time:
        return tuple(sorted(groups, key=lambda g: g.key or ""))
    return tuple(sorted(groups, key=lambda g: (g.key is None, -g.events, g.key or "")))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
