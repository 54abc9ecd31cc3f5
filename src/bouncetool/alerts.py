"""The warnings a sender needs, decided from bounce statistics by documented thresholds.

Four checks, each a pure function of counted groups (see `Thresholds`):

``domain-outlier``
    One receiving domain has far more hard-bounced addresses than the rest (the
    seed's example: 800 of 1,000 seznam.cz addresses dead). Hard bounces blamed
    on the sender (a block) say nothing of the address and do not count. Without the number
    sent per domain the ledger cannot know each domain's size, so "far more" is
    measured against the *typical large domain*: a domain warns when it has at
    least ``domain_min_addresses`` (20) hard-bounced addresses and at least
    ``domain_factor`` (5) times the median of the ``domain_baseline`` (3) largest
    other domains' counts (missing domains count 0). The median of the next
    largest, not of all domains, because the long tail of one-bounce domains
    would make every large provider look like an outlier; a median, not the
    runner-up alone, so that two broken domains both warn.
``bounce-rate`` / ``complaint-rate``
    Where the number sent is known (a campaign, or ``--sent`` for the total):
    bounce rate over 5 % warns and over 10 % is critical (Amazon SES reviews a
    sender at 5 % and may pause at 10 %); complaint rate over 0.1 % warns and
    over 0.3 % is critical (the levels Gmail's and Yahoo's sender requirements
    name). "Over" is strict: exactly 5 % does not warn.
``sender-blocks``
    At least ``sender_block_min_addresses`` (10) distinct addresses at one
    provider refused because of the sender (rule blame ``sender``: blocklists,
    reputation, SPF/DKIM/DMARC). That is a reputation problem, not a list
    problem: deleting those contacts would not help.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from bouncetool.figures import czech_plural, format_number, format_percent
from bouncetool.model import Lang

if TYPE_CHECKING:
    from bouncetool.stats import Group


class Severity(enum.StrEnum):
    """How urgent a warning is."""

    WARNING = "warning"  # look at it before the next campaign
    CRITICAL = "critical"  # providers act at this level: stop and fix first


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The levels at which `find_alerts` warns; defaults documented in the module docstring."""

    bounce_rate: float = 0.05
    bounce_rate_critical: float = 0.10
    complaint_rate: float = 0.001
    complaint_rate_critical: float = 0.003
    domain_min_addresses: int = 20
    domain_factor: float = 5.0
    domain_baseline: int = 3
    sender_block_min_addresses: int = 10


