"""Split an mbox into messages while streaming, in any of the three line-ending styles.

An mbox is a run of messages, each introduced by a ``From `` line at the start
of a line (RFC 4155). Splitting on ``\\nFrom `` by hand is about seven times
faster than `mailbox.mbox`, and it lets memory stay flat: only the message
being read is held, never the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Sequence

from bouncetool.model import Problem, RawMessage

# mboxrd (and mboxo) writers escape a body line starting with "From " as
# ">From "; mboxrd also adds a ">" to lines already starting with ">From ".
# Reading takes one ">" away, as RFC 4155 (appendix A) describes.
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_FROM = b"From "


def starts_like_mbox(head: bytes) -> bool:
    """True when data starting with `head` opens with an mbox ``From `` line."""
    return head.lstrip(b"\r\n").startswith(_FROM)


MAX_MESSAGE_BYTES = 64 << 20
"""A message larger than this is skipped (and reported), so memory stays bounded.

Mail servers refuse messages far smaller (25-50 MB is usual) and a bounce
carries at most the returned message, so only a damaged mailbox gets here.
"""

TOO_LARGE = None
"""What `split_mbox` gives in place of a message larger than `MAX_MESSAGE_BYTES`."""


def split_mbox(chunks: Iterable[bytes | bytearray]) -> Iterator[bytes | None]:
    """Each message of the mbox arriving in `chunks`, without its ``From `` line.

    The line endings of the first ``From `` line decide the style: LF and CRLF
    mboxes split on ``\\nFrom ``, CR-only ones on ``\\rFrom `` and have their
    line endings turned into LF so that parsers see ordinary lines. A message
    larger than `MAX_MESSAGE_BYTES` comes as `TOO_LARGE` (None), never held whole.
    The chunks are only read, never changed.
    """
    limit = MAX_MESSAGE_BYTES
    # buffer[start:] is what is not split yet. When nothing is left over from
    # the chunk before, it is the new chunk itself: most of the data is split
    # where it lies, with no copy (a range of a file comes as one chunk). Only
    # a rest that continues in the next chunk is gathered in a bytearray of
    # our own (`owned`).
    buffer: bytes | bytearray = b""
    owned = False
    start = 0
    separator: bytes | None = None
    started = False
    too_large = False  # the message being read has outgrown the limit
    scan = 0  # everything in `buffer` before this offset has been searched for a separator
    # The scan for separators also finds escaped "From " lines (">From "), so a
    # message without one is not searched again for them. Only a message that
    # began before the scan resumed on a new chunk (where an escape could
    # straddle the chunks) is searched the old way.
    escaped = False
    for chunk in chunks:
        buffer, owned, scan, start = _continued(buffer, owned, scan, start, chunk)
        if not started:
            start = _after_blank_lines(buffer, start)
            started = start < len(buffer)
        separator = separator or separator_for(buffer, start)
        if separator is None:
            if len(buffer) - start <= limit:
                continue  # the first line has not ended yet
            separator = b"\nFrom "  # a line this long is no From line: any style will do
        find = FROM_AFTER[separator].search
        resumed = scan
        # (A match is the "From " after the byte at `found`.)
        while (match := find(buffer, max(scan, start) + 1)) is not None:
            found = match.start() - 1
            if buffer[found] != separator[0]:
                # An escaped "From " line (or just ">From " within a line: then
                # the escapes are looked for in vain), or (CR-only style) a
                # "From " line after an LF, which the conversion to LF makes a
                # line start: not a separator.
                escaped = escaped or buffer[found] == ESCAPE
                scan = found + 1
                continue
            too_large = too_large or found - start > limit
            if too_large:
                yield TOO_LARGE
            else:
                known = start >= resumed  # the whole message was scanned here
                yield _message(buffer, start, found, separator, escaped if known else None)
            too_large = escaped = False
            start = found + 1  # the "From " line of the next message
            scan = start + 1
        scan = max(scan, len(buffer) - len(separator) + 1, start)
        if len(buffer) - start > limit:
            # Keep only what could be the start of the next separator.
            too_large = True
            start = scan
    if too_large or len(buffer) - start > limit:
        yield TOO_LARGE
    elif start < len(buffer):
        yield _last_message(buffer, start, separator or b"\nFrom ")


def _continued(
    buffer: bytes | bytearray, owned: bool, scan: int, start: int, chunk: bytes | bytearray
) -> tuple[bytes | bytearray, bool, int, int]:
    """`buffer[start:]` then `chunk`: the new (buffer, owned, scan, start) of `split_mbox`."""
    if start == len(buffer):
        return chunk, False, 0, 0  # nothing left over: the chunk as it is
    if owned:
        assert isinstance(buffer, bytearray)  # noqa: S101  (owned means so)
        rest = buffer
        del rest[:start]
    else:
        with memoryview(buffer) as view:
            rest = bytearray(view[start:])
    rest += chunk
    return rest, True, max(scan - start, 0), 0


_BLANK_LINES = re.compile(rb"[\r\n]*")


def _after_blank_lines(buffer: bytes | bytearray, start: int) -> int:
    """Where the data after the blank lines at `start` begins (the first "From " line)."""
    end = _BLANK_LINES.match(buffer, start)
    return end.end() if end else start


def _last_message(
    buffer: bytes | bytearray, start: int, separator: bytes, escaped: bool | None = None
) -> bytes:
    # The last message has no separator after it, but ends with the same
    # blank line; drop that line as the separator would.
    end = len(buffer)
    for blank in (b"\r\n", b"\n", b"\r"):
        if buffer.endswith(blank * 2, start):
            end -= len(blank)
            break
    return _message(buffer, start, end, separator, escaped)


def split_planned(
    buffer: bytes | bytearray, ends: Sequence[int], escaped: Container[int], separator: bytes
) -> Iterator[bytes | None]:
    """The messages of the mbox in `buffer`, whose separators are known: as `split_mbox` splits it.

    `ends` are the offsets of the separators (of their line ending) after the
    first ``From `` line, in order; `escaped` holds the indexes of the
    messages that may hold an escaped ``From `` line (the others are not
    searched for one). A separator ending the buffer closes the last message
    as any other does. The caller makes sure the separators are where told
    (`planned_separators_hold`): no byte is searched here but for escapes.
    """
    limit = MAX_MESSAGE_BYTES
    start = _after_blank_lines(buffer, 0)
    for index, end in enumerate(ends):
        if end - start > limit:
            yield TOO_LARGE
        else:
            yield _message(buffer, start, end, separator, index in escaped)
        start = end + 1
    if len(buffer) - start > limit:
        yield TOO_LARGE
    elif start < len(buffer):
        yield _last_message(buffer, start, separator, len(ends) in escaped)


def planned_separators_hold(
    buffer: bytes | bytearray, ends: Sequence[int], separator: bytes
) -> bool:
    """True when `buffer` is an mbox in the style of `separator` with a separator at each of `ends`.

    (As `split_planned` needs: the first "From " line comes before the first
    of `ends` and its line ending is in that style.) A separator at the very
    end of `buffer` need only have its line ending there.
    """
    start = _after_blank_lines(buffer, 0)
    if separator_for(buffer, start) != separator or (ends and ends[0] <= start):
        return False
    starts = buffer.startswith
    # A range ends with the line ending of the separator closing its last
    # message; the "From " after it begins the next range.
    closing = ends and ends[-1] == len(buffer) - 1 and buffer[-1] == separator[0]
    return all(starts(separator, end) for end in (ends[:-1] if closing else ends))


# A "From " after the end of a line (a separator) or after a ">" (a line
# escaped by mboxrd / mboxo writers: ">From ", ">>From "). In a CR-only mbox
# both CR and LF end lines once converted. The pattern starts at the "F" and
# looks behind: `re` finds an "F" faster than a line end (there are fewer).
# The planner of ranges (`sources.ranges`) makes this same search.
FROM_AFTER = {
    b"\nFrom ": re.compile(rb"F(?<=[\n>]F)rom "),
    b"\rFrom ": re.compile(rb"F(?<=[\r\n>]F)rom "),
}
ESCAPE = ord(">")


def message_or_problem(name: str, number: int, data: bytes | None) -> RawMessage | Problem:
    """The message, or the Problem that it was too large to read (see `MAX_MESSAGE_BYTES`)."""
    if data is TOO_LARGE:
        limit = MAX_MESSAGE_BYTES
        size = f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit:,} bytes"
        return Problem(name, number, f"message larger than {size}: skipped")
    return RawMessage(name, number, data)


def separator_for(buffer: bytes | bytearray, start: int = 0) -> bytes | None:
    """The mbox separator for the line-ending style of the first line of `buffer[start:]`.

    None when `buffer` ends before that line does.
    """
    end = buffer.find(b"\n", start)
    cr = buffer.find(b"\r", start, end if end >= 0 else len(buffer))
    if cr >= 0 and cr + 1 < len(buffer) and buffer[cr + 1] != ord("\n"):
        return b"\rFrom "
    if end >= 0:
        return b"\nFrom "
    return None


def _message(
    buffer: bytes | bytearray, start: int, end: int, separator: bytes, escaped: bool | None
) -> bytes:
    # buffer[start:end] is the "From " line, the message, and for CRLF the
    # "\r" of the blank line whose "\n" begins the separator. `escaped` says
    # whether an escaped "From " line is in it (None: not known, look).
    eol = separator[:1]
    body = buffer.find(eol, start, end)
    if body < 0:
        return b""
    with memoryview(buffer) as view:
        data = bytes(view[body + 1 : end])
    if eol == b"\r":
        data = data.replace(b"\r", b"\n")
    elif data.endswith(b"\r"):
        data = data[:-1]
    if escaped is not False and b">From " in data:
        data = _ESCAPED_FROM.sub(rb"\1", data)
    return data
