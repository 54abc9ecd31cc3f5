"""Write a file so that it is either complete or untouched: never half-written.

The data goes to a temporary file in the same folder (so the final rename
stays on one file system), is flushed and fsync'ed, and only then replaces
the target with `os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def atomic_text_writer(
    path: Path, *, encoding: str = "utf-8", newline: str = ""
) -> Iterator[TextIO]:
    """A text stream whose contents replace `path` when the block ends without error.

    On an exception the temporary file is removed and `path` is left as it
    was. The new file gets the mode of the file it replaces, or the usual
    mode for a new file (0666 less the umask).
    """
    folder = path.parent
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(_mode_for(path))
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
