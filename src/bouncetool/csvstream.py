"""Stream a contact CSV as batches of raw records, parsing only the columns asked for.

Kept rows must go back byte for byte, so a record is never re-serialised: a
batch holds the raw bytes of its records and, per wanted column, the field's
bytes. A block of lines with no quote character at all takes the fast path:
split on the delimiter, nothing decoded (ten million rows in seconds). A block
with quotes goes through the `csv` module line by line, so quoted fields with
delimiters and line breaks inside are read correctly; a record that crosses the
end of a block is carried into the next one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bouncetool.dialect import QUOTE, Dialect, iter_line_chunks
from bouncetool.errors import ContactsError


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive records of one file, as raw bytes plus the wanted fields."""

    data: bytes  # the records, exactly as in the file
    offset: int  # where `data` starts in the file
    lines: Sequence[int]  # the 1-based line each record starts on
    fields: list[list[bytes]]  # per wanted column: each record's field (unquoted, unstripped)
    blank: frozenset[int]  # indexes of empty lines: kept as they are, not contacts
    # where each record starts, then len(data) (quoted path and the regular plain path)
    starts: list[int] | npt.NDArray[np.int64] | None = None
    pieces: list[bytes] | None = None  # each record without its b"\n" (plain path)

    def __len__(self) -> int:
        return len(self.lines)

    def spans(self, indices: Iterable[int]) -> Iterator[tuple[int, int]]:
        """(start, end) in `data` of each record in `indices`, which must ascend."""
        if self.starts is not None:
            for index in indices:
                yield int(self.starts[index]), int(self.starts[index + 1])
            return
        pieces = self.pieces or []
        position, done = 0, 0
        for index in indices:
            # Summing lengths only up to the records asked for keeps the plain path cheap.
            position += sum(map(len, pieces[done:index])) + index - done
            end = min(position + len(pieces[index]) + 1, len(self.data))
            yield position, end
            position, done = end, index + 1

    def record(self, index: int) -> bytes:
        """The raw bytes of record `index`, line end included."""
        start, end = next(self.spans([index]))
        return self.data[start:end]


class _IncompleteError(Exception):
    """A quoted field is still open where the data ends."""


