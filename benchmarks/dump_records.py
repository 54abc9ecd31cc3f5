"""Dump what `parse_message` gives for every corpus message (and variants), to compare versions.

Usage::

    python benchmarks/dump_records.py [--corpus DIR] OUTPUT

Writes one JSON line per message: its name and every field of every
`Bounce` (or the error). Each corpus message is also given with CRLF line
ends and cut to a half, two thirds and four fifths of its length, and every
sample of ``tests/data`` and ``examples/bounces.mbox`` is added. A speed-up
of the extractor must leave the file byte for byte the same: run it on
``main`` and on the branch and ``cmp`` the two files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

from benchmarks.accuracy import corpus_path, iter_file_messages
from bouncetool.extract import ExtractError, parse_message

_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Parse every message and variant, write their records as JSON Lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="the corpus folder")
    parser.add_argument("output", type=Path, help="the JSON Lines file to write")
    args = parser.parse_args()
    with args.output.open("w", encoding="utf-8") as out:
        for name, data in _messages(corpus_path(args.corpus)):
            out.write(json.dumps({"message": name, "records": _records(data)}) + "\n")


def _messages(corpus: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted((corpus / "emails").iterdir()):
        for number, data in iter_file_messages(path):
            name = f"{path.name}#{number}"
            yield name, data
            yield f"{name} crlf", data.replace(b"\n", b"\r\n")
            for part in (2, 3, 5):
                yield f"{name} cut {part - 1}/{part}", data[: len(data) * (part - 1) // part]
    samples = sorted((_ROOT / "tests" / "data").rglob("*.eml"))
    for path in [*samples, _ROOT / "examples" / "bounces.mbox"]:
        for number, data in iter_file_messages(path):
            yield f"{path.relative_to(_ROOT)}#{number}", data


def _records(data: bytes) -> list[dict[str, object]] | str:
    try:
        return [dataclasses.asdict(bounce) for bounce in parse_message(data)]
    except ExtractError as error:
        return f"error: {error}"


if __name__ == "__main__":
    main()
