"""Read and validate rule files (TOML): the shipped table and the user's own.

A rule file is a list of ``[[rule]]`` tables (format in README, "The rule
table"). Every error names the file and the line of the offending rule, so
``bouncetool rules check FILE`` can point a person at it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bouncetool import smtpcodes
from bouncetool.errors import RuleError
from bouncetool.model import Blame, Kind
from bouncetool.textfold import strip_diacritics

REASONS: frozenset[str] = frozenset(
    [
        "authfailure",
        "badreputation",
        "blocked",
        "contenterror",
        "delivered",
        "exceedlimit",
        "expired",
        "feedback",
        "filtered",
        "hasmoved",
        "hostunknown",
        "mailboxfull",
        "mailererror",
        "mesgtoobig",
        "networkerror",
        "norelaying",
        "notaccept",
        "notcompliantrfc",
        "onhold",
        "policyviolation",
        "rejected",
        "requireptr",
        "securityerror",
        "spamdetected",
        "speeding",
        "suspend",
        "syntaxerror",
        "systemerror",
        "systemfull",
        "toomanyconn",
        "undefined",
        "userunknown",
        "vacation",
        "virusdetected",
    ]
)
"""Sisimai's reason names (see the corpus README): results compare with other tools."""

CATEGORIES: Mapping[str, str] = {
    "invalid-recipient": "the address or its domain does not exist (any more)",
    "mailbox-full": "the recipient's mailbox is full",
    "account-disabled": "the recipient's account is disabled or suspended",
    "dns-failure": "the recipient's domain could not be resolved or accepts no mail",
    "timeout": "the receiving server could not be reached in time; the sender gave up",
    "relaying-denied": "the receiving server refused to relay the message",
    "mail-block": "the sender (IP, domain, address) is blocked or has a poor reputation",
    "sender-auth": "SPF, DKIM, DMARC, reverse DNS or HELO checks of the sender failed",
    "spam-block": "the message was refused as spam or for carrying a virus",
    "content-rejected": "the message was refused for its size, headers or format",
    "rate-limited": "too many messages or connections at once: send more slowly",
    "out-of-band": "the receiving system failed internally after accepting the message",
    "generic-bounce": "a permanent failure without a more specific cause",
    "undetermined": "a failure whose cause cannot be determined",
    "complaint": "the recipient reported the message as spam",
    "auto-reply": "an automatic reply (out of office): not a failure",
    "delivered": "a delivery notice: not a failure",
    "delayed": "delivery is delayed; the sending server keeps trying",
    "not-bounce": "ordinary mail that reached the bounce mailbox",
}
"""The user-facing groups: the product brief's list plus the extensions documented in README."""

_FIELDS = frozenset(
    [
        "id",
        "text",
        "status",
        "reply",
        "host",
        "extracted",
        "kind",
        "reason",
        "category",
        "blame",
        "cs",
        "en",
    ]
)
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
_RULE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*rule[ \t]*\]\]", re.MULTILINE)
# Catastrophic backtracking needs a repeated group that itself repeats, or an
# unbounded wildcard that can re-scan the whole line from every start.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*(?<!\\)[*+}](?:[^()\\]|\\.)*\)[*+{]")
_UPPER = re.compile(r"(?<!\\)[A-Z]")
_UNBOUNDED_ANY = re.compile(r"(?<!\\)(?:\.|\\[SWD]|\[\^[^\]]*\])(?:[*+]|\{\d+,\})")


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rule table: what it matches, what it decides, what a person reads."""

    id: str
    kind: Kind
    reason: str
    category: str
    blame: Blame
    cs: str
    en: str
    text: tuple[str, ...] = ()  # regular expressions, matched against folded text
    status: tuple[str, ...] = ()  # enhanced status patterns: 5.1.1, 5.7.*, 5.*
    reply: tuple[str, ...] = ()  # reply-code patterns: 550, 55*, 5*
    host: str | None = None  # regular expression on the remote MTA's name
    extracted: tuple[Kind, ...] = ()  # the kind the extractor gave the bounce
    origin: str = ""  # "file:line", for messages and `rules show`

    @property
    def is_catch_all(self) -> bool:
        """True for a rule without any condition: it decides when nothing else does."""
        return not (self.text or self.status or self.reply or self.host or self.extracted)


def read_rules(path: Path) -> list[Rule]:
    """The rules in `path`, validated; RuleError names the file and line of the first problem."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RuleError(f"{path}: cannot read rule file: {error.strerror or error}") from error
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise RuleError(f"{path}:{line}: not UTF-8 text (byte {byte:#04x})") from error
    return parse_rules(source, str(path))


