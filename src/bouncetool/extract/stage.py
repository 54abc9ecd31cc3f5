"""The SMTP stage of a failure, kept with the diagnostic of a standard report.

A delivery-status part's ``Diagnostic-Code`` holds the remote server's reply
but not the command it answered; the human-readable part next to it often
says (seen in Postfix "(in reply to end of DATA command)", postfix-03 and
docomo relays; Exim "SMTP error from remote mail server after EHLO x:",
exim-49; Sendmail and Courier transcripts ">>> DATA" / "<<< 550 ...",
sendmail-27, courier-02). The stage changes the meaning: "User unknown" after
the message data is a content filter, not an unknown address, and a refusal
"in reply to MAIL FROM" is about the sender. So the stage, as the report
writes it, is added to the diagnostic the rule table reads.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import clean_diagnostic, collapse

_WINDOW = 8000  # the human-readable report sits at the top; quoted messages follow
# One pattern per writer, each found by its own literal (one pattern with three
# alternatives is several times slower to scan). Group 1 is the stage as written.
_STAGES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # Postfix: "... 550 Unknown user (in reply to end of DATA command)"
    # (Postfix folds long lines, so the words may be split over two lines.)
    (
        "postfix",
        "in reply",
        re.compile(r"(\(in\s+reply\s+to\s+[A-Za-z][A-Za-z \t\n]{1,24}?\s+command\))"),
    ),
    # Exim: "SMTP error from remote mail server after RCPT TO:<addr>:" / "after EHLO host:"
    (
        "exim",
        "server after",
        re.compile(
            r"(SMTP error from remote mail server after"
            r" (?:end of data|initial connection|pipelined [A-Za-z ]{2,20}?"
            r"|[A-Z][A-Z ]{2,12}\b[^\n]{0,200}?)"
            r":)(?=\s)"
        ),
    ),
    # Sendmail, Courier: ">>> DATA" followed by the server's "<<< 550 ..." answer
    (
        "command",
        ">>>",
        # (led by its literal, not by "^", so that it is scanned for at C speed; the line
        # start is checked on the few hits, in `_at_line_start`)
        re.compile(r">>>[ \t]*([A-Za-z][^\n]{0,200}?)[ \t]*\n(?=<<<[ \t]*[45]\d\d)"),
    ),
)
_HAS_STAGE = ("in reply to", ">>>", "server after", "after end of data")

Stage = tuple[str, re.Match[str]]  # which writer's form, and where it was found


def add_stages(found: list[Found], mail: Mail) -> None:
    """Put the SMTP stage the human-readable report names into each recipient's diagnostic."""
    # Most reports name no stage: a look at the raw bytes of the text parts spares
    # decoding them (Postfix, Sendmail, Exim and Courier write them in 7bit or 8bit).
    # The human-readable report is the first text part (RFC 3464 section 2: the first
    # part of a multipart/report); the stage sits near its top.
    for first in mail.parts:  # (a loop, not next() over a generator: every report asks)
        if first.ctype == "text/plain" and not first.children:
            break
    else:
        return
    if not _marked(first.body):
        return
    top = first.text()[:_WINDOW]
    stages: list[Stage] = [
        (kind, match)
        for kind, literal, pattern in _STAGES
        if literal in top
        for match in pattern.finditer(top)
        if kind != "command" or _at_line_start(top, match.start())
    ]
    if not stages:
        return
    stages.sort(key=lambda stage: stage[1].start())
    one = len(stages) == 1 or len({_words(stage) for stage in stages}) == 1
    for item in found:
        if not item.diagnostic:
            continue
        for word in _HAS_STAGE:  # (a loop, not any() over a generator: asked per recipient)
            if word in item.diagnostic:
                break  # the diagnostic names its stage already
        else:
            stage = stages[0] if one else _own(stages, top, item.recipient)
            if stage is not None:
                item.diagnostic = _with_stage(item.diagnostic, stage)


# m-FILTER (Japanese appliance, mfilter-01/03) names the command below the server's
# answer, in its own section: "-------server message\n550 unknown user <x>\n\n
# -------SMTP command\nDATA". Only a command word on the line after the heading counts.
_TRAILER = re.compile(
    r"^-{3,}SMTP command[ \t]*\n[ \t]*([A-Za-z][A-Za-z ]{1,20}?)[ \t]*$", re.MULTILINE
)
_TRAILER_LITERAL = "SMTP command\n"


def add_trailer_stage(found: list[Found], body: str) -> None:
    """Put the command an m-FILTER report names in its own section into each diagnostic."""
    if _TRAILER_LITERAL not in body:
        return
    match = _TRAILER.search(body[:_WINDOW])
    if match is None:
        return
    command = match.group(1).strip()
    for item in found:
        if item.diagnostic and not any(word in item.diagnostic for word in _HAS_STAGE):
            item.diagnostic = f"{item.diagnostic} (SMTP command: {command})"


def _at_line_start(text: str, at: int) -> bool:
    return at == 0 or text[at - 1] == "\n"


def _marked(raw: bytes) -> bool:
    # Plain substring finds in the window: faster than one regular expression with three
    # alternatives, which has no literal to skip ahead by.
    return (
        raw.find(b"in reply", 0, _WINDOW) >= 0
        or raw.find(b">>>", 0, _WINDOW) >= 0
        or raw.find(b"server after", 0, _WINDOW) >= 0
    )


def _words(stage: Stage) -> str:
    """The command a stage names, without addresses or host names ("RCPT TO", "end of DATA")."""
    text = collapse(stage[1].group(1)).removeprefix("SMTP error from remote mail server after ")
    return _FROM_ADDRESS.sub("", text).lower()


_FROM_ADDRESS = re.compile(r"[:<].*")  # where the addresses and host names start


def _own(stages: list[Stage], body: str, recipient: str | None) -> Stage | None:
    # Several stages (a report on recipients refused at different commands): the one
    # whose stretch of text, since the previous stage, names the recipient.
    if not recipient:
        return None
    wanted = recipient.lower()
    start = 0
    for kind, match in stages:
        # A transcript's command is answered on the next line, which may name the recipient.
        end = body.find("\n", match.end()) if kind == "command" else -1
        stretch = body[start : end if end > 0 else match.end()].lower()
        if wanted in stretch:
            return kind, match
        start = match.end()
    return None


def _with_stage(diagnostic: str, stage: Stage) -> str:
    kind, match = stage
    if kind == "postfix":
        # Postfix writes it after the reply; `finish` unfolds and trims the whole.
        return f"{diagnostic} {match.group(1)}"
    reply = clean_diagnostic(diagnostic) or ""  # without "smtp;": the stage goes before it
    if kind == "exim":
        return f"{collapse(match.group(1))} {reply}"
    return f">>> {match.group(1)} <<< {reply}"  # the transcript's own order
