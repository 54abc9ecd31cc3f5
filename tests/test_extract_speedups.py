"""The fast paths of the extractor give exactly what the plain ways give."""

from __future__ import annotations

import importlib
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bouncetool import rules, smtpcodes
from bouncetool.extract import dsn, heuristic, layout, mime, textformats
from bouncetool.extract.dates import iso_date
from bouncetool.extract.mail import Mail
from bouncetool.extract.mime import content_type, parse_headers
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
        assert iso_date(value) == _standard(value)

    @given(st.lists(_DATE_PIECES, min_size=1, max_size=7).map("".join))
    def test_any_mix_of_pieces(self, value: str) -> None:
        if value[:4].isdigit() and "T" in value:
            return  # ISO dates take another path
        assert iso_date(value) == _standard(value)

    @settings(max_examples=300)
    @given(
        st.tuples(
            st.integers(0, 39),  # day
            st.sampled_from(["Jan", "Feb", "Apr", "Dec"]),
            st.sampled_from([1900, 1999, 2000, 2024, 2026, 9999]),
            st.integers(0, 29),  # hour
            st.integers(0, 69),  # minute
            st.one_of(st.none(), st.integers(0, 69)),  # second
            st.sampled_from("+-"),
            st.integers(0, 29),  # zone hours
            st.integers(0, 99),  # zone minutes
        )
    )
    @example((29, "Feb", 1900, 0, 0, 0, "+", 0, 0))  # not a leap year: a century
    @example((29, "Feb", 2000, 0, 0, 0, "+", 0, 0))  # a leap year: divisible by 400
    @example((29, "Feb", 2026, 0, 0, 0, "+", 0, 0))
    @example((31, "Apr", 2024, 23, 59, 59, "-", 23, 59))
    @example((1, "Jan", 2024, 24, 0, None, "+", 1, 0))
    @example((1, "Jan", 2024, 1, 0, 60, "+", 1, 0))
    @example((1, "Jan", 2024, 1, 0, 0, "+", 24, 0))
    @example((1, "Jan", 2024, 1, 0, 0, "+", 1, 75))
    def test_common_form_in_and_out_of_range(
        self, pieces: tuple[int, str, int, int, int, int | None, str, int, int]
    ) -> None:
        # The common form is written from its pieces when in range (leap days, hour 24,
        # second 60, zone +2400 or +0175 included): exactly what the standard library says.
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = pieces
        seconds = "" if second is None else f":{second:02d}"
        value = (
            f"{day} {month} {year} {hour}:{minute:02d}{seconds}"
            f" {sign}{zone_hours:02d}{zone_minutes:02d}"
        )
        assert iso_date(value) == _standard(value)


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


# (The package's `finish` is the function of that name; the module is asked for by name.)
finish = importlib.import_module("bouncetool.extract.finish")


def _pieces(*pieces: str) -> st.SearchStrategy[str]:
    """Texts made of `pieces` (the parts a pattern reacts to) in any order."""
    return st.lists(st.sampled_from(pieces), max_size=24).map("".join)


