"""A verdict-cache miss finds the same first rule, and the same matched text, as a plain walk.

`RuleTable.classify` skips rules whose gate literals are absent and searches
a rule with many patterns pattern by pattern (`_split_search`). Each verdict
is checked here against the straightforward definition: every rule in
evaluation order, every condition tested, the whole combined pattern searched;
on real corpus lines and on generated text made of the table's own literals.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bouncetool import rules, smtpcodes
from bouncetool.literals import required_literals
from bouncetool.model import Blame, Bounce, Kind
from bouncetool.rulefile import Rule

TABLE = rules.load_table()
ORDER = TABLE.evaluation_order()


@functools.cache
def patterns(rule: Rule) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], re.Pattern[str]]:
    """The status and reply matchers of `rule`, and its text patterns as one alternation."""
    status = [smtpcodes.status_pattern(p) for p in rule.status]
    reply = [smtpcodes.reply_pattern(p) for p in rule.reply]
    return status, reply, re.compile("|".join(f"(?:{p})" for p in rule.text))


def plain_match(rule: Rule, facts: rules._Facts) -> str | None:
    """What `rule` matches in `facts` (as `_Compiled.match` defines it), tested without gates."""
    if rule.extracted and facts.kind not in rule.extracted:
        return None
    status, reply, text = patterns(rule)
    for matchers, value in ((status, facts.status), (reply, facts.reply)):
        if matchers and not (value and any(p.match(value) for p in matchers)):
            return None
    if rule.host and not (facts.host and re.search(rule.host, facts.host, re.IGNORECASE)):
        return None
    if rule.text:
        found = text.search(facts.text)
        return found.group(0) if found else None
    for name, value in (("status", rule.status), ("reply", rule.reply), ("host", rule.host)):
        if value:
            return f"{name} {getattr(facts, name)}"
    return f"kind {facts.kind}" if rule.extracted else ""


def plain_first(bounce: Bounce, order: tuple[Rule, ...] = ORDER) -> tuple[str, str | None]:
    """Rule id and matched text (None for nothing) of the first rule whose conditions hold."""
    facts = rules._Facts.of(bounce)
    for rule in order:
        matched = plain_match(rule, facts)
        if matched is not None:
            return rule.id, matched or None
    raise AssertionError("no rule matched: the table has a catch-all")


def fresh_verdict(bounce: Bounce, table: rules.RuleTable = TABLE) -> tuple[str, str | None]:
    """Rule id and matched text of `classify`, the cache emptied first: always a miss."""
    table._cache.clear()
    verdict = table.classify(bounce)
    return verdict.rule, verdict.matched


def corpus_lines(corpus: Path) -> Iterator[str]:
    """Corpus lines that may be diagnostics (words, a digit, 20 characters), one per template."""
    seen: set[rules._Template] = set()
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        for line in path.read_bytes().decode("utf-8", "replace").splitlines():
            if len(line) < 20 or " " not in line or not any(char.isdigit() for char in line):
                continue
            template = rules._template(Bounce(kind=Kind.HARD, diagnostic=line))
            if template not in seen:
                seen.add(template)
                yield line


def all_literals() -> list[str]:
    """The gate literals of every pattern of every rule: the words rules look for."""
    found = {
        literal
        for rule in ORDER
        for pattern in rule.text
        for literal in required_literals(pattern) or ()
    }
    return sorted(found)


LITERALS = all_literals()
FILLER = ["550", "5.1.1", "452 4.2.2", "user", "the", "x@x", "mailbox", "-", "(", ")", ":"]


class TestSplitRules:
    """The table does search some rule pattern by pattern (the tests below reach that path)."""

    def test_some_rule_is_split(self) -> None:
        split = [ORDER[index].id for index in TABLE._split]
        assert "user-unknown" in split


class TestCorpusLines:
    """Every corpus line gets the plain walk's rule and matched text, as hard and as delayed."""

    def test_same_first_rule(self, corpus: Path) -> None:
        checked = 0
        for number, line in enumerate(corpus_lines(corpus)):
            # every line as a hard bounce; every fourth also as a delayed one with a generic
            # status (the code rules then see the code in the text): the test stays short
            for kind, status in ((Kind.HARD, None), (Kind.DELAYED, "4.0.0"))[
                : 1 + (number % 4 == 0)
            ]:
                bounce = Bounce(kind=kind, diagnostic=line, status=status)
                assert fresh_verdict(bounce) == plain_first(bounce), line
                checked += 1
        assert checked > 1000