@dataclass(frozen=True, slots=True)
class Alert:
    """One warning: what, how bad, about which subject, and the text a person reads."""

    code: str  # domain-outlier, bounce-rate, complaint-rate, sender-blocks
    severity: Severity
    subject: str  # the domain, campaign ("" for the total) or provider
    value: float  # the measured count or rate
    threshold: float  # the level it was compared with
    text_cs: str
    text_en: str

    def text(self, lang: Lang) -> str:
        """The warning in `lang`."""
        return self.text_cs if lang is Lang.CS else self.text_en

    def as_dict(self, lang: Lang) -> dict[str, Any]:
        """The warning as a flat mapping (for JSON)."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "subject": self.subject,
            "value": round(self.value, 6),
            "threshold": self.threshold,
            "text": self.text(lang),
        }


@dataclass(slots=True)
class SenderBlocks:
    """Distinct addresses refused because of the sender, per provider (filled while counting)."""

    addresses: dict[str, set[str]] = field(default_factory=dict)
    domains: dict[str, set[str]] = field(default_factory=dict)

    def add(self, provider: str, domain: str, address: str) -> None:
        """Count one sender-blamed failure of `address` at `domain`, run by `provider`."""
        self.addresses.setdefault(provider, set()).add(address)
        self.domains.setdefault(provider, set()).add(domain)


def find_alerts(
    *,
    total: Group,
    campaigns: Sequence[Group],
    domains: Sequence[Group],
    blocks: SenderBlocks,
    thresholds: Thresholds,
) -> tuple[Alert, ...]:
    """All warnings for these counts, the critical ones first."""
    found = [
        *_rate_alerts([total, *campaigns], thresholds),
        *_domain_alerts(domains, thresholds),
        *_block_alerts(blocks, thresholds),
    ]
    return tuple(sorted(found, key=lambda a: a.severity is not Severity.CRITICAL))


def _over(count: int, sent: int, rate: float) -> bool:
    # Exact arithmetic: 5 of 100 is exactly 5 %, which must not count as "over".
    return Fraction(count, sent) > Fraction(str(rate))


def _rate_alerts(groups: Sequence[Group], t: Thresholds) -> Iterator[Alert]:
    for group in groups:
        if not group.sent:
            continue
        subject = group.key or ""
        for code, count, warn, critical in (
            ("bounce-rate", group.bounced_addresses, t.bounce_rate, t.bounce_rate_critical),
            (
                "complaint-rate",
                group.complaint_addresses,
                t.complaint_rate,
                t.complaint_rate_critical,
            ),
        ):
            if not _over(count, group.sent, warn):
                continue
            severity = Severity.CRITICAL if _over(count, group.sent, critical) else Severity.WARNING
            level = critical if severity is Severity.CRITICAL else warn
            cs, en = _rate_texts(code, subject, count, group.sent, level)
            yield Alert(code, severity, subject, count / group.sent, level, cs, en)


def _rate_texts(code: str, subject: str, count: int, sent: int, level: float) -> tuple[str, str]:
    cs = Lang.CS
    rate_cs, count_cs, sent_cs, level_cs = (
        format_percent(count / sent, cs),
        format_number(count, cs),
        format_number(sent, cs),
        format_percent(level, cs),
    )
    en = Lang.EN
    rate_en, count_en, sent_en, level_en = (
        format_percent(count / sent, en),
        format_number(count, en),
        format_number(sent, en),
        format_percent(level, en),
    )
    where_cs = f"Kampaň {subject}" if subject else "Celkem"
    where_en = f"Campaign {subject}" if subject else "In total"
    if code == "bounce-rate":
        return (
            f"{where_cs}: míra nedoručitelnosti {rate_cs} ({count_cs} "
            f"{czech_plural(count, 'adresa', 'adresy', 'adres')} z {sent_cs}) "
            f"je nad {level_cs}. Velcí poskytovatelé při takové míře prověřují odesílatele: "
            "vyčistěte seznam (bouncetool clean).",
            f"{where_en}: bounce rate {rate_en} ({count_en} addresses of {sent_en}) is over "
            f"{level_en}. Large providers review senders at this level: clean the list "
            "(bouncetool clean).",
        )
    return (
        f"{where_cs}: míra stížností na spam {rate_cs} ({count_cs} z {sent_cs}) je nad "
        f"{level_cs}, kde Gmail a Yahoo začínají poštu odmítat. Posílejte jen těm, kdo o "
        "zprávy stojí.",
        f"{where_en}: spam complaint rate {rate_en} ({count_en} of {sent_en}) is over "
        f"{level_en}, where Gmail and Yahoo start refusing mail. Send only to people who "
        "want your messages.",
    )


def _domain_alerts(domains: Sequence[Group], t: Thresholds) -> Iterator[Alert]:
    counted = sorted(
        ((g.dead_addresses, g.key) for g in domains if g.key and g.dead_addresses),
        key=lambda pair: (-pair[0], pair[1]),
    )
    all_hard = sum(n for n, _domain in counted)
    for index, (hard, domain) in enumerate(counted):
        if hard < t.domain_min_addresses:
            break  # sorted: no later domain reaches the minimum either
        others = [n for i, (n, _d) in enumerate(counted) if i != index][: t.domain_baseline]
        others += [0] * (t.domain_baseline - len(others))
        baseline = statistics.median(others)
        if hard < t.domain_factor * baseline:
            continue
        share = hard / all_hard
        cs = (
            f"{domain}: {format_number(hard, Lang.CS)} "
            f"{czech_plural(hard, 'adresa', 'adresy', 'adres')} s trvalou chybou (hard bounce), "
            f"{format_percent(share, Lang.CS)} všech trvalých chyb; běžná velká doména jich má "
            f"{format_number(baseline, Lang.CS)}. Pokud {domain} netvoří tak velkou část vašeho "
            "seznamu, je tam mnoho neplatných adres (starý nebo koupený seznam?): "
            "odstraňte je (bouncetool clean)."
        )
        en = (
            f"{domain}: {format_number(hard, Lang.EN)} hard-bounced addresses, "
            f"{format_percent(share, Lang.EN)} of all hard bounces; a typical large domain has "
            f"{format_number(baseline, Lang.EN)}. Unless {domain} is that large a part of your "
            "list, many addresses there are dead (an old or bought list?): remove them "
            "(bouncetool clean)."
        )
        yield Alert("domain-outlier", Severity.WARNING, domain, hard, t.domain_factor, cs, en)


def _block_alerts(blocks: SenderBlocks, t: Thresholds) -> Iterator[Alert]:
    for provider in sorted(blocks.addresses, key=lambda p: (-len(blocks.addresses[p]), p)):
        count = len(blocks.addresses[provider])
        if count < t.sender_block_min_addresses:
            continue
        domains = ", ".join(sorted(blocks.domains[provider]))
        name = provider if domains == provider else f"{provider} ({domains})"
        cs = (
            f"{name}: {format_number(count, Lang.CS)} "
            f"{czech_plural(count, 'adresa odmítnuta', 'adresy odmítnuty', 'adres odmítnuto')} "
            "kvůli odesílateli (blokace, "
            "pověst, SPF/DKIM/DMARC). To je problém pověsti odesílatele, ne seznamu: tyto "
            "kontakty nemažte, zkontrolujte blacklisty a SPF, DKIM, DMARC a požádejte "
            "poskytovatele o odblokování."
        )
        en = (
            f"{name}: {format_number(count, Lang.EN)} addresses refused because of the sender "
            "(block, reputation, SPF/DKIM/DMARC). This is a sender reputation problem, not a "
            "list problem: do not delete these contacts; check blocklists and SPF, DKIM, DMARC "
            "and ask the provider to unblock you."
        )
        yield Alert(
            "sender-blocks", Severity.WARNING, provider, count, t.sender_block_min_addresses, cs, en
        )
