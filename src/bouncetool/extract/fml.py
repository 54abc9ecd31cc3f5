"""fml, the mailing-list manager (fml.org), refusing or stopping a post sent to a list.

fml marks all its mail with a header naming itself: ``X-MLServer: fml [fml 4.0.3
release ...]`` (fml 4, lhost-fml-02 and -03), ``X-ML-Server: fml ...`` and
``List-Software: fml ...`` (fml 8). Its notices come from the list's admin
address and say in one sentence what happened to the post, naming the list in
angle brackets; help text may follow, and the refused post is quoted after
"Original mail as follows:"::

    You are not a member of this mailing list <neko-nyaan@example.org>.

    Duplicated Message-ID in <neko@example.co.jp>.

The list is what refused the message, so its address is the record's recipient
and the sentence is the diagnostic (the rule table reads it: a members-only
list refuses the sender, a loop alert is the list system's own trouble).

The same header is on every post the list distributes; a post carries the
list's article counter (fml 4 ``X-Mail-Count`` / ``X-ML-Count``, fml 8
``X-Sequence``) and a notice does not, so posts are never read as notices.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import ADDRESS_PATTERN

_SOFTWARE = ("x-mlserver", "x-ml-server", "list-software")
_ARTICLE_COUNTERS = ("x-mail-count", "x-ml-count", "x-sequence")
_NOTICE_WINDOW = 2000  # the sentence opens the notice; help text and the post follow
# The notice's sentence: words, then the list's address in angle brackets ending it.
_SENTENCE = re.compile(
    r"^[ \t]*(?P<diag>[A-Za-z][^<>\n]{2,120}<(?P<addr>" + ADDRESS_PATTERN + r")>[.:]?)[ \t]*$",
    re.MULTILINE,
)
_END = "original mail as follows"


def extract(mail: Mail) -> list[Found] | None:
    """The list that refused or stopped a post, from an fml notice; None for anything else."""
    software = mail.headers.first_of(_SOFTWARE)
    if software is None or not software.lstrip().lower().startswith("fml"):
        return None
    if mail.headers.first_of(_ARTICLE_COUNTERS) is not None:
        return None  # a post distributed by the list, not a notice
    body = mail.body[:_NOTICE_WINDOW]
    end = body.lower().find(_END)
    found = [
        Found(recipient=match.group("addr"), diagnostic=match.group("diag"))
        for match in _SENTENCE.finditer(body, 0, end if end >= 0 else len(body))
    ]
    return found or None
