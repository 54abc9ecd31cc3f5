"""Oracle Communications Messaging Server (formerly Sun / iPlanet, PMDF) text reports.

Its human-readable part labels every field, one recipient after another::

    Your message cannot be delivered to the following recipients:

      Recipient address: sabineko@example.org
      Reason: Remote SMTP server has rejected address
      Diagnostic code: smtp; 550 5.7.1 550 User Unknown: sabineko@example.org
      Remote system: dns; mailbox0.d5.example.org (TCP|192.0.2.225|34321|...)

Seen in messagingserver-03, where the delivery-status part is lost.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

LAYOUT = Layout(
    name="pmdf",
    detect=("recipient address:", "original address:"),
    anchors=(
        re.compile(
            r"^[ \t]*(?:Recipient|Original) address:[ \t]*<?(?P<addr>" + ADDRESS_PATTERN + r")>?",
            re.MULTILINE | re.IGNORECASE,
        ),
    ),
    max_paragraphs=1,
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a messaging-server text report, or None."""
    return read_layout(mail, LAYOUT)
