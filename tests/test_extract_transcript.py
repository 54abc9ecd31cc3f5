"""Sendmail's session transcript fills in a report's silent diagnostics, and only those."""

from __future__ import annotations

import time

from bouncetool import parse_message
from bouncetool.model import Bounce


def _report(transcript: str, *blocks: str) -> bytes:
    """A Sendmail-style multipart/report with `transcript` and one DSN block per recipient."""
    fields = "\n\n".join(blocks)
    text = f"""From: Mail Delivery Subsystem <MAILER-DAEMON@mx.odesilatel-priklad.cz>
To: <info@odesilatel-priklad.cz>
Date: Mon, 17 Nov 2025 09:00:00 +0100
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B

   ----- Transcript of session follows -----
{transcript}

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.odesilatel-priklad.cz

{fields}

--B--
"""
    return text.encode()


def _block(recipient: str, diagnostic: str | None, status: str = "5.0.0") -> str:
    lines = [f"Final-Recipient: RFC822; {recipient}", "Action: failed", f"Status: {status}"]
    if diagnostic is not None:
        lines.append(f"Diagnostic-Code: {diagnostic}")
    return "\n".join(lines)


def _by_recipient(data: bytes) -> dict[str | None, Bounce]:
    return {bounce.recipient: bounce for bounce in parse_message(data)}


class TestWhatIsFilledIn:
    """Only a missing, empty or exit-status diagnostic is replaced by the transcript."""

    def test_exit_status_is_replaced_and_kept(self) -> None:
        data = _report(
            "550 5.0.0 <eva@firma-priklad.cz>... Can't create output",
            _block("eva@firma-priklad.cz", "X-Unix; 73"),
        )
        bounce = _by_recipient(data)["eva@firma-priklad.cz"]
        assert (
            bounce.diagnostic
            == "550 5.0.0 <eva@firma-priklad.cz>... Can't create output (X-Unix; 73)"
        )
        assert bounce.reply_code == "550"

    def test_bare_smtp_reply_code_is_kept(self) -> None:
        data = _report(
            "<eva@firma-priklad.cz>... Deferred: Connection reset by mx.firma-priklad.cz",
            _block("eva@firma-priklad.cz", "SMTP; 421", status="4.0.0"),
        )
        assert _by_recipient(data)["eva@firma-priklad.cz"].diagnostic == "421"

    def test_real_diagnostic_is_kept(self) -> None:
        data = _report(
            "554 5.0.0 <eva@firma-priklad.cz>... Service unavailable",
            _block(
                "eva@firma-priklad.cz", "SMTP; 550 5.1.1 <eva@firma-priklad.cz>... No such user"
            ),
        )
        bounce = _by_recipient(data)["eva@firma-priklad.cz"]
        assert bounce.diagnostic == "550 5.1.1 <eva@firma-priklad.cz>... No such user"
        assert bounce.reply_code == "550"

    def test_without_transcript_the_exit_status_stays(self) -> None:
        data = _report("", _block("eva@firma-priklad.cz", "X-Unix; 75")).replace(
            b"Transcript of session follows", b"Errors follow"
        )
        assert _by_recipient(data)["eva@firma-priklad.cz"].diagnostic == "75"


class TestWhichLineAnswers:
    """A recipient gets the line naming its whole address; a line naming another is not its."""

    def test_each_recipient_gets_its_own_line(self) -> None:
        data = _report(
            "550 5.1.1 <jan@firma-priklad.cz>... User unknown\n"
            "452 4.2.2 <eva@firma-priklad.cz>... Mailbox full",
            _block("jan@firma-priklad.cz", "X-Unix; 67"),
            _block("eva@firma-priklad.cz", "X-Unix; 75", status="4.2.2"),
        )
        found = _by_recipient(data)
        assert found["jan@firma-priklad.cz"].reply_code == "550"
        assert found["eva@firma-priklad.cz"].reply_code == "452"
        assert "Mailbox full" in (found["eva@firma-priklad.cz"].diagnostic or "")

    def test_a_longer_address_is_not_the_recipient(self) -> None:
        data = _report(
            "550 5.1.1 <xjan@firma-priklad.cz>... User unknown\n"
            "550 5.1.1 <jan@firma-priklad.cz.example>... User unknown",
            _block("jan@firma-priklad.cz", "X-Unix; 67"),
            _block("petr@firma-priklad.cz", "X-Unix; 67"),
        )
        assert _by_recipient(data)["jan@firma-priklad.cz"].diagnostic == "67"

    def test_lone_recipient_takes_the_only_failure_line(self) -> None:
        data = _report(
            '554 "|/usr/local/bin/filtr"... Service unavailable',
            _block("jan@firma-priklad.cz", None),
        )
        bounce = _by_recipient(data)["jan@firma-priklad.cz"]
        assert bounce.diagnostic == '554 "|/usr/local/bin/filtr"... Service unavailable'
        assert bounce.reply_code == "554"


class TestHostileTranscript:
    """A huge transcript without blank lines is read in a bounded window, quickly."""

    def test_megabyte_of_lines(self) -> None:
        lines = "\n".join(f"<<< 550 line {n} of nothing" for n in range(50_000))
        data = _report(lines, _block("jan@firma-priklad.cz", "X-Unix; 77"))
        started = time.perf_counter()
        bounce = _by_recipient(data)["jan@firma-priklad.cz"]
        assert time.perf_counter() - started < 1.0
        assert bounce.reply_code == "550"
