"""Where the ledger lives: ``--state PATH``, else ``BOUNCETOOL_STATE``, else the data folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

STATE_ENV = "BOUNCETOOL_STATE"
LEDGER_NAME = "ledger.sqlite3"


def default_state_path() -> Path:
    """The ledger in the user's data folder (``~/.local/share/bouncetool/`` on Linux)."""
    return platformdirs.user_data_path("bouncetool", appauthor=False) / LEDGER_NAME


def resolve_state_path(path: Path | None = None) -> Path:
    """The ledger file to use: `path` when given, else ``BOUNCETOOL_STATE``, else the default."""
    if path is not None:
        return path
    configured = os.environ.get(STATE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return default_state_path()
