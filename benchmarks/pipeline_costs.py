"""Where the CPU time of ``bouncetool classify --format jsonl`` goes, stage by stage, on one core.

Builds the same mbox as ``classify_speed.py`` (at least 20,000 corpus
messages) and times, in this process, each stage the workers run for every
message: reading the mbox ranges, parsing (the extractor), classifying with the
shipped rule table, and encoding JSON Lines; plus the start-up the main
process does once (loading the rule table). The sum per message against
``classify_speed.py``'s CPU per message shows what is left for process
start-up, pickling and the main process.

Usage: ``python benchmarks/pipeline_costs.py [--messages N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from benchmarks.accuracy import is_mail
from benchmarks.classify_speed import _corpus, build_mbox
from bouncetool.extract import parse_message
from bouncetool.model import Bounce, Kind, Lang, RawMessage, Record
from bouncetool.pipeline.tasks import TASK_BYTES
from bouncetool.render import LineEncoder, OutputFormat
from bouncetool.rules import load_table
from bouncetool.sources.ranges import iter_range, mbox_ranges

_T = TypeVar("_T")


def timed(what: Callable[[], _T]) -> tuple[_T, float]:
    """The result of `what` and the CPU seconds it took."""
    start = time.process_time()
    result = what()
    return result, time.process_time() - start


def main() -> None:
    """Build the mbox, time each stage, print microseconds per message."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="at least this many")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bouncetool-costs-") as folder:
        path = Path(folder) / "bounces.mbox"
        build_mbox(_corpus(None) / "emails", path, args.messages)
        table, load_seconds = timed(load_table)
        ranges = mbox_ranges(str(path), TASK_BYTES)
        assert ranges is not None
        parts = list(ranges)
        raws, read = timed(lambda: [m for part in parts for m in iter_range(str(path), part)])
    # Data that is not mail at all (the corpus has one such file) is a problem for
    # the workers, not a record: it is left out here too.
    messages = [raw for raw in raws if isinstance(raw, RawMessage) and is_mail(raw.data)]
    count = len(messages)
    parsed, parse = timed(
        lambda: [(m, parse_message(m.data) or [Bounce(Kind.NOT_BOUNCE)]) for m in messages]
    )
    records, classify = timed(
        lambda: [(m, Record(b, table.classify(b))) for m, bounces in parsed for b in bounces]
    )
    encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
    _, encode = timed(lambda: _encode_as_workers_do(encoder, records))
    print(f"{count:,} messages, {len(records):,} records; CPU µs per message:")
    stages = {"read mbox ranges": read, "parse": parse, "classify": classify, "encode": encode}
    for name, seconds in stages.items():
        print(f"  {name:<17} {1e6 * seconds / count:6.1f}")
    print(f"  {'sum':<17} {1e6 * sum(stages.values()) / count:6.1f}")
    print(f"once: load_table {1e3 * load_seconds:.0f} ms")


def _encode_as_workers_do(encoder: LineEncoder, records: list[tuple[RawMessage, Record]]) -> bytes:
    # As `Worker.run_batched`: every line appended as UTF-8 pieces, joined once per task.
    pieces: list[bytes] = []
    for message, record in records:
        encoder.add_utf8(pieces, record.bounce, record.verdict, message.source, message.number)
    return b"".join(pieces)


if __name__ == "__main__":
    main()