class TestLineEndLedPatterns:
    """Patterns led by a line end instead of "^" find what the "^"-led ones found."""

    @given(
        _pieces("\n", " ", "\t", "-- ", "==", "original message", "returned message", "x"),
        st.integers(min_value=0, max_value=12),
    )
    def test_report_markers(self, text: str, begin: int) -> None:
        window = begin + 40
        old = layout._END_LOWER.search(text, begin, window)
        got = layout._at_line_start(layout._END_LOWER, layout._END_LOWER_LATER, text, begin, window)
        assert got == (old.start() if old else None)

    @given(
        _pieces("\n", " ", "From: a", "To: b", "Date: c", "Received: x", "X-A: 1", "y"),
        st.integers(min_value=0, max_value=12),
    )
    def test_header_block(self, text: str, begin: int) -> None:
        window = len(text)
        old = layout._HEADER_BLOCK.search(text, begin, window)
        block = (layout._HEADER_BLOCK, layout._HEADER_BLOCK_LATER)
        assert layout._at_line_start(*block, text, begin, window) == (old.start() if old else None)

    @given(_pieces("\n", " ", "Final-Recipient:", "final-recipient :", "Original-RECIPIENT", ":"))
    def test_inline_dsn_fields(self, text: str) -> None:
        old = re.compile(
            r"^(?:Final|Original|FINAL|ORIGINAL|final|original)-(?:Recipient|RECIPIENT|recipient)"
            r"[ \t]*:",
            re.MULTILINE,
        )
        assert dsn._has_inline_fields(text) == bool(old.search(text))

    @given(_pieces("\n", " ", "Message-ID: <a@b>", "from: x", "X-Job: 7", "List-Id: l", ":"))
    def test_quoted_original_headers(self, text: str) -> None:
        led = finish._QUOTED_HEADER.pattern
        assert led.startswith("\\n")
        old = re.compile("^" + led.removeprefix("\\n"), re.MULTILINE)
        found = [m.groups() for m in finish._QUOTED_HEADER.finditer("\n" + text)]
        assert found == [m.groups() for m in old.finditer(text)]


class TestGuardedPatterns:
    """Patterns given a cheap first-character test match exactly where the plain ones did."""

    @given(_pieces(" ", "\n", "RCPT TO:", "user unknown ", "ſuch", "no such user ", "a@b.cz", "<"))
    def test_heuristic_sentence_anchor(self, text: str) -> None:
        guarded = heuristic.ANCHORS[-1]
        plain = re.compile(guarded.pattern.removeprefix("(?=[dimnru])"), guarded.flags)
        assert guarded.pattern.startswith("(?=[dimnru])")
        assert _spans(guarded, text) == _spans(plain, text)

    @given(_pieces("550", " ", "-", "5.1.1", "a", "_", "4", ".", "٣"))
    def test_repeated_code_finder(self, text: str) -> None:
        old = re.compile(r"\b([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})\b")
        found = rules._FIRST_CODE(text)
        want = old.search(text)
        # The finder is led by the status's first dot: its match starts after the class digit.
        got = found and (found.group(1), text[found.start() - 1 : found.end()])
        assert got == (want and want.groups())


class TestContentTypeParameters:
    """Quoted parameter values read as an unrolled loop: what one alternation per character gave."""

    @given(_pieces(";", " ", "boundary", "=", '"', "\\", "a-1", "\n", "report-type", "\t", "é"))
    def test_same_parameters(self, text: str) -> None:
        old = re.compile(
            r'[;\s]\s*([!#-\'*+\-.0-9A-Z^_`a-z|~]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;\s]*)'
        )
        assert _spans(mime._PARAM, text) == _spans(old, text)


class TestPartHeaders:
    """A part's small header block, read once per process, answers as a freshly read one."""

    BLOCK = b"Content-Description: Notification\nContent-Type: text/plain;\n charset=utf-8\n"

    def test_same_answers(self) -> None:
        headers, ctype, params = mime._part_head(self.BLOCK)
        fresh = parse_headers(self.BLOCK)
        assert (ctype, dict(params)) == content_type(fresh.get("content-type"))
        for name in ("content-type", "content-description", "content-transfer-encoding", "x"):
            assert headers.get(name) == fresh.get(name)

    def test_parts_with_the_same_block_share_one_reading(self) -> None:
        first, _, _ = mime._part_head(self.BLOCK)
        assert first.get("content-description") == "Notification"
        second, _, _ = mime._part_head(bytes(bytearray(self.BLOCK)))  # equal, not the same
        assert second is first
        assert second.get("content-type") == "text/plain; charset=utf-8"

    def test_the_top_level_and_big_blocks_are_read_afresh(self) -> None:
        big = self.BLOCK + b"X-Padding: " + b"x" * 400 + b"\n"
        before = mime._part_head.cache_info().currsize
        mime.parse_entity(self.BLOCK + b"\nbody\n")
        mime.parse_entity(big + b"\nbody\n", depth=1)
        assert mime._part_head.cache_info().currsize == before


