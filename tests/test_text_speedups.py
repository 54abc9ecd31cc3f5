"""The fast paths of the text-format readers give exactly what the plain ways give."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bouncetool.extract import layout
from bouncetool.extract.mail import Mail
from bouncetool.extract.mime import parse_split, split_head
from bouncetool.extract.textscan import ADDRESS_PATTERN, REPLY, REPLY_CODES, STATUS


def _pieces(*pieces: str) -> st.SearchStrategy[str]:
    """Texts made of `pieces` (the parts a pattern reacts to) in any order."""
    return st.lists(st.sampled_from(pieces), max_size=12).map("".join)


_HEADER_TEXT = _pieces("a@b.cz", "A@B.CZ", "x", " ", ".", "<", ">", ",", "kočka@b.cz", "İ", "@")
_CANDIDATES = st.sampled_from(
    ["a@b.cz", "b.cz", "a@b.c", "x", "", "kočka@b.cz", "i̇@b.cz", "xa@b.cz", "a@b.czx", " "]
)


def _mail(to: str, sender: str) -> Mail:
    data = f"To: {to}\nFrom: {sender}\nSubject: s\n\nbody\n".encode()
    return Mail(parse_split(*split_head(data)))


class TestOwnAddresses:
    """The lazy own-address container answers as the set of the bounce's own addresses does."""

    @given(_HEADER_TEXT, _HEADER_TEXT, st.lists(_CANDIDATES, max_size=4))
    def test_same_answers(self, to: str, sender: str, candidates: list[str]) -> None:
        lazy = layout.OwnAddresses(_mail(to, sender))
        own = _mail(to, sender).own_addresses
        for candidate in candidates:
            assert (candidate in lazy) == (candidate in own)

    def test_the_sender_is_own(self) -> None:
        lazy = layout.OwnAddresses(_mail("Cat <Neko@Example.org>", "x@y.cz"))
        assert "neko@example.org" in lazy
        assert "other@example.org" not in lazy


_MARKER_PIECES = _pieces(
    "\n", " ", "\t", "-- ", "==", "**", "|--", "original message", "original message headers",
    "returned message", "unsent message follows", "původní zpráva", "end of message", "x", "b",
    "-", ":", "message", "o",
)  # fmt: skip


class TestReportEndGuard:
    """The lower-case report-end pattern with first-letter look-aheads matches as the plain one."""

    @given(_MARKER_PIECES)
    def test_same_matches(self, text: str) -> None:
        plain = re.compile(layout.END_OF_REPORT.pattern, re.MULTILINE)
        got = [m.span() for m in layout._END_LOWER.finditer(text)]
        assert got == [m.span() for m in plain.finditer(text)]

    def test_every_phrase_starts_with_a_letter(self) -> None:
        firsts = {phrase.removeprefix("(?:")[0] for phrase in layout._END_PHRASES}
        assert all(first.isalpha() and first.islower() for first in firsts)


_CODE_PIECES = _pieces(
    "550", "5.1.1", "421", "522", "250", " ", "\n", "-", ":", ".", "#", "a", "User", "<", "(",
    "_", "4", "2", "0", "٣", ")",
)  # fmt: skip


def _old_has_reply(text: str) -> bool:
    match = REPLY.search(text)
    while match is not None:
        if match.group(1) in REPLY_CODES and layout._WORDS_AFTER.match(text, match.end(1)):
            return True
        match = REPLY.search(text, match.end())
    return STATUS.search(text) is not None


class TestCodeScan:
    """One scan for reply and status codes answers as the two scans with REPLY and STATUS did."""

    @given(_CODE_PIECES)
    def test_has_code(self, text: str) -> None:
        assert layout.has_code(text) == bool(REPLY.search(text) or STATUS.search(text))

    @given(_CODE_PIECES)
    def test_has_reply(self, text: str) -> None:
        assert layout.has_reply(text) == _old_has_reply(text)


