"""SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463) read from text.

Rules match codes by exact value (``5.1.1``, ``550``) or by class with ``*``
(``5.7.*``, ``5.*``, ``5*``); this module turns those patterns into cheap
matchers and finds codes in a bare diagnostic line.
"""

from __future__ import annotations

import re

# A reply code opens a line or follows a space, and is followed by a space, a
# hyphen (multi-line replies, "550-5.1.1") or the end; never part of an IP
# address or a longer number.
# (Each look-behind sits after the first digit, checking the character before it:
# a pattern that opens with a character set is scanned several times faster.)
_REPLY = re.compile(r"([245](?<![\w.#:/-].)\d\d)(?=[ \-:]|$)")
# An enhanced status code: class.subject.detail, not inside an IP address.
# (The pattern opens with the first dot and looks back at the class digit: a
# pattern that opens with a literal character is scanned for much faster than
# one opening with a character set, and dots are rarer than the digits 2, 4, 5.)
_STATUS = re.compile(r"\.(?<=([245])\.)(?<![\w.]..)(\d{1,3})\.(\d{1,3})(?![\w.]\d)")
# Sisimai writes X.0.9NN for bounces that carried no real status; such a value
# says no more than its class digit.
_STAND_IN = re.compile(r"^[245]\.0\.9\d\d$")

_SCAN_LIMIT = 400  # codes sit at the start of a reply; do not scan a whole essay


def find_reply_code(text: str) -> str | None:
    """The first SMTP reply code (``550``) in `text`, or None."""
    match = _REPLY.search(text, 0, _SCAN_LIMIT)
    return match.group(1) if match else None


def find_status(text: str) -> str | None:
    """The first enhanced status code (``5.1.1``) in `text`, or None."""
    match = _STATUS.search(text, 0, _SCAN_LIMIT)
    return ".".join(match.groups()) if match else None


def is_stand_in(status: str) -> bool:
    """True for Sisimai's own ``X.0.9NN`` placeholders, which carry only a class."""
    # Called for every bounce: the substring test passes over real codes without the pattern.
    return ".0.9" in status and bool(_STAND_IN.match(status))


def is_temporary(status: str | None, reply_code: str | None) -> bool:
    """True when the remote side said "try again later" (4.x.x, or 4xx without a status)."""
    if status:
        return status.startswith("4")
    return bool(reply_code and reply_code.startswith("4"))


def status_pattern(pattern: str) -> re.Pattern[str]:
    """A matcher for an enhanced-status pattern: ``5.1.1``, ``5.7.*``, ``5.*``, ``*``."""
    parts = pattern.split(".")
    if not 1 <= len(parts) <= 3 or not all(p == "*" or p.isdigit() for p in parts):
        raise ValueError(f"not a status pattern: {pattern!r} (use e.g. 5.1.1, 5.7.*, 5.*)")
    pieces = [r"\d+" if p == "*" else re.escape(p) for p in parts]
    if parts[-1] == "*":  # "5.*" means the whole class, whatever follows
        return re.compile(r"\.".join(pieces) + r"(?:\.\d+)*\Z")
    if len(parts) != 3:
        raise ValueError(f"not a status pattern: {pattern!r} (use e.g. 5.1.1, 5.7.*, 5.*)")
    return re.compile(r"\.".join(pieces) + r"\Z")


def reply_pattern(pattern: str) -> re.Pattern[str]:
    """A matcher for a reply-code pattern: ``550``, ``55*``, ``5*`` (``5xx`` works too)."""
    text = pattern.lower().replace("x", "*")
    if not re.fullmatch(r"[2-5][0-9*]{0,2}\*?|[2-5]\d\d", text):
        raise ValueError(f"not a reply-code pattern: {pattern!r} (use e.g. 550, 55*, 5*)")
    digits = text.rstrip("*")
    if len(digits) == 3:
        return re.compile(re.escape(digits) + r"\Z")
    return re.compile(re.escape(digits) + rf"\d{{{3 - len(digits)}}}\Z")


def status_specificity(pattern: str) -> int:
    """How narrow a status pattern is: its fixed parts (``5.1.1`` = 3, ``5.7.*`` = 2)."""
    return sum(1 for part in pattern.split(".") if part.isdigit())


def reply_specificity(pattern: str) -> int:
    """How narrow a reply-code pattern is: its fixed digits (``550`` = 3, ``5*`` = 1)."""
    return len(pattern.lower().replace("x", "*").rstrip("*"))
