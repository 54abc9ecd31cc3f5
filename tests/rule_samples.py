"""The hand-written rule samples in tests/data/rule_samples.tsv, as Bounces with expectations."""

from __future__ import annotations

from dataclasses import dataclass

from bouncetool import smtpcodes
from bouncetool.model import Blame, Bounce, Kind
from tests.support import TEST_DATA


@dataclass(frozen=True)
class Sample:
    """One sample line: the bounce to classify and the verdict it must get."""

    line: int
    rule: str
    kind: Kind
    reason: str
    blame: Blame
    bounce: Bounce


def _value(text: str) -> str | None:
    return None if text == "-" else text


def read_samples() -> list[Sample]:
    """Every sample of tests/data/rule_samples.tsv."""
    samples = []
    path = TEST_DATA / "rule_samples.tsv"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        rule, kind, reason, blame, extracted, status, reply, text = raw.split("\t")
        status_v, reply_v = _value(status), _value(reply)
        if extracted != "-":
            given = Kind(extracted)
        else:
            given = Kind.SOFT if smtpcodes.is_temporary(status_v, reply_v) else Kind.HARD
        bounce = Bounce(kind=given, status=status_v, reply_code=reply_v, diagnostic=_value(text))
        samples.append(Sample(number, rule, Kind(kind), reason, Blame(blame), bounce))
    return samples
