"""The exceptions bouncetool raises on purpose.

Every one derives from `BounceToolError`; the CLI catches that base once and
prints one line. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class BounceToolError(Exception):
    """Base of every error bouncetool reports to the user as one clear line."""

    exit_code = 2


class SourceError(BounceToolError):
    """A bounce source (file, folder, mailbox) cannot be opened or read at all."""


class RuleError(BounceToolError):
    """A rule file is malformed; the message names the file and line."""


class ContactsError(BounceToolError):
    """A contact CSV cannot be read or written safely; names the file and line."""


class StateError(BounceToolError):
    """The ledger (SQLite state) cannot be opened, migrated or written."""


class ConfigError(BounceToolError):
    """A configuration file is malformed; names the file and line."""


class OutputError(BounceToolError):
    """An output file cannot be created (no such folder, no permission, a read-only disk)."""

    def __init__(self, target: object, reason: str) -> None:
        super().__init__(f"cannot write {target}: {reason}")
        self.target = target
        self.reason = reason


class LockHeldError(BounceToolError):
    """Another run holds the lock."""

    exit_code = 3
