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

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_FIELD = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$")
# Case variants spelled out: a case-insensitive search over whole bodies costs more
# than the rest of the extraction.
_INLINE = re.compile(
    r"^(?:Final|Original|FINAL|ORIGINAL|final|original)-(?:Recipient|RECIPIENT|recipient)[ \t]*:",
    re.MULTILINE,
)
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
    texts = [part.text() for part in mail.parts_of(*_DSN_TYPES)]
    if not texts:
        # Mislabelled: a text part (or the whole body) carrying the fields.
        texts = [t for t in _candidate_texts(mail) if _INLINE.search(t)]
    found: list[Found] = []
    for text in texts:
        found.extend(parse_fields(text))
    return found or None


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
    for block in _blocks(text):
        for name, value in block:
            if name in _PER_MESSAGE:
                message.setdefault(name, value)
        fields = [(name, value) for name, value in block if name not in _PER_MESSAGE]
        if any(name in ("final-recipient", "original-recipient") for name, _ in fields):
            recipients.extend(_split_block(fields))
    return [_to_found(block, message) for block in recipients if _recipient_of(block)]


def _blocks(text: str) -> list[list[tuple[str, str]]]:
    blocks: list[list[list[str]]] = [[]]
    last: list[str] | None = None  # [name, value] of the field being unfolded
    for line in text.split("\n"):
        if not line.strip():
            if blocks[-1]:
                blocks.append([])
            last = None
        elif line[:1] in (" ", "\t") and last is not None:
            last[1] += " " + line.strip()
        elif (match := _FIELD.match(line)) and match.group(1).lower() in _WANTED:
            last = [match.group(1).lower(), match.group(2).strip()]
            blocks[-1].append(last)
        else:
            last = None
    return [[(name, value) for name, value in block] for block in blocks if block]


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
        address = find_address(_strip_type(block.get(name, "")))
        if address:
            return address
    return None


def _to_found(block: dict[str, str], message: dict[str, str]) -> Found:
    action = block.get("action", "").strip().lower().split(" ")[0] or None
    return Found(
        recipient=_recipient_of(block),
        original_recipient=find_address(_strip_type(block.get("original-recipient", ""))),
        action=action,
        status=parse_status_field(block.get("status")),
        diagnostic=block.get("diagnostic-code") or None,
        remote_mta=_host(block.get("remote-mta")),
        reporting_mta=_host(message.get("reporting-mta")),
        date=block.get("last-attempt-date") or message.get("arrival-date"),
    )


def _strip_type(value: str) -> str:
    """``rfc822; user@example.org`` -> ``user@example.org``."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _host(value: str | None) -> str | None:
    if not value:
        return None
    host = _strip_type(value).strip().strip("[]").split(" ")[0].strip("[]")
    return host or None
