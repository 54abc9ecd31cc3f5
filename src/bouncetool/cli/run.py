"""``bouncetool run`` (the cron job) and ``bouncetool config check``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer

from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr
from bouncetool.errors import BounceToolError, ConfigError

config_app = typer.Typer(
    name="config",
    help="Check a bouncetool.toml before cron runs it.",
    no_args_is_help=True,
)
app.add_typer(config_app)

MAX_PROBLEM_LINES = 20  # more go to the log file and the summary file, not the terminal


@app.command("run")
def run_command(
    config: Path = typer.Option(
        ...,
        "--config",
        "-c",
        help="The bouncetool.toml to run (see README, 'Unattended runs').",
        dir_okay=False,
    ),
    wait: float = typer.Option(
        0.0,
        "--wait",
        min=0.0,
        help="Seconds to wait for another run to finish (default: give up at once, status 3).",
    ),
) -> None:
    """One unattended pass: read the sources, update the ledger, clean/annotate, export, prune.

    Exit status 0: all went well; 1: finished, but some input was bad; 2: usage or
    configuration error; 3: another run holds the lock.
    """
    from bouncetool.config import load_config
    from bouncetool.runner import run

    settings = load_config(config)
    handler = _log_to(settings.log_file)
    log = logging.getLogger("bouncetool.run")
    try:
        summary = run(settings, wait=wait)
    except BounceToolError as error:
        log.error("run stopped: %s", error)  # main() prints the same line on stderr
        raise
    except Exception:
        log.exception("run failed")  # a bug: keep the traceback in the log too
        raise
    finally:
        logging.getLogger("bouncetool").removeHandler(handler)
        handler.close()
    console = stderr()
    for problem in summary.problems[:MAX_PROBLEM_LINES]:
        console.print(f"bouncetool: {problem}", markup=False, highlight=False)
    if len(summary.problems) > MAX_PROBLEM_LINES:
        more = len(summary.problems) - MAX_PROBLEM_LINES
        console.print(f"bouncetool: ... and {more} more problems (see the log)", markup=False)
    console.print(summary.line(), markup=False, highlight=False)
    raise typer.Exit(summary.exit_code)


def _log_to(path: Path | None) -> logging.Handler:
    """Append the run's log to `path` (when configured); never to the terminal.

    Without a log file the records go to a `NullHandler`: with no handler at
    all, logging's last resort would print every warning on stderr a second
    time, beside the one line the command prints for it.
    """
    logger = logging.getLogger("bouncetool")
    logger.setLevel(logging.INFO)
    if path is None:
        handler: logging.Handler = logging.NullHandler()
        logger.addHandler(handler)
        return handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot open the log file: {error.strerror}") from None
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s bouncetool[{os.getpid()}] %(levelname)s %(message)s")
    )
    logger.addHandler(handler)
    return handler


@config_app.command("check")
def check_command(
    file: Path = typer.Argument(..., help="The bouncetool.toml to check.", dir_okay=False),
) -> None:
    """Validate a configuration: every mistake with its file and line; exit 2 if there is one."""
    from bouncetool.config import InvalidConfigError, load_config
    from bouncetool.configcheck import describe, warnings

    console = stderr()
    try:
        settings = load_config(file)
    except InvalidConfigError as error:
        for problem in error.problems:
            console.print(f"bouncetool: error: {problem}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    for warning in warnings(settings):
        console.print(f"bouncetool: warning: {warning}", markup=False, highlight=False)
    console.print(f"{file}: valid: {describe(settings)}", markup=False, highlight=False)
