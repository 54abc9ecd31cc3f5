"""Cut a large plain mbox into byte ranges that can be read (and parsed) independently.

Each range after the first starts exactly at a ``From `` line, so splitting a
range gives the same messages as splitting the whole file. The scan that finds
the cuts also counts the separators, so each range knows the number of its
first message. Only plain files on disk can be cut: compressed data and pipes
are read in order.

The scan also notes where each separator and escaped ``From `` line lies
(`Layout`), so that the process reading a range slices it there instead of
searching every byte again; a file changed since is searched as before.
"""

from __future__ import annotations

import os
import stat
from array import array
from collections.abc import Callable, Iterable, Iterator
from io import BufferedReader
from pathlib import Path
from typing import BinaryIO, NamedTuple

from bouncetool.model import Problem, RawMessage
from bouncetool.sources.mbox import (
    ESCAPE,
    FROM_AFTER,
    message_or_problem,
    planned_separators_hold,
    separator_for,
    split_mbox,
    split_planned,
    starts_like_mbox,
)
from bouncetool.sources.streams import CHUNK_SIZE, compression_of

_HEAD = 1 << 12


class Layout(NamedTuple):
    """Where the messages of a range lie, found while planning, so that a worker need not look.

    `ends` are the offsets (from the range's start) of its separators, packed
    as native 8-byte integers (a few kilobytes to pickle instead of a list of
    int objects); `escaped` the indexes of the messages that may hold an
    escaped ``From `` line; `stamp` tells the file as it was (inode, size,
    modification time): a file changed since is split again by the reader.
    """

    separator: bytes
    ends: bytes
    escaped: tuple[int, ...]
    stamp: tuple[int, int, int]


class MboxRange(NamedTuple):
    """Bytes `start`..`end` of an mbox; `first` is the number of the message at `start`.

    `layout`, when known, saves the reader the search for separators.
    """

    start: int
    end: int
    first: int
    layout: Layout | None = None


TAPER = 4
"""Towards the end of the file a range holds at most 1/TAPER of what is left (see `mbox_ranges`)."""
SMALLEST = 8
"""...but never less than 1/SMALLEST of the usual size: each range costs a trip to a worker."""


def mbox_ranges(path: str, every: int) -> Iterator[MboxRange] | None:
    """Ranges of about `every` bytes covering the mbox at `path`, with their message numbers.

    The last ranges are smaller (down to `every` / `SMALLEST`: at most a
    `TAPER`-th of what is left after their start), so that processes parsing
    the ranges side by side run out of work at about the same time instead
    of one waiting while another finishes a whole range alone.

    None when `path` is not a plain, seekable mbox file (compressed, one
    message, a pipe, unreadable): such a file is read whole, in order. The
    ranges come while the file is scanned for separators, so work on the
    first can start at once; the scan costs far less than parsing.
    """
    try:
        with Path(path).open("rb") as stream:
            status = Path(path).stat()
            head = stream.read(_HEAD)
    except OSError:
        return None
    lead = len(head) - len(head.lstrip(b"\r\n"))
    separator = separator_for(head[lead:])
    if not stat.S_ISREG(status.st_mode) or compression_of(head) or separator is None:
        return None
    if not starts_like_mbox(head):
        return None
    stamp = (status.st_ino, status.st_size, status.st_mtime_ns)
    return _ranges(path, lead, separator, every, stamp)


def _ranges(
    path: str, lead: int, separator: bytes, every: int, stamp: tuple[int, int, int]
) -> Iterator[MboxRange]:
    size = stamp[1]
    start, first = 0, 1
    try:
        with Path(path).open("rb") as stream:
            stream.seek(lead)
            for point, number, ends, escaped in _split_points(
                stream, lead, separator, _steps(every, size)
            ):
                layout = Layout(separator, array("q", ends).tobytes(), tuple(escaped), stamp)
                if point is None:
                    yield MboxRange(start, size, first, layout)
                    return
                yield MboxRange(start, point, first, layout)
                start, first = point, number
    except OSError:
        pass  # the last range runs to the end; reading it will report the problem
    yield MboxRange(start, size, first)


