"""The policy: which addresses to stop mailing, and why. Pure functions over `Event`s.

The rules, with the defaults of `Policy`:

- A spam complaint suppresses the address at once. A later delivery does not
  undo it: a person asked not to be mailed.
- A hard bounce suppresses the address at once.
- Soft bounces escalate to hard after ``soft_threshold`` (3) of them on
  distinct days whose first and last are fewer than ``window_days`` (30) days
  apart. Days are calendar days in UTC of the bounce's own date, never of the
  day it was read; two soft bounces on one day count once.
- Failures blamed on the sender (our IP blocked, our DKIM broken), delays,
  auto-replies and delivery notices never count against an address.
- A delivery notice resets the hard and soft bounces dated before it.
  ``bouncetool forget`` (the ledger) resets everything, complaints included.

Retention: an event that cannot decide anything any more expires
``retention_days`` (60) after its bounce date — soft bounces, delays,
auto-replies, sender-side failures, delivery notices other than the latest of
the address, and hard bounces reset by a later delivery. Complaints and
unreset hard bounces never expire: they are the suppression. When the
evidence of an escalation expires, the escalation is *frozen*: the ledger
keeps it as a suppression row until it is forgotten or reset by a delivery.
`settle` computes what expires and what freezes, the ledger's prune applies
it, and `decide` works on the settled view, so a status is the same before
and after a prune.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bouncetool.errors import ConfigError
from bouncetool.model import AddressStatus, Blame, Event, Kind


@dataclass(frozen=True, slots=True)
class Policy:
    """When soft bounces escalate and how long events that cannot suppress are kept."""

    soft_threshold: int = 3  # soft bounces on distinct days ...
    window_days: int = 30  # ... whose first and last are fewer than this many days apart
    retention_days: int = 60  # events that cannot suppress are kept this long (bounce date)

    def __post_init__(self) -> None:
        for name in ("soft_threshold", "window_days", "retention_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"policy: {name} must be a whole number of at least 1, not {value!r}"
                )

    def cutoff(self, now: datetime) -> datetime:
        """The bounce date before which events that cannot suppress expire."""
        return now - timedelta(days=self.retention_days)


@dataclass(frozen=True, slots=True)
class Settled:
    """One address's events split by retention, and the escalation that must outlive them."""

    live: tuple[Event, ...]  # kept, in bounce-date order
    expired: tuple[Event, ...]  # past retention: the ledger deletes them
    frozen: AddressStatus | None  # an escalation kept after its evidence expires


def counts_against(event: Event) -> bool:
    """True when `event` counts against its address: a complaint, or a hard or soft
    bounce not blamed on the sender (an unknown blame counts)."""
    if event.kind is Kind.COMPLAINT:
        return True
    return event.kind in (Kind.HARD, Kind.SOFT) and event.blame is not Blame.SENDER


def escalation_window(soft: Sequence[Event], policy: Policy) -> tuple[Event, ...] | None:
    """The events of the earliest `soft_threshold` distinct days that fit the window, or None.

    `soft` are the soft bounces that count, in any order. The days fit when the
    last is fewer than `window_days` days after the first: with the defaults,
    bounces on 1, 15 and 30 January escalate, on 1, 15 and 31 January do not.
    """
    days = sorted({bounce_day(event) for event in soft})
    need = policy.soft_threshold
    for start in range(len(days) - need + 1):
        first, last = days[start], days[start + need - 1]
        if (last - first).days < policy.window_days:
            chosen = set(days[start : start + need])
            return tuple(sorted((e for e in soft if bounce_day(e) in chosen), key=_order))
    return None


