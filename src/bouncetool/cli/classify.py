"""``bouncetool classify``: read bounces and print one record per bounced recipient.

Wiring only: the records come from `bouncetool.pipeline`, the text from
`bouncetool.render`. Data goes to stdout (or ``--output``), problems and
progress to stderr.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar, cast

import typer

from bouncetool.atomicwrite import atomic_text_writer
from bouncetool.cli.app import app
from bouncetool.cli.ledger import STATE_OPTION, describe_ingest
from bouncetool.cli.problems import QUARANTINE_OPTION, ProblemLines
from bouncetool.cli.terminal import counter, interactive, stderr
from bouncetool.errors import OutputError
from bouncetool.language import resolve_lang
from bouncetool.model import Lang, Problem, Record
from bouncetool.pipeline import Batch, iter_batches, iter_records
from bouncetool.pipeline.beside import Beside
from bouncetool.pipeline.tasks import Task, plan
from bouncetool.pipeline.worker import default_parse
from bouncetool.render import LineEncoder, OutputFormat, render, write_data
from bouncetool.rulefile import Rule
from bouncetool.rules import PreparedRules, RuleTable, compile_text_patterns, table_rules
from bouncetool.sources import STDIN, is_mailbox_url

if TYPE_CHECKING:
    from rich.progress import Progress

_T = TypeVar("_T")
_Out = TypeVar("_Out", Record, Batch)


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
    rule_files: list[Path] = typer.Option(
        [],
        "--rules",
        help="Extra rule file (repeatable); its rules come first and override shipped ids.",
        exists=True,
        dir_okay=False,
    ),
    save: bool = typer.Option(
        False, "--save", help="Also store the verdicts in the ledger (as `bouncetool ingest`)."
    ),
    state: Path | None = STATE_OPTION,
    quarantine: Path | None = QUARANTINE_OPTION,
) -> None:
    """Extract every bounced recipient from SOURCE... and classify it.

    Exit status: 0 when every input was read, 1 when some was bad (each
    problem is one line on stderr), 2 on a usage error.
    """
    form = output_format or _default_format(output)
    language = resolve_lang(lang.value if lang else None)
    table, planned = _start(sources, rule_files)
    tally = _Tally(ProblemLines(quarantine))
    try:
        with _progress(tally, form, output) as progress, _output(output) as stream:
            if save:
                records = iter_records(sources, table=table, workers=workers, planned=planned)
                _classify_and_save(records, state, form, language, stream, tally)
            elif form is OutputFormat.TABLE:
                records = iter_records(sources, table=table, workers=workers, planned=planned)
                render(progress.track(tally.passing(records)), form, stream, language)
            else:
                # The workers encode, so only text comes back to this process:
                # one batch of lines per task.
                encoder = LineEncoder(form, language)
                batches = iter_batches(
                    sources, encoder, table=table, workers=workers, planned=planned
                )
                data = (batch.data for batch in progress.track(tally.passing(batches)))
                write_data(data, encoder, stream)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if tally.problems.count:
        raise typer.Exit(1)


def _start(
    sources: list[str], rule_files: list[Path]
) -> tuple[RuleTable, Iterator[Task | Problem] | None]:
    """The rule table, and the task plan when a helper process makes it.

    Start-up would keep one core busy and the other idle. So a helper
    (`Beside`) reads the rules, finds their gate literals, then plans the
    tasks (the scan of a large mbox), while this process imports the
    extractor and compiles the patterns (compiled patterns cannot be sent):
    the text patterns as soon as the rules arrive, the gate finder last.
    Standard input, mailboxes and anything but plain files and folders are
    planned here as before: they can be read only once.
    """
    planned_beside = all(_plain(source) for source in sources)
    rule_paths = tuple(rule_files)
    specs = tuple(sources) if planned_beside else ()

    def work() -> Iterator[tuple[Rule, ...] | PreparedRules | Task | Problem]:
        rules = table_rules(rule_paths)
        yield tuple(rules)  # first the rules, so their patterns compile there meanwhile
        yield PreparedRules.of(rules)
        yield from plan(specs)

    items = iter(Beside(work))
    default_parse()  # imported meanwhile; the workers are forked with it
    compiled = compile_text_patterns(cast(tuple[Rule, ...], next(items)))
    table = RuleTable.from_prepared(cast(PreparedRules, next(items)), compiled)
    if planned_beside:
        return table, cast(Iterator[Task | Problem], items)
    for _ in items:  # only the end mark is left
        pass
    return table, None


def _plain(source: str) -> bool:
    """True when `source` is a plain file or a folder (read again if need be, unlike a pipe)."""
    if source == STDIN or is_mailbox_url(source):
        return False
    try:
        mode = Path(source).stat().st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _classify_and_save(
    records: Iterable[Record | Problem],
    state: Path | None,
    form: OutputFormat,
    language: Lang,
    stream: TextIO,
    tally: _Tally,
) -> None:
    """Classify as usual and store every record in the ledger on the way past.

    The ledger pulls the records; each one is written out as it passes (a
    table, which needs every row first, is drawn once the ledger has them).
    """
    from bouncetool.state import Ledger

    records = tally.passing(records)
    with Ledger.open(state) as ledger:
        if form is OutputFormat.TABLE:
            rows: list[Record] = []
            summary = ledger.ingest(_kept(records, rows))
            render(rows, form, stream, language)
        else:
            encoder = LineEncoder(form, language)
            stream.write(encoder.header())
            summary = ledger.ingest(_written(records, encoder, stream))
        where = ledger.path
    stderr().print(
        describe_ingest(summary, tally.problems.count, where), markup=False, highlight=False
    )


def _kept(records: Iterable[Record], rows: list[Record]) -> Iterator[Record]:
    for record in records:
        rows.append(record)
        yield record


def _written(records: Iterable[Record], encoder: LineEncoder, stream: TextIO) -> Iterator[Record]:
    for record in records:
        stream.write(encoder(record))
        yield record


def _default_format(output: Path | None) -> OutputFormat:
    if output is not None:
        return OutputFormat.CSV if output.suffix.lower() == ".csv" else OutputFormat.JSONL
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSONL


class _Tally:
    """Counts the messages that flow past; each problem goes to `problems` as it comes."""

    def __init__(self, problems: ProblemLines) -> None:
        self.messages = 0
        self.problems = problems
        self._last: tuple[str | None, int | None] = (None, None)

    def passing(self, items: Iterable[_Out | Problem]) -> Iterator[_Out]:
        """The records (or batches of lines) of `items`; each problem is reported."""
        for item in items:
            if isinstance(item, Problem):
                self.problems.report(item)
                continue
            if isinstance(item, Batch):
                # Its first message may be the one the previous batch ended with.
                self.messages += item.messages - (item.first == self._last)
                self._last = item.last
                yield item
                continue
            place = (item.bounce.source, item.bounce.message)
            if place != self._last:
                self._last = place
                self.messages += 1
            yield item


class _Progress:
    """Shows how many messages were read, on stderr, while records pass through `track`."""

    def __init__(self, tally: _Tally, progress: Progress | None) -> None:
        self._tally = tally
        self._progress = progress
        self._task = progress.add_task("classify", total=None) if progress else None

    def track(self, items: Iterable[_T]) -> Iterator[_T]:
        """`items`, unchanged, updating the display now and then."""
        progress, task = self._progress, self._task
        if progress is None or task is None:
            yield from items
            return
        shown = 0.0
        for item in items:
            yield item
            if (now := time.monotonic()) - shown > _REFRESH_SECONDS:
                shown = now
                progress.update(task, completed=self._tally.messages)
                progress.refresh()


_REFRESH_SECONDS = 0.1


@contextlib.contextmanager
def _progress(tally: _Tally, form: OutputFormat, output: Path | None) -> Iterator[_Progress]:
    """Progress on stderr, when that helps: only on a terminal, and not while
    records stream to that same terminal.
    """
    to_terminal = output is None and form is not OutputFormat.TABLE and sys.stdout.isatty()
    if not interactive() or to_terminal:
        yield _Progress(tally, None)
        return
    with counter("messages") as progress:
        yield _Progress(tally, progress)


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
        raise OutputError(path, error.strerror or str(error)) from error
