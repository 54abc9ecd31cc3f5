"""The terminal side of the CLI: stderr console, progress only on a terminal.

Standard output carries data; everything meant for a person goes to stderr,
so ``bouncetool classify ... --format csv > out.csv`` works in cron.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


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


@contextlib.contextmanager
def counter(unit: str) -> Iterator[Progress]:
    """A transient "12,345 <unit> read" counter with a spinner and the time, on stderr.

    Refreshed by hand (``progress.refresh()``): no refresh thread may run while
    worker processes fork. Callers show it only when `interactive`.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} " + unit + " read"),
        TimeElapsedColumn(),
        console=stderr(),
        transient=True,
        auto_refresh=False,
    ) as progress:
        yield progress
