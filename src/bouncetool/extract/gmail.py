"""Gmail's own bounces ("Delivery Status Notification (Failure)" without a report part).

Google writes::

    Delivery to the following recipient failed permanently:

         userunknown@example.jp

    Technical details of permanent failure:
    Google tried to deliver your message, but it was rejected by the server ...
    The error that the other server returned was:
    550 5.1.1 <userunknown@example.jp>... User Unknown

    ----- Original message -----

Newer ones ("Your message wasn't delivered to ... because ...") carry a
delivery-status part and are read by the DSN reader.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

LAYOUT = Layout(
    name="gmail",
    detect=(
        "delivery to the following recipient",  # gmail-01..15
        "technical details of permanent failure",
        "technical details of temporary failure",
    ),
    start=re.compile(r"Delivery to the following recipient", re.IGNORECASE),
    anchors=(re.compile(r"^[ \t]+(?P<addr>" + ADDRESS_PATTERN + r")[ \t]*$", re.MULTILINE),),
    max_paragraphs=6,
)


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a Gmail text bounce, or None."""
    return read_layout(mail, LAYOUT)
