"""qmail and the mailers that copied its bounce (Yahoo, vpopmail, many Japanese ISPs).

qmail-send writes::

    Hi. This is the qmail-send program at mx4.example.jp.
    I'm afraid I wasn't able to deliver your message to the following addresses.
    This is a permanent error; I've given up. Sorry it didn't work out.

    <kijitora@example.ne.jp>:
    192.0.2.32 does not like recipient.
    Remote host said: 550 5.1.1 <kijitora@example.ne.jp>... User Unknown

    --- Below this line is a copy of the message.

Yahoo ("Sorry, we were unable to deliver your message to the following
address.") and others ("Unable to deliver message to the following
address(es).") keep the ``<address>:`` anchor and the closing marker.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

LAYOUT = Layout(
    name="qmail",
    detect=(
        "qmail-send program",  # qmail, netqmail
        "i'm afraid i wasn't able to deliver",
        "unable to deliver your message to the following address",  # Yahoo
        "unable to deliver message to the following address",  # lhost-x2
        "below this line is a copy of the message",  # qmail-ldap, vpopmail
    ),
    anchors=(
        # "<kijitora@example.ne.jp>:" alone on its line (qmail-01, yahoo-01, x2-01)
        re.compile(
            r"^[ \t]*<(?P<addr>" + ADDRESS_PATTERN + r")>:?[ \t]*(?P<diag>\S.*)?$", re.MULTILINE
        ),
    ),
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a qmail-style bounce, or None."""
    return read_layout(mail, LAYOUT)
