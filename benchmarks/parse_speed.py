"""Micro-benchmark: parse every corpus message N times, print microseconds per message.

Usage::

    python benchmarks/parse_speed.py [--corpus DIR] [--rounds N]

Measures `parse_message` alone on one core (no reading, no classification), in
CPU time of this process, so other work on the machine does not distort it.
The budget is 120 µs per message on average.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.accuracy import corpus_path, is_mail, iter_file_messages
from bouncetool.extract import parse_message, report
from bouncetool.extract.mime import normalise_newlines, split_head


def main() -> None:
    """Load the corpus messages, time parse_message over them, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="the corpus folder")
    parser.add_argument("--rounds", type=int, default=10, help="passes over the corpus")
    args = parser.parse_args()
    corpus = corpus_path(args.corpus)
    messages = [
        (f"{path.name}#{number}", data)
        for path in sorted((corpus / "emails").iterdir())
        for number, data in iter_file_messages(path)
        if is_mail(data)
    ]
    for _name, data in messages:  # warm up: compile regexes, fill caches
        parse_message(data)
    # CPU time of this process, best round (as timeit does): on a shared machine other
    # processes only ever add wall-clock time, and per-message timers would add their own.
    rounds = []
    for _ in range(args.rounds):
        start = time.process_time()
        for _name, data in messages:
            parse_message(data)
        rounds.append(time.process_time() - start)
    slowest = (0.0, "")
    for name, data in messages:
        t0 = time.process_time()
        for _ in range(5):
            parse_message(data)
        spent = (time.process_time() - t0) / 5
        if spent > slowest[0]:
            slowest = (spent, name)
    best, mean = min(rounds), sum(rounds) / len(rounds)
    count = len(messages)
    print(
        f"{count} messages x {args.rounds} rounds: best {1e6 * best / count:.1f} µs/msg "
        f"({count / best:,.0f} msg/s on one core), mean {1e6 * mean / count:.1f} µs/msg; "
        f"slowest message {1e3 * slowest[0]:.2f} ms ({slowest[1]})"
    )
    # The two paths apart: standard reports (read by `report.read_report`) and the rest
    # (complaints, auto-replies, text formats, nested bounces, heuristics, non-bounces).
    groups: dict[bool, list[bytes]] = {True: [], False: []}
    for _name, data in messages:
        head, body = split_head(normalise_newlines(data).lstrip(b"\n"))
        groups[report.read_report(head, body) is not None].append(data)
    for standard, group in groups.items():
        best_group = min(_cpu(group) for _ in range(args.rounds))
        label = "standard delivery-status reports" if standard else "other messages"
        print(f"  {label}: {len(group)}, best {1e6 * best_group / max(len(group), 1):.1f} µs/msg")


def _cpu(group: list[bytes]) -> float:
    start = time.process_time()
    for data in group:
        parse_message(data)
    return time.process_time() - start


if __name__ == "__main__":
    main()
