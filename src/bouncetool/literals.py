"""Literal text that every match of a pattern must contain: a cheap gate before regex search.

For ``user (is )?unknown`` every match contains ``unknown``; for
``(ucet|schranka) (je )?plna`` every match contains ``ucet`` or ``schranka``.
``literal in text`` costs a fraction of a regex search, so a rule none of
whose gates occur in the text is skipped without running its expression.
The reading is deliberately simple (runs of plain characters, and groups of
alternatives that are neither optional nor lookarounds); when in doubt it
returns None, which means "no gate: always search".
"""

from __future__ import annotations

import re
from typing import Any

_BREAKS = frozenset("()[]{}|.^$")
_QUANTIFIERS = frozenset("?*+{")
MIN_GATE = 3


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Literals of which every match of `pattern` contains one (each >= 3 chars), or None."""
    branches = _split_top_level(pattern)
    if len(branches) > 1:
        found: list[str] = []
        for branch in branches:
            literals = required_literals(branch)
            if literals is None:
                return None
            found.extend(literals)
        return tuple(dict.fromkeys(found))
    candidates: list[tuple[str, ...]] = [(run,) for run in _runs(pattern) if len(run) >= MIN_GATE]
    candidates += [group for group in _required_groups(pattern) if group is not None]
    if not candidates:
        return None
    return max(candidates, key=lambda literals: (min(map(len, literals)), -len(literals)))


def _split_top_level(pattern: str) -> list[str]:
    branches, depth, start, index = [], 0, 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    branches.append(pattern[start:])
    return branches


def _runs(branch: str) -> list[str]:
    """Maximal runs of plain, non-optional characters outside groups and classes."""
    runs: list[str] = []
    run: list[str] = []
    depth, index = 0, 0
    while index < len(branch):
        char = branch[index]
        step, literal = 1, None
        if char == "\\":
            step = 2
            escaped = branch[index + 1 : index + 2]
            literal = escaped if escaped and not escaped.isalnum() else None
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char not in _BREAKS and char not in _QUANTIFIERS:
            literal = char
        following = branch[index + step : index + step + 1]
        if following and following in _QUANTIFIERS:
            literal = None  # "s?" or "x*": this character may be absent
        if literal is None or depth > 0:
            runs.append("".join(run))
            run = []
        else:
            run.append(literal)
        index += step
    runs.append("".join(run))
    return runs


def _required_groups(branch: str) -> list[tuple[str, ...] | None]:
    """For each top-level group that must match (no quantifier, no lookaround): its literals."""
    groups: list[tuple[str, ...] | None] = []
    depth, start, index = 0, 0, 0
    while index < len(branch):
        char = branch[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            end = branch.find("]", index + 2)
            index = len(branch) if end < 0 else end + 1
            continue
        if char == "(":
            depth += 1
            if depth == 1:
                start = index + 1
        elif char == ")":
            depth -= 1
            following = branch[index + 1 : index + 2]
            if depth == 0 and not (following and following in _QUANTIFIERS):
                groups.append(_group_literals(branch[start:index]))
        index += 1
    return groups


def _group_literals(body: str) -> tuple[str, ...] | None:
    if body.startswith("?:"):
        body = body[2:]
    elif body.startswith("?"):
        return None  # lookarounds, flags, named groups: not read
    return required_literals(body)


def trie_pattern(literals: list[str]) -> str:
    """One regular expression matching the longest of `literals` that starts at a position.

    The literals are arranged as a trie, so at every position the engine
    follows one branch per character instead of trying each literal in turn.
    """
    trie: dict[str, Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _emit(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body
