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

_WINDOW = 20000  # the human-readable report sits at the top; quoted messages follow
_STAGE = re.compile(
    # Postfix: "... 550 Unknown user (in reply to end of DATA command)"
    # (Postfix folds long lines, so the words may be split over two lines.)
    r"(?P<postfix>\(in\s+reply\s+to\s+[A-Za-z][A-Za-z \t\n]{1,24}?\s+command\))"
    # Exim: "SMTP error from remote mail server after RCPT TO:<addr>:" / "after EHLO host:"
    r"|(?P<exim>SMTP error from remote mail server after"
    r" (?:end of data|initial connection|pipelined [A-Za-z ]{2,20}?"
    r"|[A-Z][A-Z ]{2,12}\b[^\n]{0,200}?)"
    r":)(?=\s)"
    # Sendmail, Courier: ">>> DATA" followed by the server's "<<< 550 ..." answer
    r"|^>>>[ \t]*(?P<command>[A-Za-z][^\n]{0,200}?)[ \t]*\n(?=<<<[ \t]*[45]\d\d)",
    re.MULTILINE,
)
_HAS_STAGE = ("in reply to", ">>>", "server after", "after end of data")


def add_stages(found: list[Found], mail: Mail) -> None:
    """Put the SMTP stage the human-readable report names into each recipient's diagnostic."""
    # Most reports name no stage: a look at the raw bytes of the text parts spares
    # decoding them (Postfix, Sendmail, Exim and Courier write them in 7bit or 8bit).
    raw = [p.body for p in mail.parts if p.ctype == "text/plain" and not p.children]
    if not any(b"in reply" in r or b">>>" in r or b"server after" in r for r in raw):
        return
    body = mail.body
    matches = list(_STAGE.finditer(body, 0, _WINDOW))
    if not matches:
        return
    distinct = {_words(m) for m in matches}
    for item in found:
        if not item.diagnostic or any(word in item.diagnostic for word in _HAS_STAGE):
            continue
        match = matches[0] if len(distinct) == 1 else _own(matches, body, item.recipient)
        if match is not None:
            item.diagnostic = _with_stage(item.diagnostic, match)


def _words(match: re.Match[str]) -> str:
    """The command a stage names, without addresses or host names ("RCPT TO", "end of DATA")."""
    text = match.group("postfix") or match.group("exim") or match.group("command")
    text = collapse(text).removeprefix("SMTP error from remote mail server after ")
    return re.sub(r"[:<].*", "", text).lower()


def _own(matches: list[re.Match[str]], body: str, recipient: str | None) -> re.Match[str] | None:
    # Several stages (a report on recipients refused at different commands): the one
    # whose stretch of text, since the previous stage, names the recipient.
    if not recipient:
        return None
    wanted = recipient.lower()
    start = 0
    for match in matches:
        # A transcript's command is answered on the next line, which may name the recipient.
        end = body.find("\n", match.end()) if match.group("command") else -1
        stretch = body[start : end if end > 0 else match.end()].lower()
        if wanted in stretch:
            return match
        start = match.end()
    return None


def _with_stage(diagnostic: str, match: re.Match[str]) -> str:
    reply = clean_diagnostic(diagnostic) or ""  # without "smtp;": the stage goes around it
    if match.group("postfix"):
        return f"{reply} {collapse(match.group('postfix'))}"  # Postfix writes it after the reply
    if match.group("exim"):
        return f"{collapse(match.group('exim'))} {reply}"
    return f">>> {match.group('command')} <<< {reply}"  # the transcript's own order
