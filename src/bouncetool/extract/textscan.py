"""Finding addresses, status codes and reply codes in the free text of bounces.

Every extractor needs the same few searches: the first e-mail address in a
line, an enhanced status code (RFC 3463, ``5.1.1``) or a basic SMTP reply
code (RFC 5321, ``550``) in a diagnostic, the diagnostic itself unfolded and
with its whitespace collapsed. They live here once, compiled once.
"""

from __future__ import annotations

import re

# A pragmatic address: no quoted local parts with spaces (never seen in bounces),
# but the characters real local parts use, including "=" and "+" of VERP.
_ADDRESS = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
ADDRESS_PATTERN = _ADDRESS
"""The address pattern as a string, for the anchors of the text formats."""
ADDRESS = re.compile(_ADDRESS)
ANGLE_ADDRESS = re.compile(r"<\s*(?:mailto:)?(" + _ADDRESS + r")\s*>")

# Enhanced status code: class 2, 4 or 5; subject 0-7; detail up to three digits.
# Not preceded by a digit or dot (so IP addresses and version numbers do not match).
STATUS = re.compile(r"(?<![\d.\w])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")

# Basic reply code at a line start or after a word boundary, as "550 ", "550-" or "550:".
# "#5.1.1" style (Exchange) is caught by STATUS instead.
REPLY = re.compile(r"(?<![\d.\w#-])([245][0-5]\d)(?![\d.])(?:[ \-:]|$)", re.MULTILINE)

_SPACE = re.compile(r"\s+")
_SMTP_PREFIX = re.compile(r"^(?:smtp|x-[\w-]+|x-unix|x-postfix|mta)\s*;\s*", re.IGNORECASE)


def collapse(text: str) -> str:
    """`text` with every run of white space (line ends too) made one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def clean_diagnostic(text: str | None) -> str | None:
    """A diagnostic unfolded, collapsed and without its ``smtp;`` type prefix; None if empty."""
    if not text:
        return None
    text = collapse(_SMTP_PREFIX.sub("", text.strip()))
    return text or None


def find_address(text: str) -> str | None:
    """The first address in `text` (one in angle brackets preferred), without brackets."""
    match = ANGLE_ADDRESS.search(text)
    if match:
        return match.group(1).strip(".")
    match = ADDRESS.search(text)
    return match.group(0).strip(".") if match else None


def find_addresses(text: str) -> list[str]:
    """Every address in `text`, in order, without duplicates (case-insensitive)."""
    seen: set[str] = set()
    found = []
    for match in ADDRESS.finditer(text):
        address = match.group(0).strip(".")
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    return found


def find_status(text: str | None) -> str | None:
    """The first plausible enhanced status code in `text` (``5.1.1``), or None."""
    if not text:
        return None
    for match in STATUS.finditer(text):
        klass, subject, detail = match.groups()
        if int(subject) <= 7:
            return f"{klass}.{int(subject)}.{int(detail)}"
    return None


def find_reply_code(text: str | None) -> str | None:
    """The first SMTP reply code in `text` (``550``), or None."""
    if not text:
        return None
    match = REPLY.search(text)
    return match.group(1) if match else None


def parse_status_field(value: str | None) -> str | None:
    """The code in a DSN ``Status:`` value (``5.1.1 (user unknown)`` -> ``5.1.1``)."""
    if not value:
        return None
    match = re.match(r"\s*([245])\.(\d{1,3})\.(\d{1,3})", value)
    if match:
        return ".".join(str(int(g)) for g in match.groups())
    return find_status(value)