def _old_split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The cutting of multipart bodies that `mime._part_spans` replaced (a line end in front)."""
    marker = b"\n--" + boundary.encode("ascii", "replace")
    text = b"\n" + body
    parts: list[bytes] = []
    start = text.find(marker)
    while start >= 0 and len(parts) < mime.MAX_PARTS:
        after = start + len(marker)
        if text.startswith(b"--", after):
            break
        line_end = text.find(b"\n", after)
        if line_end < 0:
            break
        nxt = text.find(marker, line_end)
        parts.append(text[line_end + 1 : nxt if nxt >= 0 else len(text)])
        start = nxt
    return parts


def _old_split_head(data: bytes) -> tuple[bytes, bytes]:
    """The cutting of a header block that `mime._split_span` replaced."""
    if data.startswith(b"\n"):
        return b"", data[1:]
    end = data.find(b"\n\n")
    if end < 0:
        return data, b""
    return data[: end + 1], data[end + 2 :]


_MULTIPART_PIECES = st.lists(
    st.sampled_from(
        [
            b"\n",
            b"--b",
            b"--b--",
            b"--bb",
            b"-",
            b"b",
            b"X: y",
            b"Content-Type: text/plain",
            b"\n\n",
        ]
    ),
    max_size=24,
).map(b"".join)


class TestLineEnds:
    """CRLF messages lose their CRs in one pass: what the CRLF-then-CR replacing gave."""

    @given(st.lists(st.sampled_from([b"\r\n", b"\r", b"\n", b"a", b"\r\r", b"\n\r"])).map(b"".join))
    def test_same_text(self, data: bytes) -> None:
        old = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        assert mime.normalise_newlines(data) == old


class TestPartsCutInPlace:
    """Parts cut straight out of the multipart body are the parts cut out one by one before."""

    @given(_MULTIPART_PIECES)
    def test_same_parts(self, body: bytes) -> None:
        assert mime.split_multipart(body, "b") == _old_split_multipart(body, "b")

    @given(_MULTIPART_PIECES)
    def test_same_head_and_body(self, data: bytes) -> None:
        assert mime.split_head(data) == _old_split_head(data)

    @given(_MULTIPART_PIECES)
    def test_same_entities(self, body: bytes) -> None:
        parsed = mime.parse_parts(body, "b", 1)
        cut = [_old_split_head(part) for part in _old_split_multipart(body, "b")]
        assert [(p.headers.get("x"), p.ctype, p.body) for p in parsed] == [
            (
                parse_headers(head).get("x"),
                content_type(parse_headers(head).get("content-type"))[0],
                rest,
            )
            for head, rest in cut
        ]


def _old_blocks(text: str) -> list[list[list[str]]]:
    """The line-by-line reading of delivery-status fields that `dsn._fields` replaced."""
    field = re.compile(r"^([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)$")
    blocks: list[list[list[str]]] = [[]]
    block = blocks[0]
    last: list[str] | None = None
    for line in text.split("\n"):
        if not line or line.isspace():
            if block:
                block = []
                blocks.append(block)
            last = None
        elif last is not None and line[0] in " \t":
            last[1] += " " + line.strip()
        elif (match := field.match(line)) and (name := match.group(1).lower()) in dsn._WANTED:
            last = [name, match.group(2).strip()]
            block.append(last)
        else:
            last = None
    return [b for b in blocks if b]


def _new_blocks(text: str) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for name, value in dsn._fields(text):
        if name:
            blocks[-1].append([name, value])
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


class TestDeliveryStatusFields:
    """Delivery-status fields cut in one pass fall into the blocks the line-by-line reading made."""

    @given(
        _pieces(
            "\n", " ", "\t", "\xa0", "\x0c", "\r", "\u2028", ":", "Status: 5.1.1", "action :",
            "Final-Recipient: rfc822; a@b.cz", "X-Other: x", "ſtatus: 1", "Diagnostic-Code:",
            "STATUS:", "2field: x", "smtp; 550", "\n ", "\n\t", "\n \n", "-",
        )
    )  # fmt: skip
    def test_same_blocks(self, text: str) -> None:
        assert _new_blocks(text) == _old_blocks(text)


_EVERY_ANCHOR = sorted(
    {
        anchor
        for module in ("qmail", "gmail", "exchange", "sendmail", "pmdf", "exim", "postfix")
        for found in vars(importlib.import_module(f"bouncetool.extract.{module}")).values()
        if isinstance(found, layout.Layout | tuple)
        for item in (found if isinstance(found, tuple) else (found,))
        if isinstance(item, layout.Layout)
        for anchor in item.anchors
    }
    | set(heuristic.ANCHORS),
    key=lambda anchor: anchor.pattern,
)
_ANCHOR_PIECES = _pieces(
    "\n", " ", "\t", "<", ">", ":", "...", '"', "a@b.cz", "X@Y.example", "kočka@b.cz", "550 ",
    "5.1.1", "RCPT TO:", "rcpt to:", "User unknown", "Address:", "xAddress:", "Recipient address:",
    "save to x", "\n  generated by ", " on Mon", "from: ", "[reason]", "* ",
    "following recipients:",
    "<<< ", "(expanded from x)", "İ", "K",
)  # fmt: skip


class TestAnchorSearch:
    """read_anchors' fast search (line-led twins, lower-case twins) finds what finditer finds."""

    def test_every_anchor_is_checked(self) -> None:
        assert len(_EVERY_ANCHOR) >= 15
        assert heuristic.ANCHORS[-1] in layout._FOLDED

    @pytest.mark.parametrize("anchor", _EVERY_ANCHOR, ids=lambda anchor: anchor.pattern[:30])
    @given(text=_ANCHOR_PIECES)
    def test_same_matches(self, anchor: re.Pattern[str], text: str) -> None:
        fast = layout._anchor_matches(anchor, text, "\n" + text)
        plain = list(anchor.finditer(text))
        assert [(m.span(), m.groupdict()) for m in fast] == [
            (m.span(), m.groupdict()) for m in plain
        ]

    @given(_ANCHOR_PIECES)
    def test_address_label_look_behind_is_a_word_boundary(self, text: str) -> None:
        plain = re.compile(
            heuristic.ANCHORS[-2].pattern.replace("Address(?<!\\wAddress):", r"\bAddress:")
        )
        assert heuristic.ANCHORS[-2].pattern.startswith("Address(?<!\\wAddress):")
        assert _spans(heuristic.ANCHORS[-2], text) == _spans(plain, text)


