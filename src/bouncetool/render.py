"""Records to text: a rich table for people, JSON Lines and CSV for programs.

JSON Lines and CSV stream (one record in, one line out) and carry every field
of the output contract, `RECORD_FIELDS`, in that order; absent values are JSON
``null`` and empty CSV cells. The table shows the fields a person reads first.
"""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Iterable
from pathlib import PurePath
from typing import TextIO, assert_never

from rich.console import Console
from rich.table import Table
from rich.text import Text

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
    if form is OutputFormat.JSONL:
        return write_jsonl(records, stream, lang)
    if form is OutputFormat.CSV:
        return write_csv(records, stream, lang)
    if form is OutputFormat.TABLE:
        return write_table(records, stream, lang)
    assert_never(form)


def write_jsonl(records: Iterable[Record], stream: TextIO, lang: Lang) -> int:
    """One JSON object per line, keys in `RECORD_FIELDS` order, UTF-8 kept readable."""
    count = 0
    for record in records:
        stream.write(json.dumps(record.as_dict(lang), ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def write_csv(records: Iterable[Record], stream: TextIO, lang: Lang) -> int:
    """A header of `RECORD_FIELDS`, then one row per record (RFC 4180: CRLF, quotes).

    `stream` should be opened with ``newline=""`` so the line ends stay CRLF.
    """
    writer = csv.writer(stream)
    writer.writerow(RECORD_FIELDS)
    count = 0
    for record in records:
        row = record.as_dict(lang)
        writer.writerow(["" if row[field] is None else row[field] for field in RECORD_FIELDS])
        count += 1
    return count


def write_table(records: Iterable[Record], stream: TextIO, lang: Lang) -> int:
    """A table for reading in a terminal (colour only when `stream` is one)."""
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
    Console(file=stream, highlight=False).print(table)
    return count
