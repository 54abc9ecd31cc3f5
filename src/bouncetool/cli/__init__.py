"""Command-line interface: wiring only. Each command group lives in its own module."""

from __future__ import annotations

import atexit
import os
import sys
import threading

import typer

from bouncetool import __version__
from bouncetool.cli import (  # noqa: F401  (importing a module registers its commands)
    classify,
    contacts,
    ledger,
    quickparams,
    rules,
    run,
    stats,
)
from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr
from bouncetool.errors import BounceToolError

# `bouncetool --help` lists the commands in the order a user meets them, not
# in the order their modules happen to be imported (ledger's came first).
HELP_ORDER = ("classify", "ingest", "clean", "annotate", "export-errors", "stats", "run")


def _help_position(name: str) -> int:
    return HELP_ORDER.index(name) if name in HELP_ORDER else len(HELP_ORDER)


app.registered_commands.sort(
    key=lambda info: (
        _help_position(info.name or info.callback.__name__.replace("_", "-"))
        if info.callback is not None
        else len(HELP_ORDER)
    )
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"bouncetool {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Bounce hygiene for bulk senders: read bounces, classify them, keep contact lists clean."""


def main() -> None:
    """Entry point of the ``bouncetool`` console script.

    A `BounceToolError` becomes one line on stderr and its exit status;
    anything else keeps its traceback, because it is a bug. A finished
    command ends the process here (`_end`): this does not return.
    """
    # Values that need no checking skip typer's pydantic adapters (60 ms of start-up).
    quickparams.install()
    try:
        app()
    except BounceToolError as error:
        stderr().print(f"bouncetool: error: {error}", markup=False, highlight=False)
        sys.exit(error.exit_code)
    except SystemExit as done:  # typer ends every command this way
        if done.code is None or isinstance(done.code, int):
            _end(done.code or 0)
        raise


def _end(code: int) -> None:
    """End the process now, with exit status `code`, when nothing is left to wait for.

    Python's own exit frees every object and module one by one: about 20 ms
    of a short run (``classify`` of a few messages takes ~170 ms), spent on
    memory the operating system takes back at once anyway. So the exit
    functions run (``atexit``: what libraries registered still happens), the
    standard streams are flushed, and the process ends without that
    teardown. With a thread still running, or a stream that cannot be
    flushed, it returns and the usual exit takes over.
    """
    if threading.active_count() > 1:
        return  # the usual exit waits for it
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # let the usual exit report it as it would
    os._exit(code)
