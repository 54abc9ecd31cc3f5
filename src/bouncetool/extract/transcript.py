"""Sendmail's session transcript, read when a standard report's diagnostic says nothing.

Sendmail's delivery-status part often lacks the words that matter. A local
mailer's failure is given only as its exit status (``Diagnostic-Code: X-Unix;
77``, sysexits.h; sendmail-13, -18, -55), a deferral as an empty field
(``Diagnostic-Code: SMTP;`` after ``<<< 421``; sendmail-29, -30), and a failed
pipe to procmail leaves the field out (rfc3464-04). The answer itself stands
in the human-readable part, under the transcript marker::

       ----- Transcript of session follows -----
    maildrop: maildir over quota.
    550 5.0.0 <kijitora@example.or.jp>... Insufficient permission

For such a recipient the transcript line that answers for it becomes the
diagnostic: the last line naming its address, or, when the report has a
single recipient, the last line starting with a reply code (a pipe recipient
is named by its command, not its address). A local mailer's own words about
the user above it ("mail.local: unknown user: kijitora", rfc3464-06) go
before it, the queue notes below it ("Message could not be delivered for 5
days") after it. The line's reply code is kept, and so is the exit status
when the line does not already say it. A diagnostic with words of its own
("SMTP; 550 5.1.1 ...", even a bare "SMTP; 421") is never replaced.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import REPLY_CODES

_MARKER = "Transcript of session follows"
_RAW_MARKER = b"Transcript of session"
_WINDOW = 8000  # the human-readable report sits at the top; the returned message follows
_SECTION = 4000  # a transcript longer than this is quoting something else
# What says nothing: no text at all, a bare type ("SMTP;"), or a local mailer's exit
# status with or without its type ("X-Unix; 255", "71").
_SILENT = re.compile(r"(?:[\w-]+[ \t]*;[ \t]*)?\d{0,3}", re.ASCII)
_SILENT_ENDS = "0123456789;"
_EXIT_STATUS = re.compile(r"x-unix[ \t]*;[ \t]*(\d{1,3})", re.ASCII | re.IGNORECASE)
# A line that answers: "550 5.1.1 <x>... User unknown", "<<< 421", "554 \"|/usr/bin/x\"..."
_CODED = re.compile(r"(?:<<<[ \t]*)?([45]\d\d)(?![\d.])")


def fill_from_transcript(found: list[Found], mail: Mail) -> None:
    """Give each recipient whose diagnostic says nothing the transcript line answering for it."""
    silent = [item for item in found if _says_nothing(item.diagnostic)]
    if not silent:
        return
    lines = _transcript(mail)
    if not lines:
        return
    lone = len(found) == 1
    for item in silent:
        answer = _line_for(lines, item.recipient, lone=lone)
        if answer is not None:
            _fill(item, *answer)


def _says_nothing(diagnostic: str | None) -> bool:
    if not diagnostic:
        return True
    text = diagnostic.strip()
    # (Most diagnostics end in a word: only a digit or the type's ";" ends a silent one,
    # which a look at the last character says without the pattern.)
    if text[-1:] not in _SILENT_ENDS or not _SILENT.fullmatch(text):
        return False
    # A bare reply code typed as SMTP ("SMTP; 421") is the server's own answer: kept.
    return not text.lower().startswith("smtp") or not text[-1:].isdigit()


def _transcript(mail: Mail) -> list[str]:
    """The lines under the transcript marker, up to the first blank line; [] when none."""
    # A look at the raw bytes spares decoding text parts that hold no transcript
    # (Sendmail writes the report in 7bit or 8bit). A report that is one part (its
    # boundary lost, the fields inline: rfc3464-04) is read whole.
    parts = [p for p in mail.parts if p.ctype == "text/plain" and not p.children]
    if not mail.root.children:
        parts = [mail.root]
    part = next((p for p in parts if p.body.find(_RAW_MARKER) >= 0), None)
    if part is None:
        return []
    text = part.text()[:_WINDOW]
    at = text.find(_MARKER)
    if at < 0:
        return []
    start = text.find("\n", at) + 1
    if start <= 0:
        return []
    end = text.find("\n\n", start)
    section = text[start : end if end >= 0 else start + _SECTION][:_SECTION]
    return [line.strip() for line in section.split("\n") if line.strip()]


Answer = tuple[list[str], str, list[str]]  # the mailer's words, the line with the code, notes


def _line_for(lines: list[str], recipient: str | None, *, lone: bool) -> Answer | None:
    """The line answering for `recipient`, with its mailer's words and the notes after it."""
    at = None
    if recipient:
        # The whole address, not a longer one ending or starting with it.
        wanted = re.compile(rf"(?<![\w.+=-]){re.escape(recipient)}(?![\w-]|\.\w)", re.I)
        named = [i for i, line in enumerate(lines) if line[:3] != ">>>" and wanted.search(line)]
        at = named[-1] if named else None
    if at is None and lone:
        coded = [i for i, line in enumerate(lines) if _coded(line)]
        at = coded[-1] if coded else None
    if at is None:
        return None
    return _mailer_words(lines[:at], recipient), lines[at], _notes(lines[at + 1 :])


def _mailer_words(above: list[str], recipient: str | None) -> list[str]:
    """The lines a local mailer wrote about `recipient` just above Sendmail's answer.

    Sendmail sums a local mailer's failure up in its own words ("554 <x>...
    Service unavailable"); the mailer's output above says why, and counts when
    it names the recipient's user ("mail.local: unknown user: kijitora",
    rfc3464-06). Output that names nobody ("maildrop: maildir over quota.",
    a script's database error) may be about anything and is left out.
    """
    local = (recipient or "").partition("@")[0]
    if len(local) < 2:
        return []
    # The user as a word of its own, not a part of a path ("/home/kijitora/mail/x.pl").
    user = re.compile(rf"(?<![\w.+=/-]){re.escape(local)}(?![\w+=/-]|[.@]\w)", re.I)
    words: list[str] = []
    for line in reversed(above):
        if not _is_note(line):
            break
        if user.search(line):
            words.insert(0, line)
    return words


def _notes(below: list[str]) -> list[str]:
    # Sendmail's queue notes ("Warning: message still undelivered after 4 hours",
    # "Message could not be delivered for 5 days") follow the answer.
    notes = []
    for line in below:
        if not _is_note(line):
            break
        notes.append(line)
    return notes


def _is_note(line: str) -> bool:
    """Whether a line is free text: no command, reply, recipient or host of its own."""
    return line[:1] not in "<>." and "@" not in line and not _coded(line)


def _coded(line: str) -> str | None:
    """The reply code a transcript line starts with, or None."""
    match = _CODED.match(line)
    return match.group(1) if match and match.group(1) in REPLY_CODES else None


def _fill(item: Found, words: list[str], line: str, notes: list[str]) -> None:
    """Make a transcript's answer the diagnostic of `item`, with its reply code."""
    exit_status = _EXIT_STATUS.fullmatch((item.diagnostic or "").strip())
    said = line.removeprefix("<<<").strip()
    if exit_status and not re.search(rf"\b{exit_status.group(1)}\b", said):
        said = f"{said} (X-Unix; {exit_status.group(1)})"  # the mailer's exit status, kept
    item.diagnostic = " ".join([*words, said, *notes])
    item.reply_code = item.reply_code or _coded(line) or _last_code(line)


def _last_code(line: str) -> str | None:
    # Sendmail's own summary ends with the server's code: "<x>... Deferred: 421".
    words = line.rstrip(".").split()
    code = words[-1] if words else ""
    return code if code in REPLY_CODES and code[0] in "45" else None
