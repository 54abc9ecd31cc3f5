"""The fast paths of the extractor give exactly what the plain ways give."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bouncetool import smtpcodes
from bouncetool.extract.dates import iso_date
from bouncetool.extract.mime import parse_headers
from bouncetool.extract.textscan import REPLY, STATUS, collapse


def _standard(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value.strip()).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_DATE_PIECES = st.sampled_from(
    [
        "Mon, ", "mon, ", "Foo, ", "", "Tue ", "1", "23", "32", "0", "Nov", "nov", "Feb",
        "2026", "0099", "1999", "99", "10:00", "10:00:00", "25:00:00", "9:5:1", " +0100",
        " -0000", " +0000", " -0830", " GMT", " +2400", " (CET)", " ", "  ",
    ]
)  # fmt: skip


class TestDates:
    """iso_date reads every date as email.utils does, the common form included."""

    @pytest.mark.parametrize(
        "value",
        [
            "Mon, 23 Nov 2026 10:00:00 +0100",
            "23 Nov 2026 10:00 -0500 (EST)",
            "Mon, 23 Nov 2026 10:00:00 -0000",  # zone unknown: naive
            "Mon, 23 Nov 2026 10:00:00 +0000",
            "Mon, 23 Nov 2026 10:00:00 GMT",
            "Sun, 29 Feb 2026 10:00:00 +0100",  # no such day
            "Mon, 23 Nov 26 10:00:00 +0100",  # two-digit year
            "Mon, 23 Nov 0099 10:00:00 +0100",
        ],
    )
    def test_known_forms(self, value: str) -> None:
        assert iso_date.__wrapped__(value) == _standard(value)

    @given(st.lists(_DATE_PIECES, min_size=1, max_size=7).map("".join))
    def test_any_mix_of_pieces(self, value: str) -> None:
        if value[:4].isdigit() and "T" in value:
            return  # ISO dates take another path
        assert iso_date.__wrapped__(value) == _standard(value)


_CODE_TEXT = st.text(alphabet="245 .:#/-a0\n", max_size=14)


def _spans(
    pattern: re.Pattern[str], text: str
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


class TestCodeFinders:
    """The code patterns, look-behind moved after the first digit, match where the old ones did."""

    @given(_CODE_TEXT)
    def test_status(self, text: str) -> None:
        old = re.compile(r"(?<![\d.\w])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
        assert _spans(STATUS, text) == _spans(old, text)

    @given(_CODE_TEXT)
    def test_reply(self, text: str) -> None:
        old = re.compile(r"(?<![\d.\w#-])([245][0-5]\d)(?![\d.])(?:[ \-:,;)\]]|$)", re.MULTILINE)
        assert _spans(REPLY, text) == _spans(old, text)

    @given(_CODE_TEXT)
    def test_rule_engine_codes(self, text: str) -> None:
        old_reply = re.compile(r"(?<![\w.#:/-])([245]\d\d)(?=[ \-:]|$)")
        old_status = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]\d)")
        found = old_reply.search(text, 0, 400)
        assert smtpcodes.find_reply_code(text) == (found.group(1) if found else None)
        found = old_status.search(text, 0, 400)
        assert smtpcodes.find_status(text) == (".".join(found.groups()) if found else None)


class TestHeaders:
    """Header lookup is case-insensitive, unfolds values, and the first occurrence wins."""

    def test_lookup(self) -> None:
        headers = parse_headers(
            b"Received: one\nSubject: first\n  folded\nsubject: second\nX-Odd :  spaced\n"
        )
        assert headers.get("SUBJECT") == "first folded"
        assert headers.get("x-odd") == "spaced"
        assert headers.get("missing") is None
        assert headers.first_of(("X-None", "Received", "Subject")) == "one"


class TestCollapse:
    """collapse makes every run of white space (Unicode's too) one space, as the regex \\s+ did."""

    @given(
        st.text(
            alphabet=st.sampled_from(["a", " ", "\t", "\n", "\xa0", "\u2028", "\x1c", "\u200b"])
        )
    )
    def test_same_as_regex(self, text: str) -> None:
        assert collapse(text) == re.sub(r"\s+", " ", text).strip()
