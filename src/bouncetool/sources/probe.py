"""Look at the first bytes of a file without reading it."""

from __future__ import annotations

from pathlib import Path

from bouncetool.sources.streams import compression_of


def file_compression(path: str) -> str | None:
    """The compression of the file at `path` by its magic bytes; None also when unreadable."""
    try:
        with Path(path).open("rb") as stream:
            return compression_of(stream.read(8))
    except OSError:
        return None
