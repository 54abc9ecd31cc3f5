"""Hostile and broken input: parse_message answers or raises ExtractError, quickly, never worse."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bouncetool import parse_message
from bouncetool.errors import BounceToolError
from bouncetool.extract import ExtractError
from bouncetool.model import Bounce, Kind
from tests.support import TEST_DATA

SAMPLES = TEST_DATA / "bounces"
DSN = (SAMPLES / "postfix-dsn-user-unknown.eml").read_bytes()


def _parse_safely(data: bytes) -> list[Bounce]:
    """parse_message, allowing only its own error, and timing it."""
    start = time.perf_counter()
    try:
        records = parse_message(data)
    except ExtractError:
        records = []
    assert time.perf_counter() - start < 1.0
    return records


class TestEmptyAndTiny:
    """Empty or near-empty input is no bounce, and says so in one record."""

    @pytest.mark.parametrize("data", [b"", b" ", b"\n\n\n", b"\r\n", b"From \n"])
    def test_one_not_bounce_record(self, data: bytes) -> None:
        records = parse_message(data)
        assert [r.kind for r in records] == [Kind.NOT_BOUNCE]

    @pytest.mark.parametrize(
        "data", [b"22\n", b"\x7fELF\x02\x01", b"PK\x03\x04zip", b"jan;novak\n"]
    )
    def test_what_is_not_mail_is_an_error(self, data: bytes) -> None:
        with pytest.raises(ExtractError, match="not an email message"):
            parse_message(data)

    def test_wrong_type_is_a_programming_error(self) -> None:
        with pytest.raises(TypeError):
            parse_message("text, not bytes")  # type: ignore[arg-type]


class TestGarbage:
    """Binary garbage never crashes and never turns into a bounce."""

    def test_random_bytes(self) -> None:
        rng = random.Random(1)  # noqa: S311 (reproducible garbage, not cryptography)
        for size in (1, 10, 100, 1000, 10_000, 100_000):
            data = bytes(rng.randrange(256) for _ in range(size))
            records = _parse_safely(data)
            assert all(r.kind is Kind.NOT_BOUNCE for r in records)

    @settings(max_examples=150, deadline=None)
    @given(st.binary(max_size=3000))
    def test_any_bytes(self, data: bytes) -> None:
        _parse_safely(data)

    @settings(max_examples=150, deadline=None)
    @given(st.integers(min_value=0, max_value=len(DSN)), st.binary(max_size=40))
    def test_a_real_bounce_with_garbage_spliced_in(self, at: int, junk: bytes) -> None:
        _parse_safely(DSN[:at] + junk + DSN[at:])

    def test_extract_error_is_a_bouncetool_error(self) -> None:
        assert issubclass(ExtractError, BounceToolError)


class TestTruncated:
    """A message cut anywhere parses; once its report part is complete, the recipient is found."""

    def test_every_cut(self) -> None:
        for cut in range(0, len(DSN), 37):
            _parse_safely(DSN[:cut])

    def test_cut_after_the_report_keeps_the_recipient(self) -> None:
        cut = DSN.index(b"Content-Description: Undelivered Message Headers")
        (record,) = parse_message(DSN[:cut])
        assert record.recipient == "jan.novak@seznam.cz"
        assert record.status == "5.1.1"


class TestCharsets:
    """Wrong, unknown or missing charsets and 8-bit headers are read, not fatal."""

    def test_unknown_charset(self) -> None:
        data = DSN.replace(b"charset=utf-8", b"charset=x-no-such-charset")
        (record,) = parse_message(data)
        assert record.recipient == "jan.novak@seznam.cz"

    def test_windows_1250_declared_as_utf8(self) -> None:
        (record,) = parse_message((SAMPLES / "cp1250-declared-utf8.eml").read_bytes())
        assert record.recipient == "pavel.marek@centrum.cz"
        assert "Uživatel neexistuje" in (record.diagnostic or "")

    def test_eight_bit_headers(self) -> None:
        data = DSN.replace(
            b"Subject: Undelivered Mail Returned to Sender",
            "Subject: Nedoručitelná zpráva".encode("cp1250"),
        ).replace(b"From: MAILER-DAEMON", "From: Poštmistr MAILER-DAEMON".encode("cp1250"))
        (record,) = parse_message(data)
        assert record.recipient == "jan.novak@seznam.cz"

    def test_broken_encoded_words(self) -> None:
        data = DSN.replace(b"Subject: Undelivered", b"Subject: =?utf-8?q?broken=ZZ?= =?x?b?@@@?=")
        (record,) = parse_message(data)
        assert record.status == "5.1.1"

    @pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
    def test_other_line_ends(self, newline: bytes) -> None:
        (record,) = parse_message(DSN.replace(b"\n", newline))
        assert (record.recipient, record.status) == ("jan.novak@seznam.cz", "5.1.1")


class TestSize:
    """A 15 MB message is read in well under two seconds."""

    def test_fifteen_megabytes(self) -> None:
        attachment = b"QUJD" * (15 * 1024 * 1024 // 4)
        lines = b"\n".join(attachment[i : i + 76] for i in range(0, len(attachment), 76))
        data = DSN.replace(
            b"--4Xk2mP1rQbz9sWd.1740989662/mail.firma-priklad.cz--",
            b"--4Xk2mP1rQbz9sWd.1740989662/mail.firma-priklad.cz\n"
            b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
            + lines
            + b"\n--4Xk2mP1rQbz9sWd.1740989662/mail.firma-priklad.cz--",
        )
        assert len(data) > 15_000_000
        start = time.perf_counter()
        (record,) = parse_message(data)
        assert time.perf_counter() - start < 2.0
        assert record.recipient == "jan.novak@seznam.cz"

    def test_fifteen_megabytes_of_plain_text(self) -> None:
        data = b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\n" + (
            b"nothing to see here, just words and words\n" * 360_000
        )
        start = time.perf_counter()
        parse_message(data)
        assert time.perf_counter() - start < 2.0


class TestNesting:
    """Deeply nested messages neither recurse without end nor slow down."""

    @staticmethod
    def _nested_rfc822(depth: int) -> bytes:
        inner = b"From: someone@example.org\nSubject: innermost\n\nhello\n"
        for level in range(depth):
            boundary = f"b{level}".encode()
            inner = (
                b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n"
                b"Content-Type: multipart/mixed; boundary=" + boundary + b"\n\n"
                b"--" + boundary + b"\nContent-Type: text/plain\n\nsee attached\n"
                b"--"
                + boundary
                + b"\nContent-Type: message/rfc822\n\n"
                + inner
                + b"\n--"
                + boundary
                + b"--\n"
            )
        return inner

    def test_ten_deep(self) -> None:
        records = _parse_safely(self._nested_rfc822(10))
        assert records

    def test_a_thousand_deep(self) -> None:
        records = _parse_safely(self._nested_rfc822(1000))
        assert records

    def test_multipart_bomb(self) -> None:
        data = b"Content-Type: multipart/mixed; boundary=x\n\n" + (
            b"--x\nContent-Type: multipart/mixed; boundary=x\n\n" * 5000
        )
        _parse_safely(data)
