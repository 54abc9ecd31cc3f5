"""The rule table: load it, compile it once, and turn each bounce into a verdict.

Evaluation order (README, "The rule table", says the same for users):

1. Rules on the extracted kind of a non-failure (complaint, auto-reply,
   delivered, not-bounce): such a message is what its format says it is.
2. Rules with a text pattern, in file order (user files first): a specific
   diagnostic text beats a generic or contradicting code.
3. Rules on codes only, the most specific first (``5.1.1`` before ``5.1.*``
   before ``5.*``; a status before a bare reply code).
4. Rules on the extracted kind or remote host alone, then the catch-all.

Within a rule every given condition must hold; within one condition any of
its values may. After the rule decides, two adjustments keep kinds honest:
a bounce the extractor marked delayed stays ``delayed``, and a ``hard``
verdict on a temporary (4xx) failure becomes ``soft``.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import filterfalse
from pathlib import Path
from typing import NamedTuple

from bouncetool import smtpcodes
from bouncetool.errors import RuleError
from bouncetool.literals import MIN_GATE, required_literals, trie_pattern
from bouncetool.model import Bounce, Kind, Verdict
from bouncetool.rulefile import Rule, parse_rules, read_rules
from bouncetool.textfold import fold_text, fold_words

MAX_TEXT = 2000
"""Only the first characters of a diagnostic are matched: bounds the work per line."""

_CACHE_SIZE = 8192
# What varies between otherwise identical answers of one server: addresses, IPv4
# addresses, session ids ("p41si4843565qte.548 - gsmtp"). They are masked before
# matching, so one provider's template is matched once and then found in the cache.
_ADDRESS = re.compile(r"[^<>()\[\]\"',;:\s]{1,64}@[^<>()\[\]\"',;:\s]{1,255}")
_DIGIT = re.compile(r"\d").search
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
# A session or queue id: letters with at least four digits among them, no "..".
_ID = re.compile(
    r"(?=(?:[^\d]{0,60}\d){4})(?=[\d._-]{0,60}[a-z])(?!.{0,60}\.\.)[a-z0-9._-]{8,60}\Z"
).match
_PUNCT = "<>()[]{}\"',;:."
_MASKABLE = 7  # the shortest word masking can change (as a number): "1.2.3.4"
# A multi-line SMTP reply folded into one line repeats its code on every line: Gmail's
# "550-5.7.1 [...] Messages with multiple 550 5.7.1 addresses in From: header". The
# repeats after the first are dropped so that the wording reads as one sentence again.
# The pattern opens with the status's first dot and looks back at the rest of the two
# codes ("550 5."; the second look-behind stands for a leading "\b"): `re` scans for a
# literal first character much faster than for a character set, and there are fewer
# dots than digits. The group is the reply code; the status runs from the character
# before the match (its class digit) to the match's end.
_FIRST_CODE = re.compile(r"\.(?<=([245]\d\d)[ -][245]\.)(?<!\w.{6})\d{1,3}\.\d{1,3}\b").search

_NON_FAILURE = frozenset({Kind.COMPLAINT, Kind.AUTO_REPLY, Kind.DELIVERED, Kind.NOT_BOUNCE})
_SHIPPED = "rules.toml"
_STATUS_WEIGHT = {0: 0, 1: 3, 2: 20, 3: 30}  # fixed parts of a status pattern -> weight


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A rule with its patterns compiled; built once per table."""

    rule: Rule
    text: re.Pattern[str] | None
    gates: tuple[str, ...] | None  # literals of which a text match needs one; None: no gate
    status: tuple[re.Pattern[str], ...]
    reply: tuple[re.Pattern[str], ...]
    host: re.Pattern[str] | None
    extracted: frozenset[Kind]
    conditional: bool  # True when anything besides text must hold

    @classmethod
    def of(
        cls, rule: Rule, gates: tuple[str, ...] | None, compiled: Mapping[str, re.Pattern[str]]
    ) -> _Compiled:
        text = _text_source(rule)
        return cls(
            rule=rule,
            text=(compiled.get(text) or re.compile(text)) if text else None,
            gates=gates,
            status=tuple(smtpcodes.status_pattern(p) for p in rule.status),
            reply=tuple(smtpcodes.reply_pattern(p) for p in rule.reply),
            host=re.compile(rule.host, re.IGNORECASE) if rule.host else None,
            extracted=frozenset(rule.extracted),
            conditional=bool(rule.status or rule.reply or rule.host or rule.extracted),
        )

    def match(self, facts: _Facts) -> str | None:
        """What matched (text, code or kind) when every condition holds, else None."""
        if not self._conditions_hold(facts):
            return None
        if self.text:
            if self.gates is not None and not any(g in facts.text for g in self.gates):
                return None
            found = self.text.search(facts.text)
            return found.group(0) if found else None
        return self._what_matched(facts)

    def _conditions_hold(self, facts: _Facts) -> bool:
        if self.extracted and facts.kind not in self.extracted:
            return False
        if self.status and not (facts.status and any(p.match(facts.status) for p in self.status)):
            return False
        if self.reply and not (facts.reply and any(p.match(facts.reply) for p in self.reply)):
            return False
        return not (self.host and not (facts.host and self.host.search(facts.host)))

    def _what_matched(self, facts: _Facts) -> str:
        if self.status:
            return f"status {facts.status}"
        if self.reply:
            return f"reply {facts.reply}"
        if self.host:
            return f"host {facts.host}"
        if self.extracted:
            return f"kind {facts.kind}"
        return ""


