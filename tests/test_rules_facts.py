"""The facts a rule sees (folded, masked text; codes read from it) are what the plain ways give.

The classifier reads every bounce through fast paths (a per-character
table for diacritics, cheap tests before each mask pattern, code patterns
led by a literal dot). Each is checked here against the straightforward
definition it replaced, on real corpus lines and on generated text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bouncetool import rules, smtpcodes
from bouncetool.model import Bounce, Kind
from bouncetool.textfold import fold_text, fold_words, strip_diacritics

# ---- the plain definitions -------------------------------------------------------------

_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})
_PUNCT = "<>()[]{}\"',;:."
_ADDRESS = re.compile(r"[^<>()\[\]\"',;:\s]{1,64}@[^<>()\[\]\"',;:\s]{1,255}")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_ID = re.compile(
    r"(?=(?:[^\d]{0,60}\d){4})(?=[\d._-]{0,60}[a-z])(?!.{0,60}\.\.)[a-z0-9._-]{8,60}\Z"
)
_FIRST_CODE = re.compile(r"\b([245]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})\b")
_STATUS = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w.]\d)")


def plain_strip(text: str) -> str:
    """Diacritics removed from the whole text at once."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def plain_mask_word(word: str) -> str:
    """One word with an address, else an IPv4 address, else a session id masked."""
    if "@" in word:
        return _ADDRESS.sub("x@x", word)
    masked = _IPV4.sub("192.0.2.1", word)
    if masked != word:
        return masked
    bare = word.strip(_PUNCT)
    return word.replace(bare, "id") if _ID.match(bare) else word


def plain_drop_repeats(text: str) -> str:
    """The text without the repeats of its first reply and status code."""
    first = _FIRST_CODE.search(text)
    if first is None:
        return text
    reply, status = first.groups()
    head, rest = text[: first.end()], text[first.end() :] + " "
    for separator in (" ", "-"):
        rest = rest.replace(f" {reply}{separator}{status} ", " ")
    return head + rest[:-1]


def plain_fold_and_mask(diagnostic: str) -> str:
    """Fold, then mask every word."""
    folded = " ".join(plain_strip(diagnostic[: rules.MAX_TEXT]).lower().split())
    return " ".join(plain_mask_word(w) for w in folded.split(" "))


# ---- test text -------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "550", "550-5.1.1", "5.1.1", "421", "4.7.0", "5.0.912", "<u.ser@example.cz>:",
        "a@b@c", "@", "x@", "[10.0.0.1]", "1.2.3.4.5", "192.168.1.20.", "p41si4843565qte.548",
        "abcd1234", "ABCD1234", "a1b2c3d4e5", "2024-04-29t23:34:45z", "..a1234567", "16578478",
        "1.2.3.4x1234abcd", "192.0.2.1x1234abcd", "user", "Unknown.", "rejected:", "Schránka",
        "PEŁNA", "Straße", "ΣΑΣ", "٣٤٥٦abcdefgh",
        "e\u0301", "\u0345", "\u034f", "ﬁ", "İ", "①②③④x1", " ", "\t", "\n", "\xa0", "-", "(in",
    ]
)  # fmt: skip
_LINES = st.lists(_WORDS, max_size=16).map(" ".join)
_GLUED = st.lists(_WORDS, max_size=10).map("".join)  # words run together as well
_CODES = st.lists(
    st.sampled_from(["550", "5", "-", " ", "5.1.1", ".", "1", "a", "_", "٣", "4", "#", "("]),
    max_size=20,
).map("".join)


def corpus_lines(corpus: Path) -> Iterator[str]:
    """Every line of every corpus message, decoded as UTF-8 where it can be."""
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        yield from text.splitlines()


# ---- the tests -------------------------------------------------------------------------


class TestFolding:
    """Folding strips diacritics exactly as NFKD without combining marks, character by character."""

    def test_examples(self) -> None:
        assert fold_text("  Schránka  je\nPLNÁ, pełna ", 100) == "schranka je plna, pelna"
        assert fold_words("Straße ﬁ", 100) == ["strasse", "fi"]

    @pytest.mark.parametrize("block", [(0x80, 0x600), (0x1D00, 0x2200), (0xAC00, 0xAD00)])
    def test_each_character(self, block: tuple[int, int]) -> None:
        for code in range(*block):
            assert strip_diacritics(chr(code)) == plain_strip(chr(code)), hex(code)

    @given(_GLUED)
    def test_mixed_text(self, text: str) -> None:
        assert strip_diacritics(text) == plain_strip(text)

    def test_limit_before_folding(self) -> None:
        assert fold_text("ß" * 10, 3) == "ssssss"


