"""How fast `bouncetool stats` counts: summarise N events and render the HTML report.

Run: python benchmarks/stats_speed.py [N]   (default 200,000 events)
Prints wall time and peak traced memory of each step.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "src")]

from bouncetool.model import Blame, Event, Kind, Lang  # noqa: E402
from bouncetool.report_html import render_html  # noqa: E402
from bouncetool.stats import summarise  # noqa: E402

DOMAINS = ["seznam.cz", "gmail.com", "email.cz", "centrum.cz", "post.cz", "outlook.com"]
T = TypeVar("T")
KINDS = [Kind.HARD, Kind.SOFT, Kind.COMPLAINT, Kind.AUTO_REPLY, Kind.DELAYED]


def events(count: int) -> list[Event]:
    """`count` synthetic events over 60 days, 50,000 addresses, 20 campaigns."""
    rnd = random.Random(7)  # noqa: S311  (synthetic data, not secrets)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    made = []
    for i in range(count):
        domain = rnd.choice(DOMAINS) if rnd.random() < 0.8 else f"d{rnd.randrange(3000)}.cz"
        kind = rnd.choice(KINDS)
        made.append(
            Event(
                fingerprint=f"{i:016x}",
                address=f"user{rnd.randrange(50_000)}@{domain}",
                domain=domain,
                kind=kind,
                reason=rnd.choice(["userunknown", "mailboxfull", "blocked", "expired"]),
                category="invalid-recipient",
                blame=rnd.choice(list(Blame)),
                rule="bench",
                status="5.1.1",
                reply_code="550",
                diagnostic="550 5.1.1 user unknown",
                campaign=f"c{rnd.randrange(20)}",
                bounced_at=start + timedelta(minutes=rnd.randrange(60 * 24 * 60)),
                read_at=start,
                source="bench",
                explanation_cs="Adresa neexistuje.",
                explanation_en="The address does not exist.",
            )
        )
    return made


def measure(label: str, step: Callable[[], T]) -> T:
    """Run `step()` twice: once timed, once under tracemalloc for its peak memory."""
    began = time.perf_counter()
    result = step()
    elapsed = time.perf_counter() - began
    tracemalloc.start()
    step()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {elapsed:.2f} s, peak {peak / 2**20:.0f} MiB above the input")
    return result


def main() -> None:
    """Generate, summarise, render; print the timings."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    made = events(count)
    report = measure(f"summarise {count:,} events", lambda: summarise(iter(made)))
    page = measure("render HTML", lambda: render_html(report, Lang.CS))
    print(f"report: {len(page) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
