"""Finding addresses, status codes and reply codes in the free text of bounces.

Every extractor needs the same few searches: the first e-mail address in a
line, an enhanced status code (RFC 3463, ``5.1.1``) or a basic SMTP reply
code (RFC 5321, ``550``) in a diagnostic, the diagnostic itself unfolded and
with its whitespace collapsed. They live here once, compiled once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A pragmatic address: no quoted local parts with spaces (never seen in bounces),
# but the characters real local parts use, including "=" and "+" of VERP.
# A quoted local part ("neko..nyaan"@example.org, seen in postfix-32) is kept with its quotes.
_ADDRESS = r"(?:\"[^\"\s@<>]+\"|[\w.!#$%&'*+/=?^`{|}~-]+)@[\w-]+(?:\.[\w-]+)+"
ADDRESS_PATTERN = _ADDRESS
"""The address pattern as a string, for the anchors of the text formats."""
ADDRESS = re.compile(_ADDRESS)
ANGLE_ADDRESS = re.compile(r"<\s*(?:mailto:)?(" + _ADDRESS + r")\s*>")

# Enhanced status code: class 2, 4 or 5; subject 0-7; detail up to three digits.
# Not preceded by a digit or dot (so IP addresses and version numbers do not match).
# The class digit comes first and the look-behind after it (checking the character
# before that digit): a pattern that opens with a character set lets `re` skip
# straight to the next 2, 4 or 5, about three times faster over long texts.
STATUS = re.compile(r"([245])(?<![\d.\w].)\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")

# Basic reply code at a line start or after a word boundary, as "550 ", "550-" or "550:".
# "#5.1.1" style (Exchange) is caught by STATUS instead.
# (The look-behind sits after the first digit for the same reason as in STATUS.)
REPLY = re.compile(r"([245](?<![\d.\w#-].)[0-5]\d)(?![\d.])(?:[ \-:,;)\]]|$)", re.MULTILINE)

# REPLY and STATUS in one pattern, their common first digit taken out so that `re`
# still skips from one 2, 4 or 5 to the next at C speed: one scan of a text instead
# of two (the two never match at the same place: a reply code has a digit where a
# status code has its dot). Group 2 is set for a reply code, after its first digit.
CODE = re.compile(
    r"([245])(?:"
    r"(?<![\d.\w#-].)([0-5]\d)(?![\d.])(?:[ \-:,;)\]]|$)"
    r"|(?<![\d.\w].)\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d))",
    re.MULTILINE,
)

_SMTP_PREFIX = re.compile(r"^(?:smtp|x-[\w-]+|x-unix|x-postfix|mta)\s*;\s*", re.IGNORECASE)


def collapse(text: str) -> str:
    """`text` with every run of white space (line ends too) made one space, trimmed."""
    # str.split() knows the same white space as the regex \s, at a fifth of the cost.
    return " ".join(text.split())


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
    for match in iter_addresses(text):
        address = match.group(0).strip(".")
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    return found


def iter_addresses(text: str) -> Iterator[re.Match[str]]:
    """``ADDRESS.finditer(text)``, with the text no address can be in skipped.

    ADDRESS has no fixed first character, so `re` tries it at every position, and
    an address-less stretch costs a failed match per character. An address holds
    an "@" and no space, so each search starts after the last space before the
    next "@", and none is made after the last "@".
    """
    at = 0
    while (next_at := text.find("@", at)) >= 0:
        match = ADDRESS.search(text, max(at, text.rfind(" ", at, next_at) + 1))
        if match is None:
            return
        yield match
        at = match.end()


def find_status(text: str | None, *, last: bool = False) -> str | None:
    """The first (or `last`) plausible enhanced status code in `text` (``5.1.1``), or None.

    With `last`, a success code after a failure does not count: a session transcript
    ends with "221 2.0.0 Bye" after the "451 4.3.0 Error" that matters (postfix-75).
    """
    if not text:
        return None
    found = None
    for match in STATUS.finditer(text):
        klass, subject, detail = match.groups()
        if int(subject) <= 7 and not (klass == "2" and found and found[0] != "2"):
            found = f"{klass}.{int(subject)}.{int(detail)}"
            if not last:
                break
    return found


# RFC 5321 section 4.2.3 and its extensions (RFC 3207, 4954, 7504, 3030): a number
# outside this set ("522", "426") is a vendor's private code, not an SMTP reply.
_CODES = "211 214 220 221 235 250 251 252 253 354 421 432 450 451 452 453 454 455 458 459"
_CODES += " 500 501 502 503 504 521 523 524 525 530 534 535 538 550 551 552 553 554 555 556 557"
REPLY_CODES = frozenset(_CODES.split())


def find_reply_code(text: str | None, *, last: bool = False) -> str | None:
    """The first (or `last`) standard SMTP reply code in `text` (``550``), or None.

    With `last`, a success or intermediate code (2xx, 3xx) after a failure does not
    count, as in `find_status`.
    """
    if not text:
        return None
    found = None
    for match in REPLY.finditer(text):
        code = match.group(1)
        if code in REPLY_CODES and not (code[0] in "23" and found and found[0] in "45"):
            found = match.group(1)
            if not last:
                break
    return found


def find_codes(text: str | None) -> tuple[str | None, str | None]:
    """``(find_status(text, last=True), find_reply_code(text, last=True))``, found faster.

    What `last` means there: the last failure code (class 4 or 5) wins, and a
    success code (class 2) counts only when there is no failure code at all. So
    each class is scanned apart, and the order of the matches matters only when
    failures of both classes are found (a relay quoting the next hop): then the
    two finders decide.
    """
    if not text:
        return None, None
    status5, reply5 = _last_codes(text, "5")
    status4, reply4 = _last_codes(text, "4")
    if (status5 and status4) or (reply5 and reply4):
        return find_status(text, last=True), find_reply_code(text, last=True)
    status, reply = status5 or status4, reply5 or reply4
    if status is None or reply is None:
        status2, reply2 = _last_codes(text, "2")
        status, reply = status or status2, reply or reply2
    return status, reply


def _codes_of_class(klass: str) -> re.Pattern[str]:
    # STATUS and REPLY for one class digit, in one pattern led by that digit. `re` skips
    # to one given character several times faster than to any of a set ("[245]"), so
    # three such scans cost less than one of STATUS or REPLY. Their matches never
    # overlap: inside either code every character but the first follows a digit or a
    # dot, or is no digit at all, and no code starts after a digit or a dot.
    return re.compile(
        klass + r"(?<![\d.\w]" + klass + r")(?:\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)"
        r"|(?<![#-]" + klass + r")([0-5]\d)(?![\d.])(?:[ \-:,;)\]]|$))",
        re.MULTILINE,
    )


_CODES_OF_CLASS = {klass: _codes_of_class(klass) for klass in "245"}


def _last_codes(text: str, klass: str) -> tuple[str | None, str | None]:
    """The last plausible status and the last standard reply code of class `klass`."""
    if klass not in text:
        return None, None
    status = reply = None
    for subject, detail, rest in _CODES_OF_CLASS[klass].findall(text):
        if rest:  # a reply code: the digits after the class digit
            if klass + rest in REPLY_CODES:
                reply = klass + rest
        elif int(subject) <= 7:
            status = subject, detail
    if status is None:
        return None, reply
    return f"{klass}.{int(status[0])}.{int(status[1])}", reply


# "host mx.example.org[192.0.2.1] said:" (Postfix), "host mx.example.org [192.0.2.1]:" (Exim),
# "by mx.example.org. [192.0.2.1]" (Gmail), "remote host mx.example.org said" (qmail, Yahoo)
_REMOTE_HOST = re.compile(
    r"\b(?:host|by|from)[ :]+([a-z0-9][\w-]*(?:\.[\w-]+)+)\.?[ ]?\[[\d.:a-f]+\]", re.IGNORECASE
)


# The same on lower-cased ASCII text, where it needs no IGNORECASE: the word boundary
# checked after the first letter (as a look-behind) lets `re` skip to the next h, b
# or f instead of trying the whole pattern at every position, about three times faster.
_REMOTE_HOST_LOWER = re.compile(
    r"(?:h(?<!\w.)ost|b(?<!\w.)y|f(?<!\w.)rom)"
    r"[ :]+([a-z0-9][\w-]*(?:\.[\w-]+)+)\.?[ ]?\[[\d.:a-f]+\]"
)


def find_remote_mta(text: str | None) -> str | None:
    """The remote server's host name in a diagnostic ("host mx.example.org[192.0.2.1]"), or None."""
    if not text or "[" not in text:
        return None
    if text.isascii():  # (lower-casing other text may change what IGNORECASE would match)
        match = _REMOTE_HOST_LOWER.search(text.lower())
        return match.group(1) if match else None
    match = _REMOTE_HOST.search(text)
    return match.group(1).lower() if match else None


def parse_status_field(value: str | None) -> str | None:
    """The code in a DSN ``Status:`` value (``5.1.1 (user unknown)`` -> ``5.1.1``)."""
    if not value:
        return None
    match = _STATUS_FIELD.match(value)
    if match:
        klass, subject, detail = match.groups()
        return f"{klass}.{int(subject)}.{int(detail)}"
    return find_status(value)


_STATUS_FIELD = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})")
