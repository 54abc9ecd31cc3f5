"""RFC 3464 / RFC 6533 delivery status notifications.

The standard report is ``multipart/report; report-type=delivery-status`` with
a ``message/delivery-status`` part (``message/global-delivery-status`` in
RFC 6533). That part holds one block of per-message fields
(``Reporting-MTA``, ``Arrival-Date``) and one block per recipient
(``Final-Recipient``, ``Action``, ``Status``, ``Remote-MTA``,
``Diagnostic-Code``, ``Last-Attempt-Date``), blocks separated by blank lines.

Real servers bend this: the part is labelled ``text/plain`` (seen in old
Exchange and Lotus bounces), the fields are pasted inline into the body text
(seen in qmail-ldap, mailing-list managers and forwarded bounces), recipient
blocks run together without blank lines (seen in some Sendmail builds), or the
``Diagnostic-Code`` is empty and the reason sits only in the human-readable
part (Postfix, Courier). The reader below parses fields line by line, starts a
new recipient at each ``Final-Recipient`` and never relies on blank lines.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import find_address, parse_status_field

DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
"""The content types of a delivery-status part (RFC 3464, RFC 6533)."""
# Case variants spelled out: a case-insensitive search over whole bodies costs more
# than the rest of the extraction.
_INLINE_FIELD = (
    r"(?:Final|Original|FINAL|ORIGINAL|final|original)-(?:Recipient|RECIPIENT|recipient)[ \t]*:"
)
_INLINE_FIRST = re.compile(_INLINE_FIELD)
# Led by a line end rather than "^" (tried at every position), so `re` skips from
# line end to line end at C speed; the first line is matched on its own.
_INLINE_LATER = re.compile("\n" + _INLINE_FIELD)
_RECIPIENT_FIELDS = frozenset({"final-recipient", "original-recipient"})
_PER_MESSAGE = {"reporting-mta", "arrival-date", "received-from-mta", "x-postfix-sender"}
_WANTED = {
    "final-recipient",
    "original-recipient",
    "action",
    "status",
    "remote-mta",
    "diagnostic-code",
    "last-attempt-date",
    "x-actual-recipient",
    *_PER_MESSAGE,
}


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a delivery-status report (labelled, mislabelled or inline), or None."""
    texts = [part.text() for part in mail.parts_of(*DSN_TYPES)]
    if not texts:
        # Mislabelled: a text part (or the whole body) carrying the fields.
        texts = [t for t in _candidate_texts(mail) if _has_inline_fields(t)]
    found: list[Found] = []
    for text in texts:
        found.extend(parse_fields(text))
    return found or None


def _has_inline_fields(text: str) -> bool:
    """True when a line of `text` starts a ``Final-Recipient`` or ``Original-Recipient`` field."""
    return bool(_INLINE_FIRST.match(text) or _INLINE_LATER.search(text))


def _candidate_texts(mail: Mail) -> list[str]:
    parts = [
        p
        for p in mail.parts
        if p.ctype.startswith("text/plain") and not p.children and p is not mail.root
    ]
    return [p.text() for p in parts] if parts else [mail.body]


def parse_fields(text: str) -> list[Found]:
    """The recipient blocks of delivery-status `text`.

    Fields are read line by line (continuation lines unfolded) into blocks
    separated by blank lines. A block that names a recipient is one
    recipient, whatever the order of its fields (Facebook writes
    ``Diagnostic-Code`` before ``Final-Recipient``); a block naming several is
    split where a field repeats; fields of blocks without a recipient
    (``Reporting-MTA``, ``Arrival-Date``) apply to the whole message.
    """
    message: dict[str, str] = {}
    recipients: list[dict[str, str]] = []
    fields: list[tuple[str, str]] = []
    names_recipient = False
    for name, value in _fields(text):
        if not name:  # a blank line: the block ends
            if names_recipient:
                recipients.extend(_split_block(fields))
            fields = []
            names_recipient = False
        elif name in _PER_MESSAGE:
            message.setdefault(name, value)
        else:
            fields.append((name, value))
            names_recipient = names_recipient or name in _RECIPIENT_FIELDS
    if names_recipient:
        recipients.extend(_split_block(fields))
    found = []
    for fields_of_one in recipients:
        recipient = _recipient_of(fields_of_one)
        if recipient:
            found.append(_to_found(fields_of_one, recipient, message))
    return found


