"""Rendering records as JSON Lines, CSV and a table; writing output files atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bouncetool.atomicwrite import atomic_text_writer
from bouncetool.model import RECORD_FIELDS, Blame, Bounce, Kind, Lang, Record, Verdict
from bouncetool.render import (
    PIPED_TABLE_WIDTH,
    LineEncoder,
    OutputFormat,
    _json_line,
    render,
    write_data,
)

VERDICT = Verdict(
    kind=Kind.HARD,
    reason="userunknown",
    category="invalid-recipient",
    blame=Blame.RECIPIENT,
    rule="status-5.1.1",
    matched="5.1.1",
    explanation_cs="Adresa příjemce neexistuje.",
    explanation_en="The recipient's address does not exist.",
)
CLASSIFIED = Record(
    Bounce(
        Kind.HARD,
        recipient="jiří@příklad.example",
        status="5.1.1",
        reply_code="550",
        diagnostic='550 5.1.1 <x@y> [192.0.2.1] "no such user", sorry',
        source="in.mbox",
        message=1,
    ),
    VERDICT,
)
BARE = Record(
    Bounce(
        Kind.SOFT,
        recipient="a@b.example",
        diagnostic="452 mailbox full",
        source="in.mbox",
        message=2,
    )
)


def rendered(form: OutputFormat, lang: Lang = Lang.EN) -> str:
    stream = io.StringIO(newline="")
    assert render([CLASSIFIED, BARE], form, stream, lang) == 2
    return stream.getvalue()


class TestJsonLines:
    """One object per line with every contract field, in order; null for unknown."""

    def test_lines(self) -> None:
        first, second = (json.loads(line) for line in rendered(OutputFormat.JSONL).splitlines())
        assert tuple(first) == RECORD_FIELDS
        assert first["recipient"] == "jiří@příklad.example"
        assert first["explanation"] == "The recipient's address does not exist."
        assert second["reason"] is None
        assert second["kind"] == "soft"

    def test_czech_and_readable(self) -> None:
        text = rendered(OutputFormat.JSONL, Lang.CS)
        assert "Adresa příjemce neexistuje." in text  # not \\u-escaped


class TestJsonSameAsStandardEncoder:
    """A line is exactly what json.JSONEncoder(ensure_ascii=False) writes for the row."""

    @pytest.mark.parametrize(
        "value",
        [
            "plain",
            'quote " and \\ back',
            "line\nend\ttab\x00\x1f\x7f",
            "é ř 😀 \u2028",
            "%s %d %%",
            "",
        ],
    )
    def test_strings(self, value: str) -> None:
        row = {**dict.fromkeys(RECORD_FIELDS), "diagnostic": value, "message": 12}
        encoder = json.JSONEncoder(ensure_ascii=False)
        assert _json_line(row) == encoder.encode(row) + "\n"

    def test_other_types_and_keys(self) -> None:
        encoder = json.JSONEncoder(ensure_ascii=False)
        for row in ({"a%b": "x", "klíč": -3, "n": 10**20}, {"x": 1.5, "y": True}, {}):
            assert _json_line(row) == encoder.encode(row) + "\n"


class TestCsv:
    """A header of the contract fields, one row per record, CRLF line ends, empty cells for null."""

    def test_rows(self) -> None:
        text = rendered(OutputFormat.CSV)
        assert text.count("\r\n") == 3
        header, first, second = csv.reader(io.StringIO(text, newline=""))
        assert tuple(header) == RECORD_FIELDS
        row = dict(zip(header, first, strict=True))
        assert row["diagnostic"] == '550 5.1.1 <x@y> [192.0.2.1] "no such user", sorry'
        assert row["message"] == "1"
        assert dict(zip(header, second, strict=True))["reason"] == ""


class TestTable:
    """The table shows where, who, kind and why; the diagnostic when no rule explained it."""

    def test_table(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal's width
        text = rendered(OutputFormat.TABLE)
        assert "in.mbox:1" in text
        assert "userunknown" in text
        assert "452 mailbox full" in text
        assert "jiří@příklad.example" in text

    def test_saved_table_is_wide(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """In a file or pipe (no COLUMNS) the table is 160 columns, not rich's default 80."""
        monkeypatch.delenv("COLUMNS", raising=False)
        text = rendered(OutputFormat.TABLE)
        assert 80 < max(len(line) for line in text.splitlines()) <= PIPED_TABLE_WIDTH
        assert "The recipient's address does not exist." in text  # one line, not folded


class TestEveryFormat:
    """Every member of OutputFormat renders both kinds of record."""

    @pytest.mark.parametrize("form", list(OutputFormat))
    def test_renders(self, form: OutputFormat) -> None:
        text = rendered(form)
        assert "a@b.example" in text


class TestAtomicWriter:
    """An output file is replaced whole or left as it was."""

    def test_replaces(self, tmp_path: Path) -> None:
        target = tmp_path / "out.csv"
        target.write_text("old\n")
        target.chmod(0o640)
        with atomic_text_writer(target) as stream:
            stream.write("new\r\n")
            assert target.read_text() == "old\n"  # not yet
        assert target.read_bytes() == b"new\r\n"
        assert target.stat().st_mode & 0o777 == 0o640
        assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]

    def test_failure_keeps_the_old_file(self, tmp_path: Path) -> None:
        target = tmp_path / "out.jsonl"
        target.write_text("old\n")
        with pytest.raises(RuntimeError), atomic_text_writer(target) as stream:
            stream.write("half")
            raise RuntimeError("crash in the middle")
        assert target.read_text() == "old\n"
        assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]

    def test_new_file(self, tmp_path: Path) -> None:
        target = tmp_path / "new.jsonl"
        with atomic_text_writer(target) as stream:
            stream.write("{}\n")
        assert target.read_text() == "{}\n"


class TestWriteData:
    """write_data writes the header and lines already in UTF-8, byte for byte as text would be."""

    LINES = ('{"recipient": "a@x.example", "explanation": "Nevíme."}\n', '{"recipient": null}\n')

    def test_utf8_stream_gets_the_bytes(self) -> None:
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        encoder = LineEncoder(OutputFormat.CSV, Lang.EN)
        write_data((line.encode("utf-8") for line in self.LINES), encoder, stream)
        stream.flush()
        assert raw.getvalue() == (encoder.header() + "".join(self.LINES)).encode("utf-8")

    def test_other_streams_get_text(self) -> None:
        text = io.StringIO()
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        write_data((line.encode("utf-8") for line in self.LINES), encoder, text)
        assert text.getvalue() == "".join(self.LINES)

    def test_stream_in_another_encoding_gets_text(self) -> None:
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding="cp1250", newline="")
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        write_data((line.encode("utf-8") for line in self.LINES), encoder, stream)
        stream.flush()
        assert raw.getvalue() == "".join(self.LINES).encode("cp1250")