class TestMasking:
    """Addresses, IPv4 addresses and session ids are masked as the plain per-word rules say."""

    def test_examples(self) -> None:
        text = rules._fold_and_mask(
            "550 5.1.1 <Jan.Novak@example.cz>: host [192.168.10.1] said p41si4843565qte.548 - gsmtp"
        )
        assert text == "550 5.1.1 <x@x>: host [192.0.2.1] said id - gsmtp"

    def test_every_occurrence(self) -> None:
        text = rules._fold_and_mask("a@b.cz 1.2.3.4 a@b.cz, a@b.cz 1.2.3.4 a@b.cz")
        assert text == "x@x 192.0.2.1 x@x, x@x 192.0.2.1 x@x"

    def test_masked_form_of_one_word_is_another_word(self) -> None:
        # The first word masks to the second, which masks on (to an id): each word is
        # masked once, from what it was.
        text = "1.2.3.4x1234abcd 192.0.2.1x1234abcd 1.2.3.4x1234abcd"
        assert rules._fold_and_mask(text) == "192.0.2.1x1234abcd id 192.0.2.1x1234abcd"
        assert rules._fold_and_mask(text) == plain_fold_and_mask(text)

    def test_codes_and_times_stay(self) -> None:
        kept = "550-5.1.1 at 23:34:45 (16578478) 5.7.509 size=1024:"
        assert rules._fold_and_mask(kept) == kept

    @given(_LINES)
    def test_generated_lines(self, line: str) -> None:
        assert rules._fold_and_mask(line) == plain_fold_and_mask(line)

    @given(_GLUED)
    def test_generated_words(self, word: str) -> None:
        assume("@" not in word)  # _mask_number is for the other words
        assert rules._mask_number(word) == plain_mask_word(word)

    def test_corpus_lines(self, corpus: Path) -> None:
        lines = list(corpus_lines(corpus))
        joined = [" ".join(lines[i : i + 6]) for i in range(0, len(lines), 6)]
        for line in lines + joined:
            assert rules._fold_and_mask(line) == plain_fold_and_mask(line), line


class TestCodes:
    """Code patterns led by a literal dot find the same codes as the plain patterns."""

    def test_repeated_code_dropped(self) -> None:
        folded = "550-5.7.1 [1.2.3.4] our policy 550-5.7.1 prohibits 550 5.7.1 this"
        assert rules._drop_repeated_code(folded) == "550-5.7.1 [1.2.3.4] our policy prohibits this"

    @given(_CODES)
    def test_repeated_code(self, text: str) -> None:
        assert rules._drop_repeated_code(text) == plain_drop_repeats(text)

    @given(_CODES)
    def test_status(self, text: str) -> None:
        found = _STATUS.search(text, 0, 400)
        assert smtpcodes.find_status(text) == (".".join(found.groups()) if found else None)

    def test_status_scan_limit(self) -> None:
        assert smtpcodes.find_status("x" * 395 + " 5.1.1") is None
        assert smtpcodes.find_status("x" * 393 + " 5.1.1") == "5.1.1"

    @pytest.mark.parametrize(
        ("status", "stand_in"),
        [("5.0.912", True), ("4.0.900", True), ("5.0.9", False), ("5.0.9123", False),
         ("5.1.1", False), ("3.0.912", False), ("5.0.912\n", True), ("x5.0.912", False)],
    )  # fmt: skip
    def test_stand_in(self, status: str, stand_in: bool) -> None:
        assert smtpcodes.is_stand_in(status) is stand_in


class TestCacheKey:
    """Bounces of one template share a verdict; the facts are derived from the template alone."""

    def test_same_template(self) -> None:
        table = rules.load_table()
        one, two = (
            Bounce(kind=Kind.HARD, diagnostic=f"550 5.1.1 <{who}@example.cz>: unknown user")
            for who in ("jan", "eva")
        )
        assert rules._template(one) == rules._template(two)
        assert table.classify(one) is table.classify(two)

    def test_facts(self) -> None:
        bounce = Bounce(
            kind=Kind.HARD,
            diagnostic="550-5.7.1 Jan@Example.cz blocked 550-5.7.1 see HTTP://x.cz",
            status="5.0.0",
            remote_mta="MX.Example.CZ",
        )
        facts = rules._Facts.of(bounce)
        assert facts == (
            Kind.HARD,
            "550-5.7.1 x@x blocked see http://x.cz",
            "5.7.1",
            "550",
            "mx.example.cz",
        )

    def test_same_verdicts_as_uncached(self, corpus: Path) -> None:
        cached, table = rules.load_table(), rules.load_table()
        lines = [line for line in corpus_lines(corpus) if any(c.isdigit() for c in line)]
        bounces = [
            Bounce(kind=kind, diagnostic=line, status=status, reply_code=reply)
            for line in lines[:3000]
            for kind, status, reply in ((Kind.HARD, None, None), (Kind.DELAYED, "4.0.0", "451"))
        ]
        for bounce in bounces:
            cached.classify(bounce)
        for bounce in bounces:  # the second time every verdict comes from the cache
            table._cache.clear()
            assert cached.classify(bounce) == table.classify(bounce)
