"""The campaigns CSV gives the number sent per campaign, or one clear error with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bouncetool.errors import ConfigError
from bouncetool.sent import read_campaigns


class TestDialects:
    """Comma, semicolon and tab files in UTF-8, UTF-8 with BOM and Windows-1250 all read."""

    def test_comma_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "c.csv"
        path.write_text("campaign,sent\nnov,1000\ndec,250\n", encoding="utf-8")
        assert read_campaigns(path) == {"nov": 1000, "dec": 250}

    def test_czech_excel(self, tmp_path: Path) -> None:
        path = tmp_path / "c.csv"
        text = "Kampaň;Odesláno\r\nListopadová sleva;1 250\r\nPředvánoční;12\u00a0000\r\n"
        path.write_bytes(text.encode("cp1250"))
        assert read_campaigns(path) == {"Listopadová sleva": 1250, "Předvánoční": 12000}

    def test_bom_tab_extra_columns(self, tmp_path: Path) -> None:
        path = tmp_path / "c.csv"
        path.write_bytes("\ufeffdate\tcampaign\tsent\n2026-11-01\tnov\t10\n\n".encode())
        assert read_campaigns(path) == {"nov": 10}


class TestErrors:
    """Bad files are refused with the file and line named."""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "the file is empty"),
            ("name,count\nnov,1\n", "line 1: no 'campaign' column"),
            ("campaign,sent\nnov,many\n", "line 2: sent must be a whole number, got 'many'"),
            ("campaign,sent\nnov,-5\n", "line 2: sent must be a whole number"),
            ("campaign,sent\nnov,1\nnov,2\n", "line 3: campaign 'nov' is listed twice"),
            ("campaign,sent\nnov\n", "line 2: expected 2 columns, got 1"),
            ("campaign,sent\n,5\n", "line 2: the campaign name is empty"),
        ],
    )
    def test_error(self, tmp_path: Path, text: str, message: str) -> None:
        path = tmp_path / "c.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            read_campaigns(path)
        assert str(raised.value).startswith(str(path))
        assert message in str(raised.value)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="cannot read the campaigns file"):
            read_campaigns(tmp_path / "absent.csv")
