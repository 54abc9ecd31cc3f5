"""Find repeated addresses in a list of millions without holding the addresses.

A set of ten million addresses would cost a gigabyte; eight bytes of hash per
row cost 80 MB. Rows are numbered as they stream by; at the end the hashes are
sorted once and the rows that repeat an earlier one are found. A hash collision
(one in a few hundred thousand for ten million rows) could report a false
repeat; the examples a report shows are checked against the real addresses.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bouncetool.addresses import normalise_address
from bouncetool.csvstream import Batch, read_batch
from bouncetool.dialect import Dialect

_SLICE = 1_000_000


class DuplicateFinder:
    """Collects one key per row; `repeats` names rows whose key an earlier row had."""

    def __init__(self) -> None:
        self._hashes = array("q")
        self._empty = hash(b"")

    def add(self, keys: Iterable[bytes]) -> None:
        """Record the keys of the next rows (an empty key is never a duplicate)."""
        self._hashes.extend(map(hash, keys))

    def repeats(self, limit: int) -> tuple[int, list[tuple[int, int]]]:
        """How many rows repeat an earlier key, and up to `limit` (row, first row) pairs."""
        hashes = np.frombuffer(self._hashes, dtype=np.int64) if self._hashes else None
        if hashes is None or len(hashes) < 2:
            return 0, []
        ordered = np.sort(hashes)
        same = ordered[1:] == ordered[:-1]
        repeated = np.unique(ordered[1:][same])
        del ordered, same
        repeated = repeated[repeated != self._empty]
        if not len(repeated):
            return 0, []
        first: dict[int, int] = {}
        count = 0
        examples: list[tuple[int, int]] = []
        for start in range(0, len(hashes), _SLICE):
            window = hashes[start : start + _SLICE]
            for offset in np.flatnonzero(np.isin(window, repeated)):
                value = int(window[offset])
                row = start + int(offset)
                if value in first:
                    count += 1
                    if len(examples) < limit:
                        examples.append((row, first[value]))
                else:
                    first[value] = row
        return count, examples


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row whose address an earlier row already has."""

    address: str
    line: int
    first_line: int


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a batch was in the file: enough to read its records again."""

    first_row: int
    offset: int
    size: int
    line: int


@dataclass(slots=True)
class Visits:
    """The batches streamed so far, so a report can quote a row after the stream moved on."""

    places: list[_Place] = field(default_factory=list)
    records: int = 0

    def add(self, batch: Batch) -> None:
        """Note where `batch` was (its records follow those already noted)."""
        line = batch.lines[0] if len(batch) else 1
        self.places.append(_Place(self.records, batch.offset, len(batch.data), line))
        self.records += len(batch)

    def row(self, path: Path, dialect: Dialect, column: int, row: int) -> tuple[int, str]:
        """The line and address of record number `row` (0-based, blank lines included)."""
        for place in reversed(self.places):
            if place.first_row <= row:
                batch = read_batch(
                    path, dialect, [column], offset=place.offset, size=place.size, line=place.line
                )
                index = row - place.first_row
                value = batch.fields[0][index].strip().decode(dialect.encoding)
                return batch.lines[index], value
        raise IndexError(row)


def duplicates(
    path: Path,
    dialect: Dialect,
    column: int,
    finder: DuplicateFinder,
    visits: Visits,
    *,
    limit: int = 10,
) -> tuple[int, tuple[Duplicate, ...]]:
    """How many rows repeat an earlier address, and up to `limit` of them, quoted from the file."""
    count, pairs = finder.repeats(limit)
    found: list[Duplicate] = []
    for row, first in pairs:
        later_line, address = visits.row(path, dialect, column, row)
        first_line, first_address = visits.row(path, dialect, column, first)
        if normalise_address(address) == normalise_address(first_address):
            found.append(Duplicate(address, later_line, first_line))
    return count, tuple(found)
