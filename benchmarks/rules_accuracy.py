"""Agreement of the rule table with the curated truth of the corpus.

Each curated truth line's ``diagnosticcode``, ``status`` (Sisimai's own
``X.0.9NN`` stand-ins dropped) and ``replycode`` become a `Bounce`, with the
extracted kind a real extractor would give (feedback -> complaint, vacation ->
auto-reply, delivered -> delivered, else hard/soft by the status class). The
table's verdict is compared with the truth's reason and hard/soft flag.

Run: ``python benchmarks/rules_accuracy.py [CORPUS]`` (default
``BOUNCETOOL_CORPUS`` or ``../shared/corpus``).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bouncetool import smtpcodes
from bouncetool.model import Bounce, Kind
from bouncetool.rules import RuleTable, load_table

_HINTS = {"feedback": Kind.COMPLAINT, "vacation": Kind.AUTO_REPLY, "delivered": Kind.DELIVERED}


@dataclass
class Accuracy:
    """What the comparison found."""

    total: int = 0
    reason_agree: int = 0
    hard_agree: int = 0
    complaints: int = 0
    complaints_agree: int = 0
    auto_replies: int = 0
    auto_replies_as_bounce: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    hard_misses: list[tuple[str, bool, str, str]] = field(default_factory=list)

    @property
    def reason_rate(self) -> float:
        """Share of lines whose reason agrees."""
        return self.reason_agree / self.total if self.total else 0.0

    @property
    def hard_rate(self) -> float:
        """Share of lines whose hard/soft flag agrees."""
        return self.hard_agree / self.total if self.total else 0.0


def bounce_of(row: Mapping[str, Any]) -> Bounce:
    """The `Bounce` an extractor would hand the table for one truth line."""
    status = row["status"]
    if status and smtpcodes.is_stand_in(status):
        status = None
    reply = str(row["replycode"]) if row["replycode"] else None
    kind = _HINTS.get(row["reason"])
    if kind is None:
        temporary = smtpcodes.is_temporary(status or row["status"], reply)
        kind = Kind.SOFT if temporary else Kind.HARD
    return Bounce(kind=kind, diagnostic=row["diagnosticcode"], status=status, reply_code=reply)


def measure(rows: Iterable[Mapping[str, Any]], table: RuleTable) -> Accuracy:
    """Compare the table's verdicts with the curated bounce lines in `rows`."""
    result = Accuracy()
    for row in rows:
        if row["source"] != "curated" or not row["is_bounce"]:
            continue
        verdict = table.classify(bounce_of(row))
        result.total += 1
        if verdict.reason == row["reason"]:
            result.reason_agree += 1
        else:
            result.confusion[(row["reason"], verdict.reason)] += 1
        hard = verdict.kind is Kind.HARD
        if hard == row["hard"]:
            result.hard_agree += 1
        else:
            result.hard_misses.append(
                (row["reason"], row["hard"], verdict.rule, row["diagnosticcode"] or "")
            )
        if row["reason"] == "feedback":
            result.complaints += 1
            result.complaints_agree += verdict.kind is Kind.COMPLAINT
        if row["reason"] == "vacation":
            result.auto_replies += 1
            result.auto_replies_as_bounce += verdict.kind.is_failure
    return result


def read_truth(corpus: Path) -> list[dict[str, Any]]:
    """The lines of ``truth.jsonl``."""
    lines = (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def main(argv: list[str]) -> int:
    """Print the agreement figures and the confusion table; 1 when the corpus is absent."""
    default = os.environ.get("BOUNCETOOL_CORPUS") or str(
        Path(__file__).resolve().parents[2] / "shared" / "corpus"
    )
    corpus = Path(argv[1] if len(argv) > 1 else default)
    if not (corpus / "truth.jsonl").is_file():
        print(f"no truth.jsonl in {corpus}", file=sys.stderr)
        return 1
    result = measure(read_truth(corpus), load_table())
    print(f"curated bounce lines: {result.total}")
    print(f"reason agreement:     {result.reason_agree}/{result.total} = {result.reason_rate:.1%}")
    print(f"hard/soft agreement:  {result.hard_agree}/{result.total} = {result.hard_rate:.1%}")
    print(f"complaints found:     {result.complaints_agree}/{result.complaints}")
    print(f"auto-replies counted as bounces: {result.auto_replies_as_bounce}/{result.auto_replies}")
    print("\nreason confusion (truth -> ours):")
    for (truth, ours), count in result.confusion.most_common():
        print(f"  {count:4d}  {truth:16s} -> {ours}")
    if "-v" in argv:
        print("\nhard/soft disagreements (truth reason, truth hard, our rule, text):")
        for reason, hard, rule, text in result.hard_misses:
            print(f"  {reason:14s} {hard!s:5s} {rule:24s} {text[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
