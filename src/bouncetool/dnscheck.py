"""Can a domain receive mail at all? MX lookups with dnspython, once per domain, in parallel.

For each distinct domain the check asks for MX records (RFC 5321 5.1):

* MX hosts found -> ``ok``;
* only ``MX 0 .`` -> ``null-mx``: the domain says it accepts no mail (RFC 7505);
* no MX, but an A or AAAA record -> ``ok``: that host is the implicit MX;
* the name does not exist (NXDOMAIN) -> ``nxdomain``;
* the name exists with neither MX nor A/AAAA -> ``no-mail-host``;
* no answer in time -> ``timeout``; SERVFAIL, REFUSED or any other failure ->
  ``servfail``; a name that cannot be asked at all -> ``bad-name``.

Only ``nxdomain`` and ``null-mx`` remove a contact (`DomainStatus.removes`):
both are a domain's own, authoritative statement that it takes no mail.
``no-mail-host`` is kept: a missing MX is often a DNS change in progress, and
the product brief says it is no reason for permanent removal. ``timeout``,
``servfail`` and ``bad-name`` mean "we do not know", and not knowing never
deletes anybody (a bad name is the syntax check's business).

The check never prints and never raises for a domain: every domain gets a
status. Each domain has `timeout` seconds in all (its MX, A and AAAA queries
share them), and up to `concurrency` domains are asked at once, in threads:
dnspython's resolver is synchronous and the work is waiting, not computing.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.rrset

from bouncetool.addresses import normalise_domain
from bouncetool.errors import ConfigError
from bouncetool.model import Lang
from bouncetool.syntax import ascii_domain


class DnsStatus(enum.StrEnum):
    """What DNS says about a domain as a mail destination."""

    OK = "ok"
    NXDOMAIN = "nxdomain"
    NULL_MX = "null-mx"
    NO_MAIL_HOST = "no-mail-host"
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    BAD_NAME = "bad-name"


_REASONS: Final[dict[DnsStatus, tuple[str, str]]] = {
    DnsStatus.OK: (
        "Doména přijímá poštu.",
        "The domain accepts mail.",
    ),
    DnsStatus.NXDOMAIN: (
        "Doména neexistuje (DNS odpověď NXDOMAIN).",
        "The domain does not exist (DNS answer NXDOMAIN).",
    ),
    DnsStatus.NULL_MX: (
        "Doména výslovně nepřijímá žádnou poštu (null MX, RFC 7505).",
        "The domain explicitly accepts no mail (null MX, RFC 7505).",
    ),
    DnsStatus.NO_MAIL_HOST: (
        "Doména existuje, ale nemá záznam MX ani adresu serveru; může jít o dočasný stav.",
        "The domain exists but has no MX record and no server address; this may be temporary.",
    ),
    DnsStatus.TIMEOUT: (
        "DNS server neodpověděl včas; stav domény je neznámý.",
        "The DNS server did not answer in time; the domain's state is unknown.",
    ),
    DnsStatus.SERVFAIL: (
        "DNS server ohlásil chybu (SERVFAIL); stav domény je neznámý.",
        "The DNS server reported a failure (SERVFAIL); the domain's state is unknown.",
    ),
    DnsStatus.BAD_NAME: (
        "Název domény není platný, v DNS se na něj nelze zeptat.",
        "The domain name is not valid and cannot be looked up in DNS.",
    ),
}

_REMOVES: Final = frozenset({DnsStatus.NXDOMAIN, DnsStatus.NULL_MX})
_UNKNOWN: Final = frozenset({DnsStatus.TIMEOUT, DnsStatus.SERVFAIL, DnsStatus.BAD_NAME})


@dataclass(frozen=True, slots=True)
class DomainStatus:
    """The DNS verdict on one domain.

    `domain` is the normalised domain that was asked (`normalise_domain`);
    `detail` is what the answer said, for a person: the MX hosts, the
    fallback address, or the error.
    """

    domain: str
    status: DnsStatus
    detail: str = ""

    def __str__(self) -> str:
        """The status word (``ok``, ``nxdomain``, ...), as in a CSV cell or a log."""
        return str(self.status)

    @property
    def removes(self) -> bool:
        """True when the domain itself says it takes no mail: ``nxdomain`` or ``null-mx``."""
        return self.status in _REMOVES

    @property
    def known(self) -> bool:
        """False when DNS gave no verdict (timeout, server failure, unaskable name)."""
        return self.status not in _UNKNOWN

    @property
    def reason_cs(self) -> str:
        """The verdict in Czech."""
        return _REASONS[self.status][0]

    @property
    def reason_en(self) -> str:
        """The verdict in English."""
        return _REASONS[self.status][1]

    def reason(self, lang: Lang) -> str:
        """The verdict in `lang`."""
        return self.reason_cs if lang is Lang.CS else self.reason_en


def check_domains(
    domains: Iterable[str],
    *,
    resolver: dns.resolver.Resolver | None = None,
    timeout: float = 5.0,
    concurrency: int = 32,
) -> dict[str, DomainStatus]:
    """The DNS status of every domain in `domains`, keyed by the domain as given.

    Spellings of one domain (``Seznam.CZ``, ``seznam.cz.``, A-labels) are asked
    once and share one status. `resolver` defaults to the system's
    (``/etc/resolv.conf``); `timeout` bounds each domain's lookups in seconds;
    at most `concurrency` domains are in flight at once.
    """
    return DomainChecker(resolver=resolver, timeout=timeout, concurrency=concurrency).check(domains)


class DomainChecker:
    """`check_domains` with a memory: each domain is asked once for the checker's life.

    Use one checker per run when domains arrive in batches.
    """

    def __init__(
        self,
        *,
        resolver: dns.resolver.Resolver | None = None,
        timeout: float = 5.0,
        concurrency: int = 32,
    ) -> None:
        """Check the arguments and prepare the resolver (the system's when None)."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._resolver = resolver if resolver is not None else _system_resolver()
        self._timeout = timeout
        self._concurrency = concurrency
        self._cache: dict[str, DomainStatus] = {}

    def check(self, domains: Iterable[str]) -> dict[str, DomainStatus]:
        """The status of every domain in `domains`, keyed by the domain as given."""
        given = {domain: normalise_domain(domain) for domain in domains}
        missing = sorted({name for name in given.values() if name not in self._cache})
        if missing:
            workers = min(self._concurrency, len(missing))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dns") as pool:
                for status in pool.map(self._check_one, missing):
                    self._cache[status.domain] = status
        return {domain: self._cache[name] for domain, name in given.items()}

    def _check_one(self, domain: str) -> DomainStatus:
        encoded = ascii_domain(domain) if domain else None
        if encoded is None:
            return DomainStatus(domain, DnsStatus.BAD_NAME, "not a valid mail domain")
        name = dns.name.from_text(encoded)
        deadline = time.monotonic() + self._timeout
        try:
            return self._lookup(domain, name, deadline)
        except dns.resolver.NXDOMAIN:
            return DomainStatus(domain, DnsStatus.NXDOMAIN)
        except dns.exception.Timeout:
            return DomainStatus(domain, DnsStatus.TIMEOUT, f"no answer within {self._timeout:g} s")
        except dns.exception.DNSException as error:
            # NoNameservers (SERVFAIL, REFUSED from every server), YXDOMAIN,
            # malformed answers: all say nothing about the domain itself.
            return DomainStatus(domain, DnsStatus.SERVFAIL, _first_line(error))

    def _lookup(self, domain: str, name: dns.name.Name, deadline: float) -> DomainStatus:
        mx = self._ask(name, dns.rdatatype.MX, deadline)
        if mx.rrset is not None:
            return _from_mx(domain, mx.rrset)
        # No MX: RFC 5321 5.1 falls back to the domain's own address. A
        # NXDOMAIN now would contradict the MX answer; it is not trusted to
        # remove anybody, so it reads as "no mail host" here.
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            try:
                address = self._ask(name, rdtype, deadline)
            except dns.resolver.NXDOMAIN:
                break
            if address.rrset is not None:
                first = min(rdata.to_text() for rdata in address.rrset)
                return DomainStatus(domain, DnsStatus.OK, f"no MX; implicit MX {first}")
        return DomainStatus(domain, DnsStatus.NO_MAIL_HOST, "neither MX nor A/AAAA")

    def _ask(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, deadline: float
    ) -> dns.resolver.Answer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise dns.exception.Timeout
        return self._resolver.resolve(
            name, rdtype, search=False, lifetime=remaining, raise_on_no_answer=False
        )


def _from_mx(domain: str, rrset: dns.rrset.RRset) -> DomainStatus:
    hosts = sorted((rdata.preference, rdata.exchange) for rdata in rrset)
    real = [(preference, host) for preference, host in hosts if host != dns.name.root]
    if not real:
        return DomainStatus(domain, DnsStatus.NULL_MX, "MX 0 .")
    # A null MX beside real hosts breaks RFC 7505 3; the real hosts may still
    # take mail, so the domain is not condemned.
    shown = ", ".join(
        f"{preference} {host.to_text(omit_final_dot=True)}" for preference, host in real[:3]
    )
    return DomainStatus(domain, DnsStatus.OK, f"MX {shown}")


NAMESERVER_ENV = "BOUNCETOOL_NAMESERVER"
"""Environment variable naming the resolver to ask (``HOST`` or ``HOST:PORT``)
instead of the system's: for a local caching resolver, or a test server."""


def _system_resolver() -> dns.resolver.Resolver:
    configured = os.environ.get(NAMESERVER_ENV, "").strip()
    if configured:
        return _resolver_at(configured)
    try:
        return dns.resolver.Resolver()
    except (dns.exception.DNSException, OSError) as error:
        raise ConfigError(f"DNS check: no usable resolver configuration ({error})") from error


def _resolver_at(address: str) -> dns.resolver.Resolver:
    host, colon, port = address.rpartition(":") if address.count(":") == 1 else ("", "", "")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host if colon else address]
    if colon:
        if not port.isdigit():
            raise ConfigError(f"{NAMESERVER_ENV}: {address!r} is not HOST or HOST:PORT")
        resolver.port = int(port)
    return resolver


def _first_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]


def dead_domains(domains: Collection[str]) -> dict[str, str]:
    """The domains of `domains` that DNS says take no mail, with the status word.

    Only ``nxdomain`` and ``null-mx`` count: a timeout, SERVFAIL or a missing
    MX may pass, so those contacts stay. The shape `clean` takes for its DNS check.
    """
    return {
        domain: str(status.status)
        for domain, status in check_domains(domains).items()
        if status.removes
    }
