"""Records to text: a rich table for people, JSON Lines and CSV for programs.

JSON Lines and CSV stream (one record in, one line out) and carry every field
of the output contract, `RECORD_FIELDS`, in that order; absent values are JSON
``null`` and empty CSV cells. The table shows the fields a person reads first.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import json
import operator
import os
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any, TextIO, assert_never

from bouncetool.model import RECORD_FIELDS, Bounce, Lang, Record, Verdict


class OutputFormat(enum.StrEnum):
    """The output formats of ``classify``."""

    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("recipient", "recipient"),
    ("kind", "kind"),
    ("status", "status"),
    ("reply_code", "code"),
    ("reason", "reason"),
    ("explanation", "why"),
)
"""(field, heading) of the table after the ``where`` column (file name : message).

``why`` falls back to the server's diagnostic when no rule explained it.
"""


def render(records: Iterable[Record], form: OutputFormat, stream: TextIO, lang: Lang) -> int:
    """Write `records` to `stream` in `form`; return how many were written."""
    if form is OutputFormat.JSONL or form is OutputFormat.CSV:
        encoder = LineEncoder(form, lang)
        return write_lines((encoder(record) for record in records), encoder, stream)
    if form is OutputFormat.TABLE:
        return write_table(records, stream, lang)
    assert_never(form)


class LineEncoder:
    """One record to its line of JSON Lines or CSV, line end included.

    Picklable, so that worker processes can encode the records they make and
    send text, not records, back to the main process (see
    `bouncetool.pipeline.iter_encoded`). JSON: keys in `RECORD_FIELDS` order,
    UTF-8 kept readable. CSV (RFC 4180): CRLF, quotes where needed, an empty
    cell for null; write it to a stream opened with ``newline=""``.

    A line is the bounce's fields, which change with every record, then the
    verdict's (kind, reason, ..., explanation), which a verdict always encodes
    the same way: that end of the line is encoded once per verdict and kept
    (the rule table hands out the same verdict for every bounce of a template).
    """

    def __init__(self, form: OutputFormat, lang: Lang) -> None:
        if form is OutputFormat.TABLE:
            raise ValueError("a table is not written line by line")
        self.form = form
        self.lang = lang
        # The encoded verdict fields: by verdict (its id, with the verdict
        # itself so that the id cannot be reused while kept), and for records
        # without a verdict by the bounce's kind.
        self._verdict_ends: dict[int, tuple[Verdict, tuple[str, bytes | None]]] = {}
        self._bare_ends: dict[object, tuple[str, bytes | None]] = {}
        self._source: tuple[object, str | None] = (_NO_SOURCE, None)

    def __reduce__(self) -> tuple[type[LineEncoder], tuple[OutputFormat, Lang]]:
        # The kept line ends stay in the process that made them.
        return (LineEncoder, (self.form, self.lang))

    def header(self) -> str:
        """What goes before the first record: the CSV header row; nothing for JSON Lines."""
        return _csv_line(RECORD_FIELDS) if self.form is OutputFormat.CSV else ""

    def __call__(
        self, record: Record, source: str | None = None, message: int | None = None
    ) -> str:
        """The line for `record`; `source` and `message`, when given, say where it came from.

        (Worker processes give them rather than copy each record to place it.)
        """
        bounce = record.bounce
        if source is None:
            source, message = bounce.source, bounce.message
        return self.line(bounce, record.verdict, source, message)

    def line(
        self, bounce: Bounce, verdict: Verdict | None, source: str | None, message: int | None
    ) -> str:
        """The line for the record of `bounce` and `verdict`, from message `message` of `source`.

        The same as ``self(Record(bounce, verdict), source, message)`` without
        making the record.
        """
        head = self._head(bounce, source, message)
        if head is None:
            return self._general_line(bounce, verdict, source, message)
        return head + self._end(bounce, verdict)[0]

    def add_utf8(
        self,
        out: list[bytes],
        bounce: Bounce,
        verdict: Verdict | None,
        source: str | None,
        message: int | None,
    ) -> None:
        """Append `line` (same arguments) to `out` in UTF-8, as one or more pieces.

        Workers call this for every bounce and join the pieces of many lines
        at once. The verdict's end of the line is kept already encoded, so only
        the bounce's part is encoded each time (an ASCII copy, mostly: the
        explanations, in Czech, are where the other characters are).
        """
        head = self._head(bounce, source, message)
        if head is None:
            out.append(self._general_line(bounce, verdict, source, message).encode("utf-8"))
        else:
            out.append(head.encode("utf-8"))
            text, utf8 = self._end(bounce, verdict)
            out.append(text.encode("utf-8") if utf8 is None else utf8)  # (the first raises)

    def _general_line(
        self, bounce: Bounce, verdict: Verdict | None, source: str | None, message: int | None
    ) -> str:
        """The line made the general way (for values outside the output contract)."""
        row = Record(bounce, verdict).as_dict(self.lang)
        row["source"], row["message"] = source, message
        if self.form is OutputFormat.JSONL:
            return _json_line(row)
        return _csv_line(["" if row[field] is None else row[field] for field in RECORD_FIELDS])

    def _head(self, bounce: Bounce, source: str | None, message: int | None) -> str | None:
        """The line up to the verdict's fields; None if a value is not text, an int or null."""
        if self.form is OutputFormat.JSONL:
            return self._json_head(bounce, source, message)
        return self._csv_head(bounce, source, message)

    def _end(self, bounce: Bounce, verdict: Verdict | None) -> tuple[str, bytes | None]:
        """The rest of the line, the verdict's fields (`_VERDICT_FIELDS`), as text and UTF-8.

        Kept per verdict.
        """
        if verdict is None:
            end = self._bare_ends.get(bounce.kind)
            if end is None:
                end = self._bare_ends[bounce.kind] = self._encode_end(Record(bounce))
            return end
        kept = self._verdict_ends.get(id(verdict))
        if kept is not None and kept[0] is verdict:
            return kept[1]
        if len(self._verdict_ends) >= _KEPT_VERDICTS:
            self._verdict_ends.clear()  # a crude bound; real mail repeats few verdicts
        end = self._encode_end(Record(bounce, verdict))
        self._verdict_ends[id(verdict)] = (verdict, end)
        return end

    def _encode_end(self, record: Record) -> tuple[str, bytes | None]:
        """The verdict fields of `record` as they end its line, as text and UTF-8.

        JSON: the fields, the closing brace and the line end; CSV: a comma, the
        cells and the line end.
        """
        row = record.as_dict(self.lang)
        if self.form is OutputFormat.JSONL:
            end = _JSON({field: row[field] for field in _VERDICT_FIELDS})[1:] + "\n"
        else:
            end = "," + _csv_line(
                ["" if row[field] is None else row[field] for field in _VERDICT_FIELDS]
            )
        try:
            return end, end.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: only the text line can hold it
            return end, None

    def _json_head(self, bounce: Bounce, source: str | None, message: int | None) -> str | None:
        # _JSON_STRING encodes a string as `_JSON` does and refuses anything
        # else (TypeError); one list comprehension over the bounce's fields,
        # fetched at once by `_bounce_values`, is the cheapest way to apply it.
        try:
            values = [
                "null" if value is None else _JSON_STRING(value) for value in _bounce_values(bounce)
            ]
        except TypeError:
            return None
        kept, encoded_source = self._source
        if kept is not source:  # a worker's records come from one source: kept
            encoded_source = _json_plain(source)
            self._source = (source, encoded_source)
        encoded_message = _json_plain(message)
        if encoded_source is None or encoded_message is None:
            return None
        # The pieces of the line around the values are kept in a list with a
        # gap for each value: filling the gaps and joining makes the line in
        # one copy (cheaper than formatting a template).
        pieces = _JSON_HEAD.copy()
        pieces[1::2] = (encoded_source, encoded_message, *values)
        return "".join(pieces)

    def _csv_head(self, bounce: Bounce, source: str | None, message: int | None) -> str:
        cells = ["" if value is None else value for value in _bounce_values(bounce)]
        kept, source_cell = self._source
        if kept is not source:  # as for JSON
            if source is None:
                source_cell = ""
            elif source.__class__ is str and "," not in source and not _needs_quotes(source):
                source_cell = source
            else:
                source_cell = None  # the writer decides
            self._source = (source, source_cell)
        if source_cell is not None and message.__class__ is int:
            # Cells without a comma, quote or line break go out as they are, so
            # then the row is the cells joined: no need for the csv writer.
            try:
                text = ",".join(cells)
            except TypeError:  # not text: the writer turns it into text
                text = '"'
            if text.count(",") == len(cells) - 1 and not _needs_quotes(text):
                return f"{source_cell},{message},{text}"
        return _csv_line([source, message, *cells])[: -len(_CSV_EOL)]