_Template = tuple[Kind, str, str | None, str | None, str | None]
"""A bounce as the verdict cache knows it: kind, diagnostic folded and masked (see
`_fold_and_mask`), status, reply code and remote host as extracted. The verdict
depends on nothing else, and a provider's answers to different recipients share
one template, so a template seen before costs only the folding and masking."""


def _template(bounce: Bounce) -> _Template:
    """The cache key of `bounce` (see `_Template`)."""
    masked = _fold_and_mask(bounce.diagnostic or "")
    return (bounce.kind, masked, bounce.status, bounce.reply_code, bounce.remote_mta)


class _Facts(NamedTuple):
    """What the rules look at in one bounce, normalised once from its template.

    A named tuple rather than a frozen dataclass: cheap to build and read.
    """

    kind: Kind
    text: str
    status: str | None
    reply: str | None
    host: str | None

    @classmethod
    def of(cls, bounce: Bounce) -> _Facts:
        """The facts of `bounce`."""
        return cls.of_template(_template(bounce))

    @classmethod
    def of_template(cls, template: _Template) -> _Facts:
        """The facts of a bounce with this template."""
        kind, masked, status, reply, host = template
        text = _drop_repeated_code(masked)
        if status and smtpcodes.is_stand_in(status):
            status = None
        if not status or status.endswith(".0.0"):
            # A generic X.0.0 (or none) says less than the code in the text itself.
            found = smtpcodes.find_status(text)
            if found and (not status or found[0] == status[0]):
                status = found
        reply = reply or smtpcodes.find_reply_code(text)
        return cls(kind, text, status, reply, host.lower() if host else None)


