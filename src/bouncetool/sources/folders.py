"""Which files a source spec stands for: itself, or the message files of a folder or Maildir."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from bouncetool.model import Problem


class SourceFile(NamedTuple):
    """One file to read, with its size when known (0 when it cannot be examined).

    `regular` is False for pipes and devices (``<(zcat ...)``, ``/dev/stdin``):
    they can be read only once, in order, by the process that holds them.
    """

    path: str
    size: int
    regular: bool = True


def iter_files(spec: str) -> Iterator[SourceFile | Problem]:
    """The files `spec` stands for, in reading order; a Problem for a folder that cannot be listed.

    A file (or anything that is not a folder, even a missing path, whose
    opening will report the problem) stands for itself. A Maildir stands for
    the files of ``cur/`` and ``new/`` sorted by name; any other folder for its
    files sorted by name, then its sub-folders likewise. Hidden names are skipped.
    """
    if Path(spec).is_dir():
        yield from _iter_folder(spec, set())
        return
    try:
        status = Path(spec).stat()
    except OSError:
        yield SourceFile(spec, 0)  # opening it will tell what is wrong
        return
    yield SourceFile(spec, status.st_size, stat.S_ISREG(status.st_mode))


def _iter_folder(name: str, seen: set[tuple[int, int]]) -> Iterator[SourceFile | Problem]:
    try:
        identity = Path(name).stat()
        if (identity.st_dev, identity.st_ino) in seen:
            return  # a symbolic link back to a folder being read: read it once
        seen.add((identity.st_dev, identity.st_ino))
        if _is_maildir(name):
            files = _maildir_files(name)
            folders: list[str] = []
        else:
            files, folders = _folder_entries(name)
    except OSError as error:
        yield Problem(name, None, f"cannot list folder: {error.strerror or error}")
        return
    yield from files
    for folder in folders:
        yield from _iter_folder(folder, seen)


def _is_maildir(name: str) -> bool:
    return (Path(name) / "cur").is_dir() and (Path(name) / "new").is_dir()


def _maildir_files(name: str) -> list[SourceFile]:
    # Sorted by file name across cur/ and new/: Maildir names begin with the
    # delivery time, so this is (nearly) arrival order.
    found: list[tuple[str, SourceFile]] = []
    for sub in ("cur", "new"):
        with os.scandir(Path(name) / sub) as entries:
            found.extend(
                (entry.name, SourceFile(entry.path, entry.stat().st_size))
                for entry in entries
                if not entry.name.startswith(".") and entry.is_file()
            )
    return [file for _, file in sorted(found)]


def _folder_entries(name: str) -> tuple[list[SourceFile], list[str]]:
    files: list[SourceFile] = []
    folders: list[str] = []
    with os.scandir(name) as scanned:
        entries = sorted(scanned, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            folders.append(entry.path)
        elif entry.is_file():
            files.append(SourceFile(entry.path, entry.stat().st_size))
        elif entry.is_symlink():
            # A broken link: opening it reports the problem instead of the
            # file vanishing silently. (Sockets and pipes are no messages.)
            files.append(SourceFile(entry.path, 0))
    return files, folders