def settle(
    events: Iterable[Event], policy: Policy, now: datetime, frozen: AddressStatus | None = None
) -> Settled:
    """Split one address's `events` into live and expired at `now`, freezing an escalation
    whose evidence expires. `frozen` is the escalation frozen earlier, if any."""
    ordered = sorted(events, key=_order)
    delivery = _latest_delivery(ordered)
    reset = delivery.bounced_at if delivery else None
    if frozen is not None and reset is not None and frozen.last_at < reset:
        frozen = None  # delivered after the escalation: the address works again
    cutoff = policy.cutoff(now)
    if not ordered or ordered[0].bounced_at >= cutoff:
        return Settled(tuple(ordered), (), frozen)  # the common case: nothing is old
    expired = tuple(e for e in ordered if e.bounced_at < cutoff and _expires(e, reset, delivery))
    gone = {e.fingerprint for e in expired}
    if frozen is None and gone:
        soft = _counted(ordered, reset, Kind.SOFT)
        window = escalation_window(soft, policy)
        if window and any(e.fingerprint in gone for e in window):
            # Only the window and what follows are the frozen escalation's evidence:
            # soft bounces before it may already have been pruned by an earlier
            # run, and counting them would make the status depend on that.
            evidence = [e for e in soft if e.bounced_at >= window[0].bounced_at]
            frozen = _escalated(window, evidence, policy)
    live = tuple(e for e in ordered if e.fingerprint not in gone)
    return Settled(live, expired, frozen)


def decide(
    events: Iterable[Event], policy: Policy, now: datetime, frozen: AddressStatus | None = None
) -> AddressStatus | None:
    """The status of one address from its `events` (and an escalation `frozen` earlier).

    None when nothing about the address is left within retention. `now` only
    decides what has expired; escalation depends on bounce dates alone.
    """
    settled = settle(events, policy, now, frozen)
    return _decide_live(settled.live, settled.frozen, policy)


def bounce_day(event: Event) -> date:
    """The UTC calendar day of the bounce's own date: the unit soft bounces are counted in."""
    return _utc_day(event.bounced_at)


@functools.lru_cache(maxsize=1 << 16)
def _utc_day(moment: datetime) -> date:
    # astimezone is slow and a status asks for one event's day several times
    return moment.astimezone(UTC).date()


def _decide_live(
    live: Sequence[Event], frozen: AddressStatus | None, policy: Policy
) -> AddressStatus | None:
    complaints: list[Event] = []
    hard: list[Event] = []
    soft: list[Event] = []
    reset = _latest_delivery(live)
    for event in live:  # one pass: this runs for every address the ledger knows
        if event.kind is Kind.COMPLAINT:
            complaints.append(event)
        elif event.blame is Blame.SENDER or (reset and event.bounced_at < reset.bounced_at):
            continue
        elif event.kind is Kind.HARD:
            hard.append(event)
        elif event.kind is Kind.SOFT:
            soft.append(event)
    if complaints:
        return _complained(complaints)
    if hard:
        return _hard(hard, sorted([*hard, *soft], key=_order))
    if frozen is not None:
        return _still_frozen(frozen, [e for e in soft if e.bounced_at > frozen.last_at])
    window = escalation_window(soft, policy)
    if window:
        return _escalated(window, soft, policy)
    if soft:
        return _soft(soft, policy)
    return _not_counted(live) if live else None


def _complained(complaints: Sequence[Event]) -> AddressStatus:
    last = complaints[-1]
    if len(complaints) == 1:
        why = f"spam complaint on {_day(last)}{_rule(last)}: suppressed at once"
    else:
        why = f"{len(complaints)} spam complaints, last on {_day(last)}{_rule(last)}: suppressed"
    return _status(last, complaints, suppressed=True, kind=Kind.COMPLAINT, why=why)


def _hard(hard: Sequence[Event], counted: Sequence[Event]) -> AddressStatus:
    last = hard[-1]
    if len(hard) == 1:
        why = f"hard bounce on {_day(last)}{_rule(last)}: suppressed at once"
    else:
        why = f"{len(hard)} hard bounces, last on {_day(last)}{_rule(last)}: suppressed at once"
    return _status(last, counted, suppressed=True, kind=Kind.HARD, why=why)


def _escalated(window: Sequence[Event], soft: Sequence[Event], policy: Policy) -> AddressStatus:
    first, last = window[0], window[-1]
    rule = f", rule {last.rule}" if last.rule else ""
    why = (
        f"{policy.soft_threshold} soft bounces on distinct days within {policy.window_days} days"
        f" ({_day(first)} to {_day(last)}{rule}): escalated to hard"
    )
    return _status(soft[-1], soft, suppressed=True, kind=Kind.HARD, why=why)