def _merge_gates(gates: list[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    merged: list[str] = []
    for literals in gates:
        if literals is None:
            return None  # one pattern without a gate: the rule is always searched
        merged.extend(literals)
    return tuple(dict.fromkeys(merged))


def _gate_index(
    gates: Sequence[tuple[str, ...] | None],
) -> tuple[str | None, dict[str, frozenset[int]]]:
    """A pattern finding every gate literal at once, and which rules each found literal opens.

    The pattern matches the longest gate literal starting at a position (the
    table searches again from each next position); every shorter gate starting
    there is a prefix of it, so a found literal opens the rules of all its gate
    prefixes too. `gates` are those
    of the rules in evaluation order; None for the pattern: no gates at all.
    """
    owners: dict[str, set[int]] = {}
    for index, literals in enumerate(gates):
        for gate in literals or ():
            owners.setdefault(gate, set()).add(index)
    # A gate's prefixes are looked up rather than every pair of gates compared:
    # the table compiles at every start-up.
    opened = {
        gate: frozenset().union(
            *(owners[gate[:end]] for end in range(1, len(gate) + 1) if gate[:end] in owners)
        )
        for gate in owners
    }
    if not owners:
        return None, opened
    return trie_pattern(sorted(owners)), opened


_PART_BITS = 8  # a rule's pattern number takes the low bits of a part key
_PART_MASK = (1 << _PART_BITS) - 1
# Only rules with this many patterns are searched pattern by pattern: each pattern alone
# costs a compilation (~40 µs) in every process, which pays off on a cold worker's few
# hundred cache misses only for the largest alternations (measured: 2, 10, 20, 30, 40).
_SPLIT_MIN = 40
_NO_PARTS: frozenset[int] = frozenset()


def _part_key(rule: int, part: int) -> int:
    """One int naming pattern `part` of rule `rule`: cheaper in sets than a tuple."""
    return rule << _PART_BITS | part


def _part_index(
    literals: Sequence[Sequence[tuple[str, ...] | None]], gates: Sequence[tuple[str, ...] | None]
) -> dict[str, frozenset[int]]:
    """Gate literal -> the text patterns it opens (`PreparedRules.opened_parts`).

    As in `_gate_index`, a found literal also opens the patterns of its gate
    prefixes. Literals that open no such pattern are (mostly) left out.
    """
    owners: dict[str, set[int]] = {}
    for rule, parts in enumerate(literals):
        if gates[rule] is None or not _SPLIT_MIN <= len(parts) < 1 << _PART_BITS:
            continue
        for part, part_gates in enumerate(parts):
            for gate in part_gates or ():
                owners.setdefault(gate, set()).add(_part_key(rule, part))
    # Every gate is at least MIN_GATE long, so a gate whose first MIN_GATE characters
    # start no owner has no owner among its prefixes: most gates are passed over so.
    heads = {gate[:MIN_GATE] for gate in owners}
    everything = {gate for rule_gates in gates for gate in rule_gates or ()}
    return {
        gate: frozenset().union(
            *(owners[gate[:end]] for end in range(1, len(gate) + 1) if gate[:end] in owners)
        )
        for gate in everything
        if gate[:MIN_GATE] in heads
    }


def _fold_and_mask(diagnostic: str) -> str:
    """The diagnostic folded (see `textfold`) with addresses, IPs and ids masked."""
    words = fold_words(diagnostic, MAX_TEXT)
    _mask_words(words)
    return " ".join(words)


def _mask_words(words: list[str]) -> None:
    """Mask, in place, the addresses, IPv4 addresses and session ids among `words`.

    Only words that are not all letters are looked at, and `filterfalse`
    tests that in C: most words are plain ones and never reach Python code.
    """
    start = 0  # where the next word to replace is looked for
    for word in filterfalse(str.isalpha, words):
        if "@" in word:
            replaced = _ADDRESS.sub("x@x", word)
        elif len(word) >= _MASKABLE and _DIGIT(word):
            replaced = _mask_number(word)
        else:
            continue
        if replaced != word:
            # The iterator gives no position; `word` is the first of its value from
            # `start` on, as any equal word before it was replaced already.
            start = words.index(word, start)
            words[start] = replaced
            start += 1


def _mask_number(word: str) -> str:
    """`word` (holding a digit) with an IPv4 address or a session id masked."""
    # An IPv4 address needs three dots and an id eight characters with a letter
    # (lower case after folding): the commonest such words ("550-5.1.1",
    # "23:34:45") are passed over without running those patterns.
    if len(word) < _MASKABLE:
        return word
    if word.count(".") >= 3:
        masked = _IPV4.sub("192.0.2.1", word)
        if masked != word:
            return masked
    bare = word.strip(_PUNCT)
    if len(bare) >= 8 and bare.islower() and _ID(bare):
        return word.replace(bare, "id")
    return word


def _drop_repeated_code(text: str) -> str:
    """`text` without the repeats of its first reply and status code (continuation lines)."""
    first = _FIRST_CODE(text)
    if first is None:
        return text
    reply = first.group(1)
    if text.find(f" {reply}", first.end()) < 0:
        return text  # the code is not repeated: most replies are one line
    status = text[first.start() - 1 : first.end()]
    head, rest = text[: first.end()], text[first.end() :] + " "
    for separator in (" ", "-"):
        rest = rest.replace(f" {reply}{separator}{status} ", " ")
    return head + rest[:-1]


def _tier(rule: Rule) -> tuple[int, int]:
    """Sort key of a rule's evaluation stage (module docstring), narrowest codes first."""
    if _NON_FAILURE & set(rule.extracted):
        return (1, 0)
    if rule.text:
        return (2, 0)
    if rule.status or rule.reply:
        # A status naming subject and detail (5.1.1, 5.7.*) says more than a reply code;
        # an exact reply code (551) says more than a bare status class (5.*).
        status = max(
            (_STATUS_WEIGHT[smtpcodes.status_specificity(p)] for p in rule.status), default=0
        )
        reply = max((smtpcodes.reply_specificity(p) for p in rule.reply), default=0)
        return (3, -(status + reply))
    if rule.is_catch_all:
        return (5, 0)
    return (4, 0)


@dataclass(frozen=True, slots=True)
class PreparedRules:
    """Everything of a rule table but its compiled patterns: plain, picklable data.

    Reading the rule files and finding the gate literals is about half of
    loading a table; this part can be done in another process (see
    `bouncetool.pipeline.startup`) while this one does something else, and
    sent over as data, which a compiled pattern cannot.
    """

    rules: tuple[Rule, ...]  # in precedence order: user rules first
    order: tuple[int, ...]  # indexes into `rules`, in evaluation order
    gates: tuple[tuple[str, ...] | None, ...]  # each rule's gate literals, in evaluation order
    gate_pattern: str | None  # a pattern finding every gate literal; None: no gates
    opened: dict[str, frozenset[int]]  # gate literal -> the rules (evaluation order) it opens
    # gate literal -> the text patterns it opens, each as `_part_key(rule, pattern)` (rule in
    # evaluation order, pattern in the rule's order); only for rules whose every pattern has
    # gates, which `RuleTable` may search pattern by pattern (`_split_search`)
    opened_parts: dict[str, frozenset[int]]

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> PreparedRules:
        """The prepared form of `rules` (already in precedence order)."""
        if not any(rule.is_catch_all for rule in rules):
            raise RuleError("the rule table has no catch-all rule (a rule without conditions)")
        ordered = tuple(rules)
        order = tuple(sorted(range(len(ordered)), key=lambda i: (_tier(ordered[i]), i)))
        literals = [[required_literals(p) for p in ordered[i].text] for i in order]
        gates = tuple(_merge_gates(each) for each in literals)
        pattern, opened = _gate_index(gates)
        return cls(ordered, order, gates, pattern, opened, _part_index(literals, gates))


class RuleTable:
    """The compiled rule table; `classify` always returns a verdict. Pickles by its rules."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        """Compile `rules` (already in precedence order: user rules first)."""
        self._compile(PreparedRules.of(rules))

    @classmethod
    def from_prepared(
        cls, prepared: PreparedRules, compiled: Mapping[str, re.Pattern[str]] | None = None
    ) -> RuleTable:
        """The table of `prepared` (`prepare_rules`, possibly done in another process).

        `compiled`: text patterns compiled beforehand (`compile_text_patterns`).
        """
        table = cls.__new__(cls)
        table._compile(prepared, compiled or {})
        return table

    def _compile(
        self, prepared: PreparedRules, compiled: Mapping[str, re.Pattern[str]] | None = None
    ) -> None:
        self.rules: tuple[Rule, ...] = prepared.rules
        self._ordered = tuple(
            _Compiled.of(prepared.rules[i], gates, compiled or {})
            for i, gates in zip(prepared.order, prepared.gates, strict=True)
        )
        self._by_id = {rule.id: rule for rule in self.rules}
        self._cache: dict[_Template, Verdict] = {}
        # Without gates, a pattern that never matches: nothing opens a gated rule.
        self._gate_finder = re.compile(prepared.gate_pattern or r"(?!)").search
        self._gated = prepared.opened
        self._gated_parts = prepared.opened_parts
        self._split = _splittable(self._ordered, prepared.opened_parts)
        self._parts: dict[int, re.Pattern[str]] = {}  # compiled on first use, see `_part`
        # What `_first_match` needs of each rule, unpacked once: its index, the rule, its
        # text pattern when text is its only condition (else None: `match` decides), and
        # whether it has gate literals (only a text rule may). One tuple per extracted
        # kind, without the rules that need another kind: a hard bounce never reaches
        # the complaint, auto-reply, delivered and not-bounce rules.
        steps = [
            (index, compiled, None if compiled.conditional else compiled.text, bool(gates))
            for index, (compiled, gates) in enumerate(
                zip(self._ordered, prepared.gates, strict=True)
            )
        ]
        self._steps = {
            kind: tuple(
                step for step in steps if kind in step[1].extracted or not step[1].extracted
            )
            for kind in Kind
        }

    def __reduce__(self) -> tuple[type[RuleTable], tuple[tuple[Rule, ...]]]:
        """Pickle as the rule list; the receiving process compiles again."""
        return (RuleTable, (self.rules,))

    def __len__(self) -> int:
        """The number of rules."""
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with `rule_id`, or None."""
        return self._by_id.get(rule_id)

    def evaluation_order(self) -> tuple[Rule, ...]:
        """The rules in the order `classify` tries them."""
        return tuple(compiled.rule for compiled in self._ordered)

    def classify(self, bounce: Bounce) -> Verdict:
        """The verdict of the first rule (in evaluation order) whose conditions all hold."""
        template = _template(bounce)
        verdict = self._cache.get(template)
        if verdict is None:
            facts = _Facts.of_template(template)
            index, matched = self._first_match(facts)
            verdict = _verdict(self._ordered[index].rule, facts, matched)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()  # a crude bound; real mailboxes repeat few templates
            self._cache[template] = verdict
        return verdict

    def _first_match(self, facts: _Facts) -> tuple[int, str]:
        text = facts.text
        candidates, parts = self._opened(text)
        for index, compiled, pattern, gated in self._steps[facts.kind]:
            # A gate literal absent: the rule's text cannot match, whatever else holds.
            if gated and index not in candidates:
                continue
            if pattern is None:
                matched = compiled.match(facts)
                if matched is not None:
                    return index, matched
                continue
            # The common case, inlined for speed: a text rule without other conditions.
            keys = self._split.get(index)
            if keys is not None:
                opened = [key for key in keys if key in parts]
                if len(opened) < len(keys):
                    matched = self._split_search(opened, text)
                    if matched is not None:
                        return index, matched
                    continue
            found = pattern.search(text)
            if found is not None:
                return index, found.group(0)
        raise AssertionError("unreachable: the constructor guarantees a catch-all rule")

    def _opened(self, text: str) -> tuple[set[int], set[int]]:
        """The gated rules (evaluation order) and split patterns (`_part_key`) `text` opens."""
        candidates: set[int] = set()
        parts: set[int] = set()
        # The longest gate literal at every position where one starts. Searching again
        # from the next position, rather than `finditer` over a look-ahead (which also
        # finds overlapping literals), is faster: the engine skips ahead on its own.
        position = 0
        while (found_gate := self._gate_finder(text, position)) is not None:
            literal = found_gate.group()
            candidates |= self._gated[literal]
            parts |= self._gated_parts.get(literal, _NO_PARTS)
            position = found_gate.start() + 1
        return candidates, parts

    def _split_search(self, keys: list[int], text: str) -> str | None:
        """What the rule's combined pattern finds in `text`, searching only patterns `keys`.

        A rule with many patterns (``user-unknown`` has 61) is one alternation,
        which the engine tries branch by branch at every position; most of its
        branches cannot match (none of their gate literals is in the text), so
        searching the few that can is much cheaper. The alternation finds the
        leftmost match, and at one position its first branch that matches: so
        does the smallest (start, pattern number) among the separate searches.
        The other patterns' gates are absent, so they cannot match anywhere.
        """
        best: re.Match[str] | None = None
        for key in keys:  # in pattern order: on a tie, the earlier pattern stays
            found = self._part(key).search(text)
            if found is not None and (best is None or found.start() < best.start()):
                best = found
        return None if best is None else best.group(0)

    def _part(self, key: int) -> re.Pattern[str]:
        """Pattern `key` (`_part_key`) alone, compiled when first needed: most never are."""
        pattern = self._parts.get(key)
        if pattern is None:
            rule = self._ordered[key >> _PART_BITS].rule
            pattern = self._parts[key] = re.compile(rule.text[key & _PART_MASK])
        return pattern

    def classify_text(self, line: str) -> Verdict:
        """The verdict for a bare diagnostic line; reply code and status are read from it."""
        text = fold_text(line, MAX_TEXT)
        status = smtpcodes.find_status(text)
        reply = smtpcodes.find_reply_code(text)
        kind = Kind.SOFT if smtpcodes.is_temporary(status, reply) else Kind.HARD
        return self.classify(Bounce(kind=kind, diagnostic=line, status=status, reply_code=reply))


# A numbered back-reference or group condition refers to another group number once
# a pattern stands alone: such rules are always searched whole.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _splittable(
    ordered: Sequence[_Compiled], opened_parts: Mapping[str, frozenset[int]]
) -> dict[int, tuple[int, ...]]:
    """Rule (evaluation order) -> its part keys, for the rules `_split_search` may search."""
    indexed = frozenset().union(*opened_parts.values())
    return {
        index: keys
        for index, compiled in enumerate(ordered)
        if compiled.text is not None and not compiled.conditional and compiled.gates is not None
        if not any(_GROUP_REFERENCE.search(p) for p in compiled.rule.text)
        for keys in [tuple(_part_key(index, part) for part in range(len(compiled.rule.text)))]
        if indexed.issuperset(keys)
    }


def _verdict(rule: Rule, facts: _Facts, matched: str) -> Verdict:
    kind = rule.kind
    if kind.is_failure:
        if facts.kind is Kind.DELAYED:
            kind = Kind.DELAYED
        elif kind is Kind.HARD and smtpcodes.is_temporary(facts.status, facts.reply):
            kind = Kind.SOFT
    return Verdict(
        kind=kind,
        reason=rule.reason,
        category=rule.category,
        blame=rule.blame,
        rule=rule.id,
        matched=matched or None,
        explanation_cs=rule.cs,
        explanation_en=rule.en,
    )


@functools.cache
def shipped_rules() -> tuple[Rule, ...]:
    """The rules shipped inside the package (parsed once per process).

    Their patterns are not compiled one by one to check them: the test suite
    does that (`shipped_source`), and the table compiles them anyway.
    """
    return tuple(parse_rules(shipped_source(), _SHIPPED, compile_patterns=False))


def shipped_source() -> str:
    """The text of the shipped rule file."""
    return importlib.resources.files("bouncetool").joinpath(_SHIPPED).read_text("utf-8")


def load_table(extra: Sequence[Path] = ()) -> RuleTable:
    """The shipped table with the user's rule files in front.

    User rules are tried before shipped ones and replace a shipped rule with
    the same id; when several user files define one id, the earlier file wins.
    """
    return RuleTable.from_prepared(prepare_rules(extra))


def prepare_rules(extra: Sequence[Path] = ()) -> PreparedRules:
    """`load_table`'s work short of compiling the patterns (see `PreparedRules`)."""
    return PreparedRules.of(table_rules(extra))


def compile_text_patterns(rules: Sequence[Rule]) -> dict[str, re.Pattern[str]]:
    """The text patterns of `rules`, compiled, for `RuleTable.from_prepared`.

    They need only the rules, not the gate literals: a process can compile
    them while another still prepares the rest (`PreparedRules`).
    """
    sources = (_text_source(rule) for rule in rules)
    return {text: re.compile(text) for text in sources if text}


def _text_source(rule: Rule) -> str:
    """The one pattern a rule's text patterns are matched as (empty: no text condition)."""
    return "|".join(f"(?:{p})" for p in rule.text)


def table_rules(extra: Sequence[Path] = ()) -> list[Rule]:
    """The rules of the table `load_table` builds, in precedence order (user files first)."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for path in extra:
        for rule in read_rules(path):
            if rule.id not in seen:
                seen.add(rule.id)
                rules.append(rule)
    rules.extend(rule for rule in shipped_rules() if rule.id not in seen)
    return rules
