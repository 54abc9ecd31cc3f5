"""Warnings for senders fire exactly at their documented thresholds."""

from __future__ import annotations

import pytest

from bouncetool.alerts import Alert, Severity, Thresholds
from bouncetool.model import Blame, Event, Kind, Lang
from bouncetool.stats import SentCounts, summarise
from tests.stats_events import event, many


def alerts(events: list[Event], **sent: int) -> list[Alert]:
    campaigns = {name: count for name, count in sent.items() if name != "total"}
    counts = SentCounts(total=sent.get("total"), campaigns=campaigns)
    return list(summarise(events, sent=counts).alerts)


def codes(found: list[Alert]) -> list[tuple[str, str, Severity]]:
    return [(a.code, a.subject, a.severity) for a in found]


class TestBounceRate:
    """Bounce rate over 5 % warns, over 10 % is critical; exactly 5 % is fine."""

    @pytest.mark.parametrize(
        ("sent", "expected"),
        [
            (100, []),  # 5 of 100 = 5 %: not over
            (99, [("bounce-rate", "nov", Severity.WARNING)]),  # 5.05 %
            (50, [("bounce-rate", "nov", Severity.WARNING)]),  # 10 %: not over critical
            (49, [("bounce-rate", "nov", Severity.CRITICAL)]),  # 10.2 %
        ],
    )
    def test_edges(self, sent: int, expected: list[tuple[str, str, Severity]]) -> None:
        events = many("example.cz", 5, campaign="nov")
        assert codes(alerts(events, nov=sent)) == expected

    def test_counts_addresses_not_events(self) -> None:
        # 6 events but 5 addresses: 5 of 100 is exactly 5 %, no warning
        events = [*many("example.cz", 5, campaign="nov"), event("user1@example.cz", campaign="nov")]
        assert alerts(events, nov=100) == []

    def test_total_with_sent(self) -> None:
        found = alerts(many("example.cz", 6, Kind.SOFT), total=100)
        assert codes(found) == [("bounce-rate", "", Severity.WARNING)]
        assert found[0].value == 0.06
        assert "6.0%" in found[0].text(Lang.EN)
        assert "6,0 %" in found[0].text(Lang.CS)

    def test_czech_noun_agrees_with_the_count(self) -> None:
        one = alerts(many("example.cz", 1, campaign="nov"), nov=10)[0].text(Lang.CS)
        three = alerts(many("example.cz", 3, campaign="nov"), nov=10)[0].text(Lang.CS)
        six = alerts(many("example.cz", 6, campaign="nov"), nov=10)[0].text(Lang.CS)
        assert "(1 adresa z 10)" in one
        assert "(3 adresy z 10)" in three
        assert "(6 adres z 10)" in six

    def test_no_rate_warning_without_sent(self) -> None:
        assert alerts(many("example.cz", 19, campaign="nov")) == []


class TestComplaintRate:
    """Complaint rate over 0.1 % warns and over 0.3 % is critical."""

    @pytest.mark.parametrize(
        ("sent", "expected"),
        [
            (1000, []),  # 0.1 %: not over
            (999, [("complaint-rate", "nov", Severity.WARNING)]),
            (334, [("complaint-rate", "nov", Severity.WARNING)]),  # 0.2994 %
            (333, [("complaint-rate", "nov", Severity.CRITICAL)]),  # 0.3003 %
        ],
    )
    def test_edges(self, sent: int, expected: list[tuple[str, str, Severity]]) -> None:
        events = [event("a@example.cz", Kind.COMPLAINT, campaign="nov")]
        assert codes(alerts(events, nov=sent)) == expected


