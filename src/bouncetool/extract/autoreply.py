"""Automatic replies: out-of-office and vacation messages (RFC 3834).

RFC 3834 marks them ``Auto-Submitted: auto-replied``; older responders write
``X-Autoreply: yes``, ``X-Autorespond``, ``Precedence: auto_reply`` (seen from
Zimbra, cPanel and Horde), and Exchange / Outlook only prefix the subject with
"Automatic reply:" (seen from Office 365). They are never a bounce: the
address works and a person will read the mail later. The record's recipient
is the address that replied (its ``From``).

Mailer daemons mark bounces ``auto-replied`` too (seen from Google Groups), so
a message that comes from a mailer daemon or whose subject speaks of a failed
delivery is left for the bounce extractors.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import collapse, find_address
from bouncetool.model import Kind

_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic|matische)?[ _-]?(?:reply|response|respons|antwort|answer)"
    r"|auto:|out of (?:the )?office|on vacation|vacation reply|away from"
    r"|abwesenheit|automatick[áa] odpov[ěe]ď|nep[řr][íi]tomnost|mimo kancel[áa][řr]"
    r"|odpowied[źz] automatyczna|autoodpowied[źz]|r[ée]ponse automatique|absence"
    r"|risposta automatica|respuesta autom[áa]tica|fuera de la oficina)",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster@|mail delivery|mdaemon|mail administrator")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status|fail|notification)|failure notice|returned mail"
    r"|not (?:be )?delivered|mail delivery|nondeliver|non-deliver|unzustellbar|nedoru[čc]",
    re.IGNORECASE,
)


def extract(mail: Mail) -> list[Found] | None:
    """One auto-reply record for the replying address, or None when this is no auto-reply."""
    if not _looks_automatic(mail) or _looks_like_bounce(mail):
        return None
    return [
        Found(
            recipient=find_address(mail.header("from")),
            diagnostic=collapse(mail.body[:400]) or None,
            kind=Kind.AUTO_REPLY,
        )
    ]


def _looks_automatic(mail: Mail) -> bool:
    headers = mail.headers
    if (headers.get("auto-submitted") or "").strip().lower().startswith("auto-replied"):
        return True
    if any(name in headers for name in ("x-autoreply", "x-autorespond", "x-autoresponder")):
        return True
    if (headers.get("precedence") or "").strip().lower() == "auto_reply":
        return True
    return bool(_SUBJECT.search(mail.subject))


def _looks_like_bounce(mail: Mail) -> bool:
    return bool(_BOUNCE_SENDER.search(mail.sender) or _BOUNCE_SUBJECT.search(mail.subject))
