"""Cut the sources into tasks of a few megabytes that a worker can do on its own.

A task names what to read rather than carrying the bytes whenever it can, so
that the main process does little more than hand out work:

- `FilesTask`: a few small files (message files, small mboxes; any format).
- `RangeTask`: one byte range of a large plain mbox (see `sources.ranges`).
- `MessagesTask`: messages already read here, from what can only be read in
  order: standard input and large compressed files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from bouncetool.model import Problem, RawMessage
from bouncetool.sources import (
    STDIN,
    SourceFile,
    is_mailbox_url,
    iter_file,
    iter_files,
    iter_messages,
)
from bouncetool.sources.probe import file_compression
from bouncetool.sources.ranges import MboxRange, mbox_ranges

TASK_BYTES = 2 << 20
"""Bytes of mail per task: worth a trip to a worker, small enough for flat memory."""
TASK_FILES = 200
"""At most this many files per `FilesTask`."""
TASK_MESSAGES = 250
"""At most this many messages per `MessagesTask`."""


@dataclass(frozen=True, slots=True)
class FilesTask:
    """Read and parse these files, each whole."""

    paths: tuple[str, ...]
    size: int


@dataclass(frozen=True, slots=True)
class RangeTask:
    """Read and parse one range of the mbox `path`."""

    path: str
    part: MboxRange

    @property
    def size(self) -> int:
        """Bytes in the range."""
        return self.part.end - self.part.start


@dataclass(frozen=True, slots=True)
class MessagesTask:
    """Parse these messages, already read."""

    items: tuple[RawMessage | Problem, ...]
    size: int


Task = FilesTask | RangeTask | MessagesTask


def plan(specs: Sequence[str]) -> Iterator[Task | Problem]:
    """The tasks for reading every source in `specs`, in order; Problems for unlistable folders."""
    for spec in specs:
        if spec == STDIN or is_mailbox_url(spec):
            # Read in order, here: a pipe once, a mailbox over one connection.
            yield from _message_tasks(iter_messages(spec))
        else:
            yield from _file_tasks(iter_files(spec))


def _file_tasks(found: Iterable[SourceFile | Problem]) -> Iterator[Task | Problem]:
    paths: list[str] = []
    size = 0
    for item in found:
        large = isinstance(item, SourceFile) and (item.size > TASK_BYTES or not item.regular)
        if paths and (isinstance(item, Problem) or large or len(paths) >= TASK_FILES):
            yield FilesTask(tuple(paths), size)
            paths, size = [], 0
        if isinstance(item, Problem):
            yield item
        elif large:
            yield from _large_file_tasks(item)
        else:
            paths.append(item.path)
            size += item.size
            if size >= TASK_BYTES:
                yield FilesTask(tuple(paths), size)
                paths, size = [], 0
    if paths:
        yield FilesTask(tuple(paths), size)


def _large_file_tasks(file: SourceFile) -> Iterator[Task]:
    ranges = mbox_ranges(file.path, TASK_BYTES) if file.regular else None
    if not file.regular:
        # A pipe can be read once, by the process that holds it: read it here.
        yield from _message_tasks(iter_file(file.path))
    elif ranges is not None:
        for part in ranges:
            yield RangeTask(file.path, part)
    elif file_compression(file.path):
        # Compressed data can only be read from the start: read it here.
        yield from _message_tasks(iter_file(file.path))
    else:
        yield FilesTask((file.path,), file.size)  # one large message


def _message_tasks(items: Iterable[RawMessage | Problem]) -> Iterator[MessagesTask]:
    batch: list[RawMessage | Problem] = []
    size = 0
    for item in items:
        batch.append(item)
        size += len(item.data) if isinstance(item, RawMessage) else 0
        if len(batch) >= TASK_MESSAGES or size >= TASK_BYTES:
            yield MessagesTask(tuple(batch), size)
            batch, size = [], 0
    if batch:
        yield MessagesTask(tuple(batch), size)
