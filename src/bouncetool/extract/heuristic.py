"""Last resort: a message that looks like a bounce but matched no known layout.

Many small MTAs and appliances (IMail, m-FILTER, McAfee, MailFoundry, KDDI,
EZweb, ActiveHunter, SurfControl, unnamed ones) write a few lines of their own.
When the message looks like a bounce (it comes from a mailer daemon or
postmaster, its subject speaks of a failed delivery, or it carries
``X-Failed-Recipients``), recipients are taken, in this order, from:

1. ``X-Failed-Recipients`` (Exim, Google; one header lists them all);
2. an address in a recipient position in the report text: ``<addr>:``,
   an address alone on its line, ``addr [reason]``, ``addr: reason``, or a
   sentence such as "could not be delivered to: <addr>" or "Unknown user: addr";
3. the ``To`` of the returned message, when it names exactly one address.

The bounce's own sender and receiver (the original sender) are never taken
as recipients.
"""

from __future__ import annotations

import re
from collections.abc import Container

from bouncetool.extract.layout import (
    PARAGRAPH_BREAK,
    OwnAddresses,
    add_folded_twin,
    has_code,
    mark_delays,
    permanence,
    read_anchors,
    report_region,
)
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN, find_address, find_addresses

_A = ADDRESS_PATTERN

BOUNCE_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail ?delivery|mdaemon|mail administrator|maildelivery"
    r"|delivery ?subsystem|bounce|no-?reply@.*(?:mail|dion)|system administrator",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status|fail|notification|report|problem)|failure notice"
    r"|returned mail|returned to sender|not (?:be )?delivered|mail delivery|nondeliver|non-deliver"
    r"|delivery has failed|mail system error|delivery failure|could not send|failed delivery"
    r"|unzustellbar|nedoru[čc]|nedoru[čc]iteln|niedostarcz|zwrot|non recapitabile|no entregado"
    r"|onbestelbaar|non distribuable|メールエラー|не доставлено|error",
    re.IGNORECASE,
)
BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn't be delivered|undeliverable|permanent(?:ly)? (?:error|fail)"
    r"|delivery (?:to the following|has failed|failed)|was not delivered|unable to deliver"
    r"|user unknown|unknown user|no such user|mailbox (?:is )?full|returned mail",
    re.IGNORECASE,
)

# The words before an address in a sentence that names a failed recipient.
_LEADS = (
    "delivered to",
    "delivery to",
    "deliver to",
    "message to",
    "reached",
    "unknown user",
    "user unknown",
    "undeliverable to",
    "no such user",
    "invalid recipient",
    "mailbox full",
    "RCPT TO",
)


def _first_letter_guard(words: tuple[str, ...]) -> str:
    """A look-ahead for the first letters of `words`: the same matches, found three times faster.

    A case-insensitive alternation is tried word by word at every position of
    the text; the look-ahead (case-insensitive too, so it admits exactly the
    characters the words' first letters do) turns most positions away in one test.
    """
    return "(?=[" + "".join(sorted({re.escape(word[0].lower()) for word in words})) + "])"


_FOLLOWING = (
    r"following recipients?[^:\n]{0,60}:[ \t]*<?(?P<addr>" + _A + r")>?\.?[ \t]*(?P<diag>.*)"
)
_LEAD_ANCHOR = re.compile(
    _first_letter_guard(_LEADS) + "(?:" + "|".join(_LEADS) + r")[:\s]*<?(?P<addr>" + _A + r")>?",
    re.IGNORECASE,
)

