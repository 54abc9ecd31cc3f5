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
from bouncetool.extract.layout import Layout
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


def _markers(*layouts: Layout) -> tuple[str, ...]:
    return tuple(marker for layout in layouts for marker in layout.detect)


# What each format needs in the top of the body before it can answer (None: it looks
# elsewhere, at headers or JSON). A format none of whose markers is there would return
# None: it is passed over without being asked, which spares most messages the calls
# into every format (the marker tests stay: plain substring tests are the cheapest
# way; one regular expression of all markers scans several times slower).
_GATES: tuple[tuple[str, ...] | None, ...] = (
    None,
    None,
    _markers(qmail.LAYOUT),
    _markers(*postfix.LAYOUTS),
    _markers(gmail.LAYOUT),
    _markers(exchange.LAYOUT),
    _markers(sendmail.LAYOUT),
    _markers(pmdf.LAYOUT),
    _markers(exim.LAYOUT),  # exim.LOCAL is asked only after one of these
)
_GATED = tuple(zip(FORMATS, _GATES, strict=True))


def extract(mail: Mail) -> list[Found] | None:
    """The recipients found by the first text format that recognises `mail`.

    A bounce forwarded by a person (quoted or below a forward line) is read by
    `nested` as a message of its own, not here.
    """
    top: str | None = None
    for fmt, markers in _GATED:
        if markers is not None:
            if top is None:
                top = mail.top_lower
            for marker in markers:  # (a loop, not any() over a generator)
                if marker in top:
                    break
            else:
                continue  # none of its markers: the format would say None
        found = fmt(mail)
        if found:
            return found
    return None
