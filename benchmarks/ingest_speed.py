"""How fast the ledger stores bounces: records per second, fresh and re-read.

    PYTHONPATH=src python benchmarks/ingest_speed.py [--records 200000] [--addresses 50000]
                                                     [--mbox-messages 50000]

Part 1, the ledger alone: builds classified records in memory, ingests them
into a new SQLite file, ingests them again (every one a duplicate: the
re-read mailbox case), computes every address's status with the default
policy, and prunes as if 90 days had passed.

Part 2, end to end: writes an mbox of DSN messages (dated over the last 50
days) and times ``bouncetool ingest MBOX --state FILE`` as a user runs it,
twice. Prints wall times, records/s and peak memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
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


DSN = """From MAILER-DAEMON  Mon Nov 23 10:15:02 2026
Date: {date}
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: newsletter@sender.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b{n}"
Message-Id: <bounce{n}@mx.sender.example>

--b{n}
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--b{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: {status}
Remote-MTA: dns; mx.example.cz
Diagnostic-Code: smtp; {code} {status} <{rcpt}>: {text}

--b{n}
Content-Type: text/rfc822-headers

From: Newsletter <newsletter@sender.example>
To: {rcpt}
Subject: Novinky
Message-Id: <campaign.{n}@sender.example>

--b{n}--

"""
ANSWERS = [
    ("550", "5.1.1", "Recipient address rejected: User unknown"),
    ("452", "4.2.2", "Mailbox full"),
    ("550", "5.7.1", "Message rejected: our IP is listed at a block list"),
]


def write_mbox(path: Path, messages: int, addresses: int) -> None:
    """An mbox of `messages` DSNs to `addresses` contacts, dated over the last 50 days."""
    rng = random.Random(11)  # noqa: S311  (test data)
    now = datetime.now(UTC)
    with path.open("w", encoding="utf-8") as out:
        for n in range(messages):
            code, status, text = rng.choice(ANSWERS)
            out.write(
                DSN.format(
                    n=n,
                    date=format_datetime(now - timedelta(seconds=rng.randrange(50 * 86400))),
                    rcpt=f"contact.{rng.randrange(addresses)}@example.cz",
                    code=code,
                    status=status,
                    text=text,
                )
            )


def end_to_end(folder: Path, messages: int, addresses: int) -> None:
    """Time the real ``bouncetool ingest`` on a generated mbox, fresh and again."""
    mbox, ledger = folder / "bounces.mbox", folder / "e2e.sqlite3"
    write_mbox(mbox, messages, addresses)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    command = [sys.executable, "-m", "bouncetool", "ingest", str(mbox), "--state", str(ledger)]
    for label in ("fresh ledger", "read again"):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        took = time.perf_counter() - start
        print(
            f"bouncetool ingest, {label}: {messages:,} messages"
            f" ({mbox.stat().st_size / 1e6:.0f} MB) in {took:.2f} s"
            f" = {messages / took:,.0f} records/s; it said: {done.stderr.strip()}"
        )


def main() -> None:
    """Run the benchmark and print what it measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--addresses", type=int, default=50_000)
    parser.add_argument("--mbox-messages", type=int, default=50_000)
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
        start, cpu = time.perf_counter(), time.process_time()
        statuses = ledger.address_statuses(Policy(), NOW)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        suppressed = sum(status.suppressed for status in statuses.values())
        print(
            f"address_statuses: {len(statuses):,} addresses ({suppressed:,} suppressed)"
            f" in {took:.2f} s ({cpu:.2f} s CPU: the wall time varies with other load)"
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
    if args.mbox_messages:
        with tempfile.TemporaryDirectory() as folder:
            end_to_end(Path(folder), args.mbox_messages, args.addresses)


if __name__ == "__main__":
    main()