class TestDomainOutlier:
    """A domain with >= 20 dead addresses and >= 5x the median of the next three warns."""

    def test_minimum_count(self) -> None:
        assert alerts(many("seznam.cz", 19)) == []
        found = alerts(many("seznam.cz", 20))
        assert codes(found) == [("domain-outlier", "seznam.cz", Severity.WARNING)]
        assert "100.0% of all hard bounces" in found[0].text(Lang.EN)

    def others(self) -> list[Event]:
        return [*many("gmail.com", 5), *many("centrum.cz", 5), *many("atlas.cz", 5)]

    def test_factor_edge(self) -> None:
        assert alerts([*many("seznam.cz", 24), *self.others()]) == []
        found = alerts([*many("seznam.cz", 25), *self.others()])
        assert codes(found) == [("domain-outlier", "seznam.cz", Severity.WARNING)]

    def test_seed_example(self) -> None:
        # 800 dead at seznam.cz against an ordinary spread elsewhere
        events = [*many("seznam.cz", 800), *many("gmail.com", 45), *many("centrum.cz", 15)]
        events += many("volny.cz", 7)
        found = alerts(events)
        assert codes(found) == [("domain-outlier", "seznam.cz", Severity.WARNING)]
        assert "seznam.cz: 800 adres s trvalou chybou" in found[0].text(Lang.CS)

    def test_ordinary_large_providers_do_not_warn(self) -> None:
        # a normal list: bounces follow the providers' sizes, with a long tail
        events = [*many("seznam.cz", 60), *many("gmail.com", 45), *many("email.cz", 15)]
        events += [*many("centrum.cz", 7), *many("volny.cz", 5), *many("atlas.cz", 3)]
        events += [event(f"x@tail{i}.cz") for i in range(40)]
        assert alerts(events) == []

    def test_two_broken_domains_both_warn(self) -> None:
        events = [*many("seznam.cz", 100), *many("email.cz", 60), *many("gmail.com", 10)]
        events += many("centrum.cz", 5)
        assert [a.subject for a in alerts(events)] == ["seznam.cz", "email.cz"]

    def test_sender_blocks_are_not_dead_addresses(self) -> None:
        blocked = many("seznam.cz", 30, reason="blocked", blame=Blame.SENDER)
        assert [a.code for a in alerts(blocked)] == ["sender-blocks"]

    def test_soft_bounces_do_not_count(self) -> None:
        assert alerts(many("seznam.cz", 30, Kind.SOFT)) == []


class TestSenderBlocks:
    """Ten or more addresses refused because of the sender at one provider warn."""

    def test_edge_across_one_providers_domains(self) -> None:
        six = many("seznam.cz", 6, Kind.SOFT, reason="blocked", blame=Blame.SENDER)
        three = many("email.cz", 3, Kind.SOFT, reason="blocked", blame=Blame.SENDER)
        assert alerts([*six, *three]) == []
        four = many("email.cz", 4, Kind.SOFT, reason="blocked", blame=Blame.SENDER)
        found = alerts([*six, *four])
        assert codes(found) == [("sender-blocks", "Seznam", Severity.WARNING)]
        assert found[0].text(Lang.EN).startswith("Seznam (email.cz, seznam.cz): 10 addresses")
        assert "nemažte" in found[0].text(Lang.CS)

    def test_different_providers_do_not_add_up(self) -> None:
        gmail = many("gmail.com", 9, Kind.SOFT, reason="blocked", blame=Blame.SENDER)
        seznam = many("seznam.cz", 9, Kind.SOFT, reason="blocked", blame=Blame.SENDER)
        assert alerts([*gmail, *seznam]) == []

    def test_unknown_domain_is_its_own_provider(self) -> None:
        found = alerts(many("firma.cz", 10, Kind.SOFT, reason="blocked", blame=Blame.SENDER))
        assert found[0].text(Lang.EN).startswith("firma.cz: 10 addresses")


class TestOrderAndThresholds:
    """Critical warnings come first, and thresholds can be changed."""

    def test_critical_first(self) -> None:
        events = [*many("seznam.cz", 20, campaign="nov")]
        found = alerts(events, nov=100)
        assert [a.severity for a in found] == [Severity.CRITICAL, Severity.WARNING]

    def test_custom_thresholds(self) -> None:
        report = summarise(many("seznam.cz", 5), thresholds=Thresholds(domain_min_addresses=5))
        assert [a.code for a in report.alerts] == ["domain-outlier"]
