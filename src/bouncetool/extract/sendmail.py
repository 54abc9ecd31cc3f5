"""Sendmail (old and V5) text bounces, without a delivery-status part.

Old Sendmail writes::

       ----- The following addresses had permanent fatal errors -----
    <kijitora@example.com>
        (reason: 550 5.1.1 <kijitora@example.com>... User unknown)

       ----- Transcript of session follows -----
    ... while talking to mx.example.com.:
    >>> RCPT To:<kijitora@example.com>
    <<< 550 5.1.1 <kijitora@example.com>... User unknown
       ----- Unsent message follows -----

V5 Sendmail (1990s) has only the transcript, where the recipient appears
as ``550 <addr>... User unknown`` or in the ``RCPT To:`` line.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

_A = ADDRESS_PATTERN

LAYOUT = Layout(
    name="sendmail",
    detect=(
        "transcript of session follows",  # sendmail-*, v5sendmail-*
        "the following addresses had",
        "unsent message follows",
    ),
    anchors=(
        # "<kijitora@example.com>" alone, under "The following addresses had ..." (sendmail-*)
        re.compile(
            r"^[ \t]*<?(?P<addr>" + _A + r")>?[ \t]*(?:\.{3}[ \t]*(?P<diag>.*))?$", re.MULTILINE
        ),
        # "550 <kijitora@example.com>... User unknown" in the transcript (v5sendmail-*)
        re.compile(
            r"^(?:<<<[ \t]*)?(?P<diag>[245]\d\d[ -].*?<?(?P<addr>" + _A + r")>?\.{3}.*)$",
            re.MULTILINE,
        ),
        # ">>> RCPT To:<addr>" followed by the answer (v5sendmail, trendmicro)
        re.compile(r"RCPT TO:[ \t]*<(?P<addr>" + _A + r")>", re.IGNORECASE),
    ),
    max_paragraphs=2,
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a Sendmail text bounce, or None."""
    found = read_layout(mail, LAYOUT)
    for item in found or ():
        if item.diagnostic and "Remote protocol error" in item.diagnostic:
            reply = _reply_above(mail.body, item.recipient or "")
            if reply:
                item.diagnostic = f"{item.diagnostic}: {reply}"
    return found


def _reply_above(body: str, recipient: str) -> str | None:
    """The server's ``<<<`` reply that Sendmail summed up as "Remote protocol error".

    "554 <addr>... Remote protocol error" says only that the server answered a
    command with an error; the answer is the ``<<<`` line above it, e.g.
    ">>> MAIL From:<x>" / "<<< 550 Insecure Mail Relay" (v5sendmail-06, -07).
    """
    at = body.find(f"<{recipient}>... Remote protocol error")
    if at < 0:
        return None
    for line in reversed(body[:at].split("\n")[-8:]):
        if line.startswith("<<<"):
            return line[3:].strip() or None
        if line.startswith((">>>", "While talking", "... while talking")) or "<" in line[:6]:
            return None  # another command or recipient: the reply is not this one's
    return None
