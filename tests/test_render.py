"""Rendering records as JSON Lines, CSV and a table; writing output files atomically."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import pickle
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


ODD_TEXTS = [
    'quote " and \\ back',
    "comma, then more",
    "line\nend\r\nand\rcr\ttab\x00\x1f\x7f",
    "é ř 😀 \u2028 \ud800",
    "%s %d %% {}",
    "",
    " spaced ",
]


class _Text(str):
    """A str subclass (the encoders must treat it as its text)."""

    __slots__ = ()


def odd_records() -> list[Record]:
    """Records with every kind of awkward value the contract allows, and some it does not."""
    records = [CLASSIFIED, BARE, Record(Bounce(Kind.NOT_BOUNCE)), Record(Bounce(Kind.COMPLAINT))]
    for text in ODD_TEXTS:
        records.append(Record(Bounce(Kind.HARD, recipient=text, diagnostic=text), VERDICT))
        odd_verdict = dataclasses.replace(VERDICT, matched=text, explanation_cs=text, rule=text)
        records.append(Record(Bounce(Kind.SOFT, date=text, campaign=text), odd_verdict))
        records.append(Record(Bounce(Kind.HARD, source=text, message=3), odd_verdict))
    records.append(Record(Bounce(Kind.HARD, recipient=_Text('a,"b"'), source=_Text("x")), VERDICT))
    # Outside the contract (mypy would refuse them): the encoders still write what
    # the general encoders write.
    records.append(Record(Bounce(Kind.HARD, recipient=5, message=True), VERDICT))  # type: ignore[arg-type]
    records.append(Record(Bounce(Kind.HARD, status=1.5, source=7), VERDICT))  # type: ignore[arg-type]
    return records


def reference_line(record: Record, form: OutputFormat, lang: Lang, place: bool) -> str:
    """The line as the standard json and csv modules write the record's row."""
    row = record.as_dict(lang)
    if place:
        row["source"], row["message"] = 'elsewhere, "quoted"', 77
    if form is OutputFormat.JSONL:
        return json.JSONEncoder(ensure_ascii=False).encode(row) + "\n"
    out = io.StringIO()
    csv.writer(out).writerow(["" if row[field] is None else row[field] for field in RECORD_FIELDS])
    return out.getvalue()


class TestLineEncoderSameAsStandardModules:
    """Every line is exactly what json / csv write for the record's row, whatever the values."""

    @pytest.mark.parametrize("lang", list(Lang))
    @pytest.mark.parametrize("form", [OutputFormat.JSONL, OutputFormat.CSV])
    def test_odd_values(self, form: OutputFormat, lang: Lang) -> None:
        encoder = LineEncoder(form, lang)
        for _ in range(2):  # the second time with the verdicts' fields kept
            for record in odd_records():
                assert encoder(record) == reference_line(record, form, lang, place=False)
                placed = encoder(record, 'elsewhere, "quoted"', 77)
                assert placed == reference_line(record, form, lang, place=True)

    @pytest.mark.parametrize("form", [OutputFormat.JSONL, OutputFormat.CSV])
    def test_line_without_record_and_in_utf8(self, form: OutputFormat) -> None:
        encoder = LineEncoder(form, Lang.CS)
        for record in odd_records():
            line = encoder.line(record.bounce, record.verdict, "in.mbox", 4)
            assert line == encoder(record, "in.mbox", 4)
            pieces: list[bytes] = [b"before"]
            try:
                expected = line.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate cannot be UTF-8 either way
                with pytest.raises(UnicodeEncodeError):
                    encoder.add_utf8(pieces, record.bounce, record.verdict, "in.mbox", 4)
                continue
            encoder.add_utf8(pieces, record.bounce, record.verdict, "in.mbox", 4)
            assert b"".join(pieces) == b"before" + expected


class TestLineEncoderKeepsVerdicts:
    """A verdict's fields are encoded once and kept; keeping never mixes up verdicts."""

    def test_equal_looking_verdicts_stay_apart(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("bouncetool.render._KEPT_VERDICTS", 2)
        encoder = LineEncoder(OutputFormat.JSONL, Lang.EN)
        bounce = Bounce(Kind.HARD, recipient="a@b.example")
        for rule in ("one", "two", "three", "one", "four"):
            verdict = dataclasses.replace(VERDICT, rule=rule)
            assert json.loads(encoder(Record(bounce, verdict)))["rule"] == rule

    def test_pickled_encoder_starts_empty(self) -> None:
        encoder = LineEncoder(OutputFormat.CSV, Lang.CS)
        line = encoder(CLASSIFIED)
        copy = pickle.loads(pickle.dumps(encoder))  # noqa: S301  (bytes made just above)
        assert copy._verdict_ends == {}
        assert (copy.form, copy.lang, copy(CLASSIFIED)) == (OutputFormat.CSV, Lang.CS, line)
