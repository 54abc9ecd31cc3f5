"""Addresses from bounces and from contact lists meet in one canonical spelling."""

from __future__ import annotations

import pytest

from bouncetool.addresses import domain_of, normalise_address
from bouncetool.language import resolve_lang
from bouncetool.model import Lang


class TestNormaliseAddress:
    """Case, brackets, trailing dots and IDNA forms do not make two mailboxes."""

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("Jan.Novak@Seznam.CZ", "jan.novak@seznam.cz"),
            ("  <jan@seznam.cz>  ", "jan@seznam.cz"),
            ("jan@seznam.cz.", "jan@seznam.cz"),
            ("petr@xn--hkyrky-ptac70bc.cz", "petr@háčkyčárky.cz"),
            ("petr@HÁČKYČÁRKY.cz", "petr@háčkyčárky.cz"),
            ("not-an-address", "not-an-address"),
        ],
    )
    def test_canonical_form(self, given: str, expected: str) -> None:
        assert normalise_address(given) == expected

    def test_domain_of(self) -> None:
        assert domain_of("Eva@Email.CZ") == "email.cz"
        assert domain_of("nobody") == ""


class TestResolveLang:
    """The option wins, then BOUNCETOOL_LANG, then the locale, then English."""

    def test_option_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BOUNCETOOL_LANG", "en")
        assert resolve_lang("cs") is Lang.CS

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BOUNCETOOL_LANG", "cs")
        assert resolve_lang(None) is Lang.CS

    def test_locale(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BOUNCETOOL_LANG", raising=False)
        monkeypatch.setenv("LC_ALL", "cs_CZ.UTF-8")
        assert resolve_lang(None) is Lang.CS

    def test_unknown_falls_back_to_english(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BOUNCETOOL_LANG", "de")
        monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
        assert resolve_lang(None) is Lang.EN
