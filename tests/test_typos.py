"""`suggest_address`: a likely correction for a mistyped provider domain, and silence otherwise."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bouncetool.syntax import check_syntax
from bouncetool.typos import NOT_TYPOS, PROVIDERS, edit_distance, suggest_address


def one_edit_neighbours(text: str, alphabet: set[str]) -> set[str]:
    """Every string one insertion, deletion, substitution or neighbour swap from `text`."""
    found = set()
    for index in range(len(text) + 1):
        for char in alphabet:
            found.add(text[:index] + char + text[index:])
    for index in range(len(text)):
        found.add(text[:index] + text[index + 1 :])
        for char in alphabet:
            found.add(text[:index] + char + text[index + 1 :])
        if index + 1 < len(text):
            found.add(text[:index] + text[index + 1] + text[index] + text[index + 2 :])
    return found


def within_two_edits(first: str, second: str) -> bool:
    """True when two single edits or fewer turn `first` into `second` (met in the middle)."""
    alphabet = set(first) | set(second)
    near_first = one_edit_neighbours(first, alphabet) | {first}
    return second in near_first or bool(near_first & one_edit_neighbours(second, alphabet))


class TestSuggests:
    """Common slips at common providers get the provider's domain."""

    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("jan@gmial.com", "jan@gmail.com"),  # swapped letters
            ("jan@sezanm.cz", "jan@seznam.cz"),
            ("jan@seznma.cz", "jan@seznam.cz"),
            ("jan@cetrum.cz", "jan@centrum.cz"),  # a letter lost
            ("jan@cenrtum.cz", "jan@centrum.cz"),
            ("jan@outlok.com", "jan@outlook.com"),
            ("jan@hotmial.com", "jan@hotmail.com"),
            ("jan@yahooo.com", "jan@yahoo.com"),  # a letter doubled
            ("jan@gnail.com", "jan@gmail.com"),  # a neighbouring key
            ("jan@t-onlin.de", "jan@t-online.de"),
            ("jan@gmail.co", "jan@gmail.com"),  # top-level slips
            ("jan@gmail.con", "jan@gmail.com"),
            ("jan@seznam.cy", "jan@seznam.cz"),
            ("jan@seznam.c", "jan@seznam.cz"),
            ("jan@seznam.com", "jan@seznam.cz"),
            ("jan@gmial.con", "jan@gmail.com"),  # one in the name, one in the top level
            ("jan@seznamcz", "jan@seznam.cz"),  # the dot lost
            ("jan@gmailcom", "jan@gmail.com"),
            ("jan@pots.cz", "jan@post.cz"),  # short names: swaps ...
            ("jan@pw.pl", "jan@wp.pl"),
            ("jan@webb.de", "jan@web.de"),  # ... doubled letters ...
            ("jan@post.c", "jan@post.cz"),  # ... and impossible top-level domains
            ("jan@wp.pll", "jan@wp.pl"),
        ],
    )
    def test_suggestion(self, address: str, expected: str) -> None:
        assert suggest_address(address) == expected

    def test_local_part_is_kept_as_typed(self) -> None:
        assert suggest_address("Jan.Novák+news@GMIAL.COM") == "Jan.Novák+news@gmail.com"
        assert suggest_address("jiří@sezanm.cz") == "jiří@seznam.cz"

    def test_surrounding_whitespace_and_trailing_dot(self) -> None:
        assert suggest_address("  jan@sezanm.cz.  ") == "jan@seznam.cz"


