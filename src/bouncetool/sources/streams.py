"""Open a byte stream for reading in chunks, undoing gzip, bzip2 or xz on the way.

Compression is recognised by the first bytes of the data, never by the file
name: a ``bounces`` file that is really gzip is read as gzip, and a plain
``bounces.gz`` is read as plain text.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Protocol

CHUNK_SIZE = 1 << 20
"""Bytes read at a time: large enough for speed, small enough that memory stays flat."""

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),  # RFC 1952, section 2.3.1
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),  # the .xz container format, section 2.1.1.1
)
_LONGEST_MAGIC = max(len(magic) for magic, _ in _MAGIC)

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # gzip.BadGzipFile and bz2's "Invalid data stream" are OSErrors
    EOFError,  # a truncated gzip, bzip2 or xz stream
    zlib.error,
    lzma.LZMAError,
)
"""What reading a corrupt or truncated compressed stream raises."""


def compression_of(head: bytes) -> str | None:
    """The compression (``gzip``, ``bzip2``, ``xz``) the leading bytes announce, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def read_chunks(stream: BinaryIO) -> tuple[str | None, Iterator[bytes]]:
    """The compression of `stream` and an iterator over its decompressed bytes in chunks.

    The iterator raises one of `DECOMPRESSION_ERRORS` when the compressed data
    is corrupt; the caller turns that into a `Problem`.
    """
    head = _read_head(stream)
    compression = compression_of(head)
    if compression is None:
        return None, _plain_chunks(head, stream)
    rejoined = io.BufferedReader(_Rejoined(head, stream))
    return compression, _decompressed_chunks(compression, rejoined)


def _decompressed_chunks(compression: str, raw: BinaryIO) -> Iterator[bytes]:
    opened: gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile
    if compression == "gzip":
        opened = gzip.GzipFile(fileobj=raw, mode="rb")
    elif compression == "bzip2":
        opened = bz2.BZ2File(raw, mode="rb")
    else:
        opened = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115  (closed by the with below)
    with opened:
        # read1: hand over what each step decompressed, so the messages before
        # a corrupt spot are read before the error is raised.
        while chunk := opened.read1(CHUNK_SIZE):
            yield chunk


def _read_head(stream: BinaryIO) -> bytes:
    # A pipe may hand over fewer bytes than asked for; keep reading until the
    # longest magic number fits or the stream ends.
    head = b""
    while len(head) < _LONGEST_MAGIC:
        more = stream.read(_LONGEST_MAGIC - len(head))
        if not more:
            break
        head += more
    return head


def _plain_chunks(head: bytes, stream: _Readable) -> Iterator[bytes]:
    if head:
        yield head
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Rejoined(io.RawIOBase):
    """A raw stream that gives back the already-read head before the rest of `stream`.

    Standard input cannot seek back after the magic bytes were read, so the
    decompressors read through this instead.
    """

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
