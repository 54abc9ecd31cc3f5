"""The fast paths of finishing a record give exactly what the plain ways give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bouncetool.extract.textscan import find_codes, find_reply_code, find_status

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
