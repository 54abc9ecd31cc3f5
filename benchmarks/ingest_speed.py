"""How fast the ledger stores bounces: records per second, fresh and re-read.

    PYTHONPATH=src python benchmarks/ingest_speed.py [--records 200000] [--addresses 50000]

Builds classified records in memory (so only the ledger is timed), ingests
them into a new SQLite file, ingests them again (every one a duplicate: the
re-read mailbox case), then computes every address's status with the default
policy, and prunes as if 90 days had passed. Prints wall times, records/s and peak memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bouncetool.model import Blame, Bounce, Kind, Record, Verdict
from bouncetool.policy import Policy
from bouncetool.state import Ledger

NOW = datetime(2026, 3, 1, tzinfo=UTC)
VERDICTS = [
    Verdict(Kind.HARD, "userunknown", "invalid-recipient", Blame.RECIPIENT, "b-511", "5.1.1",
            "Adresa neexistuje.", "The address does not exist."),
    Verdict(Kind.SOFT, "mailboxfull", "mailbox-full", Blame.RECIPIENT, "b-422", "4.2.2",
            "Schránka je plná.", "The mailbox is full."),
    Verdict(Kind.SOFT, "blocked", "mail-block", Blame.SENDER, "b-blocked", "blocked",
            "Odesílatel je blokován.", "The sender is blocked."),
    Verdict(Kind.DELAYED, "expired", "timeout", Blame.UNKNOWN, "b-delay", None,
            "Doručení se zdržuje.", "Delivery is delayed."),
]  # fmt: skip


def build(count: int, addresses: int, seed: int = 7) -> list[Record]:
    """`count` records over `addresses` addresses, dated over the 60 days before NOW."""
    rng = random.Random(seed)  # noqa: S311  (test data)
    records = []
    for number in range(count):
        verdict = rng.choice(VERDICTS)
        when = NOW - timedelta(seconds=rng.randrange(60 * 86400))
        bounce = Bounce(
            kind=verdict.kind,
            recipient=f"Contact.{(who := rng.randrange(addresses))}@Example{who % 50}.CZ",
            action="failed",
            status="5.1.1" if verdict.kind is Kind.HARD else "4.2.2",
            reply_code="550",
            diagnostic="550 5.1.1 <contact@example.cz>: Recipient address rejected",
            remote_mta="mx.example.cz",
            date=when.isoformat(),
            original_message_id=f"<{number}.campaign@mailer.example.cz>",
            campaign="jaro-2026",
            source="bounces.mbox",
            message=number + 1,
        )
        records.append(Record(bounce, verdict))
    return records


def main() -> None:
    """Run the benchmark and print what it measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--addresses", type=int, default=50_000)
    args = parser.parse_args()
    records = build(args.records, args.addresses)
    with tempfile.TemporaryDirectory() as folder, Ledger.open(Path(folder) / "l.sqlite3") as ledger:
        for label in ("fresh ledger", "read again"):
            start = time.perf_counter()
            summary = ledger.ingest(records, NOW)
            took = time.perf_counter() - start
            print(
                f"ingest, {label}: {len(records):,} records in {took:.2f} s"
                f" = {len(records) / took:,.0f} records/s"
                f" (new {summary.new:,}, duplicate {summary.duplicate:,})"
            )
        start = time.perf_counter()
        statuses = ledger.address_statuses(Policy(), NOW)
        took = time.perf_counter() - start
        suppressed = sum(status.suppressed for status in statuses.values())
        print(
            f"address_statuses: {len(statuses):,} addresses ({suppressed:,} suppressed)"
            f" in {took:.2f} s"
        )
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6
        later = NOW + timedelta(days=90)  # every soft, delay and sender-side event expires
        start = time.perf_counter()
        pruned = ledger.prune(later, 60)
        took = time.perf_counter() - start
        still = sum(s.suppressed for s in ledger.address_statuses(Policy(), later).values())
        print(
            f"prune 90 days later: {pruned:,} events in {took:.2f} s;"
            f" still suppressed: {still:,} of {suppressed:,}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ledger file: {size:.0f} MB; peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