def _every_anchor() -> list[re.Pattern[str]]:
    from bouncetool.extract import exchange, exim, gmail, heuristic, pmdf, postfix, qmail, sendmail

    layouts = [qmail.LAYOUT, gmail.LAYOUT, exchange.LAYOUT, sendmail.LAYOUT, pmdf.LAYOUT]
    layouts += [exim.LAYOUT, exim.LOCAL, *postfix.LAYOUTS]
    return [anchor for item in layouts for anchor in item.anchors] + list(heuristic.ANCHORS)


class TestAnchorsNeedAnAddress:
    """A report region without an "@" is passed over: every anchor's recipient is an address."""

    def test_every_recipient_group_is_an_address(self) -> None:
        for anchor in _every_anchor():
            assert "(?P<addr>" + ADDRESS_PATTERN + ")" in anchor.pattern, anchor.pattern[:40]

    def test_no_address_no_recipient(self) -> None:
        region = "Delivery to the following recipient failed:\n\n  kocka at example.org\n"
        assert layout.read_anchors(region, tuple(_every_anchor())) is None


_LEAD_PIECES = _pieces(
    "error delivering your mail to ", "ERROR Delivering your MAIL to ", "following recipients",
    "Following recipient", " x:", ":", " ", "\n", "<", ">", ".", "a@b.cz", "A@B.CZ", "K",
    "kočka@b.cz",
)  # fmt: skip


class TestFoldedTwins:
    """Case-insensitive anchors found through their lower-case twins match as finditer does."""

    @given(_LEAD_PIECES)
    def test_same_matches(self, text: str) -> None:
        from bouncetool.extract import heuristic, postfix

        for anchor in (postfix.LAYOUTS[2].anchors[0], heuristic.ANCHORS[5]):
            assert anchor in layout._FOLDED
            fast = layout._anchor_matches(anchor, text, "\n" + text)
            plain = list(anchor.finditer(text))
            assert [(m.span(), m.groupdict()) for m in fast] == [
                (m.span(), m.groupdict()) for m in plain
            ]


_WORD_PIECES = _pieces(
    "kocka", "Kocka.Cat", "a", "@", ".", "-", "b", "cz", " ", "\n", ":", "<", ">", '"', "x" * 30,
    "İ", "K", "žluť",
)  # fmt: skip


class TestPossessiveRuns:
    """Runs made possessive, so that re does not back off through them, match as before."""

    def test_the_search_address_is_possessive(self) -> None:
        assert "]++)@" in layout._FAST_ADDRESS
        assert layout._FAST_ADDRESS.replace("]++)@", "]+)@") == ADDRESS_PATTERN

    @given(_WORD_PIECES)
    def test_address(self, text: str) -> None:
        fast = re.compile(layout._FAST_ADDRESS)
        assert [m.span() for m in fast.finditer(text)] == [
            m.span() for m in re.finditer(ADDRESS_PATTERN, text)
        ]

    @given(_WORD_PIECES)
    def test_reason_before_a_colon(self, text: str) -> None:
        from bouncetool.extract import heuristic

        anchor = heuristic.ANCHORS[0]
        plain = re.compile(anchor.pattern.replace("{2,80}+", "{2,80}"), anchor.flags)
        assert "{2,80}+" in anchor.pattern
        assert [(m.span(), m.groups()) for m in anchor.finditer(text)] == [
            (m.span(), m.groups()) for m in plain.finditer(text)
        ]


class TestSilentDiagnostic:
    """A diagnostic passed over by its last character is one the silence pattern refuses too."""

    @given(_pieces("smtp", "X-Unix", ";", " ", "\t", "4", "21", "255", "a", ".", "\n", "٣", "-"))
    def test_same_answers(self, text: str) -> None:
        from bouncetool.extract import transcript

        stripped = text.strip()
        plain = not text or (
            transcript._SILENT.fullmatch(stripped) is not None
            and (not stripped.lower().startswith("smtp") or not stripped[-1:].isdigit())
        )
        assert transcript._says_nothing(text) == plain