class TestGeneratedText:
    """Text mixing several rules' literals, in a bounce of any kind, gets the same verdict."""

    def test_mixed_literals(self) -> None:
        rng = random.Random(11)  # noqa: S311  (reproducible test data, not a secret)
        split_reached = 0
        for _ in range(3000):
            words = rng.sample(LITERALS, rng.randint(1, 4)) + rng.sample(FILLER, 3)
            rng.shuffle(words)
            text = " ".join(words)
            bounce = Bounce(kind=rng.choice(list(Kind)), diagnostic=text)
            verdict = fresh_verdict(bounce)
            assert verdict == plain_first(bounce), text
            split_reached += verdict[0] == "user-unknown"
        assert split_reached > 10

    @given(st.lists(st.sampled_from(LITERALS + FILLER), min_size=1, max_size=8))
    def test_any_mix(self, words: list[str]) -> None:
        bounce = Bounce(kind=Kind.HARD, diagnostic=" ".join(words))
        assert fresh_verdict(bounce) == plain_first(bounce)


def wide_rule(patterns: list[str]) -> Rule:
    """A text rule with `patterns`, enough of them to be searched pattern by pattern."""
    filler = [f"filler{number:02d}" for number in range(rules._SPLIT_MIN)]
    return Rule(
        id="wide",
        kind=Kind.HARD,
        reason="r",
        category="c",
        blame=Blame.RECIPIENT,
        cs="c",
        en="e",
        text=(*patterns, *filler),
    )


CATCH_ALL = Rule(
    id="rest", kind=Kind.HARD, reason="r", category="c", blame=Blame.UNKNOWN, cs="c", en="e"
)


class TestSplitSearch:
    """A rule searched pattern by pattern finds what its alternation finds: leftmost, then first."""

    TABLE = rules.RuleTable(
        [wide_rule(["foo ba", "later one", "foo bar baz", "earlier( one)?"]), CATCH_ALL]
    )

    def test_is_split(self) -> None:
        assert list(self.TABLE._split) == [0]

    def test_first_pattern_wins_at_one_position(self) -> None:
        bounce = Bounce(kind=Kind.HARD, diagnostic="x foo bar baz")
        assert fresh_verdict(bounce, self.TABLE) == ("wide", "foo ba")

    def test_leftmost_match_wins(self) -> None:
        bounce = Bounce(kind=Kind.HARD, diagnostic="earlier one then later one")
        assert fresh_verdict(bounce, self.TABLE) == ("wide", "earlier one")

    @given(st.lists(st.sampled_from(["foo", "bar", "baz", "later", "one", "earlier", "filler07"])))
    def test_any_mix(self, words: list[str]) -> None:
        bounce = Bounce(kind=Kind.HARD, diagnostic=" ".join(words))
        order = self.TABLE.evaluation_order()
        assert fresh_verdict(bounce, self.TABLE) == plain_first(bounce, order)


RULE_GATES = rules.prepare_rules().gates
PART_GATES = {
    rules._part_key(index, part): required_literals(pattern) or ()
    for index in TABLE._split
    for part, pattern in enumerate(ORDER[index].text)
}


def plain_opened(text: str) -> tuple[set[int], set[int]]:
    """The rules and split patterns with a gate literal in `text`, tested one by one."""
    rules_opened = {
        index for index, gates in enumerate(RULE_GATES) if any(g in text for g in gates or ())
    }
    parts_opened = {key for key, gates in PART_GATES.items() if any(g in text for g in gates)}
    return rules_opened, parts_opened


class TestGates:
    """The gate search opens exactly the rules and patterns one of whose literals is in the text."""

    def test_corpus_lines(self, corpus: Path) -> None:
        for number, line in enumerate(corpus_lines(corpus)):
            if number % 2 == 0:
                text = rules._Facts.of(Bounce(kind=Kind.HARD, diagnostic=line)).text
                assert TABLE._opened(text) == plain_opened(text), line

    @given(st.lists(st.sampled_from(LITERALS + FILLER), min_size=1, max_size=8))
    def test_any_mix(self, words: list[str]) -> None:
        text = " ".join(words)
        assert TABLE._opened(text) == plain_opened(text)

    @given(st.text(alphabet="unknow sera", max_size=40))
    def test_overlapping_literals(self, text: str) -> None:
        assert TABLE._opened(text) == plain_opened(text)
