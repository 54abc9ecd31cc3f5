"""The dialect of a contact list is told from its bytes, in the dialects people have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bouncetool.columns import find_email_column, parse_engagement
from bouncetool.dialect import detect_dialect
from bouncetool.errors import ContactsError
from tests.support import TEST_DATA

DATA = TEST_DATA / "contacts"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))


class TestRealFiles:
    """Each sample file (Czech Excel, UTF-8 with BOM, ISO-8859-2, tab, pipe) is recognised."""

    @pytest.mark.parametrize("name", sorted(EXPECTED["good"]))
    def test_dialect(self, name: str) -> None:
        want = EXPECTED["good"][name]
        dialect = detect_dialect(DATA / name)
        assert dialect.encoding == want["encoding"]
        assert bool(dialect.bom) is want["bom"]
        assert dialect.delimiter == want["delimiter"]
        assert dialect.newline == want["newline"].encode()
        assert dialect.quote_all is want["quote_all"]
        assert dialect.has_header
        column = find_email_column(dialect)
        assert column is not None
        assert dialect.header[column] == want["email"]

    def test_every_sample_is_listed(self) -> None:
        on_disk = {path.name for path in DATA.glob("*.*")} - {"expected.json"}
        assert on_disk == set(EXPECTED["good"]) | set(EXPECTED["bad"])


class TestCzechEncodings:
    """Windows-1250 and ISO-8859-2 are told apart by the bytes where they differ."""

    @pytest.mark.parametrize("word", ["Šťastný", "Žďár", "šťáva", "Ťuk", "ŽŠŤ"])
    def test_iso_8859_2(self, tmp_path: Path, word: str) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(f"name;email\n{word};a@b.cz\n".encode("iso8859-2"))
        assert detect_dialect(path).encoding == "iso8859-2"

    @pytest.mark.parametrize("word", ["Šťastný", "Žďár", "śźŚŹ", "ąę", "Kroměříž"])
    def test_windows_1250(self, tmp_path: Path, word: str) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(f"name;email\r\n{word};a@b.cz\r\n".encode("cp1250"))
        assert detect_dialect(path).encoding == "cp1250"

    def test_late_non_ascii_is_still_seen(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        ascii_rows = "".join(f"user{n};user{n}@seznam.cz\r\n" for n in range(20_000))
        path.write_bytes(f"name;email\r\n{ascii_rows}Šárka;s@b.cz\r\n".encode("cp1250"))
        assert detect_dialect(path).encoding == "cp1250"


class TestHeaderless:
    """A list without a header row is recognised by the address in its first row."""

    def test_no_header(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"Jan;jan@seznam.cz;Praha\nEva;eva@email.cz;Brno\n")
        dialect = detect_dialect(path)
        assert not dialect.has_header
        assert dialect.header_size == 0
        assert find_email_column(dialect, list(dialect.first_row)) == 1


class TestBadFiles:
    """Unusable input gets one error naming the file and the line."""

    @pytest.mark.parametrize(
        "name", ["bad-empty.csv", "bad-bytes.csv"], ids=["empty", "no-encoding-fits"]
    )
    def test_detection_errors(self, name: str) -> None:
        want = EXPECTED["bad"][name]
        with pytest.raises(ContactsError) as caught:
            detect_dialect(DATA / name)
        message = str(caught.value)
        assert message.startswith(f"{DATA / name}, line {want['line']}:")
        assert want["says"] in message

    def test_utf16_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "unicode.txt"
        path.write_bytes("name\temail\r\n".encode("utf-16"))
        with pytest.raises(ContactsError, match="UTF-16"):
            detect_dialect(path)

    def test_bom_with_broken_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"\xef\xbb\xbfname,email\nJan,jan@seznam.cz\n\xe9va,eva@email.cz\n")
        with pytest.raises(ContactsError, match=r"line 3: .*BOM"):
            detect_dialect(path)

    def test_binary_file(self, tmp_path: Path) -> None:
        path = tmp_path / "list.csv"
        path.write_bytes(b"PK\x03\x04\x00\x00binary")
        with pytest.raises(ContactsError, match=r"line 1: a NUL byte"):
            detect_dialect(path)


class TestEngagementDates:
    """Dates people type in Excel are read; anything else is an error."""

    @pytest.mark.parametrize(
        "text", ["2026-05-01", "1.5.2026", "01.05.2026 10:30", "1. 5. 2026", "2026-05-01T08:00:00"]
    )
    def test_parses(self, text: str) -> None:
        parsed = parse_engagement(text)
        assert parsed is not None
        assert (parsed.year, parsed.month, parsed.day) == (2026, 5, 1)

    def test_empty_is_never(self) -> None:
        assert parse_engagement("  ") is None

    def test_garbage(self) -> None:
        with pytest.raises(ValueError, match="not a date"):
            parse_engagement("včera")
