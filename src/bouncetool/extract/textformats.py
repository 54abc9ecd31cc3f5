"""The vendor text formats, asked in order; each module documents its format.

Every module here exposes ``extract(mail) -> list[Found] | None`` and answers
only for messages whose layout it recognises by its own marker lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bouncetool.extract import (
    amazonses,
    exchange,
    exim,
    fml,
    gmail,
    pmdf,
    postfix,
    qmail,
    sendmail,
)
from bouncetool.extract.mail import TOP_WINDOW, Found, Mail

_QUOTE = re.compile(r"^> ?", re.MULTILINE)

FORMATS: tuple[Callable[[Mail], list[Found] | None], ...] = (
    fml.extract,  # known by its own header alone: the cheapest test, and never ambiguous
    amazonses.extract,  # JSON events: recognised by their keys, never confused with text
    qmail.extract,  # its closing marker is specific; before Exim, whose wording some copy
    postfix.extract,  # Postfix text, OpenSMTPD, DragonFly
    gmail.extract,
    exchange.extract,  # Exchange 2003, Domino, Notes
    sendmail.extract,
    pmdf.extract,  # Oracle / Sun messaging server (PMDF), labelled lines
    exim.extract,  # last: "created automatically by mail delivery software" is widely copied
)


def extract(mail: Mail) -> list[Found] | None:
    """The recipients found by the first text format that recognises `mail`.

    A bounce forwarded by a person arrives quoted ("> " before every line,
    seen in sendmail-14); when nothing matches and most of the body is quoted,
    the formats are tried again on the unquoted text.
    """
    found = _first(mail)
    if found is None:
        unquoted = unquote(mail.body)
        if unquoted is not None:
            found = _first(mail.with_body(unquoted))
    return found


def _first(mail: Mail) -> list[Found] | None:
    for fmt in FORMATS:
        found = fmt(mail)
        if found:
            return found
    return None


def unquote(body: str) -> str | None:
    """`body` without its "> " quoting when most of its lines are quoted, else None."""
    lines = body[:TOP_WINDOW].split("\n")
    quoted = sum(1 for line in lines if line.startswith(">"))
    if quoted < 5 or quoted * 2 < len(lines):
        return None
    return _QUOTE.sub("", body)