def _steps(every: int, size: int) -> Callable[[int], int]:
    """The size of the range starting at a given offset (see `mbox_ranges`)."""
    smallest = max(1, every // SMALLEST)

    def step(start: int) -> int:
        return max(smallest, min(every, (size - start) // TAPER))

    return step


def _split_points(
    stream: BufferedReader, offset: int, separator: bytes, step: Callable[[int], int]
) -> Iterator[tuple[int | None, int, list[int], list[int]]]:
    # (offset of a "From " line, number of the message it starts, the ends
    # and escaped messages of the range before it); a range starting at
    # offset o ends about step(o) bytes later; the last item (offset None)
    # is the rest of the file. Message n + 1 starts after the n-th separator,
    # exactly as `split_mbox` counts (it skips the leading blank lines too),
    # and the separators and escapes are found by the very search that
    # `split_mbox` makes, so a reader can split at them without searching.
    # The file is read into one reused buffer (a fresh megabyte per read
    # costs page faults); a match is the "From " after the byte looked at.
    matches = FROM_AFTER[separator].finditer
    line_end = separator[0]
    keep = len(separator) - 1  # a separator may straddle two reads
    buffer = bytearray(keep + CHUNK_SIZE)
    view = memoryview(buffer)
    seen = 0
    cut = 0  # where the current range starts
    target = step(0)
    ends: list[int] = []  # of the separators in the current range, from `cut`
    escaped: list[int] = []  # indexes (in the current range) of messages with an escape
    carried = 0
    while got := stream.readinto(view[carried:]):
        end = carried + got
        base = offset - carried
        # A match whose "F" is at 0 was found in the read before (or is none).
        for match in matches(buffer, 1 if carried else 0, end):
            at = match.start() - 1
            byte = buffer[at]
            if byte == line_end:
                seen += 1
                ends.append(base + at - cut)
                if base + at + 1 >= target:
                    yield base + at + 1, seen + 1, ends, escaped
                    cut = base + at + 1
                    target = cut + step(cut)
                    ends, escaped = [], []
            elif byte == ESCAPE and (not escaped or escaped[-1] != len(ends)):
                escaped.append(len(ends))
        carried = min(keep, end)
        buffer[:carried] = buffer[end - carried : end]
        offset += got
    yield None, seen + 1, ends, escaped


WHOLE_RANGE_BYTES = 4 << 20
"""A range no larger than this (the usual ones are ``TASK_BYTES``, 2 MB) is read in one go.

It is read into a buffer that the process keeps for the next range, and
split where it lies: no chunk is copied to be split, and no fresh memory
(page faults) is taken for each range. A larger range, which only a huge
message makes, is read in chunks as any mbox is.
"""

_spare_buffers: list[bytearray] = []  # the read buffer of a finished range, for the next


def iter_range(path: str, part: MboxRange) -> Iterator[RawMessage | Problem]:
    """The messages in the range `part` of the mbox `path`, numbered from `part.first`."""
    number = part.first - 1
    length = part.end - part.start
    buffer = None
    try:
        with Path(path).open("rb") as stream:
            stream.seek(part.start)
            datas: Iterable[bytes | None]
            if length <= WHOLE_RANGE_BYTES:
                buffer = _spare_buffers.pop() if _spare_buffers else bytearray()
                _read_into(buffer, stream, length)
                datas = _split_range(buffer, part.layout, stream)
            else:
                datas = split_mbox(_chunks(stream, length))
            for data in datas:
                number += 1
                yield message_or_problem(path, number, data)
    except OSError as error:
        yield Problem(path, number + 1, f"cannot read file: {error.strerror or error}")
    if buffer is not None and not _spare_buffers:
        # Split to the end: nothing refers to the buffer any more. (A range
        # left half read keeps its buffer; the next one takes a new one.) One
        # spare is enough: ranges read side by side are rare.
        _spare_buffers.append(buffer)


def _split_range(
    buffer: bytearray, layout: Layout | None, stream: BufferedReader
) -> Iterator[bytes | None]:
    """The messages in `buffer`, split where planned if the file is still as planned."""
    if layout is not None and _unchanged(stream, layout.stamp):
        with memoryview(layout.ends) as packed, packed.cast("q") as offsets:
            ends = offsets.tolist()
        if planned_separators_hold(buffer, ends, layout.separator):
            return split_planned(buffer, ends, frozenset(layout.escaped), layout.separator)
    # Changed since (or not planned): search it, as any mbox.
    return split_mbox((buffer,))


def _unchanged(stream: BufferedReader, stamp: tuple[int, int, int]) -> bool:
    status = os.fstat(stream.fileno())
    return (status.st_ino, status.st_size, status.st_mtime_ns) == stamp


def _read_into(buffer: bytearray, stream: BufferedReader, length: int) -> bytearray:
    """`buffer` resized to and filled with the next `length` bytes of `stream` (fewer at EOF)."""
    if len(buffer) < length:
        buffer.extend(bytes(length - len(buffer)))
    got = 0
    with memoryview(buffer) as view:
        while got < length and (count := stream.readinto(view[got:length])):
            got += count
    del buffer[got:]
    return buffer


def _chunks(stream: BinaryIO, length: int) -> Iterator[bytes]:
    while length > 0 and (chunk := stream.read(min(CHUNK_SIZE, length))):
        length -= len(chunk)
        yield chunk
