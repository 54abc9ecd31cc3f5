"""A bounce inside another message: forwarded by a person, or attached to another message.

The samples in tests/data/bounces cover one message of each kind; these tests
vary the wrapping the way mail clients do (forward lines, quoting, header
labels in the user's language) around one bounce of our own.
"""

from __future__ import annotations

import pytest

from bouncetool import parse_message
from bouncetool.extract import nested
from bouncetool.model import Kind
from tests.support import TEST_DATA

SAMPLES = TEST_DATA / "bounces"

# A qmail bounce as a mail client shows it: its header block, then the report. Read
# where it stands, the header block ends the report before the address: only the
# forwarded message, read as a message of its own, gives the recipient.
FORWARDED_HEADERS = """\
From: MAILER-DAEMON@mx.volny-priklad.cz
Sent: Tuesday, March 4, 2025 8:12 AM
To: petr.maly@eshop-priklad.cz
Subject: failure notice
"""
QMAIL_REPORT = """\
Hi. This is the qmail-send program at mx.volny-priklad.cz.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<vera.bartosova@volny-priklad.cz>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Message-ID: <objednavka-8812@eshop-priklad.cz>
From: Petr Maly <petr.maly@eshop-priklad.cz>
To: vera.bartosova@volny-priklad.cz
Subject: Potvrzeni objednavky 8812
"""


ORDINARY = "From: Jana <jana@firma-priklad.cz>\nSubject: Porada\n\n"


def forward(text: str, *, subject: str = "Fwd: failure notice") -> bytes:
    """A person's message to the bounce mailbox with `text` below a line of their own."""
    return (
        "From: Petr Maly <petr.maly@eshop-priklad.cz>\n"
        "To: bounces@eshop-priklad.cz\n"
        f"Subject: {subject}\n"
        "Date: Tue, 4 Mar 2025 08:31:02 +0100\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"Dalsi vracena zprava.\n\n{text}"
    ).encode()


def quote(text: str, prefix: str = "> ") -> str:
    """`text` quoted line by line, as replies and Apple Mail quote it."""
    return "".join(f"{prefix}{line}".rstrip() + "\n" for line in text.split("\n"))


def recipients(data: bytes) -> list[str | None]:
    """The recipients `parse_message` gives for `data`."""
    return [record.recipient for record in parse_message(data)]


class TestForwardLines:
    """The line each mail client writes above a forwarded message leads to the bounce below it."""

    @pytest.mark.parametrize(
        "line",
        [
            "Begin forwarded message:",  # Apple Mail
            "---------- Forwarded message ---------",  # Gmail
            "-------- Forwarded Message --------",  # Thunderbird
            "-----Original Message-----",  # Outlook
            "________________________________",  # Outlook, newer
            "---------- Přeposlaná zpráva ---------",  # Gmail in Czech
            "-----Původní zpráva-----",  # Outlook in Czech
            "---------- Wiadomość przekazana dalej ---------",  # Gmail in Polish
            "-----Ursprüngliche Nachricht-----",  # Outlook in German
        ],
    )
    def test_forward_line(self, line: str) -> None:
        data = forward(f"{line}\n{FORWARDED_HEADERS}\n{QMAIL_REPORT}")
        assert recipients(data) == ["vera.bartosova@volny-priklad.cz"]


class TestQuoting:
    """Quoting with "> ", one or two levels deep, is taken off before the bounce is read."""

    @pytest.mark.parametrize("prefix", ["> ", ">", "> > "])
    def test_quoted_under_forward_line(self, prefix: str) -> None:
        text = quote(f"{FORWARDED_HEADERS}\n{QMAIL_REPORT}", prefix)
        assert recipients(forward(f"Begin forwarded message:\n\n{text}")) == [
            "vera.bartosova@volny-priklad.cz"
        ]

    def test_forward_line_quoted_too(self) -> None:
        # A reply to a forward: Gmail's forward line and the bounce below it, all quoted.
        text = quote(f"---------- Forwarded message ---------\n{FORWARDED_HEADERS}\n{QMAIL_REPORT}")
        assert recipients(forward(text, subject="Re: Fwd: failure notice")) == [
            "vera.bartosova@volny-priklad.cz"
        ]

    def test_quoted_reply_without_forward_line(self) -> None:
        text = "On Tue, 4 Mar 2025, MAILER-DAEMON wrote:\n" + quote(QMAIL_REPORT)
        assert recipients(forward(text, subject="Re: failure notice")) == [
            "vera.bartosova@volny-priklad.cz"
        ]


