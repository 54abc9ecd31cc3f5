"""Read bounce messages from wherever they are: mbox, Maildir, a folder, a file, stdin.

`iter_messages` is the one entry point. It streams: memory holds one message
at a time, whatever the size of the mailbox. A source that cannot be read
gives a `Problem` naming it, and the next source is read.

What a spec means:

- ``-``: standard input, read like a file.
- a Maildir (a folder with ``cur/`` and ``new/``): every message file in both,
  sorted by name (Maildir names start with the delivery time).
- any other folder: every file in it sorted by name, sub-folders likewise;
  hidden files (``.name``) are skipped.
- a file, plain or compressed with gzip, bzip2 or xz (recognised by its first
  bytes): an mbox when it starts with a ``From `` line, else one message. An
  empty (or blank) file holds no message.
- ``imap://user@host[:port]/FOLDER`` or ``imaps://...``: the folder's unseen
  messages, numbered by UID, read without marking them (see `bouncetool.imap`;
  the password comes from ``BOUNCETOOL_IMAP_PASSWORD``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from bouncetool.errors import SourceError
from bouncetool.model import Problem, RawMessage
from bouncetool.sources import mbox
from bouncetool.sources.folders import SourceFile, iter_files
from bouncetool.sources.mbox import (
    TOO_LARGE,
    message_or_problem,
    split_mbox,
    starts_like_mbox,
)
from bouncetool.sources.streams import DECOMPRESSION_ERRORS, read_chunks

STDIN = "-"
"""The spec that means standard input."""

__all__ = [
    "STDIN",
    "SourceFile",
    "is_mailbox_url",
    "iter_file",
    "iter_files",
    "iter_messages",
    "iter_stream",
]


def iter_messages(spec: str, *, stdin: BinaryIO | None = None) -> Iterator[RawMessage | Problem]:
    """Every message in the source `spec`, in order, or a `Problem` for what cannot be read.

    Each `RawMessage` names the file it came from and its 1-based number in
    that file. `stdin` replaces standard input for the spec ``-`` (tests).
    """
    if spec == STDIN:
        yield from iter_stream(STDIN, stdin if stdin is not None else sys.stdin.buffer)
        return
    if is_mailbox_url(spec):
        yield from _iter_mailbox(spec)
        return
    for found in iter_files(spec):
        if isinstance(found, Problem):
            yield found
        else:
            yield from iter_file(found.path)


def is_mailbox_url(spec: str) -> bool:
    """True when `spec` is an ``imap://`` or ``imaps://`` URL rather than a path."""
    return spec[:8].lower().startswith(("imap://", "imaps://"))


def _iter_mailbox(url: str) -> Iterator[RawMessage | Problem]:
    # imaplib and ssl load only when a mailbox is read: classify starts fast.
    from bouncetool.imap import iter_imap  # noqa: PLC0415

    try:
        yield from iter_imap(url)
    except SourceError as error:
        yield Problem(url, None, str(error).removeprefix(f"{url}: "))


def iter_file(name: str) -> Iterator[RawMessage | Problem]:
    """Every message in the file `name` (plain or compressed; mbox or one message)."""
    try:
        stream = Path(name).open("rb")  # noqa: SIM115  (closed below; the generator owns it)
    except OSError as error:
        yield Problem(name, None, f"cannot open: {error.strerror or error}")
        return
    with stream:
        yield from iter_stream(name, stream)


def iter_stream(name: str, stream: BinaryIO) -> Iterator[RawMessage | Problem]:
    """Every message in `stream` (named `name` in what it yields)."""
    number = 0
    compression: str | None = None
    try:
        compression, chunks = read_chunks(stream)
        first = _opening(chunks)
        rest = _prepend(first, chunks)
        if starts_like_mbox(first):
            for data in split_mbox(rest):
                number += 1
                yield message_or_problem(name, number, data)
        else:
            data = _whole(rest)
            if data is TOO_LARGE or data.strip():
                number += 1
                yield message_or_problem(name, number, data and _lf_if_cr_only(data))
    except DECOMPRESSION_ERRORS as error:
        what = f"{compression} data" if compression else "file"
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        yield Problem(name, number + 1 if number else None, f"cannot read {what}: {reason}")


def _whole(chunks: Iterator[bytes]) -> bytes | None:
    # One message: all of it, unless it outgrows the limit (then read on to
    # the end without keeping anything, and give TOO_LARGE).
    limit = mbox.MAX_MESSAGE_BYTES
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            parts.clear()
        else:
            parts.append(chunk)
    return TOO_LARGE if size > limit else b"".join(parts)


def _opening(chunks: Iterator[bytes]) -> bytes:
    # Enough of the start to see whether a "From " line opens it, even when
    # the stream hands over a few bytes at a time or starts with blank lines.
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first.lstrip(b"\r\n")) >= len(b"From "):
            break
    return first


def _prepend(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from chunks


def _lf_if_cr_only(data: bytes) -> bytes:
    # Old Mac files end lines with CR alone; parsers expect LF or CRLF.
    if b"\n" not in data and b"\r" in data:
        return data.replace(b"\r", b"\n")
    return data
