"""`check_syntax`: which addresses are fit to send to, and the reason when not."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bouncetool.syntax import check_syntax, reason_key


def email_validator_says_valid(address: str) -> bool:
    """email-validator's own verdict, with the options the module documents."""
    try:
        validate_email(
            address.strip(),
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,
            check_deliverability=False,
        )
    except EmailNotValidError:
        return False
    return True


class TestValidAddresses:
    """Ordinary, Czech, internationalised and IDN addresses are valid (None)."""

    @pytest.mark.parametrize(
        "address",
        [
            "jan.novak@seznam.cz",
            "Jan.Novak@Seznam.CZ",
            "info+newsletter@firma.cz",
            "o'connor@example.ie",
            "a@b.co",
            "jiří@háčkyčárky.cz",  # SMTPUTF8 local part and an IDN domain
            "petr@xn--hkyrky-ptac70bc.cz",  # the same domain as A-labels
            "žluťoučký.kůň@příliš.cz",
            "用户@例子.广告",
            "x" * 64 + "@seznam.cz",  # the longest local part RFC 5321 allows
            "pepa@mail.t-online.de",
        ],
    )
    def test_valid(self, address: str) -> None:
        assert check_syntax(address) is None

    @pytest.mark.parametrize("address", [" jan@seznam.cz", "jan@seznam.cz ", "\tjan@seznam.cz\xa0"])
    def test_surrounding_whitespace_is_ignored(self, address: str) -> None:
        assert check_syntax(address) is None


class TestInvalidAddresses:
    """Each kind of broken address gets its own stable key and a sentence."""

    @pytest.mark.parametrize(
        ("address", "key"),
        [
            ("", "empty"),
            ("   ", "empty"),
            ("jan.novak.seznam.cz", "no-at-sign"),
            ("jan＠seznam.cz", "no-at-sign"),  # full-width at-sign from a Japanese IME
            ("@seznam.cz", "empty-local-part"),
            ("jan@", "empty-domain"),
            ("jan novak@seznam.cz", "invalid-characters"),
            ("jan@sez nam.cz", "invalid-characters"),
            ("jan@seznam.cz@", "invalid-characters"),
            ("jan@seznam_cz.cz", "invalid-characters"),
            ("jan..novak@seznam.cz", "misplaced-period"),
            (".jan@seznam.cz", "misplaced-period"),
            ("jan.@seznam.cz", "misplaced-period"),
            ("jan@seznam..cz", "misplaced-period"),
            ("jan@-seznam.cz", "misplaced-hyphen"),
            ("jan@ab--cd.cz", "misplaced-hyphen"),
            ("jan@seznam", "domain-without-dot"),
            ("jan@localhost", "domain-without-dot"),
            ("jan@1.2.3.4", "invalid-tld"),
            ("jan@printer.local", "reserved-domain"),
            ("jan@shop.test", "reserved-domain"),
            ("jan@[192.0.2.1]", "domain-literal"),
            ('"jan novak"@seznam.cz', "quoted-local-part"),
            ("Jan Novák <jan@seznam.cz>", "display-name"),
            ("x" * 65 + "@seznam.cz", "too-long"),
            ("jan@" + "x" * 64 + ".cz", "too-long"),
            ("x" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 60 + ".cz", "too-long"),
            ("jan@xn--zz.cz", "invalid-idna"),
        ],
    )
    def test_reason_key(self, address: str, key: str) -> None:
        reason = check_syntax(address)
        assert reason is not None
        assert reason_key(reason) == key
        message = reason.partition(": ")[2]
        assert message.endswith(".")
        assert len(message) > 10


class TestAgreesWithEmailValidator:
    """The cached fast path never changes email-validator's verdict."""

    local_part = st.lists(
        st.sampled_from(
            [
                *"abcXYZ09.-_+!#'`{}|~\"(),:;<>@[]\\ \x00",
                *"řŘěšžýáíéůúňťďäöüßøłąęÀɏ×÷¿",  # precomposed, and the edges of the fast range
                "r\u030c",  # ř decomposed (NFD)
                "\u030c",  # a lone combining caron
                "\u0250",  # just past the fast range
                "用",
                "\u200b",  # zero-width space
                "\u2028",  # line separator
            ]
        ),
        max_size=70,
    ).map("".join)
    domain_part = st.lists(
        st.sampled_from([*"abcxyz09.-_>@[] ", "á", "ß", "xn--", "\u200d"]), max_size=70
    ).map("".join)

    @settings(max_examples=600, deadline=None)
    @given(
        local_part,
        domain_part,
        st.sampled_from(["", ".cz", ".com", ".xn--p1ai", ".local", ".123"]),
    )
    @example("x" * 64, "d" * 63 + "." + "e" * 63 + "." + "f" * 58, ".cz")  # 254: the limit
    @example("x" * 64, "d" * 63 + "." + "e" * 63 + "." + "f" * 59, ".cz")  # 255: one over
    @example("a", "háčkyčárky" * 5 + "." + "ř" * 40, ".cz")  # longer once IDNA-encoded
    def test_same_verdict(self, local: str, domain: str, tld: str) -> None:
        address = f"{local}@{domain}{tld}"
        assert (check_syntax(address) is None) == email_validator_says_valid(address)

    @settings(max_examples=300, deadline=None)
    @given(st.integers(1, 70), st.integers(1, 63), st.integers(1, 63), st.integers(0, 63))
    def test_same_verdict_near_length_limits(
        self, local: int, one: int, two: int, three: int
    ) -> None:
        domain = ".".join(label for label in ("a" * one, "ž" * two, "b" * three) if label)
        address = f"{'x' * local}@{domain}.cz"
        assert (check_syntax(address) is None) == email_validator_says_valid(address)


class TestNeverCrashes:
    """Any string at all gets None or a reason, never an exception."""

    @settings(max_examples=500, deadline=None)
    @given(st.text())
    def test_any_text(self, text: str) -> None:
        reason = check_syntax(text)
        assert reason is None or ": " in reason

    @settings(max_examples=300, deadline=None)
    @given(st.text(), st.text())
    def test_any_text_around_an_at_sign(self, local: str, domain: str) -> None:
        reason = check_syntax(f"{local}@{domain}")
        assert reason is None or ": " in reason
