"""The building blocks of extraction: headers, MIME parts, codes and addresses in text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bouncetool.extract import parse_message
from bouncetool.extract.mail import Found
from bouncetool.extract.mime import Headers, content_type, decode_text, parse_entity
from bouncetool.extract.stage import add_trailer_stage
from bouncetool.extract.textscan import (
    clean_diagnostic,
    find_address,
    find_remote_mta,
    find_reply_code,
    find_status,
)


class TestHeaders:
    """Header fields are found by name in any case, unfolded and decoded, first one winning."""

    BLOCK = (
        b"Received: from a\n\tby b\nSUBJECT: Hello\n  world\nSubject: second\n"
        b"X-Spaced  : yes\nFrom: P\xf8\xedklad <a@example.cz>\n"
    )

    def test_case_and_folding(self) -> None:
        headers = Headers(self.BLOCK)
        assert headers.get("subject") == "Hello world"
        assert headers.get("received") == "from a by b"

    def test_space_before_colon(self) -> None:
        assert Headers(self.BLOCK).get("x-spaced") == "yes"

    def test_absent(self) -> None:
        headers = Headers(self.BLOCK)
        assert headers.get("x-nothing") is None
        assert "x-nothing" not in headers
        assert "from" in headers

    def test_eight_bit_value_is_decoded(self) -> None:
        assert Headers(self.BLOCK).get("from") == "Příklad <a@example.cz>"

    def test_first_of_prefers_the_order_given(self) -> None:
        headers = Headers(b"List-Id: <list>\nX-Campaign-ID: c-1\n")
        assert headers.first_of(("X-Campaign-ID", "List-Id")) == "c-1"
        assert headers.first_of(("X-Job", "List-Id")) == "<list>"
        assert headers.first_of(("X-Job",)) is None


class TestMime:
    """Parts are split on their boundary, guessed when the declared one is wrong."""

    def test_content_type_without_semicolon(self) -> None:
        assert content_type('text/plain charset="iso-2022-jp"') == (
            "text/plain",
            {"charset": "iso-2022-jp"},
        )

    def test_wrong_boundary_is_guessed(self) -> None:
        data = (
            b'Content-Type: multipart/report; boundary="declared"\n\n'
            b"--actual\nContent-Type: text/plain\n\nhello\n"
            b"--actual\nContent-Type: message/delivery-status\n\nAction: failed\n--actual--\n"
        )
        entity = parse_entity(data)
        assert [c.ctype for c in entity.children] == ["text/plain", "message/delivery-status"]

    def test_base64_and_quoted_printable(self) -> None:
        b64 = parse_entity(b"Content-Transfer-Encoding: base64\n\naGVs\nbG8=\n")
        qp = parse_entity(b"Content-Transfer-Encoding: quoted-printable\n\nP=C5=99=\n=C3=ADklad\n")
        assert b64.payload() == b"hello"
        assert qp.text() == "Příklad\n"

    def test_windows_1250_under_a_utf8_label(self) -> None:
        assert decode_text("Uživatel".encode("cp1250"), "utf-8") == "Uživatel"


class TestCodes:
    """Enhanced status codes and reply codes are told from IP addresses and versions."""

    @pytest.mark.parametrize(
        ("text", "status", "reply"),
        [
            ("550 5.1.1 <a@example.org>: User unknown", "5.1.1", "550"),
            ("550-5.7.26 Unauthenticated email", "5.7.26", "550"),
            ("host 192.0.2.1 said: 452 4.2.2 Mailbox full", "4.2.2", "452"),
            ("Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1", None),
            ("ERROR_CODE :550, ERROR_CODE :5.1.1", "5.1.1", "550"),
            ("Postfix 3.5.1 said 522 over quota", None, None),
            ("", None, None),
        ],
    )
    def test_found(self, text: str, status: str | None, reply: str | None) -> None:
        assert find_status(text) == status
        assert find_reply_code(text) == reply

    def test_last_code_is_the_innermost_cause(self) -> None:
        text = "554 4.4.7 Message expired <421 4.4.2 Connection timed out>"
        assert find_status(text, last=True) == "4.4.2"
        assert find_reply_code(text, last=True) == "421"


class TestAddressesAndHosts:
    """Addresses come without brackets; remote hosts from Postfix, Exim and Gmail wording."""

    def test_angle_address_preferred(self) -> None:
        assert find_address("x@y.example, then <jan.novak@seznam.cz>") == "jan.novak@seznam.cz"

    def test_quoted_local_part(self) -> None:
        assert find_address('rfc822; "neko..nyaan"@example.org') == '"neko..nyaan"@example.org'

    @pytest.mark.parametrize(
        "text",
        [
            "host mx1.seznam.cz[77.75.78.42] said: 550",
            "host mx1.seznam.cz [77.75.78.42]: 550",
            "by mx1.seznam.cz. [77.75.78.42].",
        ],
    )
    def test_remote_host(self, text: str) -> None:
        assert find_remote_mta(text) == "mx1.seznam.cz"

    def test_diagnostic_is_unfolded(self) -> None:
        assert clean_diagnostic("smtp; 550 5.1.1 <a@b.example>:\n    User   unknown") == (
            "550 5.1.1 <a@b.example>: User unknown"
        )


class TestCommandSection:
    """A report that names the SMTP command in its own section below the answer keeps it."""

    def test_the_command_joins_the_diagnostic(self) -> None:
        data = Path(__file__).parent / "data" / "bounces" / "mfilter-smtp-command-data.eml"
        (bounce,) = parse_message(data.read_bytes())
        assert bounce.recipient == "hana.sato@filtr-priklad.jp"
        assert bounce.diagnostic is not None
        assert "550 unknown user" in bounce.diagnostic
        assert bounce.diagnostic.endswith("(SMTP command: DATA)")

    def test_a_report_without_the_section_is_unchanged(self) -> None:
        found = [Found(recipient="a@example.jp", diagnostic="550 unknown user")]
        add_trailer_stage(found, "-------server message\n550 unknown user\n")
        assert found[0].diagnostic == "550 unknown user"