ANCHORS = (
    # "Invalid final delivery userid: addr", "Delivery failed 20 attempts: addr" (IMail),
    # "User's mailbox is full: <addr>" (rfc3464-38): a reason, a colon, the address.
    # (The reason's run is possessive, "{2,80}+": it holds no colon, so only all of it can
    # be followed by one, and a line without a colon is given up without backing off.)
    re.compile(
        r"^[ \t]*(?!(?:mail from|from|sender|reply-to|return-path|to|cc|bcc)[ \t]*:)"
        r"(?P<diag>[A-Za-z][^:\n<>@]{2,80}+):[ \t]*<?(?P<addr>" + _A + r")>?[ \t]*$",
        re.MULTILINE | re.IGNORECASE,
    ),
    re.compile(r"^[ \t]*<(?P<addr>" + _A + r")>:?[ \t]*(?P<diag>\S.*)?$", re.MULTILINE),
    re.compile(
        r"^[ \t]*(?:\*[ \t]*)?<?(?P<addr>" + _A + r")>?[ \t]*\[(?P<diag>[^\]\n]+)\]", re.MULTILINE
    ),
    re.compile(
        r"^[ \t]*[\"<]?(?P<addr>" + _A + r")[\">]?[ \t]*:[ \t]*(?P<diag>\S.*)$", re.MULTILINE
    ),
    re.compile(r"^[ \t]*(?:\*[ \t]*)?[\"<]?(?P<addr>" + _A + r")[\">]?[ \t]*$", re.MULTILINE),
    # "The following recipients returned permanent errors: addr. Reason: ..." (lhost-x6)
    re.compile(_FOLLOWING, re.IGNORECASE),
    # "[Status: Error, Address: <addr>, ResponseCode 421, , Host not reachable.]" (Zoho).
    # The look-behind after the word is "\b" before it: a literal lead lets `re` skip
    # through the text, many times faster than testing a word boundary everywhere.
    re.compile(r"Address(?<!\wAddress):[ \t]*<(?P<addr>" + _A + r")>,?(?P<diag>[^\]\n]*)"),
    # "Could not be delivered to: <addr>" (kddi), "Unknown user: addr" (imailserver),
    # "The following recipient(s) could not be reached: addr", "RCPT TO:<addr>" (transcripts)
    _LEAD_ANCHOR,
)
# The same in lower case, matched in the lower-cased text (twice as fast: see read_anchors;
# a case-sensitive literal lead, "following", `re` skips through at C speed).
add_folded_twin(
    _LEAD_ANCHOR,
    re.compile("(?:" + "|".join(w.lower() for w in _LEADS) + r")[:\s]*<?(?P<addr>" + _A + r")>?"),
)
add_folded_twin(ANCHORS[5], re.compile(_FOLLOWING))


def looks_like_bounce(mail: Mail) -> bool:
    """True when the sender, the subject or the headers say this is a delivery report."""
    if "x-failed-recipients" in mail.headers:
        return True
    if BOUNCE_SENDER.search(mail.sender) or BOUNCE_SUBJECT.search(mail.subject):
        return True
    return bool(BOUNCE_BODY.search(mail.body, 0, 3000))


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a bounce-looking message in any layout, or None."""
    if not looks_like_bounce(mail):
        return None
    region = report_region(mail)
    excluded = OwnAddresses(mail)
    found = read_anchors(region, ANCHORS, exclude=excluded) or []
    anchored = [f for f in found if _keep(f.recipient, excluded)]
    failed = find_addresses(mail.header("x-failed-recipients"))
    if failed:
        by_address = {(f.recipient or "").lower(): f for f in anchored}
        fallback = reason_text(region)
        return [
            by_address.get(a.lower())
            or Found(recipient=a, diagnostic=fallback, permanent=permanence(region))
            for a in failed
        ]
    if anchored:
        return mark_delays(mail, anchored)
    return _from_original_to(mail, region, excluded)


def _keep(address: str | None, excluded: Container[str]) -> bool:
    if not address:
        return False
    lower = address.lower()
    local = lower.partition("@")[0]
    return lower not in excluded and local not in ("mailer-daemon", "postmaster", "root")


def _from_original_to(mail: Mail, region: str, excluded: Container[str]) -> list[Found] | None:
    original = mail.original_headers()
    to = (original.get("to") or "") if original else _quoted_to(mail.body)
    addresses = [a for a in find_addresses(to) if _keep(a, excluded)]
    if len(addresses) != 1 or not (
        BOUNCE_SENDER.search(mail.sender) or BOUNCE_SUBJECT.search(mail.subject)
    ):
        return None
    return [
        Found(
            recipient=addresses[0],
            diagnostic=reason_text(region),
            permanent=permanence(region),
        )
    ]


def _quoted_to(body: str) -> str:
    match = re.search(r"^To:[ \t]*(.+)$", body, re.MULTILINE)
    return match.group(1) if match else ""


_NO_CODE_TEXT = 1000  # how much of a report without any code is kept as its diagnostic


def reason_text(region: str) -> str | None:
    """The paragraph of a report that carries a code, else its opening paragraphs."""
    paragraphs = [p.strip() for p in PARAGRAPH_BREAK.split(region) if p.strip()]
    coded = [p for p in paragraphs if has_code(p)]
    if coded:
        return coded[0]
    # No code anywhere: the reason is a sentence somewhere in the report, rarely the first
    # paragraph, which is a greeting or a preamble (Google Groups' "Hello x," then "the
    # group you tried to contact may not exist"; Exim's "This message was created
    # automatically" above "mailbox is full"). The report's opening paragraphs are kept
    # whole, so the rule table can read the sentence that says why.
    text = ""
    for paragraph in paragraphs:
        if len(text) + len(paragraph) > _NO_CODE_TEXT and text:
            break
        text = f"{text} {paragraph}" if text else paragraph
    return text or None


__all__ = ["extract", "find_address", "looks_like_bounce"]