@dataclass(frozen=True, slots=True)
class _Reader:
    path: Path
    dialect: Dialect
    columns: tuple[int, ...]

    def parse(self, data: bytes, offset: int, line: int) -> Batch:
        """One batch from `data` (whole records), starting at `offset` and `line`."""
        if QUOTE.encode() in data:
            return self._parse_all_quoted(data, offset, line) or self._parse_quoted(
                data, offset, line
            )
        return self._parse_plain(data, offset, line)

    def _parse_plain(self, data: bytes, offset: int, line: int) -> Batch:
        regular = self._parse_regular(data, offset, line)
        if regular is not None:
            return regular
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        pieces = lines
        delimiter = self.dialect.delimiter.encode()
        expected = len(self.dialect.header) - 1
        blank: set[int] = set()
        if set(map(bytes.count, lines, repeat(delimiter))) - {expected}:
            counts = list(map(bytes.count, lines, repeat(delimiter)))
            blank = self._blank_or_ragged(lines, counts, expected, line)
            filler = delimiter * expected
            lines = [filler if index in blank else text for index, text in enumerate(lines)]
        if expected == 0:
            fields = [lines for _column in self.columns]
        else:
            fields = [
                [text.split(delimiter, column + 1)[column] for text in lines]
                for column in self.columns
            ]
        return Batch(
            data, offset, range(line, line + len(lines)), fields, frozenset(blank), pieces=pieces
        )

    def _parse_regular(self, data: bytes, offset: int, line: int) -> Batch | None:
        """The common block, where every line has exactly the header's fields; else None.

        Found with two vectorised scans (line ends, delimiters) instead of
        splitting every line: if there are lines x (columns - 1) delimiters
        and each line's share lies inside that line, no line is ragged, and
        the fields are slices between known positions.
        """
        expected = len(self.dialect.header) - 1
        if expected == 0 or not data:
            return None
        array = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(array == 10)
        if not data.endswith(b"\n"):
            ends = np.append(ends, len(data))  # the last line has no line end
        count = len(ends)
        marks = np.flatnonzero(array == ord(self.dialect.delimiter))
        if len(marks) != count * expected:
            return None
        grid = marks.reshape(count, expected)
        starts = np.empty(count + 1, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends + 1
        starts[-1] = min(int(starts[-1]), len(data))
        if not ((grid[:, 0] >= starts[:-1]).all() and (grid[:, -1] < ends).all()):
            return None
        fields = []
        for column in self.columns:
            first = starts[:-1] if column == 0 else grid[:, column - 1] + 1
            last = ends if column == expected else grid[:, column]
            fields.append([data[a:b] for a, b in zip(first.tolist(), last.tolist(), strict=True)])
        return Batch(data, offset, range(line, line + count), fields, frozenset(), starts=starts)

    def _parse_all_quoted(self, data: bytes, offset: int, line: int) -> Batch | None:
        """A block where every line is ``"a","b",...`` with no quote inside a field; else None.

        Shops export lists with every field quoted; such a block is read with
        vectorised scans like a plain one. Every line must start with a quote,
        hold exactly two quotes per column, have exactly ``","`` between
        fields and end right after its last quote: then each line is one
        record and each field is the text between its two quotes.
        """
        width = len(self.dialect.header)
        array = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(array == 10)
        if not data.endswith(b"\n"):
            ends = np.append(ends, len(data))
        count = len(ends)
        quotes = np.flatnonzero(array == ord(QUOTE))
        if not count or len(quotes) != count * width * 2:
            return None
        pairs = quotes.reshape(count, width, 2)
        opening, closing = pairs[:, :, 0], pairs[:, :, 1]
        starts = np.empty(count + 1, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends + 1
        starts[-1] = min(int(starts[-1]), len(data))
        tail = ends - closing[:, -1]
        carriage = array[np.maximum(ends - 1, 0)] == 13
        if not (
            (opening[:, 0] == starts[:-1]).all()
            and ((tail == 1) | ((tail == 2) & carriage)).all()
            and (opening[:, 1:] == closing[:, :-1] + 2).all()
            and (array[closing[:, :-1] + 1] == ord(self.dialect.delimiter)).all()
        ):
            return None
        fields = []
        for column in self.columns:
            first, last = (opening[:, column] + 1).tolist(), closing[:, column].tolist()
            fields.append([data[a:b] for a, b in zip(first, last, strict=True)])
        return Batch(data, offset, range(line, line + count), fields, frozenset(), starts=starts)

    def _blank_or_ragged(
        self, lines: list[bytes], counts: list[int], expected: int, line: int
    ) -> set[int]:
        blank = set()
        for index, count in enumerate(counts):
            if count == expected:
                continue
            if lines[index].strip():
                raise self._ragged(line + index, count + 1)
            blank.add(index)
        return blank

    def _ragged(self, line: int, found: int) -> ContactsError:
        return ContactsError(
            f"{self.path}, line {line}: {found} fields where the header has "
            f"{len(self.dialect.header)}"
        )

    def _parse_quoted(self, data: bytes, offset: int, line: int) -> Batch:
        raw_lines = data.split(b"\n")
        last = raw_lines.pop()
        raw_lines = [text + b"\n" for text in raw_lines]
        if last:
            raw_lines.append(last)
        consumed: list[bytes] = []
        state = {"exhausted": False}

        def decoded() -> Iterator[str]:
            for raw in raw_lines:
                consumed.append(raw)
                yield raw.decode(self.dialect.encoding)
            state["exhausted"] = True

        reader = csv.reader(
            decoded(), delimiter=self.dialect.delimiter, quotechar=QUOTE, strict=True
        )
        starts: list[int] = [0]
        lines: list[int] = []
        blank: set[int] = set()
        fields: list[list[bytes]] = [[] for _column in self.columns]
        width = len(self.dialect.header)
        current = line
        try:
            for parsed in reader:
                size = sum(map(len, consumed))
                row = parsed
                if not row:
                    blank.add(len(lines))
                    row = [""] * width
                elif len(row) != width:
                    raise self._ragged(current, len(row))
                for column, values in zip(self.columns, fields, strict=True):
                    values.append(row[column].encode(self.dialect.encoding))
                starts.append(starts[-1] + size)
                lines.append(current)
                current += len(consumed)
                consumed.clear()
        except csv.Error as error:
            if state["exhausted"]:
                # The last record goes on in the next block: keep the complete ones.
                if not lines:
                    raise _IncompleteError from None
                return Batch(
                    data[: starts[-1]], offset, lines, fields, frozenset(blank), starts=starts
                )
            where = line + reader.line_num - 1
            raise ContactsError(f"{self.path}, line {where}: broken quoting ({error})") from None
        return Batch(data, offset, lines, fields, frozenset(blank), starts=starts)


def iter_batches(path: Path, dialect: Dialect, columns: Sequence[int]) -> Iterator[Batch]:
    """The records after the header of `path`, in batches of about 16 MB.

    Raises ContactsError naming the line for ragged rows and broken quoting.
    """
    reader = _Reader(path, dialect, tuple(columns))
    line = 1 + _header_lines(path, dialect)
    pending = b""
    pending_offset = 0
    with path.open("rb") as handle:
        handle.seek(dialect.header_size)
        for relative, chunk in iter_line_chunks(handle):
            offset = dialect.header_size + relative
            data = pending + chunk if pending else chunk
            start = pending_offset if pending else offset
            try:
                batch = reader.parse(data, start, line)
            except _IncompleteError:
                pending, pending_offset = data, start
                continue
            pending = data[len(batch.data) :]
            pending_offset = start + len(batch.data)
            # Plain and simply quoted blocks hold one line per record; only the
            # csv path has records that span lines (and a full count costs a pass).
            line += batch.data.count(b"\n") if isinstance(batch.starts, list) else len(batch)
            yield batch
    if pending:
        raise ContactsError(f"{path}, line {line}: a quoted field that starts here never ends")


def read_batch(
    path: Path, dialect: Dialect, columns: Sequence[int], *, offset: int, size: int, line: int
) -> Batch:
    """A batch read again from the file (`offset`, `size`, first `line` as it was streamed).

    For the few records a report quotes after the stream has moved on.
    """
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(size)
    return _Reader(path, dialect, tuple(columns)).parse(data, offset, line)


def _header_lines(path: Path, dialect: Dialect) -> int:
    if not dialect.header_size:
        return 0
    with path.open("rb") as handle:
        return handle.read(dialect.header_size).count(b"\n")
