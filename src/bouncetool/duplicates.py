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

import numpy as np

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
