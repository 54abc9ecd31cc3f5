"""Statistics over ledger events: exact counts and rates on hand-built events."""

from __future__ import annotations

from bouncetool.model import Event, Kind, Lang
from bouncetool.stats import GROUP_FIELDS, Dimension, Group, Report, SentCounts, summarise
from tests.stats_events import event


def small_ledger() -> list[Event]:
    """Seven events, five distinct addresses, two campaigns, two ISO weeks."""
    return [
        event("a@seznam.cz", Kind.HARD, campaign="nov", when="2026-11-20T08:00:00+00:00"),
        event("A@Seznam.CZ", Kind.HARD, campaign="nov", when="2026-11-21T08:00:00+00:00"),
        event("b@seznam.cz", Kind.SOFT, campaign="nov", when="2026-11-20T09:00:00+00:00"),
        event("c@gmail.com", Kind.SOFT, campaign="dec", when="2026-11-27T09:00:00+00:00"),
        event("C@gmail.com", Kind.SOFT, campaign="dec", when="2026-11-27T10:00:00+00:00"),
        event("d@gmail.com", Kind.COMPLAINT, campaign="dec", when="2026-11-27T11:00:00+00:00"),
        event("e@email.cz", Kind.AUTO_REPLY, when="2026-11-22T12:00:00+00:00"),
    ]


def keyed(report: Report, dim: Dimension) -> dict[str | None, Group]:
    return {group.key: group for group in report.groups[dim]}


class TestTotals:
    """The total row counts events, distinct addresses and each kind exactly."""

    def test_totals(self) -> None:
        total = summarise(small_ledger()).total
        assert (total.events, total.addresses) == (7, 5)
        assert (total.hard, total.soft, total.complaint, total.other) == (2, 3, 1, 1)
        assert (total.bounced_addresses, total.hard_addresses) == (3, 1)
        assert total.complaint_addresses == 1
        assert total.share == 1.0
        assert total.sent is None
        assert total.bounce_rate is None

    def test_streams_a_generator_once(self) -> None:
        report = summarise(iter(small_ledger()))
        assert report.total.events == 7

    def test_dates(self) -> None:
        report = summarise(small_ledger())
        assert report.first_at is not None
        assert report.last_at is not None
        assert report.first_at.isoformat() == "2026-11-20T08:00:00+00:00"
        assert report.last_at.isoformat() == "2026-11-27T11:00:00+00:00"


class TestGroups:
    """Each axis groups events by its key; largest first, ties by name, unknown last."""

    def test_by_domain(self) -> None:
        report = summarise(small_ledger())
        assert [g.key for g in report.groups[Dimension.DOMAIN]] == [
            "gmail.com",
            "seznam.cz",
            "email.cz",
        ]
        seznam = keyed(report, Dimension.DOMAIN)["seznam.cz"]
        assert (seznam.events, seznam.addresses, seznam.hard, seznam.soft) == (3, 2, 2, 1)
        assert seznam.share == 3 / 7
        gmail = keyed(report, Dimension.DOMAIN)["gmail.com"]
        assert (gmail.events, gmail.addresses, gmail.soft, gmail.complaint) == (3, 2, 2, 1)

    def test_by_kind(self) -> None:
        kinds = keyed(summarise(small_ledger()), Dimension.KIND)
        assert {k: g.events for k, g in kinds.items()} == {
            "hard": 2,
            "soft": 3,
            "complaint": 1,
            "auto-reply": 1,
        }
        assert kinds["auto-reply"].other == 1

    def test_by_reason_and_category(self) -> None:
        report = summarise(small_ledger())
        reasons = keyed(report, Dimension.REASON)
        assert reasons["mailboxfull"].events == 3
        assert reasons["mailboxfull"].addresses == 2
        assert keyed(report, Dimension.CATEGORY)["invalid-recipient"].events == 2

    def test_campaign_without_name_is_last(self) -> None:
        campaigns = summarise(small_ledger()).groups[Dimension.CAMPAIGN]
        assert [g.key for g in campaigns] == ["dec", "nov", None]
        assert campaigns[-1].events == 1

    def test_days_and_weeks_in_date_order(self) -> None:
        report = summarise(small_ledger())
        days = {g.key: g.events for g in report.groups[Dimension.DAY]}
        assert list(days) == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-27"]
        assert list(days.values()) == [2, 1, 1, 3]
        weeks = {g.key: g.events for g in report.groups[Dimension.WEEK]}
        assert weeks == {"2026-W47": 4, "2026-W48": 3}

    def test_day_is_the_utc_day_of_the_bounce(self) -> None:
        late = event("x@example.cz", when="2026-11-20T23:30:00-02:00")
        days = summarise([late]).groups[Dimension.DAY]
        assert [g.key for g in days] == ["2026-11-21"]


class TestRates:
    """Rates divide distinct addresses by the number sent, per campaign and in total."""

    def test_campaign_rates(self) -> None:
        sent = SentCounts(campaigns={"nov": 40, "dec": 1000})
        campaigns = keyed(summarise(small_ledger(), sent=sent), Dimension.CAMPAIGN)
        nov = campaigns["nov"]
        # a@ bounced twice (one address), b@ once: 2 of 40
        assert (nov.sent, nov.bounced_addresses, nov.bounce_rate) == (40, 2, 0.05)
        assert nov.hard_rate == 1 / 40
        dec = campaigns["dec"]
        assert (dec.bounce_rate, dec.complaint_rate) == (1 / 1000, 1 / 1000)
        assert campaigns[None].sent is None

    def test_campaign_without_bounces_shows_zero(self) -> None:
        sent = SentCounts(campaigns={"jan": 500})
        jan = keyed(summarise(small_ledger(), sent=sent), Dimension.CAMPAIGN)["jan"]
        assert (jan.events, jan.sent, jan.bounce_rate, jan.complaint_rate) == (0, 500, 0.0, 0.0)

    def test_total_rate_with_sent(self) -> None:
        total = summarise(small_ledger(), sent=SentCounts(total=300)).total
        assert total.bounce_rate == 3 / 300
        assert total.complaint_rate == 1 / 300


class TestExplanations:
    """A reason is explained by the explanation its events carry, in the asked language."""

    def test_explanation(self) -> None:
        report = summarise(small_ledger())
        assert report.explanation("userunknown", Lang.CS) == "Adresa neexistuje."
        assert report.explanation("userunknown", Lang.EN) == "The address does not exist."
        assert report.explanation("vacation", Lang.CS) is None
        assert report.explanation(None, Lang.CS) is None


class TestMachineForm:
    """A group's flat form has exactly the documented fields, in order."""

    def test_fields(self) -> None:
        total = summarise(small_ledger(), sent=SentCounts(total=300)).total
        row = total.as_dict()
        assert tuple(row) == GROUP_FIELDS
        assert row["dimension"] == "total"
        assert row["bounce_rate"] == 0.01


class TestEmpty:
    """No events give zero totals, no groups and no warnings, without dividing by zero."""

    def test_empty(self) -> None:
        report = summarise([])
        assert report.total.events == 0
        assert report.total.share == 0.0
        assert all(groups == () for groups in report.groups.values())
        assert report.alerts == ()
        assert report.first_at is None
