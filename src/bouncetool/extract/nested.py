"""A bounce inside another message: attached to it, or forwarded in its text.

Bounce mailboxes receive complete bounces wrapped in other messages:

* attached as ``message/rfc822``: a gateway or filter that got a bounce sends
  its own "Returned mail" notice, whose report names nobody, with the bounce
  it received attached (lhost-x5-01: the inner message is a whole
  ``multipart/report`` from MAILER-DAEMON); a person forwards a bounce "as an
  attachment" (Outlook, Thunderbird);
* forwarded in the text by a person: Apple Mail writes "Begin forwarded
  message:" and quotes every line with "> " (lhost-sendmail-14); Gmail and
  Thunderbird write "---------- Forwarded message ---------" above the
  unquoted header block; Outlook "-----Original Message-----" or a line of
  underscores above "From:", "Sent:", "To:", "Subject:"; each in the user's
  language; a reply quotes the bounce with "> " under "On ..., X wrote:".

Each candidate is read as a message of its own, and it counts only when it
really is a bounce: the inner message says so where it names its sender or
subject (a mailer daemon, a failure subject, ``multipart/report``; a
forwarded text whose header labels are in another language may name
neither), and the standard or the text extractors find its recipients in it
(delivery-status fields or a known server's report), or, for a message from
a mailer daemon or postmaster itself, the last-resort heuristics do (Gmail's
"Address not found" names the address in a sentence). An ordinary forwarded
email stays not-bounce.

`parse_message` asks only when the standard and the text extractors found
nothing in the message itself, so a bounce whose returned message merely
quotes another keeps its own recipients, and ordinary bounces pay nothing.
A message from a mail system (mailer daemon, postmaster) is never searched
for a forwarded text: systems attach what they return, only people forward.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bouncetool.extract.heuristic import BOUNCE_SENDER, BOUNCE_SUBJECT
from bouncetool.extract.mail import TOP_WINDOW, Found, Mail
from bouncetool.extract.mime import decode_words, parse_entity

Extractor = Callable[[Mail], "list[Found] | None"]

_ENCLOSED = ("message/rfc822", "message/global")
_REPORT = "multipart/report"

# The line above a forwarded message (lower case: searched in `Mail.top_lower`), seen in
# Apple Mail, Gmail, Thunderbird, Outlook and Seznam in English, Czech, Polish, German,
# French and Spanish; Outlook's newer line of underscores names nothing.
_FORWARD_LINE = re.compile(
    r"^[ \t>]*(?:[-=]{2,}[ \t]*)?(?:begin forwarded message|forwarded message|original message"
    r"|p[řr]eposlan[áa] zpr[áa]va|p[ůu]vodn[íi] zpr[áa]va|p[ůu]vodn[íi] e-?mail"
    r"|wiadomo[śs][ćc] przekazana|oryginalna wiadomo[śs][ćc]|przekazana wiadomo[śs][ćc]"
    r"|weitergeleitete nachricht|urspr[üu]ngliche nachricht|message transf[ée]r[ée]"
    r"|message d'origine|mensaje reenviado|mensaje original)\b[^\n]*\n"
    r"|^_{10,}[ \t]*\n",
    re.MULTILINE,
)
# A sender that is certainly a mail system: the daemons' and postmasters' own names.
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)")
_QUOTE = re.compile(r"^> ?", re.MULTILINE)
_QUOTED_LINE = re.compile(r"^>", re.MULTILINE)
_HEADER_LINE = re.compile(r"[!-9;-~]+[ \t]*:")
_MIN_QUOTED = 5  # fewer quoted lines are a quoted remark, not a quoted message
_MAX_CANDIDATES = 3  # forward lines tried per message (a thread may hold several)
_MAX_FORWARDED = 200_000  # characters of a forwarded message read: a report fits easily


def candidates(mail: Mail) -> Iterator[Mail]:
    """The messages inside `mail` that claim to be bounces: attached ones, then forwarded ones."""
    for part in mail.parts:
        if part.ctype in _ENCLOSED and part.children and part is not mail.root:
            enclosed = part.children[0]
            subject = decode_words(enclosed.headers.get("subject") or "")
            if _claims_bounce(enclosed.ctype, enclosed.headers.get("from"), subject):
                yield Mail(parse_entity(part.payload().lstrip(b"\n"), part.depth + 1))
    if _DAEMON.search(mail.sender):
        return  # mail systems attach what they return; forwarding in the text is a person's
    for text in _forwarded_texts(mail):
        inner = Mail(parse_entity(_as_message(text)))
        sender, subject = inner.header("from"), inner.subject
        if (not sender and not subject) or _claims_bounce(inner.root.ctype, sender, subject):
            yield inner


def from_daemon(extractor: Extractor) -> Extractor:
    """`extractor` asked only for a message whose sender is a mailer daemon or postmaster.

    Inside another message the last-resort heuristics need more than words:
    a forwarded newsletter from "bounce@..." or "noreply@mail..." is no bounce.
    """

    def extract(mail: Mail) -> list[Found] | None:
        return extractor(mail) if _DAEMON.search(mail.sender) else None

    return extract


def _claims_bounce(ctype: str, sender: str | None, subject: str) -> bool:
    return (
        ctype == _REPORT
        or bool(sender and BOUNCE_SENDER.search(sender))
        or bool(subject and BOUNCE_SUBJECT.search(subject))
    )


def _forwarded_texts(mail: Mail) -> Iterator[str]:
    """The text below each forward line, then the first run of "> " quoted lines."""
    body = mail.body
    top = mail.top_lower
    if len(top) != min(len(body), TOP_WINDOW):
        return  # lower-casing moved the positions (rare scripts): nothing to cut reliably
    for count, match in enumerate(_FORWARD_LINE.finditer(top)):
        if count == _MAX_CANDIDATES:
            break
        yield _unquote(body[match.end() : match.end() + _MAX_FORWARDED])
    quoted = _quoted_start(top)
    if quoted is not None:
        yield _unquote(body[quoted : quoted + _MAX_FORWARDED])


def _quoted_start(top: str) -> int | None:
    """Where a quoted message starts: the first quoted line, if enough lines are quoted."""
    if "\n>" not in top:
        return None
    starts = [match.start() for match in _QUOTED_LINE.finditer(top)]
    return starts[0] if len(starts) >= _MIN_QUOTED else None


def _unquote(text: str) -> str:
    """`text` without its "> " quoting (up to three levels) when most of its lines are quoted."""
    for _ in range(3):
        lines = [line for line in text[:TOP_WINDOW].split("\n") if line.strip()]
        quoted = sum(1 for line in lines if line.startswith(">"))
        if quoted < _MIN_QUOTED or quoted * 2 < len(lines):
            break
        text = _QUOTE.sub("", text)
    return text


def _as_message(text: str) -> bytes:
    """A forwarded text as message bytes: its header block, if it opens with one, then its body."""
    text = text.lstrip(" \t\n")
    data = text.encode("utf-8", "replace")
    return data if _HEADER_LINE.match(text) else b"\n" + data
