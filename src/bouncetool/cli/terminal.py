"""The terminal side of the CLI: stderr console, progress only on a terminal.

Standard output carries data; everything meant for a person goes to stderr,
so ``bouncetool classify ... --format csv > out.csv`` works in cron.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@functools.cache
def stderr() -> Console:
    """The console for messages, warnings and progress (stderr; no colour off a terminal)."""
    # Imported here: rich costs ~15 ms of start-up, and a clean JSON Lines run
    # never prints to stderr.
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def interactive() -> bool:
    """True when stderr is a terminal: only then show progress bars and colour."""
    return sys.stderr.isatty()
