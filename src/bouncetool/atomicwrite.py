"""Write several files so that a crash leaves either all the old ones or all the new ones.

Each file is written to a temporary file in its own folder (so the final
rename stays on one file system), flushed and fsynced; only when every one is
complete are they renamed over their targets with `os.replace`, and the
folders fsynced so the renames survive a power cut. Killed before that, the
targets are untouched; only hidden ``.NAME.*.tmp`` files remain.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self, TextIO

from bouncetool.errors import OutputError

BUFFER = 1024 * 1024


class AtomicFiles:
    """A set of files replaced together on `commit`, discarded on error or `discard`."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path, BinaryIO]] = []

    def open(self, target: Path) -> BinaryIO:
        """A binary file that becomes `target` on commit (targets are replaced in this order).

        Raises `OutputError` naming `target` when it is a folder, or its folder
        does not exist or cannot be written: the user's mistake, not a bug, so
        no traceback, and found before anything is written.
        """
        if target.is_dir():
            raise OutputError(target, "it is a folder")
        try:
            descriptor, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
        except OSError as error:
            raise OutputError(target, error.strerror or str(error)) from error
        handle = os.fdopen(descriptor, "wb", buffering=BUFFER)
        self._pending.append((target, Path(name), handle))
        return handle

    def commit(self, backup: tuple[Path, Path] | None = None) -> None:
        """Make every file durable, keep `backup` (original, copy) if given, then replace."""
        for _target, _temporary, handle in self._pending:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        if backup is not None:
            keep_backup(*backup)
        folders = set()
        for target, temporary, _handle in self._pending:
            if target.exists():
                shutil.copymode(target, temporary)
            else:
                temporary.chmod(_new_file_mode())  # mkstemp's 0600 is not what the user expects
            temporary.replace(target)
            folders.add(target.parent)
        self._pending.clear()
        for folder in folders:
            fsync_folder(folder)

    def write_behind(self) -> None:
        """Start writing what is buffered to disk now, so the final fsync has little left.

        Without this a gigabyte of output sits in the page cache until
        `commit`, and its fsync then waits seconds for the disk; handing
        finished pages to the kernel as we go overlaps that wait with the work.
        """
        advise = getattr(os, "posix_fadvise", None)
        for _target, _temporary, handle in self._pending:
            handle.flush()
            if advise is not None:
                advise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def forget(self, targets: list[Path]) -> None:
        """Drop the temporary files of `targets`: those targets will not be replaced."""
        for entry in [entry for entry in self._pending if entry[0] in targets]:
            entry[2].close()
            entry[1].unlink(missing_ok=True)
            self._pending.remove(entry)

    def discard(self) -> None:
        """Close and delete every temporary file; the targets stay as they were."""
        for _target, temporary, handle in self._pending:
            handle.close()
            temporary.unlink(missing_ok=True)
        self._pending.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.discard()


@contextlib.contextmanager
def atomic_text_writer(
    path: Path, *, encoding: str = "utf-8", newline: str = ""
) -> Iterator[TextIO]:
    """A text stream whose contents replace `path` when the block ends without error.

    One file of `AtomicFiles`: on an exception `path` is left as it was.
    """
    with AtomicFiles() as files:
        stream = io.TextIOWrapper(files.open(path), encoding=encoding, newline=newline)
        yield stream
        stream.flush()
        stream.detach()  # the binary file stays open for commit to fsync and close
        files.commit()


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def keep_backup(original: Path, backup: Path) -> None:
    """`backup` becomes a copy of `original`, atomically (a hard link when it can be)."""
    descriptor, name = tempfile.mkstemp(dir=backup.parent, prefix=f".{backup.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(name)
    try:
        temporary.unlink()
        try:
            # A second name for the same bytes: instant, and the original stays untouched.
            os.link(original, temporary)
        except OSError:
            shutil.copy2(original, temporary)
            with temporary.open("rb+") as handle:
                os.fsync(handle.fileno())
        temporary.replace(backup)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_folder(backup.parent)


def fsync_folder(folder: Path) -> None:
    """Make renames in `folder` durable (where the platform allows opening a folder)."""
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
