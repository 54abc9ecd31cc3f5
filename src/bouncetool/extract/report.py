"""Standard delivery-status reports, read the short way.

Most bounces (about three in five in the corpus) are what RFC 3464 asks for:
``multipart/report; report-type=delivery-status`` with a human-readable
part, a ``message/delivery-status`` part and the returned message or its
headers. For those the general reading does work nobody uses: it indexes
every top-level header field (dozens of Received and DKIM lines) to learn the
content type, walks the part tree to collect the parts, and asks the
complaint extractor, which for such a report only looks at a few header
fields (and decodes the subject to do so).

`read_report` builds the very same `Entity` tree the general reading builds
(the parts by `parse_parts` itself), but finds the top-level Content-Type
with one search of the header block and leaves the other fields unindexed
until someone asks for them (the Date, rarely). It answers None, and the
general reading takes over, for anything else: another content type or
report type, no boundary, no part found on it, a complaint part anywhere, or
a header field the complaint extractor acts on, at the top or in the
returned message. So `parse_message` answers exactly what the general
reading answers.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Mail
from bouncetool.extract.mime import (
    MAX_PARTS,
    Entity,
    content_type,
    field_at,
    parse_headers,
    parse_parts,
)

_REPORT = "multipart/report"
_DELIVERY_STATUS = "delivery-status"
_DELIVERY_STATUS_BYTES = _DELIVERY_STATUS.encode("ascii")
_COMPLAINT_PART = "message/feedback-report"
# The first Content-Type field of a lower-cased header block: on its first line, or
# led by a line end (so that `re` skips from line end to line end at C speed). A
# line that starts with a name is never a continuation, so the first such line is
# the field the header index would keep (the first occurrence wins there too).
_CTYPE_FIRST = re.compile(rb"content-type[ \t]*:")
_CTYPE_LATER = re.compile(rb"\ncontent-type[ \t]*:")
# The fields `arf` acts on in a report: Apple Mail's unsubscribe at the top, and
# Microsoft's JMRP recipient at the top or (under a subject that says "complaint")
# in the returned message.
_APPLE = b"x-apple-unsubscribe"
_JMRP = "x-hmxmroriginalrecipient"
_JMRP_BYTES = _JMRP.encode("ascii")


def read_report(head: bytes, body: bytes) -> Mail | None:
    """The `Mail` of a standard delivery-status report, or None to read it the general way.

    `head` and `body` are a message with LF line ends cut by `split_head`.
    """
    lower = head.lower()
    if _DELIVERY_STATUS_BYTES not in lower:
        return None  # (not even in its Content-Type: the one test most messages need)
    value = _content_type_value(head, lower)
    if value is None or _APPLE in lower or _JMRP_BYTES in lower:
        return None
    ctype, params = content_type(value)
    boundary = params.get("boundary")
    if (
        ctype != _REPORT
        or not boundary
        or params.get("report-type", "").lower() != _DELIVERY_STATUS
    ):
        return None
    children = parse_parts(body, boundary, 1)
    if not children:
        return None  # the general reading guesses the boundary actually used
    root = Entity(parse_headers(head), ctype, params, body, 0, children)
    mail = Mail(root)
    if len(children) < MAX_PARTS and _one_level(children):
        mail._parts = [root, *children]  # what `walk` gives for a tree one level deep
    if _complaint(mail):
        return None
    return mail


def _content_type_value(head: bytes, lower: bytes) -> str | None:
    """The unfolded value of the first Content-Type field of `head`, as `Headers.get` gives it."""
    if _CTYPE_FIRST.match(lower):
        return field_at(head, 0)
    found = _CTYPE_LATER.search(lower)
    return field_at(head, found.start() + 1) if found else None


def _one_level(children: list[Entity]) -> bool:
    # The walk of the parts stops at an enclosed message; a multipart inside goes deeper.
    for child in children:
        if child.children and not child.ctype.startswith("message/"):
            return False
    return True


def _complaint(mail: Mail) -> bool:
    """True when `arf` could read `mail` as a complaint (a part or a field of its own)."""
    for part in mail.parts:
        if part.ctype == _COMPLAINT_PART:
            return True
    original = mail.original_headers()  # (indexed for the original's facts anyway)
    return original is not None and original.get(_JMRP) is not None
