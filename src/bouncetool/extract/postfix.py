"""Postfix (and OpenSMTPD, DragonFly) in their text-only forms.

Postfix's human-readable part, sent alone by old versions and some relays::

    This is the mail system at host mx.example.jp.
    ...
    <kijitora@example.co.jp>: host mx01.example.co.jp[192.0.2.8] said:
        550 5.1.1 Address rejected (in reply to RCPT TO command)

OpenSMTPD::

    An error has occurred while attempting to deliver a message for
    the following list of recipients:

    userunknown@libsisimai.net: 550 5.1.1 <userunknown@...>: Recipient address rejected

DragonFly Mail Agent::

    There was an error delivering your mail to <kijitora@example.com>.

    gmail-smtp-in.l.google.com [74.125.203.27] did not like our final DATA:
    550-5.7.26 Unauthenticated email ...

    Message headers follow.
"""

from __future__ import annotations

import re

from bouncetool.extract.layout import Layout, add_folded_twin, read_layout
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

_A = ADDRESS_PATTERN
_DRAGONFLY = r"error delivering your mail to <?(?P<addr>" + _A + r")>?\.?"

LAYOUTS = (
    Layout(
        name="postfix",
        detect=(
            "this is the mail system at host",  # postfix-*
            "this is the postfix program at host",
            "i'm sorry to have to inform you that your message could not",
        ),
        anchors=(
            # "<addr>: host x said: ..." and "<addr> (expanded from <alias>): ..."
            re.compile(
                r"^<(?P<addr>"
                + _A
                + r")>(?:[ \t]*\(expanded from[^)]*\))?:[ \t]*(?P<diag>.*(?:\n[ \t]+.*)*)",
                re.MULTILINE,
            ),
        ),
    ),
    Layout(
        name="opensmtpd",
        detect=(
            "an error has occurred while attempting to deliver a message",  # opensmtpd-*
            "this is the mailer-daemon, please do not reply",
        ),
        anchors=(re.compile(r"^[ \t]*(?P<addr>" + _A + r"):[ \t]*(?P<diag>.*)$", re.MULTILINE),),
    ),
    Layout(
        name="dragonfly",
        detect=("there was an error delivering your mail to",),
        # "There was an error delivering your mail to <addr>." (dragonfly-*)
        anchors=(re.compile(_DRAGONFLY, re.IGNORECASE),),
        max_paragraphs=2,
    ),
)
# The same in lower case, matched in the lower-cased text: a case-sensitive literal lead
# `re` skips through at C speed; a case-insensitive one it tries at every position.
add_folded_twin(LAYOUTS[2].anchors[0], re.compile(_DRAGONFLY))


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of a Postfix, OpenSMTPD or DragonFly text bounce, or None."""
    for layout in LAYOUTS:
        found = read_layout(mail, layout)
        if found:
            return found
    return None
