"""The policy, as a specification: which bounce histories suppress an address, and why.

Each row of a table is one address's history: ``(kind, bounce date, blame)``.
Dates are January 2026 unless given in full; "now" is 15 February 2026.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool.errors import ConfigError
from bouncetool.model import AddressStatus, Blame, Event, Kind
from bouncetool.policy import Policy, decide, escalation_window, settle

NOW = datetime(2026, 2, 15, 12, 0, tzinfo=UTC)
ADDRESS = "jan.novak@example.cz"
_serial = itertools.count()

R, S, U = Blame.RECIPIENT, Blame.SENDER, Blame.UNKNOWN
HARD, SOFT, COMPLAINT = Kind.HARD, Kind.SOFT, Kind.COMPLAINT
DELAYED, AUTO, DELIVERED = Kind.DELAYED, Kind.AUTO_REPLY, Kind.DELIVERED


def at(when: int | str) -> datetime:
    """Day `when` of January 2026 at noon UTC, or an ISO 8601 text."""
    if isinstance(when, int):
        return datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=when - 1)
    return datetime.fromisoformat(when)


def event(kind: Kind, when: int | str, blame: Blame | None = R, rule: str = "r1") -> Event:
    """An event of `ADDRESS`, as the ledger would hand it to the policy."""
    bounced = at(when)
    return Event(
        fingerprint=f"fp{next(_serial):06d}",
        address=ADDRESS,
        domain="example.cz",
        kind=kind,
        reason="mailboxfull" if kind is SOFT else "userunknown",
        category="mailbox-full" if kind is SOFT else "invalid-recipient",
        blame=blame,
        rule=rule,
        status=None,
        reply_code=None,
        diagnostic=f"{kind} diagnostic",
        campaign="spring",
        bounced_at=bounced,
        read_at=NOW,
        source="test.mbox",
        explanation_cs="vysvětlení",
        explanation_en="explanation",
    )


def status_of(history: list[tuple[Kind, int | str, Blame | None]], policy: Policy = Policy()):  # noqa: B008
    return decide([event(kind, when, blame) for kind, when, blame in history], policy, NOW)


class TestSuppressedAtOnce:
    """A hard bounce or a complaint suppresses at once; one is enough."""

    @pytest.mark.parametrize(
        ("history", "kind"),
        [
            ([(HARD, 5, R)], HARD),
            ([(HARD, 5, U)], HARD),
            ([(HARD, 5, None)], HARD),
            ([(COMPLAINT, 5, R)], COMPLAINT),
            ([(SOFT, 3, R), (HARD, 5, R)], HARD),
            ([(HARD, 3, R), (COMPLAINT, 5, R)], COMPLAINT),
        ],
    )
    def test_suppressed(self, history, kind) -> None:
        status = status_of(history)
        assert status is not None
        assert status.suppressed
        assert status.kind is kind


class TestSoftEscalation:
    """Soft bounces escalate after N distinct days (UTC, bounce date) fewer than W days apart."""

    @pytest.mark.parametrize(
        ("days", "suppressed"),
        [
            ([1], False),
            ([1, 2], False),  # two days: one short of three
            ([1, 2, 3], True),
            ([1, 15, 30], True),  # 29 days apart: inside the 30-day window
            ([1, 15, 31], False),  # 30 days apart: outside
            ([1, 15, 31, 40], True),  # 15, 31 and 40 fit
            ([1, 1, 1], False),  # one day, however many bounces
            ([1, 1, 2, 2], False),  # two days
            ([1, 1, 2, 3], True),
            (["2026-01-01T23:30:00+02:00", "2026-01-02T00:30:00+02:00", 3], False),  # 1 Jan UTC
            (["2026-01-01T23:30:00+00:00", "2026-01-02T00:30:00+00:00", 3], True),
        ],
    )
    def test_default_threshold_and_window(self, days, suppressed) -> None:
        status = status_of([(SOFT, day, R) for day in days])
        assert status is not None
        assert status.suppressed is suppressed
        assert status.kind is (HARD if suppressed else SOFT)
        assert status.count == len(days)

    @pytest.mark.parametrize(
        ("policy", "days", "suppressed"),
        [
            (Policy(soft_threshold=2), [1, 2], True),
            (Policy(soft_threshold=2), [1], False),
            (Policy(soft_threshold=1), [1], True),
            (Policy(soft_threshold=5), [1, 2, 3, 4], False),
            (Policy(soft_threshold=5), [1, 2, 3, 4, 5], True),
            (Policy(window_days=7), [1, 4, 7], True),  # 6 days apart
            (Policy(window_days=7), [1, 4, 8], False),  # 7 days apart
            (Policy(window_days=1, soft_threshold=2), [1, 2], False),  # a 1-day window holds 1 day
        ],
    )
    def test_configurable(self, policy, days, suppressed) -> None:
        status = status_of([(SOFT, day, R) for day in days], policy)
        assert status is not None
        assert status.suppressed is suppressed

    def test_unknown_blame_counts(self) -> None:
        status = status_of([(SOFT, 1, U), (SOFT, 2, None), (SOFT, 3, U)])
        assert status is not None
        assert status.suppressed

    def test_the_earliest_window_decides(self) -> None:
        window = escalation_window([event(SOFT, d) for d in (1, 40, 41, 42, 43)], Policy())
        assert window is not None
        assert [e.bounced_at.day for e in window] == [9, 10, 11]  # 40..42 January = 9..11 Feb


class TestNeverCounts:
    """Sender-side failures, delays, auto-replies and deliveries never suppress."""

    @pytest.mark.parametrize(
        ("history", "kind", "why"),
        [
            ([(SOFT, d, S) for d in range(1, 11)], SOFT, "sender-side failure"),
            ([(HARD, 5, S)], HARD, "sender-side failure"),
            ([(DELAYED, d, R) for d in range(1, 11)], DELAYED, "delays never count"),
            ([(AUTO, d, R) for d in range(1, 11)], AUTO, "auto-replies never count"),
            ([(DELIVERED, 5, None)], DELIVERED, "delivered on 2026-01-05"),
            ([(SOFT, 1, S), (SOFT, 2, S), (SOFT, 3, R)], SOFT, "1 soft bounce on 1 distinct day"),
        ],
    )
    def test_not_suppressed(self, history, kind, why) -> None:
        status = status_of(history)
        assert status is not None
        assert not status.suppressed
        assert status.kind is kind
        assert why in status.why

    def test_sender_side_failures_count_zero(self) -> None:
        status = status_of([(SOFT, d, S) for d in range(1, 6)])
        assert status is not None
        assert status.count == 0


class TestReset:
    """A later delivery resets hard and soft bounces; complaints stay."""

    @pytest.mark.parametrize(
        ("history", "suppressed"),
        [
            ([(HARD, 3, R), (DELIVERED, 5, None)], False),
            ([(DELIVERED, 3, None), (HARD, 5, R)], True),
            ([(SOFT, 1, R), (SOFT, 2, R), (DELIVERED, 3, None), (SOFT, 4, R)], False),
            ([(SOFT, 1, R), (SOFT, 2, R), (SOFT, 3, R), (DELIVERED, 4, None)], False),
            ([(DELIVERED, 1, None), (SOFT, 2, R), (SOFT, 3, R), (SOFT, 4, R)], True),
            ([(COMPLAINT, 3, R), (DELIVERED, 5, None)], True),
            (  # a bounce at the very moment of the delivery still counts
                [(HARD, "2026-01-05T10:00:00+00:00", R), (DELIVERED, "2026-01-05T10:00:00Z", None)],
                True,
            ),
        ],
    )
    def test_delivery_resets(self, history, suppressed) -> None:
        status = status_of(history)
        assert status is not None
        assert status.suppressed is suppressed


class TestWhy:
    """Every decision names its rule, its count and its first and last dates."""

    def test_hard(self) -> None:
        status = status_of([(SOFT, 2, R), (HARD, 5, R)])
        assert status is not None
        assert status.why == "hard bounce on 2026-01-05 (rule r1): suppressed at once"
        assert (status.count, status.first_at, status.last_at) == (2, at(2), at(5))
        assert status.rule == "r1"
        assert status.last_diagnostic == "hard diagnostic"
        assert status.explanation_cs == "vysvětlení"
        assert status.campaign == "spring"

    def test_escalated(self) -> None:
        status = status_of([(SOFT, 1, R), (SOFT, 10, R), (SOFT, 20, R), (SOFT, 25, R)])
        assert status is not None
        assert status.why == (
            "3 soft bounces on distinct days within 30 days"
            " (2026-01-01 to 2026-01-20, rule r1): escalated to hard"
        )
        assert (status.count, status.first_at, status.last_at) == (4, at(1), at(25))

    def test_soft_below_threshold(self) -> None:
        status = status_of([(SOFT, 3, R), (SOFT, 3, R), (SOFT, 7, R)])
        assert status is not None
        assert status.why == (
            "3 soft bounces on 2 distinct days since 2026-01-03 (rule r1):"
            " 3 days within 30 days escalate"
        )

    def test_complaints(self) -> None:
        status = status_of([(COMPLAINT, 3, R), (COMPLAINT, 9, R)])
        assert status is not None
        assert status.why == "2 spam complaints, last on 2026-01-09 (rule r1): suppressed"
        assert status.count == 2


class TestRetention:
    """Events that cannot suppress expire after `retention_days`; suppressions never do."""

    def test_old_soft_bounces_expire(self) -> None:
        old = [event(SOFT, "2025-11-01T12:00:00+00:00"), event(DELAYED, "2025-11-02T12:00:00Z")]
        settled = settle(old, Policy(), NOW)
        assert settled.live == ()
        assert len(settled.expired) == 2
        assert decide(old, Policy(), NOW) is None

    def test_old_hard_bounce_and_complaint_stay(self) -> None:
        old = [event(HARD, "2025-01-01T12:00:00Z"), event(COMPLAINT, "2025-02-01T12:00:00Z")]
        assert settle(old, Policy(), NOW).expired == ()

    def test_old_escalation_freezes(self) -> None:
        old = [event(SOFT, f"2025-10-0{d}T12:00:00Z") for d in (1, 2, 3)]
        settled = settle(old, Policy(), NOW)
        assert len(settled.expired) == 3
        assert settled.frozen is not None
        assert settled.frozen.suppressed
        assert settled.frozen.why.startswith("3 soft bounces on distinct days within 30 days")
        status = decide([], Policy(), NOW, settled.frozen)
        assert status == settled.frozen

    def test_only_the_latest_delivery_is_kept(self) -> None:
        deliveries = [event(DELIVERED, f"2025-10-0{d}T12:00:00Z", None) for d in (1, 2)]
        settled = settle(deliveries, Policy(), NOW)
        assert settled.live == (deliveries[1],)

    def test_a_reset_hard_bounce_expires(self) -> None:
        history = [event(HARD, "2025-10-01T12:00:00Z"), event(DELIVERED, "2025-10-02T12:00:00Z")]
        assert settle(history, Policy(), NOW).expired == (history[0],)

    def test_a_delivery_unfreezes(self) -> None:
        frozen = settle(
            [event(SOFT, f"2025-10-0{d}T12:00:00Z") for d in (1, 2, 3)], Policy(), NOW
        ).frozen
        assert frozen is not None
        status = decide([event(DELIVERED, 5, None)], Policy(), NOW, frozen)
        assert status is not None
        assert not status.suppressed

    def test_later_soft_bounces_add_to_a_frozen_escalation(self) -> None:
        frozen = settle(
            [event(SOFT, f"2025-10-0{d}T12:00:00Z") for d in (1, 2, 3)], Policy(), NOW
        ).frozen
        status = decide([event(SOFT, 5)], Policy(), NOW, frozen)
        assert status is not None
        assert status.suppressed
        assert (status.count, status.last_at) == (4, at(5))


class TestPolicyValues:
    """A policy refuses numbers that make no sense, with a one-line error."""

    @pytest.mark.parametrize("field", ["soft_threshold", "window_days", "retention_days"])
    @pytest.mark.parametrize("value", [0, -1, True])
    def test_invalid(self, field, value) -> None:
        with pytest.raises(ConfigError, match=field):
            Policy(**{field: value})


histories = st.lists(
    st.tuples(
        st.sampled_from(list(Kind)),
        st.integers(min_value=-120, max_value=45),
        st.sampled_from([R, S, U, None]),
    ),
    max_size=12,
)


class TestSettleIsInvisible:
    """Applying what `settle` says (as the ledger's prune does) never changes a status."""

    @settings(max_examples=300, deadline=None)
    @given(history=histories, later=st.integers(min_value=0, max_value=90))
    def test_prune_then_decide(self, history, later) -> None:
        events = [event(kind, day, blame) for kind, day, blame in history]
        policy = Policy()
        settled = settle(events, policy, NOW)
        assert decide(events, policy, NOW) == decide(settled.live, policy, NOW, settled.frozen)
        # and still after more time passes
        then = NOW + timedelta(days=later)
        assert decide(events, policy, then) == decide(settled.live, policy, then, settled.frozen)

    @settings(max_examples=200, deadline=None)
    @given(history=histories)
    def test_order_does_not_matter(self, history) -> None:
        events = [event(kind, day, blame) for kind, day, blame in history]
        forward: AddressStatus | None = decide(events, Policy(), NOW)
        assert decide(list(reversed(events)), Policy(), NOW) == forward
