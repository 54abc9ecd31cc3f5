"""Verdicts per second of the shipped rule table on one core.

Two figures: "typical" lines (a few providers' templates with a different
address, IP and session id each time: what a real bounce mailbox looks like,
so the per-template cache answers) and "all distinct" lines (every line a new
template: the cost of matching the whole table).

Run: ``python benchmarks/rules_speed.py [N]``.
"""

from __future__ import annotations

import random
import sys
import time

from bouncetool.model import Bounce, Kind
from bouncetool.rules import load_table

TEMPLATES = [
    "550 5.1.1 <{a}>: Recipient address rejected: User unknown in local recipient table",
    "552 5.2.2 <{a}> Quota exceeded (mailbox for user is full)",
    "550-5.1.1 The email account that you tried to reach does not exist. {i} - gsmtp",
    "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org",
    "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume",
    "550 5.1.1 szn; User hasn't got the service mapped <{a}>",
    "connect to mx.example.org[{ip}]:25: Connection timed out",
    "550 5.7.1 Recipient doesn't want your mail",
    "550 5.2.1 Skrzynka odbiorcy {a} jest pełna",
    "550 5.7.26 Unauthenticated email from example.cz is not accepted due to domain's DMARC",
]


def lines(count: int, distinct: bool) -> list[Bounce]:
    """`count` bounces from the templates; with `distinct`, every one a different text."""
    rng = random.Random(7)  # noqa: S311  (reproducible test data, not a secret)
    out = []
    for n in range(count):
        text = rng.choice(TEMPLATES).format(
            a=f"user{n}@example.cz", ip=f"192.0.2.{n % 250}", i=f"a{n}b{rng.randrange(10**9)}x.{n}"
        )
        if distinct:  # a word of letters only, so no mask makes two lines alike
            text += " " + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
        out.append(Bounce(kind=Kind.HARD, diagnostic=text))
    return out


def rate(bounces: list[Bounce]) -> float:
    """Verdicts per second for `bounces` on a freshly loaded table."""
    table = load_table()
    started = time.perf_counter()
    for bounce in bounces:
        table.classify(bounce)
    return len(bounces) / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    """Print both rates."""
    count = int(argv[1]) if len(argv) > 1 else 100_000
    print(f"typical lines:      {rate(lines(count, distinct=False)):9,.0f} verdicts/s")
    print(f"all distinct lines: {rate(lines(count // 10, distinct=True)):9,.0f} verdicts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