class TestHeaderLabels:
    """A forwarded bounce whose header labels are in the user's language counts on its report."""

    def test_czech_outlook_labels(self) -> None:
        headers = (
            "Od: MAILER-DAEMON@mx.volny-priklad.cz\n"
            "Odesláno: úterý 4. března 2025 8:12\n"
            "Komu: petr.maly@eshop-priklad.cz\n"
            "Předmět: failure notice\n"
        )
        data = forward(f"-----Původní zpráva-----\n{headers}\n{QMAIL_REPORT}")
        assert recipients(data) == ["vera.bartosova@volny-priklad.cz"]


class TestFactsOfTheInnerBounce:
    """The inner bounce's own returned message gives the original's facts."""

    def test_original_message_of_the_forwarded_bounce(self) -> None:
        (record,) = parse_message(forward(f"Begin forwarded message:\n\n{quote(QMAIL_REPORT)}"))
        assert record.original_message_id == "<objednavka-8812@eshop-priklad.cz>"
        assert record.original_sender == "petr.maly@eshop-priklad.cz"

    def test_forward_date_stands_in_when_the_bounce_has_none(self) -> None:
        (record,) = parse_message(forward(f"Begin forwarded message:\n\n{quote(QMAIL_REPORT)}"))
        assert record.date == "2025-03-04T08:31:02+01:00"


class TestOnlyBouncesCount:
    """A forwarded or quoted message that is no bounce leaves the message not-bounce."""

    @pytest.mark.parametrize(
        "text",
        [
            "Begin forwarded message:\n\n" + quote(ORDINARY + "Porada bude v 10.\n" * 6),
            "---------- Forwarded message ---------\nFrom: Jana <jana@firma-priklad.cz>\n"
            "Subject: Porada\n\nPorada bude v 10, prijdte vsichni.\n",
        ],
        ids=["quoted", "unquoted"],
    )
    def test_ordinary_forward(self, text: str) -> None:
        (record,) = parse_message(forward(text, subject="Fwd: Porada"))
        assert record.kind is Kind.NOT_BOUNCE

    def test_forwarded_newsletter_from_a_no_reply_sender(self) -> None:
        # Its sender looks automatic, but only a mail system's own message is read
        # without a known layout: the address alone on its line is no failed recipient.
        text = (
            "---------- Forwarded message ---------\n"
            "From: Obchod <noreply@mail.obchod-priklad.cz>\n"
            "Subject: Potvrzeni objednavky\n\n"
            "Dekujeme za objednavku. Dotazy piste na:\n\n"
            "<info@obchod-priklad.cz>\n"
        )
        (record,) = parse_message(forward(text, subject="Fwd: Potvrzeni objednavky"))
        assert record.kind is Kind.NOT_BOUNCE

    def test_attached_message_that_claims_nothing_is_not_read(self) -> None:
        # The gateway's own notice decides; its returned message quotes a qmail bounce.
        data = (SAMPLES / "notice-original-quotes-a-bounce.eml").read_bytes()
        assert recipients(data) == ["reklamace@brana-priklad.cz"]


class TestMailSystemsDoNotForward:
    """A mail system's own notice is never read as a person's forward: its own words decide."""

    def test_returned_forward_of_a_bounce(self) -> None:
        # The gateway returns a message that was itself a forwarded bounce.
        data = (
            "From: Mail Delivery System <MAILER-DAEMON@brana-priklad.cz>\n"
            "To: bounces@eshop-priklad.cz\n"
            "Subject: Mail delivery failed\n"
            "Date: Tue, 4 Mar 2025 09:00:00 +0100\n\n"
            "Unknown user: reklamace@brana-priklad.cz\n\n"
            f"----- Original message -----\n{FORWARDED_HEADERS}\n{QMAIL_REPORT}"
        ).encode()
        assert recipients(data) == ["reklamace@brana-priklad.cz"]


class TestAskedOnlyWhenNothingElseFound:
    """Messages the standard or text extractors read are never searched for a bounce inside."""

    @pytest.mark.parametrize(
        "name",
        [
            "postfix-dsn-user-unknown.eml",
            "qmail-user-unknown.eml",
            "dsn-original-quotes-a-bounce.eml",
        ],
    )
    def test_not_asked(self, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        def refuse(mail: object) -> None:
            raise AssertionError("looked inside a message that was read already")

        monkeypatch.setattr(nested, "candidates", refuse)
        assert recipients((SAMPLES / name).read_bytes())
