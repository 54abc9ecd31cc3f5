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
from dataclasses import dataclass

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import REPLY, STATUS

# Where the returned message starts, for every layout (each seen in the corpus's
# qmail, Exim, Sendmail, Gmail, GMX, Notes, IMail, m-FILTER, McAfee, Zoho and others).
END_OF_REPORT = re.compile(
    r"^[ \t]*(?:-{2,}|={2,}|\*{2,})?[ \t]*(?:"
    r"below this line is a copy of the message|this is a copy of the message"
    r"|original message|unsent message follows|returned message|returned mail follows"
    r"|the header of the original message|message headers follow|included is a copy"
    r"|below is a copy of the original message|original message follows|undelivered message"
    r"|headers of the original message|copy of the original message|the original message"
    r"|end of message|forwarded message)",
    re.IGNORECASE | re.MULTILINE,
)
# Two header lines in a row: the returned message's headers, when no marker announces them.
_HEADER_BLOCK = re.compile(
    r"^(?:Received|Return-Path|Return-path|DKIM-Signature|Message-I[dD]|MIME-Version|Date|From"
    r"|To|Subject|Content-Type|X-[\w-]+):[^\n]*\n(?:[ \t][^\n]*\n)*"
    r"(?:Received|Return-Path|DKIM-Signature|Message-I[dD]|MIME-Version|Date|From|To|Subject"
    r"|Content-Type|X-[\w-]+|Authentication-Results|ARC-[\w-]+):",
    re.MULTILINE,
)
_PERMANENT = re.compile(
    r"permanent(?:ly)? (?:error|failure|fatal)|failed permanently|permanent failure"
    r"|this is a permanent|i've given up",
    re.IGNORECASE,
)
_TEMPORARY = re.compile(
    r"temporary (?:error|failure|problem)|will (?:keep|continue) trying|still trying"
    r"|will be retried|has not yet been delivered|could not be delivered for|delayed",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Layout:
    """How one family of text bounces looks.

    `detect` is searched in the body (or, with `detect_in_subject`, the
    subject); `anchors` are MULTILINE patterns whose group ``addr`` is a
    failed recipient and whose optional group ``diag`` starts its
    diagnostic; `start` (optional) is where the report begins.
    """

    name: str
    detect: re.Pattern[str]
    anchors: tuple[re.Pattern[str], ...]
    start: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    detect_in_subject: bool = False
    max_paragraphs: int = 3


def report_region(mail: Mail, layout: Layout | None = None) -> str:
    """The report part of the body: from the layout's start to the returned message."""
    text = mail.body
    begin = 0
    if layout is not None and layout.start is not None:
        match = layout.start.search(text)
        if match:
            begin = match.start()
    ends = [
        m.start()
        for m in (END_OF_REPORT.search(text, begin), _HEADER_BLOCK.search(text, begin))
        if m
    ]
    if layout is not None and layout.end is not None:
        match = layout.end.search(text, begin)
        if match:
            ends.append(match.start())
    ends = [e for e in ends if e > begin]
    return text[begin : min(ends)] if ends else text[begin:]


def read_layout(mail: Mail, layout: Layout) -> list[Found] | None:
    """The recipients of `mail` read with `layout`, or None when it does not fit."""
    target = mail.subject if layout.detect_in_subject else mail.body
    if not layout.detect.search(target):
        return None
    region = report_region(mail, layout)
    return read_anchors(region, layout.anchors, layout.max_paragraphs)


def read_anchors(
    region: str, anchors: tuple[re.Pattern[str], ...], max_paragraphs: int = 3
) -> list[Found] | None:
    """Recipients found by the first anchor pattern that matches in `region`, with diagnostics."""
    for anchor in anchors:
        matches = list(anchor.finditer(region))
        if not matches:
            continue
        found: dict[str, Found] = {}
        for index, match in enumerate(matches):
            address = match.group("addr").strip(".")
            nxt = matches[index + 1].start() if index + 1 < len(matches) else len(region)
            lead = match.groupdict().get("diag") or ""
            rest = region[match.end() : nxt]
            diagnostic = _diagnostic(lead, rest, max_paragraphs)
            key = address.lower()
            if key in found:
                if not found[key].diagnostic and diagnostic:
                    found[key].diagnostic = diagnostic
                continue
            found[key] = Found(
                recipient=address, diagnostic=diagnostic, permanent=permanence(region)
            )
        return list(found.values())
    return None


def _diagnostic(lead: str, rest: str, max_paragraphs: int) -> str | None:
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", rest) if p.strip()][:max_paragraphs]
    if lead.strip() and not has_code(lead):
        # The anchor line names the reason; a following paragraph with a code completes it.
        coded = [p for p in paragraphs[:1] if has_code(p) and p.lstrip("\n")[:1] in (" ", "\t")]
        return " ".join([lead, *coded]).strip() or None
    if lead.strip():
        return lead.strip()
    with_code = [i for i, p in enumerate(paragraphs) if has_code(p)]
    if with_code:
        paragraphs = paragraphs[: with_code[-1] + 1]
    elif paragraphs:
        paragraphs = paragraphs[:1]
    text = " ".join(p.strip() for p in paragraphs)
    return text or None


def has_code(text: str) -> bool:
    """True when `text` holds an SMTP reply code or an enhanced status code."""
    return bool(REPLY.search(text) or STATUS.search(text))


def permanence(text: str) -> bool | None:
    """True when the report says the failure is permanent, False when temporary, else None."""
    if _PERMANENT.search(text):
        return True
    if _TEMPORARY.search(text):
        return False
    return None