def _still_frozen(frozen: AddressStatus, later: Sequence[Event]) -> AddressStatus:
    """A frozen escalation, brought up to date by the soft bounces that came after it."""
    if not later:
        return frozen
    last = later[-1]
    return replace(
        frozen,
        count=frozen.count + len(later),
        last_at=last.bounced_at,
        reason=last.reason,
        category=last.category,
        rule=last.rule,
        last_diagnostic=last.diagnostic,
        explanation_cs=last.explanation_cs,
        explanation_en=last.explanation_en,
        campaign=last.campaign,
    )


def _soft(soft: Sequence[Event], policy: Policy) -> AddressStatus:
    last = soft[-1]
    days = len({bounce_day(e) for e in soft})
    why = (
        f"{_plural(len(soft), 'soft bounce')} on {_plural(days, 'distinct day')}"
        f" since {_day(soft[0])}{_rule(last)}: {policy.soft_threshold} days within"
        f" {policy.window_days} days escalate"
    )
    return _status(last, soft, suppressed=False, kind=Kind.SOFT, why=why)


def _not_counted(live: Sequence[Event]) -> AddressStatus:
    last = live[-1]
    if last.kind is Kind.DELIVERED:
        why = f"delivered on {_day(last)}: earlier bounces no longer count"
    elif last.kind in (Kind.HARD, Kind.SOFT) and last.blame is Blame.SENDER:
        why = f"sender-side failure on {_day(last)}{_rule(last)}: never counts against the address"
    elif last.kind is Kind.DELAYED:
        why = f"delivery delayed on {_day(last)}: delays never count"
    elif last.kind is Kind.AUTO_REPLY:
        why = f"auto-reply on {_day(last)}: auto-replies never count"
    else:
        why = f"{last.kind} on {_day(last)}{_rule(last)}: does not count"
    return _status(last, live, suppressed=False, kind=last.kind, why=why, count=0)


def _status(
    deciding: Event,
    events: Sequence[Event],
    *,
    suppressed: bool,
    kind: Kind,
    why: str,
    count: int | None = None,
) -> AddressStatus:
    return AddressStatus(
        address=deciding.address,
        suppressed=suppressed,
        kind=kind,
        reason=deciding.reason,
        category=deciding.category,
        rule=deciding.rule,
        why=why,
        count=len(events) if count is None else count,
        first_at=events[0].bounced_at,
        last_at=events[-1].bounced_at,
        last_diagnostic=deciding.diagnostic,
        explanation_cs=deciding.explanation_cs,
        explanation_en=deciding.explanation_en,
        campaign=deciding.campaign,
    )


def _counted(ordered: Sequence[Event], reset: datetime | None, kind: Kind) -> list[Event]:
    """The `kind` bounces that count: not sender-side, not before the latest delivery."""
    return [
        e
        for e in ordered
        if e.kind is kind and counts_against(e) and (reset is None or e.bounced_at >= reset)
    ]


def _expires(event: Event, reset: datetime | None, delivery: Event | None) -> bool:
    """Whether `event`, once past retention, can no longer decide anything."""
    if event.kind is Kind.COMPLAINT:
        return False
    if event.kind is Kind.DELIVERED:
        # the latest delivery is what resets older bounces; it must outlive them
        return delivery is None or event.fingerprint != delivery.fingerprint
    if event.kind is Kind.HARD and event.blame is not Blame.SENDER:
        return reset is not None and event.bounced_at < reset
    return True


def _latest_delivery(ordered: Sequence[Event]) -> Event | None:
    for event in reversed(ordered):
        if event.kind is Kind.DELIVERED:
            return event
    return None


def _order(event: Event) -> tuple[datetime, str]:
    return (event.bounced_at, event.fingerprint)


def _day(event: Event) -> str:
    return bounce_day(event).isoformat()


def _rule(event: Event) -> str:
    return f" (rule {event.rule})" if event.rule else ""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
