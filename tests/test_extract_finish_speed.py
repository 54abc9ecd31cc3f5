"""The fast paths of finishing a record give exactly what the plain ways give."""

from __future__ import annotations

import importlib

from hypothesis import given
from hypothesis import strategies as st

from bouncetool.extract import CAMPAIGN_HEADERS
from bouncetool.extract.mail import Found, Mail
from bouncetool.extract.mime import parse_entity
from bouncetool.extract.textscan import (
    _REMOTE_HOST,
    ADDRESS,
    find_address,
    find_codes,
    find_remote_mta,
    find_reply_code,
    find_status,
    iter_addresses,
)
from bouncetool.model import Bounce, Kind

# Digits, dots and the characters around codes, in every mix: the code finders' hard cases.
_CODE_TEXT = st.text(alphabet="245013 .:#/-,;)]ax\n", max_size=24)


class TestBothCodesInOneScan:
    """find_codes answers what find_status and find_reply_code (last=True) answer apart."""

    @given(_CODE_TEXT)
    def test_same_codes(self, text: str) -> None:
        expected = (find_status(text, last=True), find_reply_code(text, last=True))
        assert find_codes(text) == expected

    def test_innermost_cause_and_no_success_after_failure(self) -> None:
        text = "554 4.4.7 expired <421 4.4.2 timed out> 221 2.0.0 Bye"
        assert find_codes(text) == ("4.4.2", "421")

    def test_nothing_in_nothing(self) -> None:
        assert find_codes(None) == (None, None)
        assert find_codes("") == (None, None)
        assert find_codes("Postfix 3.5.1 said 522 over quota") == (None, None)


# (The package's `finish` is the function of that name; the module is asked for by name.)
finish = importlib.import_module("bouncetool.extract.finish")


def _quoted_mail(body: str) -> Mail:
    return Mail(parse_entity(b"From: MAILER-DAEMON\nSubject: failure\n\n" + body.encode()))


def _old_quoted(body: str) -> dict[str, str]:
    quoted: dict[str, str] = {}
    for match in finish._QUOTED_HEADER.finditer("\n" + body):
        quoted.setdefault(match.group(1).lower(), match.group(2).strip())
    return quoted


_QUOTED_LINES = st.lists(
    st.sampled_from(
        [
            "Message-ID: <a@b>", "message-id:  <c@d> ", "From: x <x@example.org>",
            "FROM: y@example.org", "Return-Path: <r@example.org>", "X-Job: 7", "x-job:\t ",
            "X-Campaign-ID:  ", "X-Campaign-ID: c1", "List-Id: <l.example.org>", "text",
            "From : spaced@example.org", "Feedback-ID: 1:2:3",
        ]
    ),
    max_size=8,
).map("\n".join)  # fmt: skip


class TestQuotedOriginal:
    """Quoted headers of the original give the first line of each name, as they always did."""

    @given(_QUOTED_LINES)
    def test_same_fields(self, body: str) -> None:
        quoted = finish._original(_quoted_mail(body))
        assert isinstance(quoted, dict)
        assert {name: value.strip() for name, value in quoted.items()} == _old_quoted(body)

    @given(_QUOTED_LINES)
    def test_same_facts(self, body: str) -> None:
        old = _old_quoted(body)
        expected = (
            finish._message_id(old.get("message-id")),
            find_address(old.get("from") or "") or find_address(old.get("return-path") or ""),
            next((old[n.lower()] for n in CAMPAIGN_HEADERS if old.get(n.lower())), None),
        )
        assert finish._original_facts(_quoted_mail(body), CAMPAIGN_HEADERS) == expected


class TestOriginalFactsReadOnce:
    """The original's facts are read once per message and campaign headers asked for."""

    def test_other_campaign_headers_read_again(self) -> None:
        mail = _quoted_mail("From: a@example.org\nX-Job: 7\nList-Id: <l.example.org>\n")
        assert finish._original_facts(mail, ("X-Job",))[2] == "7"
        assert finish._original_facts(mail, ("X-Job",))[2] == "7"
        assert finish._original_facts(mail, ("List-Id",))[2] == "<l.example.org>"
        assert finish._original_facts(mail, ())[2] is None


