"""Exim and its relatives (Mail.ru, GMX, MXLogic, Zoho keep its wording).

Exim writes::

    This message was created automatically by mail delivery software.

    A message that you sent could not be delivered to one or more of its
    recipients. This is a permanent error. The following address(es) failed:

      kijitora@example.ed.jp
        SMTP error from remote mail server after RCPT TO:<kijitora@example.ed.jp>:
        host mx.example.jp [192.0.2.20]: 550 5.1.1 <kijitora@example.ed.jp>... User Unknown

    ------ This is a copy of the message, including all the headers. ------

The address line is indented (``  addr``, ``  <addr>: reason`` in MXLogic,
``"addr":`` in GMX); the diagnostic is the indented lines below it. Exim also
lists the addresses in the ``X-Failed-Recipients`` header.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

LAYOUT = Layout(
    name="exim",
    detect=(
        "created automatically by mail delivery software",  # Exim, Mail.ru, GMX, MXLogic
        "could not be delivered to one or more of its",
        "following address(es) failed",
        "following address failed",
    ),
    # "A message sent by <sender> could not be delivered" names the sender first (exim-08)
    start=re.compile(
        r"address(?:\(es\))?\s+failed|could not be delivered to one or more", re.IGNORECASE
    ),
    anchors=(
        # "  kijitora@example.ed.jp" or "  <addr>: 550 ..." (exim-01, mailru-01, mxlogic-01)
        # '"addr":' (gmx-01); "addr Invalid Address, ERROR_CODE :550" (zoho-01)
        re.compile(
            r"^[ \t]*[<\"]?(?P<addr>" + ADDRESS_PATTERN + r")[>\"]?"
            r"(?:[ \t]+<[^>\n]*>)?(?:[ \t]*\([^)\n]*\))?[ \t]*:?[ \t]*(?P<diag>\S.*)?$",
            re.MULTILINE,
        ),
    ),
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of an Exim-style bounce, or None."""
    return read_layout(mail, LAYOUT)
