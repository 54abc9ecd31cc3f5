"""Keep aside, byte for byte, the messages that could not be parsed.

A message that the extractor fails on is not lost: its bytes (as read from
the source: an mbox message without its ``From`` line, an IMAP message as the
server sent it) are written into a quarantine folder, one file per message,
for a person to look at. The file name says where the message came from and
ends with a short hash of its bytes::

    bounces.mbox.msg17.3fa9c2d14b01.eml              message 17 of bounces.mbox
    bounces@mail.example.cz-INBOX.uid4711.9c0e...eml  UID 4711 of that IMAP folder
    stdin.msg1.77ab01c2d3e4.eml                      standard input

The hash is what makes keeping idempotent: the same bytes are kept once,
whatever their message number in a later run, so a mailbox read every night
does not fill the folder with copies. Each file is written atomically
(`bouncetool.atomicwrite`): it is complete, on disk, or not there at all.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bouncetool.atomicwrite import AtomicFiles
from bouncetool.errors import OutputError
from bouncetool.model import Problem

FOLDER_NAME = "quarantine"
"""The folder's name beside the ledger when the configuration names none."""
HASH_CHARS = 12  # 48 bits of SHA-256: a collision among kept messages is out of reach
SUFFIX = ".eml"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")
_LABEL_CHARS = 80


@dataclass(frozen=True, slots=True)
class KeptAside:
    """Where a message was kept; `new` is False when the same bytes were kept before."""

    path: Path
    new: bool


class Quarantine:
    """The quarantine folder: `keep` writes a message there once.

    The folder is made on the first message kept, so a run with nothing to
    keep aside leaves no trace.
    """

    def __init__(self, folder: Path) -> None:
        """Keep messages in `folder` (made when first needed)."""
        self.folder = folder
        self._kept: dict[str, Path] | None = None  # hash -> file, read from the folder once

    def keep(self, problem: Problem) -> KeptAside:
        """Write the message of `problem` into the folder, unless its bytes are there already.

        Raises `OutputError` (naming the file) when it cannot be written, and
        `ValueError` for a problem that carries no message.
        """
        if problem.data is None:
            raise ValueError(f"nothing to keep aside: {problem.describe()}")
        digest = hashlib.sha256(problem.data).hexdigest()[:HASH_CHARS]
        kept = self._known()
        if digest in kept and kept[digest].is_file():
            return KeptAside(kept[digest], new=False)
        target = self.folder / file_name(problem.source, problem.message, digest)
        _write(target, problem.data)
        kept[digest] = target
        return KeptAside(target, new=True)

    def _known(self) -> dict[str, Path]:
        if self._kept is None:
            self._kept = {}
            try:
                with os.scandir(self.folder) as entries:
                    for entry in entries:
                        digest = _digest_of(entry.name)
                        if digest is not None:
                            self._kept[digest] = Path(entry.path)
            except OSError:
                pass  # not there yet (or unreadable: writing will say why)
        return self._kept


def file_name(source: str, message: int | None, digest: str) -> str:
    """The file name for message `message` of `source` whose bytes hash to `digest`."""
    number = "" if message is None else f".{'uid' if _is_url(source) else 'msg'}{message}"
    return f"{source_label(source)}{number}.{digest}{SUFFIX}"


def source_label(source: str) -> str:
    """A short, safe name for `source`: a file's name, ``user@host-FOLDER`` for a mailbox URL."""
    if source == "-":
        label = "stdin"
    elif _is_url(source):
        parts = urlsplit(source)
        folder = unquote(parts.path.strip("/")) or "INBOX"
        label = f"{unquote(parts.username or '')}@{parts.hostname or ''}-{folder}"
    else:
        label = Path(source).name
    # No path separators, no leading dot (hidden files; and ".NAME.*.tmp" are
    # the atomic writer's temporary files), nothing a shell would trip over.
    label = _UNSAFE.sub("_", label).lstrip(".-")[:_LABEL_CHARS]
    return label or "message"


def default_folder(ledger: Path) -> Path:
    """The quarantine folder beside the ledger `ledger`."""
    return ledger.parent / FOLDER_NAME


def _is_url(source: str) -> bool:
    return "://" in source[:10]


def _digest_of(name: str) -> str | None:
    # "<label>.<msgN>.<hash>.eml": the hash is the second part from the end.
    if name.startswith(".") or not name.endswith(SUFFIX):
        return None
    parts = name[: -len(SUFFIX)].rsplit(".", 1)
    if len(parts) != 2 or not re.fullmatch(f"[0-9a-f]{{{HASH_CHARS}}}", parts[1]):
        return None
    return parts[1]


def _write(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with AtomicFiles() as files:
            files.open(target).write(data)
            files.commit()
    except OSError as error:
        raise OutputError(target, error.strerror or str(error)) from None
