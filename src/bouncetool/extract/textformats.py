"""The vendor text formats, asked in order; each module documents its format.

Every module here exposes ``extract(mail) -> list[Found] | None`` and answers
only for messages whose layout it recognises by its own marker lines.
"""

from __future__ import annotations

from collections.abc import Callable

from bouncetool.extract import exchange, exim, gmail, postfix, qmail, sendmail
from bouncetool.extract.mail import Found, Mail

FORMATS: tuple[Callable[[Mail], list[Found] | None], ...] = (
    qmail.extract,  # its closing marker is specific; before Exim, whose wording some copy
    postfix.extract,  # Postfix text, OpenSMTPD, DragonFly
    gmail.extract,
    exchange.extract,  # Exchange 2003, Domino, Notes
    sendmail.extract,
    exim.extract,  # last: "created automatically by mail delivery software" is widely copied
)


def extract(mail: Mail) -> list[Found] | None:
    """The recipients found by the first text format that recognises `mail`."""
    for fmt in FORMATS:
        found = fmt(mail)
        if found:
            return found
    return None
