"""What ``bouncetool config check`` adds to validation: a one-line description and warnings.

Warnings are things that are fine in the file but may fail tonight: a source
or contact file that does not exist (yet), a password variable that is not
set in this shell (cron has its own environment), an unreadable password file,
a file to write (or the quarantine folder) in a folder that cannot be made
or written.
They never change the exit status: the file itself is valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bouncetool.config import Config
from bouncetool.imap import DEFAULT_PASSWORD_ENV


def describe(config: Config) -> str:
    """A one-line account of what a run of `config` would do."""
    mailboxes = sum(1 for source in config.sources if source.imap is not None)
    parts = [
        _count(len(config.sources), "source") + (f" ({mailboxes} IMAP)" if mailboxes else ""),
        _count(len(config.contacts), "contact file"),
        _count(len(config.exports), "export"),
        f"ledger {config.state or '$BOUNCETOOL_STATE or the user data folder'}",
    ]
    return ", ".join(parts)


def warnings(config: Config) -> Iterator[str]:
    """Everything in `config` that looks likely to fail when the run happens."""
    yield from _source_warnings(config)
    yield from _file_warnings(config)


def _source_warnings(config: Config) -> Iterator[str]:
    """Sources that do not exist and mailboxes whose password will not be found."""
    for source in config.sources:
        if source.imap is None:
            if source.spec != "-" and not os.path.exists(source.spec):  # noqa: PTH110  (a str spec)
                yield f"source {source.spec} does not exist (yet)"
            continue
        settings = source.imap
        if settings.password_file is not None:
            if not os.access(settings.password_file, os.R_OK):
                yield f"{source.spec}: password file {settings.password_file} is not readable"
            elif settings.password_file.stat().st_mode & 0o077:
                yield (
                    f"{source.spec}: password file {settings.password_file} can be read by "
                    f"others; chmod 600 it"
                )
        elif not os.environ.get(settings.password_env):
            how = "" if settings.password_env != DEFAULT_PASSWORD_ENV else " (the default)"
            yield (
                f"{source.spec}: environment variable {settings.password_env}{how} is not set "
                "here; make sure cron or systemd sets it"
            )
        if settings.ca_file is not None and not settings.ca_file.is_file():
            yield f"{source.spec}: ca_file {settings.ca_file} does not exist"


def _file_warnings(config: Config) -> Iterator[str]:
    """Files to read that are missing, and files to write that cannot be."""
    for rules in config.rules:
        if not rules.is_file():
            yield f"rule file {rules} does not exist"
    for contact in config.contacts:
        if not contact.path.is_file():
            yield f"contact file {contact.path} does not exist"
    for what, path in _written(config):
        problem = _unwritable(path)
        if problem is not None:
            yield f"{what} {path} cannot be written: {problem}"
    if config.quarantine is not None:
        problem = _unwritable_folder(config.quarantine)
        if problem is not None:
            yield f"quarantine folder {config.quarantine} cannot be written: {problem}"


def _written(config: Config) -> Iterator[tuple[str, Path]]:
    """Every file a run writes that the configuration names (the ledger only when named)."""
    named = (
        ("ledger", config.state),
        ("log file", config.log_file),
        ("summary file", config.summary_file),
        ("lock file", config.lock_file),
    )
    yield from ((what, path) for what, path in named if path is not None)
    for contact in config.contacts:
        yield "contact file", contact.path
        for path in (contact.removed, contact.output):
            if path is not None:
                yield "output", path
    for export in config.exports:
        yield "export", export.path


def _unwritable(path: Path) -> str | None:
    """Why this user could not create or replace `path`, or None when it looks possible.

    A run makes missing folders, so the nearest folder that exists must be
    writable; a file on the way where a folder should be stops it.
    """
    if path.is_dir():
        return "it is a folder"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"this user may not write in {folder}"
    return None


def _unwritable_folder(folder: Path) -> str | None:
    """Why this user could not make `folder` or add files to it, or None."""
    if folder.exists() and not folder.is_dir():
        return "it is a file, not a folder"
    return _unwritable(folder / "message.eml")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
