"""How fast are the address checks? Syntax, typo suggestions and DNS, measured.

Run from the project root:  python benchmarks/checks_speed.py [--addresses 100000]

It generates a contact list's worth of addresses (mostly at common providers,
some at thousands of private domains, some Czech/IDN, some broken, some
mistyped), then prints microseconds per address for:

* `check_syntax` (cold cache) next to plain email-validator with the same options;
* `suggest_address`, for every address and for distinct domains only;
* `check_domains` against the loopback test DNS server (tests/dnsserver.py),
  with an answer delay that stands in for network latency.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from email_validator import EmailNotValidError, validate_email  # noqa: E402
from tests.dnsserver import DnsServer, Zone  # noqa: E402

from bouncetool import syntax, typos  # noqa: E402
from bouncetool.dnscheck import check_domains  # noqa: E402

FIRST = ["jan", "petr", "eva", "jana", "jiří", "tomáš", "lucie", "marek", "anna", "pavel"]
LAST = ["novak", "svoboda", "dvorak", "cerny", "prochazka", "kucera", "vesely", "horak"]
BROKEN = ["jan novak@seznam.cz", "jan..novak@email.cz", "jan@seznam", "@gmail.com", "jan@"]
TYPOS = ["gmial.com", "sezanm.cz", "cetrum.cz", "outlok.com", "gmail.co", "seznma.cz"]


def addresses(count: int, seed: int = 5321) -> list[str]:
    """`count` addresses: 70 % providers, 25 % of 5,000 private domains, 2 % broken, ..."""
    rng = random.Random(seed)  # noqa: S311 -- test data, not secrets
    result = []
    for number in range(count):
        local = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{number % 997}"
        roll = rng.random()
        if roll < 0.70:
            domain = rng.choice(typos.PROVIDERS[:20])
        elif roll < 0.95:
            domain = f"firma-{rng.randrange(5000)}.cz"
        elif roll < 0.97:
            domain = rng.choice(["háčkyčárky.cz", "příliš-žluťoučký.cz", "straße.de"])
        elif roll < 0.99:
            domain = rng.choice(TYPOS)
        else:
            result.append(rng.choice(BROKEN))
            continue
        result.append(f"{local}@{domain}")
    return result


def per_item(function: Callable[[str], object], items: Sequence[str]) -> float:
    """Microseconds per item for `function` over `items`."""
    started = time.perf_counter()
    for item in items:
        function(item)
    return (time.perf_counter() - started) / len(items) * 1e6


def plain_email_validator(address: str) -> str | None:
    """The baseline: email-validator alone, same options, no caching."""
    try:
        validate_email(
            address.strip(),
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,
            check_deliverability=False,
        )
    except EmailNotValidError as error:
        return str(error)
    return None


def measure_dns(domains: int, delay: float, concurrency: int) -> None:
    """Time `check_domains` for `domains` distinct domains answered after `delay` seconds."""
    names = [f"firma-{number}.cz" for number in range(domains)]
    records = {name: ["MX 10 mx.firma.cz."] for name in names[: domains // 2]}
    zone = Zone(records=records, delay=delay)  # the other half is NXDOMAIN
    with DnsServer(zone) as server:
        started = time.perf_counter()
        result = check_domains(names * 3, resolver=server.resolver(), concurrency=concurrency)
        elapsed = time.perf_counter() - started
        asked = len(server.queries)
    print(
        f"check_domains   {domains:>6} domains (each listed 3 times), answer delay "
        f"{delay * 1000:.0f} ms, concurrency {concurrency:>2}: {elapsed:6.2f} s "
        f"({domains / elapsed:,.0f} domains/s, {asked} queries, {len(result)} results)"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=100_000)
    parser.add_argument("--dns-domains", type=int, default=2_000)
    options = parser.parse_args()

    items = addresses(options.addresses)
    distinct = sorted({address.rpartition("@")[2] for address in items})
    print(f"{len(items):,} addresses, {len(distinct):,} distinct domains")

    baseline = per_item(plain_email_validator, items)
    syntax._domain_verdict.cache_clear()
    cold = per_item(syntax.check_syntax, items)
    warm = per_item(syntax.check_syntax, items)
    invalid = sum(syntax.check_syntax(item) is not None for item in items)
    print(f"email-validator alone  {baseline:6.2f} µs/address")
    print(f"check_syntax, cold     {cold:6.2f} µs/address  ({baseline / cold:.1f}x faster)")
    print(f"check_syntax, warm     {warm:6.2f} µs/address  ({invalid:,} invalid)")

    typos.suggest_domain.cache_clear()
    first = per_item(typos.suggest_domain, distinct)
    whole = per_item(typos.suggest_address, items)
    suggested = sum(typos.suggest_address(item) is not None for item in items)
    print(f"suggest_domain         {first:6.2f} µs/distinct domain (uncached)")
    print(f"suggest_address        {whole:6.2f} µs/address  ({suggested:,} suggestions)")

    for delay, concurrency in ((0.0, 32), (0.02, 1), (0.02, 32), (0.02, 64)):
        domains = options.dns_domains if concurrency > 1 else options.dns_domains // 20
        measure_dns(domains, delay, concurrency)


if __name__ == "__main__":
    main()