_NO_SOURCE = object()
"""The source `LineEncoder` has kept before its first record."""

_KEPT_VERDICTS = 4096
"""At most this many verdicts' encoded fields are kept by one encoder."""

_VERDICT_FIELDS = RECORD_FIELDS[RECORD_FIELDS.index("kind") :]
"""The fields at the end of a record that its verdict decides (see `LineEncoder`)."""

_BOUNCE_FIELDS = RECORD_FIELDS[2 : RECORD_FIELDS.index("kind")]
"""The fields between the record's place (source, message) and its verdict's: the bounce's own."""

_bounce_values = operator.attrgetter(*_BOUNCE_FIELDS)


def write_lines(lines: Iterable[str], encoder: LineEncoder, stream: TextIO) -> int:
    """The encoder's header, then `lines` (made by `encoder`); return how many lines."""
    stream.write(encoder.header())
    count = 0
    for line in lines:
        stream.write(line)
        count += 1
    return count


def write_data(chunks: Iterable[bytes], encoder: LineEncoder, stream: TextIO) -> None:
    """The encoder's header, then `chunks`: lines made by `encoder`, already UTF-8.

    They go straight to the binary buffer under `stream` when it writes
    UTF-8 (stdout and ``--output`` do), with no decoding and encoding again;
    otherwise they are decoded and written as text.
    """
    stream.write(encoder.header())
    binary = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if binary is None or encoding is None or codecs.lookup(encoding).name != "utf-8":
        for chunk in chunks:
            stream.write(chunk.decode("utf-8"))
        return
    stream.flush()  # what the text layer holds goes first
    for chunk in chunks:
        binary.write(chunk)