_HOST_TEXT = st.lists(
    st.sampled_from(
        ["host", "HOST", "by", "By", "from", "FROM", "xhost", " ", ":", "mx", "a.b", "A.B", ".",
         "[", "]", "1.2", "af", "::", "-", "_", "é", "ſ"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


class TestRemoteHost:
    """find_remote_mta finds what the case-insensitive pattern finds, lower-cased."""

    @given(_HOST_TEXT)
    def test_same_host(self, text: str) -> None:
        found = _REMOTE_HOST.search(text) if "[" in text else None
        assert find_remote_mta(text) == (found.group(1).lower() if found else None)

    def test_mixed_case_host(self) -> None:
        text = "Host MX1.Example.ORG[192.0.2.1] said: 550 no"
        assert find_remote_mta(text) == "mx1.example.org"


_WITH_ORIGINAL = b"""From: MAILER-DAEMON@mx.example.org
Date: Mon, 23 Nov 2026 10:00:00 +0100
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

failed
--b
Content-Type: message/rfc822

Message-ID: <m1@example.com>
From: News <news@example.com>
X-Campaign-ID: spring

hello
--b--
"""


class TestEveryFieldInItsPlace:
    """finish builds the Bounce positionally: each value lands in the field it belongs to."""

    def test_fields(self) -> None:
        found = Found(
            recipient="r@example.org",
            diagnostic="smtp; 550 5.1.1 host mx.example.org[192.0.2.1] said: no",
            action="failed",
            reporting_mta="reporter.example.org",
            date="Tue, 24 Nov 2026 11:00:00 +0100",
            original_recipient="o@example.org",
            feedback_type=None,
        )
        mail = Mail(parse_entity(_WITH_ORIGINAL))
        bounce = finish.finish(found, mail, CAMPAIGN_HEADERS)
        assert bounce == Bounce(
            kind=Kind.HARD,
            recipient="r@example.org",
            original_recipient="o@example.org",
            action="failed",
            status="5.1.1",
            reply_code="550",
            diagnostic="550 5.1.1 host mx.example.org[192.0.2.1] said: no",
            remote_mta="mx.example.org",
            reporting_mta="reporter.example.org",
            date="2026-11-24T11:00:00+01:00",
            original_message_id="<m1@example.com>",
            original_sender="news@example.com",
            campaign="spring",
            feedback_type=None,
        )

    def test_feedback_type_and_mail_date(self) -> None:
        found = Found(recipient="r@example.org", kind=Kind.COMPLAINT, feedback_type="abuse")
        bounce = finish.finish(found, Mail(parse_entity(_WITH_ORIGINAL)), CAMPAIGN_HEADERS)
        assert (bounce.kind, bounce.feedback_type, bounce.action) == (Kind.COMPLAINT, "abuse", None)
        assert bounce.date == "2026-11-23T10:00:00+01:00"
        assert (bounce.status, bounce.reply_code, bounce.remote_mta) == (None, None, None)


_ADDRESS_TEXT = st.lists(
    st.sampled_from(
        ["a", "B", ".", "@", "x.org", "-", " ", "\t", "<", ">", '"', '"x"', "é", "\n", ",", "+",
         "a@b", "c@d.e", "q q"]
    ),
    max_size=14,
).map("".join)  # fmt: skip


class TestAddressSearchSkipsAddresslessText:
    """iter_addresses finds exactly the matches ADDRESS.finditer finds."""

    @given(_ADDRESS_TEXT)
    def test_same_matches(self, text: str) -> None:
        found = [(m.span(), m.group(0)) for m in iter_addresses(text)]
        assert found == [(m.span(), m.group(0)) for m in ADDRESS.finditer(text)]

    def test_own_addresses(self) -> None:
        mail = Mail(
            parse_entity(
                b"To: Me <Me@Example.org>, me@example.org\n"
                b"From: Mail Delivery <MAILER-DAEMON@mx.example.org.>\n\nbody\n"
            )
        )
        assert mail.own_addresses == {"me@example.org", "mailer-daemon@mx.example.org"}
