"""The engine behind the text formats: a `Layout` says where the report is and how recipients look.

Most non-standard bounces share one shape: some boilerplate, then for each
failed recipient a line naming the address (the *anchor*) followed by the
server's words, then a marker after which the returned message is quoted.
The vendors differ only in those lines, so each format module declares a
`Layout` (how to recognise it, its anchors, where its report ends) and
`read_layout` does the rest: cut the report, find the anchors, take each
recipient's diagnostic from the paragraphs after its anchor.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from bouncetool.extract.mail import TOP_WINDOW, Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN, CODE, REPLY_CODES

# Where the returned message starts, for every layout (each seen in the corpus's
# qmail, Exim, Sendmail, Gmail, GMX, Notes, IMail, m-FILTER, McAfee, Zoho and others).
_END_DECORATION = r"[ \t]*(?:-{2,}|={2,}|\*{2,}|\|-{2,})?[ \t]*"
_END_PHRASES = (
    "below this line is a copy of the message",
    "this is a copy of the message",
    r"(?:original message|original message headers)(?:[ \t]*(?:follows|-|:|$))",
    "unsent message follows",
    "returned message",
    "returned mail follows",
    "the header of the original message",
    "message headers follow",
    "included is a copy",
    "below is a copy of the original message",
    "undelivered message",
    "headers of the original message",
    "copy of the original message",
    "message text follows",
    "end of message",
    "forwarded message",
    "p[ůu]vodn[íi] zpr[áa]va",
    "oryginalna wiadomo[śs][ćc]",
    "wiadomo[śs][ćc] oryginalna",
    "urspr[üu]ngliche nachricht",
    "message d'origine",
    "mensaje original",
)
END_OF_REPORT = re.compile(
    "^" + _END_DECORATION + "(?:" + "|".join(_END_PHRASES) + ")", re.IGNORECASE | re.MULTILINE
)
# The same in lower case (searched in the lower-cased text), with two look-aheads that turn
# most lines away at their first character: a line must start with decoration or with a
# phrase's first letter, and after the decoration a phrase's first letter must follow
# (`re` otherwise tries every phrase on every line: this is twice as fast).
_END_FIRST = "".join(sorted({phrase.removeprefix("(?:")[0] for phrase in _END_PHRASES}))
_END_LOWER = re.compile(
    r"^(?=[ \t\-=*|" + _END_FIRST + "])" + _END_DECORATION
    + "(?=[" + _END_FIRST + "])(?:" + "|".join(_END_PHRASES) + ")",
    re.MULTILINE,
)  # fmt: skip
_HEADER_NAMES = (
    r"(?:Received|Return-Path|Return-path|DKIM-Signature|Message-I[dD]|MIME-Version|Date|From"
    r"|To|Subject|Content-Type|X-[\w-]+|Authentication-Results|ARC-[\w-]+|Reply-To|References)"
)
# Three header lines in a row: the returned message's headers, when no marker announces
# them (two are not enough: "Subject: 'x'\nDate: 'y'" is a preamble in lhost-x6).
_HEADER_BLOCK = re.compile(
    r"^"
    + _HEADER_NAMES
    + r":[^\n]*\n(?:[ \t][^\n]*\n)*"
    + _HEADER_NAMES
    + r":[^\n]*\n(?:[ \t][^\n]*\n)*"
    + _HEADER_NAMES
    + r":",
    re.MULTILINE,
)
# Words that say whether the failure is final (seen in qmail "I've given up", Exim
# "This is a permanent error", Gmail "failed permanently") or not (Exim and
# Sendmail warnings, Gmail "will retry", Postfix "delayed" notices).
_PERMANENT = (
    "permanent error",
    "permanent failure",
    "permanently",
    "permanent fatal",
    "this is a permanent",
    "i've given up",
)
_TEMPORARY = (
    "temporary error",
    "temporary failure",
    "temporary problem",
    "will keep trying",
    "will continue trying",
    "still trying",
    "will be retried",
    "will retry",
    "has not yet been delivered",
    "delayed",
)

_WARNING = (
    "warning message only",
    "this is a warning only",
    "you do not need to resend",
    "has been delayed",
    "delivery delayed",
    "still being retried",
)
_DELAY_SUBJECT = ("(delay)", "delayed mail", "delivery delayed", "warning: could not send")

PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
"""A blank line (spaces allowed): where one paragraph of a report ends and the next starts."""

REPORT_WINDOW = 20000
"""The longest report read: beyond it is a quoted message or garbage (15 MB bodies exist)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """How one family of text bounces looks.

    `detect` holds lower-case marker strings, any of which (looked for in
    the top of the body, lower-cased) says the layout applies; `anchors`
    are MULTILINE patterns whose group ``addr`` is a failed recipient and
    whose optional group ``diag`` starts its diagnostic; `start` (optional)
    is where the report begins.
    """

    name: str
    detect: tuple[str, ...]
    anchors: tuple[re.Pattern[str], ...]
    start: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    max_paragraphs: int = 3