# json.dumps with options builds a new encoder per call; this one is built once
# and writes the same text.
_JSON = json.JSONEncoder(ensure_ascii=False).encode
# The string encoder `_JSON` itself uses for keys and values (C, when available).
_JSON_STRING = json.encoder.encode_basestring


def _json_line(row: dict[str, Any]) -> str:
    """``_JSON(row)`` as a line: the general way, for rows `LineEncoder` cannot piece together."""
    return _JSON(row) + "\n"


def _json_plain(value: object) -> str | None:
    """What `_JSON` writes for a string, an int or None; None for any other value."""
    if value.__class__ is str:
        return _JSON_STRING(value)
    if value is None:
        return "null"
    if value.__class__ is int:
        return int.__repr__(value)
    return None


def _json_head_pieces() -> list[str]:
    """A record's line up to its verdict's fields as [text, gap, text, gap, ..., text]:
    a gap for each value of its place and bounce.
    """
    keys = [_JSON_STRING(key) for key in RECORD_FIELDS[: RECORD_FIELDS.index("kind")]]
    texts = ["{" + keys[0] + ": ", *(", " + key + ": " for key in keys[1:])]
    pieces = [piece for text in texts for piece in (text, "")]
    return [*pieces, ", "]


_JSON_HEAD = _json_head_pieces()


# One writer per process, reused: creating a csv.writer per row costs more
# than the row itself.
_CSV_BUFFER = io.StringIO()
_CSV_EOL = "\r\n"  # RFC 4180 (and the writer's default)
_CSV_WRITER = csv.writer(_CSV_BUFFER, lineterminator=_CSV_EOL)


def _needs_quotes(text: str) -> bool:
    # What makes the csv writer quote a cell, besides a comma.
    return '"' in text or "\r" in text or "\n" in text


def _csv_line(values: Iterable[object]) -> str:
    _CSV_WRITER.writerow(values)
    line = _CSV_BUFFER.getvalue()
    _CSV_BUFFER.seek(0)
    _CSV_BUFFER.truncate()
    return line


PIPED_TABLE_WIDTH = 160


def write_table(records: Iterable[Record], stream: TextIO, lang: Lang) -> int:
    """A table for reading in a terminal (colour only when `stream` is one)."""
    # rich only here: JSON Lines and CSV runs start faster without it.
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(header_style="bold")
    table.add_column("where", overflow="fold")
    for _, heading in TABLE_COLUMNS:
        table.add_column(heading, overflow="fold")
    count = 0
    for record in records:
        row = record.as_dict(lang)
        row["explanation"] = row["explanation"] or row["diagnostic"]
        where = f"{PurePath(str(row['source'])).name}:{row['message']}"
        cells = [Text("" if row[field] is None else str(row[field])) for field, _ in TABLE_COLUMNS]
        table.add_row(Text(where), *cells)
        count += 1
    Console(file=stream, highlight=False, width=_table_width(stream)).print(table)
    return count


def _table_width(stream: TextIO) -> int | None:
    """The terminal's own width; 160 columns in a file or pipe unless COLUMNS says otherwise.

    (rich's default of 80 folds the explanations of a table saved to a file or
    paged with ``less`` into a column a word wide.)
    """
    if stream.isatty() or os.environ.get("COLUMNS"):
        return None
    return PIPED_TABLE_WIDTH