class TestStaysSilent:
    """Known, private, short-and-real and ambiguous domains get no suggestion."""

    @pytest.mark.parametrize("domain", PROVIDERS)
    def test_every_provider(self, domain: str) -> None:
        assert suggest_address(f"jan@{domain}") is None

    @pytest.mark.parametrize("domain", sorted(NOT_TYPOS))
    def test_real_neighbours(self, domain: str) -> None:
        assert suggest_address(f"jan@{domain}") is None

    @pytest.mark.parametrize(
        "address",
        [
            "jan@firma.cz",
            "jan@mojefirma.cz",
            "jan@abc.cz",
            "jan@SEZNAM.CZ",
            "jan@seznam.cz.",
            "jan@post.sk",  # a short name under another real top level: another domain
            "jan@posta.cz",  # one letter more than post.cz, and a real domain
            "jan@host.cz",  # one letter changed in a short name: another real domain
            "jan@gmx.cz",
            "jan@live.cz",
            "jiří@háčkyčárky.cz",
            "jiří@xn--hkyrky-ptac70bc.cz",
        ],
    )
    def test_no_suggestion(self, address: str) -> None:
        assert suggest_address(address) is None

    @pytest.mark.parametrize(
        ("address", "rivals"),
        [
            ("jan@gmail.cz", ("email.cz", "gmail.com")),  # a letter, or a top-level slip?
            ("jan@centrum.pl", ("centrum.cz", "centrum.sk")),
            ("jan@outlook.co", ("outlook.com", "outlook.cz")),
            ("jan@tonline.de", ("t-online.de", "online.de")),
            ("jan@op.pl", ("o2.pl", "wp.pl")),  # op.pl is itself a provider
        ],
    )
    def test_ties_are_not_guessed(self, address: str, rivals: tuple[str, str]) -> None:
        assert all(rival in PROVIDERS for rival in rivals)
        assert suggest_address(address) is None

    @pytest.mark.parametrize(
        "text", ["", "jan", "@gmial.com", "jan@", "jan@@gmial.com", "jan novak@gmial.com"]
    )
    def test_not_an_address(self, text: str) -> None:
        assert suggest_address(text) is None


class TestEditDistance:
    """The distance is optimal string alignment: Levenshtein plus swaps of neighbours."""

    @pytest.mark.parametrize(
        ("first", "second", "distance"),
        [
            ("gmail", "gmail", 0),
            ("gmial", "gmail", 1),
            ("cetrum", "centrum", 1),
            ("gmail.cz", "gmail.com", 2),
            ("", "abc", 3),
            ("ca", "abc", 3),  # OSA does not edit a swapped pair again (true DL says 2)
            ("seznam.cz", "zoznam.sk", 4),
        ],
    )
    def test_known_pairs(self, first: str, second: str, distance: int) -> None:
        assert edit_distance(first, second) == distance
        assert edit_distance(second, first) == distance

    @settings(max_examples=200)
    @given(st.text(max_size=8), st.text(max_size=8))
    def test_two_means_two_edits(self, first: str, second: str) -> None:
        assert (edit_distance(first, second) <= 2) == within_two_edits(first, second)


@st.composite
def typed_domains(draw: st.DrawFn) -> str:
    """A provider domain with up to three random slips of the finger."""
    text = draw(st.sampled_from(PROVIDERS))
    for _slip in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from("abcelmnostz.-"))
        action = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
        if action == "insert":
            text = text[:index] + char + text[index:]
        elif action == "delete":
            text = text[:index] + text[index + 1 :]
        elif action == "replace":
            text = text[:index] + char + text[index + 1 :]
        elif index + 1 < len(text):
            text = text[:index] + text[index + 1] + text[index] + text[index + 2 :]
    return text


class TestInvariants:
    """A suggestion is always a provider, within two edits, and never the same address."""

    @settings(max_examples=300)
    @given(st.sampled_from(["jan", "Jiří.Novák", "a+b"]), typed_domains())
    def test_suggestion_shape(self, local: str, domain: str) -> None:
        address = f"{local}@{domain}"
        suggestion = suggest_address(address)
        assume(suggestion is not None)
        assert suggestion is not None
        assert suggestion != address
        suggested_local, _, suggested_domain = suggestion.rpartition("@")
        assert suggested_local == local
        assert suggested_domain in PROVIDERS
        assert suggested_domain != domain.lower()
        assert within_two_edits(domain.lower().rstrip("."), suggested_domain)
        assert check_syntax(suggestion) is None

    @settings(max_examples=500)
    @given(st.text())
    def test_never_crashes(self, text: str) -> None:
        suggestion = suggest_address(text)
        assert suggestion is None or suggestion != text

    @settings(max_examples=300)
    @given(st.text(max_size=20), st.text(max_size=40))
    def test_never_crashes_around_an_at_sign(self, local: str, domain: str) -> None:
        address = f"{local}@{domain}"
        suggestion = suggest_address(address)
        assert suggestion is None or suggestion != address
