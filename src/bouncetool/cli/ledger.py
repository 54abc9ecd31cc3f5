"""The ledger commands ``ingest``, ``prune`` and ``forget``: wiring; the work is in `state`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bouncetool.cli.app import app
from bouncetool.cli.problems import QUARANTINE_OPTION, ProblemLines
from bouncetool.cli.terminal import counter, interactive, stderr
from bouncetool.model import Problem, Record

if TYPE_CHECKING:
    from bouncetool.state import IngestSummary

STATE_OPTION = typer.Option(
    None,
    "--state",
    dir_okay=False,
    help="The ledger file. Default: $BOUNCETOOL_STATE, else a file in your data folder.",
)
"""``--state PATH``, shared by every command that reads or writes the ledger."""


@app.command()
def ingest(
    sources: list[str] = typer.Argument(
        ...,
        metavar="SOURCE",
        help="mbox (also .gz/.bz2/.xz), Maildir, folder, message file, or - for stdin.",
        show_default=False,
    ),
    state: Path | None = STATE_OPTION,
    rules: list[Path] = typer.Option(
        [],
        "--rules",
        exists=True,
        dir_okay=False,
        help="Extra rule file (repeatable); its rules come first and override shipped ids.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Processes to parse in \\[default: one per core]."
    ),
    quarantine: Path | None = QUARANTINE_OPTION,
) -> None:
    """Read bounces from SOURCE..., classify them and store them in the ledger.

    Each message counts once, however often it is read. Exit status: 0 when
    every input was read, 1 when some was bad (one line each on stderr).
    """
    from bouncetool.pipeline import iter_records
    from bouncetool.rules import load_table
    from bouncetool.state import Ledger

    table = load_table(rules)
    problems = ProblemLines(quarantine)
    with Ledger.open(state) as ledger:
        items = iter_records(sources, table=table, workers=workers)
        with _progress() as track:
            summary = ledger.ingest(track(_records(items, problems)))
        where = ledger.path
    stderr().print(describe_ingest(summary, problems.count, where), markup=False, highlight=False)
    if problems.count:
        raise typer.Exit(1)


@app.command()
def prune(
    days: int = typer.Option(60, "--days", min=1, help="Keep events this many days (bounce date)."),
    state: Path | None = STATE_OPTION,
) -> None:
    """Delete soft, delay and sender-side events older than --days.

    Hard bounces, complaints and escalated soft bounces stay until forgotten.
    """
    from bouncetool.policy import Policy
    from bouncetool.state import Ledger

    with Ledger.open(existing_ledger(state)) as ledger:
        pruned = ledger.prune(None, days, policy=Policy(retention_days=days))
        where = ledger.path
    stderr().print(f"pruned {_count(pruned, 'event')} older than {days} days from {where}")


@app.command()
def forget(
    addresses: list[str] = typer.Argument(..., metavar="ADDRESS", help="Addresses to clear."),
    state: Path | None = STATE_OPTION,
) -> None:
    """Clear addresses from the ledger: they may be mailed again.

    Their bounces, suppressions and soft counts go; bounces dated before now
    are not stored for them again, so re-reading an old mailbox does not
    bring them back.
    """
    from bouncetool.addresses import normalise_address
    from bouncetool.state import Ledger

    wanted = [address for address in addresses if address.strip()]
    if not wanted:
        raise typer.BadParameter("give at least one address", param_hint="ADDRESS")
    with Ledger.open(existing_ledger(state)) as ledger:
        known = ledger.forget(wanted)
    unknown = len({normalise_address(address) for address in wanted}) - known
    note = (
        f" ({_count(unknown, 'address', 'addresses')} had nothing in the ledger)" if unknown else ""
    )
    stderr().print(f"forgot {_count(known, 'address', 'addresses')}{note}")


def existing_ledger(state: Path | None) -> Path:
    """The ledger file `state` resolves to; a `StateError` when there is none yet.

    Opening a missing ledger would create an empty one: a mistyped ``--state``
    would then "forget" or "prune" nothing and say all went well.
    """
    from bouncetool.errors import StateError
    from bouncetool.state.location import resolve_state_path

    location = resolve_state_path(state)
    if not location.exists():
        raise StateError(f"{location}: no ledger here yet; read bounces into it first")
    return location


def _records(items: Iterable[Record | Problem], problems: ProblemLines) -> Iterator[Record]:
    """The records of `items`; each problem goes to `problems` (one line on stderr)."""
    for item in items:
        if isinstance(item, Problem):
            problems.report(item)
        else:
            yield item


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[Iterable[Record]], Iterator[Record]]]:
    """A wrapper that counts records on stderr while they flow; only on a terminal."""
    if not interactive():
        yield iter
        return
    with counter("records") as progress:
        task = progress.add_task("ingest", total=None)

        def track(records: Iterable[Record]) -> Iterator[Record]:
            shown = 0.0
            for count, record in enumerate(records, 1):
                yield record
                if (now := time.monotonic()) - shown > 0.1:
                    shown = now
                    progress.update(task, completed=count)
                    progress.refresh()

        yield track


def describe_ingest(summary: IngestSummary, problems: int, where: Path) -> str:
    """The one-paragraph summary of an ingest, for people (stderr)."""
    parts = [f"{summary.new:,} new", f"{summary.duplicate:,} already in the ledger"]
    optional = (
        (summary.updated, "of them reclassified"),
        (summary.not_bounce, "not bounces"),
        (summary.no_recipient, "naming no address"),
        (summary.forgotten, "forgotten before"),
        (summary.expired, "older than the retention: not kept"),
    )
    parts += [f"{number:,} {what}" for number, what in optional if number]
    text = f"read {_count(summary.read, 'record')} into {where}: {', '.join(parts)}"
    if summary.pruned:
        text += f"; pruned {_count(summary.pruned, 'old event')}"
    if problems:
        text += f"; {_count(problems, 'problem')} (see above)"
    return text


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