def report_region(mail: Mail, layout: Layout | None = None) -> str:
    """The report part of the body: from the layout's start to the returned message."""
    text = mail.body
    begin = 0
    if layout is not None and layout.start is not None:
        match = layout.start.search(text, 0, TOP_WINDOW)
        if match:
            begin = match.start()
    window = begin + REPORT_WINDOW
    ends = list(_report_ends(mail, begin))
    if layout is not None and layout.end is not None:
        match = layout.end.search(text, begin, window)
        if match:
            ends.append(match.start())
    ends = [e for e in ends if e > begin]
    return text[begin : min(ends)] if ends else text[begin:window]


def _report_ends(mail: Mail, begin: int) -> tuple[int, ...]:
    """Where the returned message may start after `begin` (cached: several layouts ask)."""
    key = ("report-ends", begin)
    cached = mail.cache.get(key)
    if cached is None:
        text = mail.body
        window = begin + REPORT_WINDOW
        # The markers are searched in lower case without IGNORECASE (several times
        # faster); positions carry over unless lower-casing changed the length.
        # (A body within the top window is lower-cased already, for the marker tests.)
        lower = mail.top_lower if len(text) <= TOP_WINDOW else text[:window].lower()
        if len(lower) == min(len(text), window):
            marker = _at_line_start(_END_LOWER, _END_LOWER_LATER, lower, begin, window)
        else:
            found = END_OF_REPORT.search(text, begin, window)
            marker = found.start() if found else None
        block = _at_line_start(_HEADER_BLOCK, _HEADER_BLOCK_LATER, text, begin, window)
        cached = mail.cache[key] = tuple(at for at in (marker, block) if at is not None)
    return cached  # type: ignore[return-value]


