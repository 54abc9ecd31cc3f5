"""Bounce messages written for the tests: small RFC 3464 reports built on the spot.

The corpus stays outside the repository; these are our own, minimal and
valid, so the IMAP and `run` tests do not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

# Recent dates, so the ledger's retention (60 days back from the real clock) keeps them.
BASE = datetime.now(UTC).replace(hour=8, minute=30, second=0, microsecond=0) - timedelta(days=10)


def dsn(
    recipient: str,
    *,
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown",
    message_id: str | None = None,
    original_id: str | None = None,
    when: datetime | None = None,
    also: Sequence[str] = (),
) -> bytes:
    """A delivery status notification (RFC 3464) saying mail to `recipient` (and `also`) failed."""
    when = when or BASE + timedelta(days=5)
    local = recipient.split("@", maxsplit=1)[0]
    message_id = message_id or f"<dsn-{local}-{status}-{when:%Y%m%d%H%M}@mx.example.net>"
    # One campaign a day: each day's mail to an address has its own Message-ID.
    original_id = original_id or f"<campaign-{when:%Y%m%d}-{local}@news.example.cz>"
    date = format_datetime(when)
    text = f"""\
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: news@example.cz
Subject: Undelivered Mail Returned to Sender
Date: {date}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: {diagnostic.format(recipient=recipient)}

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: {date}

{"".join(_recipient_fields(address, status, diagnostic) for address in (recipient, *also))}\
--BOUNDARY
Content-Type: text/rfc822-headers

From: news@example.cz
To: {recipient}
Subject: Listopadove novinky
Message-ID: {original_id}
X-Campaign: listopad-2026

--BOUNDARY--
"""
    return text.replace("\n", "\r\n").encode("ascii")


def _recipient_fields(recipient: str, status: str, diagnostic: str) -> str:
    return f"""\
Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Remote-MTA: dns; mail.{recipient.split("@")[1]}
Diagnostic-Code: {diagnostic.format(recipient=recipient)}

"""


def soft_dsn(recipient: str, day: int) -> bytes:
    """A mailbox-full (4.2.2) report for `recipient`, dated `day` days after `BASE`."""
    when = BASE + timedelta(days=day)
    return dsn(
        recipient,
        status="4.2.2",
        diagnostic="smtp; 452 4.2.2 <{recipient}>: Mailbox full",
        when=when,
    )


def plain_message(subject: str = "Hello") -> bytes:
    """Ordinary mail that landed in the bounce mailbox: not a bounce."""
    return (
        f"From: someone@example.org\r\nTo: news@example.cz\r\nSubject: {subject}\r\n"
        "Message-ID: <plain-1@example.org>\r\n"
        f"Date: {format_datetime(BASE)}\r\n"
        "\r\nJust saying hello.\r\n"
    ).encode("ascii")
