"""``bouncetool classify``: read bounces and print one record per bounced recipient.

Wiring only: the records come from `bouncetool.pipeline`, the text from
`bouncetool.render`. Data goes to stdout (or ``--output``), problems and
progress to stderr.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bouncetool.atomicfile import atomic_text_writer
from bouncetool.cli.app import app
from bouncetool.cli.terminal import interactive, stderr
from bouncetool.errors import BounceToolError
from bouncetool.language import resolve_lang
from bouncetool.model import Lang, Problem, Record
from bouncetool.pipeline import Classifier, iter_records
from bouncetool.render import OutputFormat, render


class OutputError(BounceToolError):
    """The ``--output`` file cannot be written; nothing was replaced."""


@app.command()
def classify(
    sources: list[str] = typer.Argument(
        ...,
        metavar="SOURCE",
        help="mbox (also .gz/.bz2/.xz), Maildir, folder, message file, or - for stdin.",
        show_default=False,
    ),
    output_format: OutputFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="Output format \\[default: table on a terminal, else jsonl; csv for --output *.csv].",
        show_default=False,
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write to FILE (atomically: complete or not at all) instead of stdout.",
        dir_okay=False,
    ),
    lang: Lang | None = typer.Option(
        None, "--lang", help="Language of explanations \\[default: BOUNCETOOL_LANG, the locale]."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Processes to parse in \\[default: one per core]."
    ),
) -> None:
    """Extract every bounced recipient from SOURCE... and classify it.

    Exit status: 0 when every input was read, 1 when some was bad (each
    problem is one line on stderr), 2 on a usage error.
    """
    form = output_format or _default_format(output)
    language = resolve_lang(lang.value if lang else None)
    tally = _Tally()
    records = tally.records(iter_records(sources, table=_rule_table(), workers=workers))
    try:
        with _progress(tally, form, output) as track, _output(output) as stream:
            render(track(records), form, stream, language)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if tally.problems:
        raise typer.Exit(1)


def _rule_table() -> Classifier | None:
    """The rule table to classify with, or None to keep the extractor's hard/soft.

    The rules package (``bouncetool.rules``) is optional here; it is imported
    by name so that this command works before and after it is installed.
    """
    try:
        rules = importlib.import_module("bouncetool.rules")
    except ModuleNotFoundError as missing:
        if missing.name != "bouncetool.rules":
            raise
        return None
    table: Classifier = rules.load_table()
    return table


def _default_format(output: Path | None) -> OutputFormat:
    if output is not None:
        return OutputFormat.CSV if output.suffix.lower() == ".csv" else OutputFormat.JSONL
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSONL


class _Tally:
    """Counts what flows past and reports each problem on stderr as it comes."""

    def __init__(self) -> None:
        self.messages = 0
        self.problems = 0
        self._last: tuple[str | None, int | None] = (None, None)

    def records(self, items: Iterable[Record | Problem]) -> Iterator[Record]:
        """The records of `items`; each problem is printed on stderr and counted."""
        console = stderr()
        for item in items:
            if isinstance(item, Problem):
                self.problems += 1
                console.print(f"bouncetool: {item.describe()}", markup=False, highlight=False)
                continue
            place = (item.bounce.source, item.bounce.message)
            if place != self._last:
                self._last = place
                self.messages += 1
            yield item


Track = Callable[[Iterable[Record]], Iterator[Record]]


@contextlib.contextmanager
def _progress(tally: _Tally, form: OutputFormat, output: Path | None) -> Iterator[Track]:
    """A wrapper over the records that shows progress on stderr, when that helps.

    Only on a terminal, and not while records stream to the same terminal.
    """
    to_terminal = output is None and form is not OutputFormat.TABLE and sys.stdout.isatty()
    if not interactive() or to_terminal:
        yield iter
        return
    # Refreshed by hand: no refresh thread runs while worker processes fork.
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} messages read"),
        TimeElapsedColumn(),
        console=stderr(),
        transient=True,
        auto_refresh=False,
    ) as progress:
        task = progress.add_task("classify", total=None)

        def track(records: Iterable[Record]) -> Iterator[Record]:
            shown = 0.0
            for record in records:
                yield record
                if (now := time.monotonic()) - shown > _REFRESH_SECONDS:
                    shown = now
                    progress.update(task, completed=tally.messages)
                    progress.refresh()

        yield track


_REFRESH_SECONDS = 0.1


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """The text stream to write to: stdout, or an atomic writer replacing `path`."""
    if path is None:
        stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stdout
            stdout.flush()
        finally:
            stdout.detach()  # leave sys.stdout open for whoever comes next
        return
    try:
        with atomic_text_writer(path) as stream:
            yield stream
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from error