def parse_rules(source: str, name: str, *, compile_patterns: bool = True) -> list[Rule]:
    """The rules in TOML `source` (named `name` in messages), validated.

    `compile_patterns=False` skips compiling each pattern on its own to
    check it, and only that: for the shipped file, which the test suite
    checks in full and whose patterns the rule table compiles anyway. It
    saves a fifth of the start-up of ``bouncetool classify``.
    """
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise RuleError(_syntax_error(name, str(error))) from error
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise RuleError(f"{name}:{_key_line(source, unknown[0])}: unknown key {unknown[0]!r}")
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError(f"{name}: 'rule' must be an array of tables ([[rule]])")
    lines = _header_lines(source, len(tables))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for table, line in zip(tables, lines, strict=True):
        where = f"{name}:{line}" if line else name
        rule = _build(table, where, compile_patterns=compile_patterns)
        if rule.id in seen:
            raise RuleError(
                f"{where}: rule {rule.id!r} is defined twice (first at {seen[rule.id]})"
            )
        seen[rule.id] = where
        rules.append(rule)
    return rules


def _header_lines(source: str, count: int) -> list[int | None]:
    starts = [source.count("\n", 0, m.start()) + 1 for m in _RULE_HEADER.finditer(source)]
    if len(starts) == count:
        return list(starts)
    return [None] * count


def _key_line(source: str, key: str) -> int:
    match = re.search(rf"^[ \t]*\[?\[?[ \t]*{re.escape(key)}\b", source, re.MULTILINE)
    return source.count("\n", 0, match.start()) + 1 if match else 1


def _build(table: object, where: str, *, compile_patterns: bool = True) -> Rule:
    if not isinstance(table, dict):
        raise RuleError(f"{where}: a rule must be a table")
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise RuleError(f"{where}: rule needs an 'id' of lower-case letters, digits and '-'")
    label = f"{where}: rule {rule_id!r}"
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise RuleError(f"{label}: unknown field {unknown[0]!r}")
    try:
        rule = Rule(
            id=rule_id,
            kind=Kind(_required(table, "kind")),
            reason=_choice(table, "reason", REASONS),
            category=_choice(table, "category", CATEGORIES),
            blame=Blame(_required(table, "blame")),
            cs=_required(table, "cs"),
            en=_required(table, "en"),
            text=tuple(strip_diacritics(p) for p in _strings(table, "text")),
            status=_strings(table, "status"),
            reply=_strings(table, "reply"),
            host=_optional(table, "host"),
            extracted=tuple(Kind(k) for k in _strings(table, "extracted")),
            origin=where,
        )
        _check(rule, compile_patterns=compile_patterns)
    except (ValueError, re.error) as error:
        raise RuleError(f"{label}: {error}") from error
    return rule


def _check(rule: Rule, *, compile_patterns: bool = True) -> None:
    if rule.blame is Blame.SENDER and rule.kind is Kind.HARD:
        raise ValueError(
            "a failure the sender caused must not be 'hard': it says nothing about the address"
        )
    for pattern in rule.text:
        check_pattern(pattern, compile_pattern=compile_patterns)
        if _UPPER.search(pattern):
            raise ValueError(f"write text pattern {pattern!r} in lower case: text is lower-cased")
    for pattern in rule.status:
        smtpcodes.status_pattern(pattern)
    for pattern in rule.reply:
        smtpcodes.reply_pattern(pattern)
    if rule.host is not None:
        check_pattern(rule.host, compile_pattern=compile_patterns)


def check_pattern(pattern: str, *, compile_pattern: bool = True) -> None:
    """Raise ValueError for a pattern that does not compile or could backtrack badly.

    With `compile_pattern=False` only the backtracking checks are made.
    """
    if compile_pattern:
        re.compile(pattern)
    if _NESTED_REPEAT.search(pattern):
        raise ValueError(
            f"pattern {pattern!r} repeats a repeated group (catastrophic backtracking)"
        )
    if _UNBOUNDED_ANY.search(pattern):
        raise ValueError(f"pattern {pattern!r} has an unbounded wildcard; bound it, e.g. .{{0,60}}")


def _required(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' is required and must be a non-empty string")
    return value.strip()


def _optional(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{key}' must be a non-empty string")
    return value


def _choice(table: Mapping[str, Any], key: str, allowed: Mapping[str, str] | frozenset[str]) -> str:
    value = _required(table, key)
    if value not in allowed:
        raise ValueError(f"{key} {value!r} is not one of: {', '.join(sorted(allowed))}")
    return value


def _strings(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, ())
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"'{key}' must be a string or a list of non-empty strings")
    return tuple(items)


def _syntax_error(name: str, message: str) -> str:
    """A TOML syntax error as ``FILE:LINE: not valid TOML: ...``, like every other rule error."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found is None:
        return f"{name}: not valid TOML: {message}"
    what = message[: found.start()]
    return f"{name}:{found.group(1)}: not valid TOML: {what} (column {found.group(2)})"
