"""From what an extractor found to a `Bounce`: codes, kind, date and the original message.

Shared by every format so the rules live once: a generic status (``5.0.0``)
gives way to a more specific one in the diagnostic text; the reply code comes
from the diagnostic; the kind follows the action (``delayed``, ``delivered``)
and then the status class (5 = hard, 4 = soft); when nothing carries a code,
the status is ``X.0.0`` of the known class (RFC 3463: "other or undefined").
The returned message gives the original Message-ID, sender and campaign id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bouncetool.extract.dates import iso_date
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.mime import Headers
from bouncetool.extract.textscan import (
    clean_diagnostic,
    find_address,
    find_codes,
    find_remote_mta,
)
from bouncetool.model import Bounce, Kind

CAMPAIGN_HEADERS: tuple[str, ...] = (
    "X-Campaign-ID",
    "X-Campaign",
    "X-Mailer-RecptId",
    "X-Newsletter-ID",
    "X-Mailing-ID",
    "X-Job",
    "Feedback-ID",  # Gmail's feedback loop id: "campaign:customer:type:sender"
    "List-Id",
)
"""Headers of the returned message that name the campaign, most specific first."""

# The kinds, looked up once: on Python 3.11 each `Kind.X` is a slow trip through the
# enum machinery (about 0.2 µs), and a record asked for a dozen.
_HARD, _SOFT, _DELAYED, _DELIVERED = Kind.HARD, Kind.SOFT, Kind.DELAYED, Kind.DELIVERED
_AUTO_REPLY = Kind.AUTO_REPLY
_FAILURES = (Kind.HARD, Kind.SOFT)  # `Kind.is_failure`
_CLASSED = (Kind.HARD, Kind.SOFT, Kind.DELAYED)  # the kinds that always carry a status
_CODELESS = (Kind.COMPLAINT, Kind.AUTO_REPLY)  # the codes in those are no delivery's codes

_QUOTED_WINDOW = 30000  # quoted headers sit right after the report, never megabytes down
_DELIVERED_ACTIONS = ("delivered", "relayed", "expanded")
# Case variants spelled out: case-insensitive scanning of long bodies is slow. Led by
# a line end rather than "^", so that `re` skips to each line end at C speed instead
# of trying every position (the text searched gets a line end in front).
_QUOTED_HEADER = re.compile(
    r"\n(Message-I[Dd]|MESSAGE-ID|message-id|From|FROM|from|Return-[Pp]ath|RETURN-PATH"
    r"|[Xx]-[\w-]+|List-I[Dd]|LIST-ID|list-id|Feedback-I[Dd]|feedback-id)[ \t]*:[ \t]*(.+)$",
    re.MULTILINE,
)


def finish(found: Found, mail: Mail, campaign_headers: Sequence[str]) -> Bounce:
    """The `Bounce` for one found recipient of `mail`."""
    diagnostic = clean_diagnostic(found.diagnostic)
    status_in_text, reply_in_text = find_codes(diagnostic)
    status = _best_status(found.status, status_in_text) or _expired(diagnostic, found.permanent)
    reply_code = found.reply_code or reply_in_text
    kind = found.kind or _kind(found, status, reply_code)
    if status is None and kind in _CLASSED:
        status = "5.0.0" if kind is _HARD else "4.0.0"  # a delay is temporary by nature
    if reply_code and status and reply_code[0] != status[0] and kind in _FAILURES:
        reply_code = None  # a "250 OK" quoted inside a failure is not the failure's code
    if kind in _CODELESS:
        status = reply_code = None
    message_id, sender, campaign = _original_facts(mail, tuple(campaign_headers))
    if message_id is None and kind is _AUTO_REPLY:
        # An auto-reply answers the original: In-Reply-To names it (RFC 3834 section 3.1.5).
        message_id = _message_id(mail.header("in-reply-to"))
    # Positional, in the order of Bounce's fields (a test guards it): fourteen keywords
    # cost about 0.4 µs a record to match to their parameters.
    return Bounce(
        kind,
        found.recipient,
        found.original_recipient,
        found.action or ("failed" if kind in _FAILURES else None),
        status,
        reply_code,
        diagnostic,
        found.remote_mta or find_remote_mta(diagnostic),  # remote_mta
        found.reporting_mta,
        iso_date(found.date) or iso_date(mail.header("date")),  # date
        message_id,
        sender,
        campaign,
        found.feedback_type,
    )


def not_bounce(mail: Mail) -> Bounce:
    """The one record for a message that is no bounce."""
    return Bounce(kind=Kind.NOT_BOUNCE, date=iso_date(mail.header("date")))


def _best_status(status: str | None, in_text: str | None) -> str | None:
    # The remote server's own code beats the reporting MTA's summary: "Status: 5.0.0"
    # next to "550 5.1.1 user unknown" means 5.1.1, and Sendmail's "Status: 4.4.7"
    # over "450 4.7.1 Client host rejected" hides the cause. When a relay quotes
    # the next hop ("554 4.4.7 expired <421 4.4.2 timed out>", Amazon SES) the last
    # code is the innermost cause (`in_text`: the last code in the diagnostic).
    if status is None or in_text is None:
        return status or in_text
    if in_text[0] == status[0] or status.endswith(".0.0"):
        # ...but an "other or undefined" X.0.0 in the text says less than the field
        # (Sendmail's "550 5.0.0 <x>... Insufficient permission" under Status: 5.3.0).
        return status if in_text.endswith(".0.0") and status[0] == in_text[0] else in_text
    return status


# Gave up after retrying (Exim "retry timeout exceeded", "all hosts have been failing",
# Postfix / Sendmail "message expired", qmail "I'm not going to try again"): RFC 3463
# calls it X.4.7: 5.4.7 when the report says it gave up for good, else 4.4.7.
_EXPIRED = (
    "retry timeout exceeded",
    "all hosts have been failing",
    "message expired",
    "delivery time expired",
    "envelope expired",
    "retry time not reached for any host",
    "too long in the queue",
    "i'm not going to try again",
)


def _expired(diagnostic: str | None, permanent: bool | None) -> str | None:
    if not diagnostic:
        return None
    lower = diagnostic.lower()
    for word in _EXPIRED:  # (a loop, not any() over a generator: asked for every record)
        if word in lower:
            return "5.4.7" if permanent else "4.4.7"  # the report's own word on giving up
    return None


def _kind(found: Found, status: str | None, reply_code: str | None) -> Kind:
    action = (found.action or "").lower()
    if action == "delayed":
        return _DELAYED
    if action in _DELIVERED_ACTIONS or (status or "").startswith("2."):
        return _DELIVERED
    klass = (status or reply_code or "")[:1]
    if klass == "4":
        return _SOFT
    if klass == "5":
        return _HARD
    return _SOFT if found.permanent is False else _HARD


def _original_facts(
    mail: Mail, campaign_headers: tuple[str, ...]
) -> tuple[str | None, str | None, str | None]:
    """Message-ID, sender and campaign of the returned message, read once per message."""
    # (Kept with the campaign headers they were read with, under a constant key:
    # a key made of those headers would be built and hashed for every record.)
    cached = mail.cache.get("original-facts")
    if cached is not None and cached[0] == campaign_headers:  # type: ignore[index]
        return cached[1]  # type: ignore[index,no-any-return]
    original = _original(mail)
    facts = (
        _message_id(original.get("message-id")),
        find_address(original.get("from") or "") or find_address(original.get("return-path") or ""),
        _campaign(original, campaign_headers),
    )
    mail.cache["original-facts"] = (campaign_headers, facts)
    return facts


def _original(mail: Mail) -> Headers | dict[str, str]:
    attached = mail.original_headers()
    if attached is not None:
        return attached
    # The first line of each name wins, as in a header block: the list reversed, so
    # that earlier lines overwrite later ones. Values keep their surrounding white
    # space; each reader of them strips it, or is not affected by it.
    found = _QUOTED_HEADER.findall("\n" + mail.body[:_QUOTED_WINDOW])
    found.reverse()
    return {name.lower(): value for name, value in found}


_ANGLED = re.compile(r"<[^<>\s]+>")


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _ANGLED.search(value)
    return match.group(0) if match else value.strip().split(" ")[0] or None


def _campaign(original: Headers | dict[str, str], names: tuple[str, ...]) -> str | None:
    if not names:
        return None
    if isinstance(original, Headers):
        value = original.first_of(names)
        return value.strip() if value else None
    lowered = _LOWERED.get(names)
    if lowered is None:
        lowered = _LOWERED[names] = tuple(name.lower() for name in names)
    for name in lowered:
        value = (original.get(name) or "").strip()
        if value:
            return value
    return None


# The campaign header names in lower case (the keys of quoted headers), per tuple asked for.
_LOWERED: dict[tuple[str, ...], tuple[str, ...]] = {}
