"""Complaints: the Abuse Reporting Format (RFC 5965) and one-click unsubscribes.

An ARF report is ``multipart/report; report-type=feedback-report`` with a
human-readable part, a ``message/feedback-report`` part (``Feedback-Type``,
``Original-Rcpt-To``, ``Original-Mail-From``, ``Arrival-Date``,
``Source-IP``) and the reported message (or its headers). The complained-about
recipients are the ``Original-Rcpt-To`` fields (several in one report, seen in
Return Path and abusix feedback loops); without them, ``Removal-Recipient``
(RFC 6650) or the ``To`` of the reported message (Yahoo, AOL loops).

Microsoft's Junk Mail Reporting Program attaches the reported message and
names the complaining recipient in ``X-HmXmrOriginalRecipient``.

Apple Mail's unsubscribe button sends an ordinary message marked
``X-Apple-Unsubscribe: true`` from the recipient (seen from icloud.com): an
``opt-out`` complaint about its sender's address.
"""

from __future__ import annotations

import re

from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.textscan import clean_diagnostic, find_address
from bouncetool.model import Kind

_FIELD = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$", re.MULTILINE)


def extract(mail: Mail) -> list[Found] | None:
    """One complaint per reported recipient, or None when this is no feedback report."""
    reports = mail.parts_of("message/feedback-report")
    if not reports:
        report_type = mail.root.params.get("report-type", "").lower()
        if report_type != "feedback-report":
            return _apple_unsubscribe(mail) or _hotmail_jmrp(mail)
        reports = [p for p in mail.parts if p.ctype == "text/plain" and "Feedback-Type" in p.text()]
        if not reports:
            return None
    fields: dict[str, list[str]] = {}
    for match in _FIELD.finditer(reports[0].text()):
        fields.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    recipients: list[str | None] = [
        a for v in fields.get("original-rcpt-to", []) if (a := find_address(v))
    ]
    if not recipients:
        recipients = [a for v in fields.get("removal-recipient", []) if (a := find_address(v))]
    if not recipients:
        original = mail.original_headers()
        address = find_address((original.get("to") if original else None) or "")
        recipients = [address] if address else []
    feedback_type = (_first(fields, "feedback-type") or "abuse").lower()
    diagnostic = clean_diagnostic(_first_text(mail))
    date = _first(fields, "arrival-date") or _first(fields, "received-date")
    reporting = _first(fields, "reporting-mta")
    return [
        Found(
            recipient=recipient,
            diagnostic=diagnostic,
            feedback_type=feedback_type,
            kind=Kind.COMPLAINT,
            date=date,
            reporting_mta=reporting.partition(";")[2].strip() if reporting else None,
        )
        for recipient in (recipients or [None])
    ]


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _first_text(mail: Mail) -> str | None:
    for part in mail.parts:
        if part.ctype == "text/plain" and not part.children and part is not mail.root:
            return part.text()[:2000]
    return None


def _hotmail_jmrp(mail: Mail) -> list[Found] | None:
    # Microsoft's Junk Mail Reporting Program (seen from staff@hotmail.com, arf-22..24):
    # the reported message is attached as message/rfc822 and names the complaining
    # recipient in X-HmXmrOriginalRecipient.
    value: str | None = mail.header("x-hmxmroriginalrecipient")
    if not value:
        if "complaint" not in mail.subject.lower():
            return None
        original = mail.original_headers()
        value = original.get("x-hmxmroriginalrecipient") if original else None
    if not value:
        return None
    return [Found(recipient=find_address(value), feedback_type="abuse", kind=Kind.COMPLAINT)]


def _apple_unsubscribe(mail: Mail) -> list[Found] | None:
    # Seen from icloud.com: "Apple Mail sent this email to unsubscribe from the message ...".
    if mail.header("x-apple-unsubscribe").strip().lower() != "true":
        return None
    return [
        Found(
            recipient=find_address(mail.header("from")),
            diagnostic=clean_diagnostic(mail.body[:500]),
            feedback_type="opt-out",
            kind=Kind.COMPLAINT,
        )
    ]
