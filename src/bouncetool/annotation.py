"""The bounce columns `annotate` appends to each row, written a block at a time.

Most rows of a list have nothing against them and get the same seven
columns; in a block where every record is one line and every line ends the
same way, those rows are written with one `bytes.replace` (the tail goes in
front of each line end), and only the rows the ledger knows are written one
by one. Other blocks (blank lines, records spanning lines, mixed line ends)
are written row by row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import BinaryIO

from bouncetool.csvstream import Batch
from bouncetool.dialect import Dialect, split_line_end
from bouncetool.model import AddressStatus, Lang
from bouncetool.triage import when

ANNOTATE_COLUMNS = (
    "bounce_status",
    "bounce_kind",
    "bounce_reason",
    "bounce_category",
    "bounce_count",
    "last_bounce_at",
    "bounce_explanation",
)


def status_label(status: AddressStatus) -> str:
    """suppressed; watch (failures counted, not yet suppressed); ok (e.g. a delivery notice)."""
    if status.suppressed:
        return "suppressed"
    return "watch" if status.count > 0 else "ok"


def annotation(status: AddressStatus, lang: Lang) -> list[str]:
    """The seven added values for an address the ledger knows (`ANNOTATE_COLUMNS` order)."""
    return [
        status_label(status),
        str(status.kind),
        status.reason or "",
        status.category or "",
        str(status.count),
        when(status.last_at),
        status.explanation(lang) or status.why,
    ]


class Annotator:
    """Appends the bounce columns to the rows of each batch, counting rows per status."""

    def __init__(self, dialect: Dialect, lookup: Mapping[bytes, AddressStatus], lang: Lang) -> None:
        self._dialect = dialect
        self._lookup = lookup
        self._lang = lang
        self._plain = dialect.format_fields(["ok", "", "", "", "0", "", ""])
        self.counts: Counter[str] = Counter()

    def write(self, batch: Batch, keys: list[bytes], out: BinaryIO) -> None:
        """Write `batch` with the columns added; `keys` are its lookup keys."""
        known = {index: self._lookup[key] for index, key in enumerate(keys) if key in self._lookup}
        ending = self._uniform_line_end(batch)
        if ending is None:
            self._row_by_row(batch, known, out)
            return
        data = batch.data
        done = 0
        for (start, end), status in zip(batch.spans(known), known.values(), strict=True):
            out.write(data[done:start].replace(ending, self._plain + ending))
            self._one(data[start:end], status, out)
            done = end
        rest = data[done:]
        out.write(rest.replace(ending, self._plain + ending))
        if rest and not rest.endswith(ending):  # the file's last line has no line end
            out.write(self._plain)
        self.counts["ok"] += len(batch) - len(known)

    def _uniform_line_end(self, batch: Batch) -> bytes | None:
        """The one line end of a block of one-line records, else None."""
        if batch.blank or isinstance(batch.starts, list):
            return None
        newlines = batch.data.count(b"\n")
        if batch.data.count(b"\r\n") == newlines:
            return b"\r\n"
        return b"\n" if b"\r" not in batch.data else None

    def _row_by_row(self, batch: Batch, known: dict[int, AddressStatus], out: BinaryIO) -> None:
        for index, (start, end) in enumerate(batch.spans(range(len(batch)))):
            record = batch.data[start:end]
            if index in batch.blank:
                out.write(record)
            elif index in known:
                self._one(record, known[index], out)
            else:
                body, ending = split_line_end(record)
                out.write(body + self._plain + ending)
                self.counts["ok"] += 1

    def _one(self, record: bytes, status: AddressStatus, out: BinaryIO) -> None:
        body, ending = split_line_end(record)
        self.counts[status_label(status)] += 1
        out.write(body + self._dialect.format_fields(annotation(status, self._lang)) + ending)
