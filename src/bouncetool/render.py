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
import os
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any, TextIO, assert_never

from bouncetool.model import RECORD_FIELDS, Lang, Record


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
    """

    def __init__(self, form: OutputFormat, lang: Lang) -> None:
        if form is OutputFormat.TABLE:
            raise ValueError("a table is not written line by line")
        self.form = form
        self.lang = lang

    def header(self) -> str:
        """What goes before the first record: the CSV header row; nothing for JSON Lines."""
        return _csv_line(RECORD_FIELDS) if self.form is OutputFormat.CSV else ""

    def __call__(
        self, record: Record, source: str | None = None, message: int | None = None
    ) -> str:
        """The line for `record`; `source` and `message`, when given, say where it came from.

        (Worker processes give them rather than copy each record to place it.)
        """
        row = record.as_dict(self.lang)
        if source is not None:
            row["source"], row["message"] = source, message
        if self.form is OutputFormat.JSONL:
            return _json_line(row)
        return _csv_line(["" if row[field] is None else row[field] for field in RECORD_FIELDS])


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
# Per set of keys: the line with a "%s" per value (keys are not escaped twice a record).
_JSON_TEMPLATES: dict[tuple[str, ...], str] = {}


def _json_line(row: dict[str, Any]) -> str:
    """``_JSON(row) + "\\n"``, faster for rows of strings, ints and nulls.

    Each value is encoded as `_JSON` encodes it (the same string encoder,
    ``null``, ``int.__repr__``) and put into the row's template. A value of any
    other type (none in the output contract) leaves the row to `_JSON`.
    """
    try:
        values = [
            _JSON_STRING(value) if value.__class__ is str else _json_scalar(value)
            for value in row.values()
        ]
    except _NotPlainError:
        return _JSON(row) + "\n"
    keys = tuple(row)
    template = _JSON_TEMPLATES.get(keys)
    if template is None:
        template = _JSON_TEMPLATES[keys] = _json_template(keys)
    return template % tuple(values)


class _NotPlainError(Exception):
    """A value `_json_line` leaves to the full JSON encoder."""


def _json_scalar(value: object) -> str:
    if value is None:
        return "null"
    if value.__class__ is int:
        return int.__repr__(value)
    raise _NotPlainError


def _json_template(keys: tuple[str, ...]) -> str:
    fields = ", ".join(_JSON_STRING(key).replace("%", "%%") + ": %s" for key in keys)
    return "{" + fields + "}\n"


# One writer per process, reused: creating a csv.writer per row costs more
# than the row itself.
_CSV_BUFFER = io.StringIO()
_CSV_WRITER = csv.writer(_CSV_BUFFER)


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
