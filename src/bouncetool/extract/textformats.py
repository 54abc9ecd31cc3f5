"""The vendor text formats, asked in order; each module documents its format.

Every module here exposes ``extract(mail) -> list[Found] | None`` and answers
only for messages whose layout it recognises by its own marker lines.
"""

from __future__ import annotations

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
from bouncetool.extract.mail import Found, Mail

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

    A bounce forwarded by a person (quoted or below a forward line) is read by
    `nested` as a message of its own, not here.
    """
    for fmt in FORMATS:
        found = fmt(mail)
        if found:
            return found
    return None