def _line_end_led(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` (led by "^", MULTILINE) led by a line end instead.

    `re` tries a "^"-led pattern at every position of the text; one led by a
    line end it skips from line end to line end at C speed.
    """
    if not pattern.pattern.startswith("^"):
        raise ValueError(f"not led by '^': {pattern.pattern[:40]!r}")
    return re.compile("\n" + _searching(pattern.pattern[1:]), pattern.flags)


# The anchors' address with its unquoted local part possessive ("++"), for the twins that
# search for anchors: a word at a line start with no "@" after it is given up at once
# instead of being backed off one character at a time. The same matches: the local part's
# characters hold no "@", so no shorter run of them could be followed by one.
_FAST_ADDRESS = ADDRESS_PATTERN.replace("~-]+)@", "~-]++)@")


def _searching(pattern: str) -> str:
    """`pattern` with every address in it written as `_FAST_ADDRESS`."""
    return pattern.replace(ADDRESS_PATTERN, _FAST_ADDRESS)


def _at_line_start(
    first: re.Pattern[str], later: re.Pattern[str], text: str, begin: int, window: int
) -> int | None:
    """Where `first.search(text, begin, window)` matches, found the fast way (`later`)."""
    if first.match(text, begin, window):
        return begin  # "^" matches at `begin` only when a line starts there
    found = later.search(text, begin, window)
    return found.start() + 1 if found else None


_END_LOWER_LATER = _line_end_led(_END_LOWER)
_HEADER_BLOCK_LATER = _line_end_led(_HEADER_BLOCK)


def read_layout(mail: Mail, layout: Layout) -> list[Found] | None:
    """The recipients of `mail` read with `layout`, or None when it does not fit."""
    # Markers sit near the top; plain substring tests on the lower-cased top of the
    # body are many times faster than case-insensitive regular expressions.
    # (A loop rather than any() over a generator: every layout asks, for most messages.)
    top = mail.top_lower
    for marker in layout.detect:
        if marker in top:
            break
    else:
        return None
    region = report_region(mail, layout)
    found = read_anchors(region, layout.anchors, layout.max_paragraphs, OwnAddresses(mail))
    return mark_delays(mail, found)


class OwnAddresses:
    """`Mail.own_addresses` as a container, worked out only for an address that may be one.

    Finding every address in From and To costs more than most anchor searches;
    an address that is not even a piece of those headers' lower-cased text is
    none of them, which a substring test says for nearly every candidate. (Only
    for ASCII headers: lower-casing keeps every piece of ASCII text a piece of the
    lower-cased whole; `Mail.own_addresses` answers for the rest.)
    """

    __slots__ = ("_mail", "_text")

    def __init__(self, mail: Mail) -> None:
        self._mail = mail
        self._text: str | None = None

    def __contains__(self, address: object) -> bool:
        text = self._text
        if text is None:
            text = (self._mail.header("to") + " " + self._mail.header("from")).lower()
            self._text = text = text if text.isascii() else ""  # "": ask the full set
        if text and isinstance(address, str) and address not in text:
            return False
        return address in self._mail.own_addresses


def mark_delays(mail: Mail, found: list[Found] | None) -> list[Found] | None:
    """Mark text-report recipients ``delayed`` when the report is only a warning.

    Seen in Exim ("Warning: message ... delayed"), Sendmail ("Warning: could
    not send message for past 4 hours"), Zoho ("THIS IS A WARNING MESSAGE
    ONLY") and Gmail ("Delivery to the following recipient has been delayed").
    """
    if not found:
        return found
    top = mail.top_lower
    # (Loops, not any() over generators: asked for every text report.)
    for word in _WARNING:
        if word in top:
            break
    else:
        subject = mail.subject.lower()
        for word in _DELAY_SUBJECT:
            if word in subject:
                break
        else:
            return found  # no warning
    for word in _PERMANENT:
        if word in top:
            return found
    for item in found:
        item.action = item.action or "delayed"
    return found


def read_anchors(
    region: str,
    anchors: tuple[re.Pattern[str], ...],
    max_paragraphs: int = 3,
    exclude: Container[str] = frozenset(),
) -> list[Found] | None:
    """Recipients found by the first anchor pattern that matches in `region`, with diagnostics.

    Addresses in `exclude` (lower-case: the bounce's own sender and receiver)
    are skipped when others match: a transcript quoting ``MAIL FROM:<sender>``
    names the sender, but someone who mailed themselves gets their own address
    back (qmail-08).
    """
    if "@" not in region:
        return None  # every anchor's recipient is an address: none here (one fast look)
    only_excluded: list[re.Match[str]] = []
    shifted = "\n" + region  # for the line-led twins (see `_line_starts_finditer`)
    for anchor in anchors:
        every = _anchor_matches(anchor, region, shifted)
        matches = [m for m in every if m.group("addr").strip(".").lower() not in exclude]
        if matches:
            return _read_matches(region, matches, max_paragraphs)
        only_excluded = only_excluded or every
    return _read_matches(region, only_excluded, max_paragraphs) if only_excluded else None


def _anchor_matches(anchor: re.Pattern[str], region: str, shifted: str) -> list[re.Match[str]]:
    """``list(anchor.finditer(region))``, found the fast way for a "^"-led anchor.

    Most anchors are led by "^" (MULTILINE), which `re` tries at every position.
    Its twin led by a line end (`_line_end_led`) skips from line end to line end
    at C speed over `shifted` (the region behind one line end, so the first line
    counts too): a twin's match at a line end of `shifted` is the anchor's match at
    the same index of `region`, which the anchor itself then reads there, so every
    match is the one `finditer` would give. (No anchor's match ends right after a
    line end, so the search resumes at the same line starts as `finditer`'s.)
    """
    folded = _FOLDED.get(anchor)
    if folded is not None and region.isascii():
        # Matched case-sensitively in the lower-cased text, then read by the anchor itself
        # at the same place: for ASCII text the same matches (see `add_folded_twin`).
        return [_matched(anchor, region, hit.start()) for hit in folded.finditer(region.lower())]
    twin = _TWINS.get(anchor)
    if twin is None:
        if anchor in _TWINS or not anchor.pattern.startswith("^") or anchor.flags & re.VERBOSE:
            _TWINS.setdefault(anchor, None)
            return list(anchor.finditer(region))
        twin = _TWINS[anchor] = _line_end_led(anchor)
    matches: list[re.Match[str]] = []
    at = 0
    while True:
        hit = twin.search(shifted, at)
        if hit is None:
            return matches
        match = anchor.match(region, hit.start())
        if match is None or match.end() == match.start():  # never: the twin said it fits
            return list(anchor.finditer(region))
        matches.append(match)
        at = match.end()


# The line-led twin of every "^"-led anchor asked for (None: the anchor has none).
_TWINS: dict[re.Pattern[str], re.Pattern[str] | None] = {}
_FOLDED: dict[re.Pattern[str], re.Pattern[str]] = {}


def add_folded_twin(anchor: re.Pattern[str], twin: re.Pattern[str]) -> None:
    """Let `read_anchors` find the matches of IGNORECASE `anchor` with `twin` in lower case.

    `twin` must be `anchor` written in lower case without IGNORECASE, so that on
    ASCII text it matches the lower-cased text exactly where and as far as
    `anchor` matches the text (a case-insensitive alternation of words is tried
    word by word at every position; a case-sensitive one `re` skips through).
    """
    if not anchor.flags & re.IGNORECASE or twin.flags & re.IGNORECASE:
        raise ValueError("the anchor ignores case, its twin does not")
    _FOLDED[anchor] = re.compile(_searching(twin.pattern), twin.flags)


def _matched(anchor: re.Pattern[str], region: str, at: int) -> re.Match[str]:
    match = anchor.match(region, at)
    if match is None:  # never: `add_folded_twin` wants the same pattern in lower case
        raise ValueError(f"folded twin disagrees with {anchor.pattern[:40]!r}")
    return match


def _read_matches(region: str, matches: list[re.Match[str]], max_paragraphs: int) -> list[Found]:
    # The same address again right below (Exim's "addr:" then "RCPT TO:\n<addr>:")
    # continues the diagnostic rather than starting a new recipient (exim-05).
    matches = [
        m
        for i, m in enumerate(matches)
        if i == 0 or m.group("addr").lower() != matches[i - 1].group("addr").lower()
    ]
    found: dict[str, Found] = {}
    permanent = permanence(region)
    for index, match in enumerate(matches):
        address = match.group("addr").strip(".")
        nxt = matches[index + 1].start() if index + 1 < len(matches) else len(region)
        has_lead = "diag" in match.re.groupindex
        lead = (match.group("diag") if has_lead else None) or ""
        diagnostic = _diagnostic(lead, region[match.end() : nxt], max_paragraphs)
        if not has_lead:
            # An anchor inside a sentence ("Reason: Unable to deliver message to <addr>
            # (and other recipients ...)", Trend Micro InterScan): the sentence is the reason.
            line_start = region.rfind("\n", 0, match.start()) + 1
            before = region[line_start : match.start()].strip()
            if any(c.isalpha() for c in before):
                diagnostic = " ".join(filter(None, (before, match.group(0), diagnostic)))
        if not diagnostic:
            # Nothing below the address: the reason may stand right above it, in the
            # same paragraph (Lotus Notes "Failure Reasons": the reason line, then the
            # address; au EZweb "The user(s) account is disabled." then "<addr>").
            since = matches[index - 1].end() if index else 0
            diagnostic = _reason_above(region[since : match.start()])
        key = address.lower()
        if key in found:
            if not found[key].diagnostic and diagnostic:
                found[key].diagnostic = diagnostic
            continue
        found[key] = Found(recipient=address, diagnostic=diagnostic, permanent=permanent)
    _borrow_lone_code(region, list(found.values()))
    return list(found.values())


def _reason_above(text: str) -> str | None:
    lines = text.rstrip(" \t").split("\n")
    if lines and not lines[-1].strip():
        lines.pop()  # the anchor's own line start
    if len(lines) > 1 and not lines[-1].strip():
        lines.pop()  # one blank line between reason and address (au EZweb)
    if len(lines) > 1 and lines[-1].rstrip().endswith(":"):
        # "The following recipients did not receive this message:" introduces the list;
        # the reason is the paragraph above it (au EZweb's "not delivered within ...").
        lines.pop()
        if len(lines) > 1 and not lines[-1].strip():
            lines.pop()
    above: list[str] = []
    for line in reversed(lines):
        if not line.strip() or set(line.strip()) <= set("-=*_ ") or len(above) == 3:
            break
        above.insert(0, line.strip())
    # A heading ("------- Failure Reasons --------") or a blank line ends the paragraph;
    # an introduction ending in a colon ("The following recipients failed:") is no reason.
    reason = " ".join(above)
    return reason if reason and not reason.endswith(":") else None


def _borrow_lone_code(region: str, found: list[Found]) -> None:
    # "Could not be delivered because of\n\n550 5.1.1 User unknown\n\nThe following
    # recipients were affected:\n  addr" (MailMarshal): the reason comes before the
    # list. When the report has exactly one paragraph with a code, it is everyone's.
    lacking = [item for item in found if not has_reply(item.diagnostic or "")]
    if not lacking:
        return
    coded: list[str] = []
    for paragraph in PARAGRAPH_BREAK.split(region):
        if has_reply(paragraph):
            coded.append(paragraph.strip())
            if len(coded) > 1:
                return  # no lone code: the rest need not be read
    if coded:
        for item in lacking:
            item.diagnostic = coded[0] if not item.diagnostic else f"{item.diagnostic} {coded[0]}"


def _diagnostic(lead: str, rest: str, max_paragraphs: int) -> str | None:
    reason = lead.strip()
    if reason and has_code(lead):
        return reason  # the anchor line holds the server's answer
    paragraphs = [p for p in PARAGRAPH_BREAK.split(rest) if p.strip()][:max_paragraphs]
    coded = next((i for i, p in enumerate(paragraphs) if has_code(p)), None)  # the first
    if reason:
        # The anchor line names the reason ("host x said:", "Unable to deliver to:");
        # the paragraphs up to the first one with a code complete it (mailfoundry-02).
        tail = paragraphs[: coded + 1] if coded is not None else []
        if not tail and _CONTINUED.match(rest):
            # No code anywhere, but the anchor's own paragraph goes on below it: that is
            # the reason ("Could not be delivered to: <addr>\n As their mailbox is full."
            # in au one net / KDDI; Exim's "save to ...\n generated by addr\n mailbox is
            # full").
            tail = paragraphs[:1]
        return " ".join([reason, *(p.strip() for p in tail)]) or None
    if coded is not None:
        # Up to the first paragraph with a code: what follows is transcript or boilerplate.
        paragraphs = paragraphs[: coded + 1]
    elif paragraphs:
        # An introduction ending in a colon announces the reason in the next paragraph
        # ("For the following reason:\n\nMail size limit exceeded.", 1&1 / einsundeins).
        paragraphs = paragraphs[:2] if paragraphs[0].rstrip().endswith(":") else paragraphs[:1]
    text = " ".join(p.strip() for p in paragraphs)
    return text or None


_CONTINUED = re.compile(r"[ \t]*\n?[ \t]*\S")  # the next line is not blank: same paragraph


def has_code(text: str) -> bool:
    """True when `text` holds an SMTP reply code or an enhanced status code."""
    return CODE.search(text) is not None


def has_reply(text: str) -> bool:
    """True when `text` holds a standard reply code with words after it, or a status code.

    Stricter than `has_code`: "Size (in bytes): 222" (no standard code) or a number
    that ends the text is no reply (Verizon's "Message details" block, verizon-02).
    """
    # A status code anywhere will do, so the first one found ends the search; no reply
    # code hides one (a status code cannot start inside a reply code's match).
    for match in CODE.finditer(text):
        rest = match.group(2)
        if rest is None:
            return True  # a status code
        if match.group(1) + rest in REPLY_CODES and _WORDS_AFTER.match(text, match.end(2)):
            return True
    return False


_WORDS_AFTER = re.compile(r"[\s\-:,;)\]]*[^\W\d_]|\s*[<\[(]")


def permanence(text: str) -> bool | None:
    """True when the report says the failure is permanent, False when temporary, else None."""
    lower = text.lower()
    for word in _PERMANENT:  # (loops, not any() over generators: asked for every report)
        if word in lower:
            return True
    for word in _TEMPORARY:
        if word in lower:
            return False
    return None
