"""What ``bouncetool config check`` adds to validation: a one-line description and warnings.

Warnings are things that are fine in the file but may fail tonight: a source
or contact file that does not exist (yet), a password variable that is not
set in this shell (cron has its own environment), an unreadable password file.
They never change the exit status: the file itself is valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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
    for rules in config.rules:
        if not rules.is_file():
            yield f"rule file {rules} does not exist"
    for contact in config.contacts:
        if not contact.path.is_file():
            yield f"contact file {contact.path} does not exist"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
