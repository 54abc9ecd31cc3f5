"""Microsoft Exchange 2000/2003 and Lotus Notes / Domino text bounces.

Exchange 2003::

    Your message

      To:      shironeko@example.com
      Subject: Kijitora Cat

    did not reach the following recipient(s):

    kijitora@example.jp on Thu, 29 Apr 2010 00:00:00 -0000
        The recipient name is not recognized
        <mx.example.jp #5.1.1>

Domino::

    Your message
      Subject: Nyaan
    was not delivered to:
      kijitora@example.org
    because:
      User kijitora (kijitora@example.org) not listed in Domino Directory

Lotus Notes (older) lists the address under ``------- Failure Reasons --------``.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

_A = ADDRESS_PATTERN

LAYOUT = Layout(
    name="exchange",
    detect=(
        "did not reach the following recipient",  # exchange2003
        "was not delivered to:",  # domino
        "failure reasons",  # notes
        "could not be delivered to the following recipient",
        "delivery has failed to these recipients",
    ),
    start=re.compile(
        r"did not reach the following recipient|was not delivered to:|Failure Reasons"
        r"|could not be delivered to the following recipient|Delivery has failed to these",
        re.IGNORECASE,
    ),
    anchors=(
        # "kijitora@example.jp on Thu, 29 Apr 2010 ..." (exchange2003-*)
        re.compile(r"^[ \t]*<?(?P<addr>" + _A + r")>? on [^\n]*$", re.MULTILINE),
        # the address alone on its line (domino-*, notes-*)
        re.compile(r"^[ \t]*<?(?P<addr>" + _A + r")>?[ \t]*$", re.MULTILINE),
    ),
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of an Exchange 2003 or Domino text bounce, or None."""
    return read_layout(mail, LAYOUT)
