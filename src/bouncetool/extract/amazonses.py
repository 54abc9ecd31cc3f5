"""Amazon SES notifications delivered by e-mail through Amazon SNS.

SES can publish bounce, complaint and delivery events to an SNS topic whose
e-mail subscribers get the event as JSON in a plain-text message ("AWS
Notification Message" from no-reply@sns.amazonaws.com)::

    {"notificationType":"Bounce","bounce":{"bounceType":"Permanent",
     "bouncedRecipients":[{"emailAddress":"bounce@simulator.amazonses.com",
       "action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],
     "reportingMTA":"dsn; a27-23.smtp-out.us-west-2.amazonses.com", ...},
     "mail":{"source":"...","messageId":"...", ...}}

``Complaint`` events list ``complainedRecipients`` (with
``complaintFeedbackType``), ``Delivery`` events ``delivery.recipients``.
SNS folds long lines by inserting ``!`` + newline + space, which is undone
before the JSON is read (seen in amazonses-09).
"""

from __future__ import annotations

import json
from typing import Any

from bouncetool.extract.mail import Found, Mail
from bouncetool.model import Kind


def extract(mail: Mail) -> list[Found] | None:
    """Recipients of an SES event notification, or None when the body holds none."""
    event = _event(mail.body)
    if event is None:
        return None
    kind = str(event.get("notificationType") or event.get("eventType") or "").lower()
    if kind == "bounce":
        return _bounces(event.get("bounce") or {})
    if kind == "complaint":
        return _complaints(event.get("complaint") or {})
    if kind == "delivery":
        return _deliveries(event.get("delivery") or {})
    return None


def _event(body: str) -> dict[str, Any] | None:
    start = body.find("{")  # '{"notificationType"...' or the SNS envelope '{\n  "Type" ...'
    if start < 0 or ("notificationType" not in body and "eventType" not in body):
        return None
    end = body.rfind("}")
    text = body[start : end + 1].replace("!\n ", "").replace("\n", "")
    try:
        event = json.loads(text)
        if isinstance(event, dict) and isinstance(event.get("Message"), str):
            # The SNS envelope ("Type": "Notification") carries the SES event as a string.
            event = json.loads(event["Message"])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _bounces(bounce: dict[str, Any]) -> list[Found]:
    permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
    reporting = str(bounce.get("reportingMTA") or "").partition(";")[2].strip() or None
    return [
        Found(
            recipient=str(item.get("emailAddress") or "") or None,
            status=item.get("status") or None,
            action=item.get("action") or None,
            diagnostic=item.get("diagnosticCode") or None,
            reporting_mta=reporting,
            date=_date(bounce.get("timestamp")),
            permanent=permanent,
        )
        for item in bounce.get("bouncedRecipients") or []
        if isinstance(item, dict)
    ] or []


def _complaints(complaint: dict[str, Any]) -> list[Found]:
    feedback = str(complaint.get("complaintFeedbackType") or "abuse")
    return [
        Found(
            recipient=str(item.get("emailAddress") or "") or None,
            kind=Kind.COMPLAINT,
            feedback_type=feedback,
            date=_date(complaint.get("timestamp")),
        )
        for item in complaint.get("complainedRecipients") or []
        if isinstance(item, dict)
    ]


def _deliveries(delivery: dict[str, Any]) -> list[Found]:
    return [
        Found(
            recipient=str(address),
            action="delivered",
            status="2.0.0",
            diagnostic=delivery.get("smtpResponse") or None,
            remote_mta=delivery.get("remoteMtaIp") or None,
            reporting_mta=delivery.get("reportingMTA") or None,
            date=_date(delivery.get("timestamp")),
        )
        for address in delivery.get("recipients") or []
    ]


def _date(value: Any) -> str | None:
    # SES gives ISO 8601 already ("2016-10-21T00:06:40.502Z"); finish() passes it through.
    return str(value) if value else None