class TestAnchorSearchOnCorpus:
    """Every corpus message and sample gives the same records with the plain anchor search."""

    def test_same_records(self, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from benchmarks.dump_records import _messages, _records

        messages = list(_messages(corpus))
        fast = [_records(data) for _name, data in messages]
        monkeypatch.setattr(
            layout, "_anchor_matches", lambda anchor, region, shifted: list(anchor.finditer(region))
        )
        plain = [_records(data) for _name, data in messages]
        assert fast == plain


class TestTextFormatGates:
    """A text format passed over for want of its markers would have answered None."""

    def test_gates_cover_every_format(self) -> None:
        assert len(textformats._GATES) == len(textformats.FORMATS)

    def test_no_format_skipped_that_would_answer(self, corpus: Path) -> None:
        from benchmarks.dump_records import _messages

        skipped = 0
        for name, data in _messages(corpus):
            if not data.strip():
                continue
            head, body = mime.split_head(mime.normalise_newlines(data).lstrip(b"\n"))
            mail = Mail(mime.parse_split(head, body))
            for fmt, markers in textformats._GATED:
                if markers is not None and not any(m in mail.top_lower for m in markers):
                    skipped += 1
                    assert fmt(mail) is None, (name, fmt.__module__)
        assert skipped > 1000  # the gates do pass formats over
