"""The extractor's agreement with the corpus's expected results stays at the level reached.

The bar of the issue is recipient >= 98 %, status >= 95 %, reply code >= 93 %
on the curated records; the floors below are what the extractor reached,
rounded down a little, so a change that loses ground fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.accuracy import Scores, score

FLOORS = {
    "recipient": 0.989,  # reached 0.994 (with bounces inside other messages, fml notices)
    "status": 0.967,  # reached 0.972
    "reply_code": 0.983,  # reached 0.988 (Sendmail transcripts read for silent reports)
}
PRECISION_FLOOR = 0.985  # reached 0.988


@pytest.fixture(scope="module")
def scores(corpus: Path) -> Scores:
    """The corpus scored once for every test here."""
    return score(corpus)


class TestCurated:
    """On the hand-checked records, each field agrees at least as often as it did."""

    @pytest.mark.parametrize("field", sorted(FLOORS))
    def test_field(self, scores: Scores, field: str) -> None:
        tally = scores.groups["curated"]
        assert tally.expected == 646
        assert tally.rate(field) >= FLOORS[field], f"{field}: {tally.rate(field):.3f}"

    def test_precision(self, scores: Scores) -> None:
        assert scores.groups["curated"].precision >= PRECISION_FLOOR


class TestNotBounces:
    """Empty mailboxes and ordinary mail give no bounce.

    One file disagrees on purpose: rb-issue-368-bug.eml is a mailbox-full
    notice ("reject reason: Mailbox full / target mail address: ...") that the
    corpus files under "not a bounce"; bouncetool reports it.
    """

    def test_non_bounce_files(self, scores: Scores) -> None:
        assert scores.non_bounce_files == 6
        assert scores.non_bounce_clean >= 5
        wrong = [m for m in scores.misses if "non-bounce reported" in m]
        assert all(m.startswith("rb-issue-368-bug.eml") for m in wrong)


class TestSpecialKinds:
    """Complaints, auto-replies and success notices are recognised as such."""

    def test_all_detected(self, scores: Scores) -> None:
        assert scores.special_expected == 35
        assert scores.special_detected == scores.special_expected