def _fields(text: str) -> list[tuple[str, str]]:
    """The wanted fields of `text` in order, as (lower-case name, unfolded value).

    A blank line (empty or white space only) gives ``("", "")``: blocks end
    there. Continuation lines (led by a space or tab) are joined to their
    field by one space each; a line that is neither field, continuation nor
    blank is passed over, and so is what continues it.
    """
    # Line by line: a delivery-status part is a dozen short lines, and `str.split`,
    # `strip` and `partition` do the scanning at C speed (a third faster than one regex
    # over the part). A name that lower-cases into `_WANTED` is a field name as RFC 3464
    # writes it: the wanted names hold only ASCII letters and hyphens, and no "k", the
    # one ASCII letter a non-ASCII one lower-cases to (the Kelvin sign).
    found: list[tuple[str, str]] = []
    name = value = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and line[0] in " \t":  # a continuation line
            if name:
                value += " " + stripped
            continue
        if name:
            found.append((name, value))
            name = ""
        if not stripped:
            found.append(("", ""))
            continue
        written, colon, rest = line.partition(":")
        if colon:
            key = written.rstrip(" \t").lower()
            if key in _WANTED:
                name, value = key, rest.strip()
    if name:
        found.append((name, value))
    return found


def _split_block(block: list[tuple[str, str]]) -> list[dict[str, str]]:
    # A field already seen starts the next recipient: blocks that run together
    # (AOL, some Sendmail builds) repeat Final-Recipient, Action, Status, ...
    split: list[dict[str, str]] = [{}]
    for name, value in block:
        if name in split[-1]:
            split.append({})
        split[-1][name] = value
    return split


def _recipient_of(block: dict[str, str]) -> str | None:
    for name in ("final-recipient", "x-actual-recipient", "original-recipient"):
        address = _address(block.get(name))
        if address:
            return address
    return None


def _address(value: str | None) -> str | None:
    """The address in an address field's value (``rfc822; user@example.org``), or None."""
    return find_address(_strip_type(value)) if value else None  # (no address in "")


def _to_found(block: dict[str, str], recipient: str, message: dict[str, str]) -> Found:
    action = block.get("action", "").strip().lower().split(" ")[0] or None
    diagnostic = block.get("diagnostic-code", "")
    return Found(
        recipient=recipient,
        original_recipient=_address(block.get("original-recipient")),
        action=action,
        status=parse_status_field(block.get("status")),
        diagnostic=_unescape_jis(diagnostic) if "\x1b" in diagnostic else diagnostic or None,
        remote_mta=_host(block.get("remote-mta")),
        reporting_mta=_host(message.get("reporting-mta")),
        date=block.get("last-attempt-date") or message.get("arrival-date"),
    )


def _unescape_jis(value: str) -> str:
    # A delivery-status part has no charset, yet Domino writes its Japanese diagnostic
    # there in ISO-2022-JP (7-bit escape sequences, domino-02): decode those.
    if not value.isascii():
        return value
    try:
        return value.encode("ascii").decode("iso2022_jp")
    except UnicodeDecodeError:
        return value


def _strip_type(value: str) -> str:
    """``rfc822; user@example.org`` -> ``user@example.org``."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _host(value: str | None) -> str | None:
    if not value:
        return None
    host = _strip_type(value).strip().strip("[]").split(" ")[0].strip("[]")
    return host or None


def lone_status(mail: Mail) -> str | None:
    """The ``Status`` of a report's only recipient block, even one naming no address.

    Exim reports a local delivery by its path (``Final-Recipient: rfc822;/mail/spool/x``,
    exim-60): no recipient for `extract`, but its status still belongs to the one
    recipient the text part names.
    """
    statuses = [
        value
        for part in mail.parts_of(*DSN_TYPES)
        for name, value in _fields(part.text())
        if name == "status"
    ]
    return parse_status_field(statuses[0]) if len(statuses) == 1 else None
