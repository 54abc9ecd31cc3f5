"""Cut a large plain mbox into byte ranges that can be read (and parsed) independently.

Each range after the first starts exactly at a ``From `` line, so splitting a
range gives the same messages as splitting the whole file. The scan that finds
the cuts also counts the separators, so each range knows the number of its
first message. Only plain files on disk can be cut: compressed data and pipes
are read in order.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterable, Iterator
from io import BufferedReader
from pathlib import Path
from typing import BinaryIO, NamedTuple

from bouncetool.model import Problem, RawMessage
from bouncetool.sources.mbox import (
    message_or_problem,
    separator_for,
    split_mbox,
    starts_like_mbox,
)
from bouncetool.sources.streams import CHUNK_SIZE, compression_of

_HEAD = 1 << 12


class MboxRange(NamedTuple):
    """Bytes `start`..`end` of an mbox; `first` is the number of the message at `start`."""

    start: int
    end: int
    first: int


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
    return _ranges(path, lead, separator, every, status.st_size)


def _ranges(path: str, lead: int, separator: bytes, every: int, size: int) -> Iterator[MboxRange]:
    start, first = 0, 1
    try:
        with Path(path).open("rb") as stream:
            stream.seek(lead)
            for point, number in _split_points(stream, lead, separator, _steps(every, size)):
                yield MboxRange(start, point, first)
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
) -> Iterator[tuple[int, int]]:
    # (offset of a "From " line, number of the message it starts); a range
    # starting at offset o ends about step(o) bytes later. Message n + 1
    # starts after the n-th separator, exactly as `split_mbox` counts (it
    # skips the leading blank lines too).
    # This scan runs in the main process while the workers parse, so it is
    # kept lean: the separators between two cuts are counted by one `findall`
    # (a separator cannot overlap itself, so it counts what finding one by
    # one would) and only the one after each cut is looked for; the file is
    # read into one reused buffer (a fresh megabyte per read costs page
    # faults), and the separator found by the counter is the one shifted by a
    # byte: "\nFrom " as "F" preceded by "\n", then "rom ", which `re` finds
    # faster. A separator whose newline is at i is counted as a match at i + 1.
    count = _shifted_counter(separator)
    keep = len(separator) - 1  # a separator may straddle two reads
    buffer = bytearray(keep + CHUNK_SIZE)
    view = memoryview(buffer)
    seen = 0
    target = step(0)
    carried = 0
    while got := stream.readinto(view[carried:]):
        end = carried + got
        base = offset - carried
        position = 0  # separators from here on are not counted yet
        while (found := buffer.find(separator, max(position, target - base - 1), end)) >= 0:
            seen += len(count(buffer, position + 1, found + 1)) + 1
            yield base + found + 1, seen + 1
            target = base + found + 1 + step(base + found + 1)
            position = found + 1
        seen += len(count(buffer, position + 1, end))
        carried = min(keep, end)
        buffer[:carried] = buffer[end - carried : end]
        offset += got


def _shifted_counter(separator: bytes) -> Callable[[bytes | bytearray, int, int], list[bytes]]:
    """`findall` of `separator` matched from its second byte, the first one looked behind at."""
    first, rest = re.escape(separator[:1]), separator[1:]
    head, tail = re.escape(rest[:1]), re.escape(rest[1:])
    return re.compile(head + b"(?<=" + first + head + b")" + tail).findall


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
            chunks: Iterable[bytes | bytearray]
            if length <= WHOLE_RANGE_BYTES:
                buffer = _spare_buffers.pop() if _spare_buffers else bytearray()
                chunks = (_read_into(buffer, stream, length),)
            else:
                chunks = _chunks(stream, length)
            for data in split_mbox(chunks):
                number += 1
                yield message_or_problem(path, number, data)
    except OSError as error:
        yield Problem(path, number + 1, f"cannot read file: {error.strerror or error}")
    if buffer is not None and not _spare_buffers:
        # Split to the end: nothing refers to the buffer any more. (A range
        # left half read keeps its buffer; the next one takes a new one.) One
        # spare is enough: ranges read side by side are rare.
        _spare_buffers.append(buffer)


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
