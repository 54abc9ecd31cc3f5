"""``bouncetool stats``: bounce statistics from the ledger, as tables, JSON Lines, CSV or HTML."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

import typer

from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr
from bouncetool.errors import BounceToolError, OutputError, StateError
from bouncetool.language import resolve_lang
from bouncetool.model import Lang
from bouncetool.render import OutputFormat

if TYPE_CHECKING:
    from bouncetool.stats import Dimension, Report, SentCounts

DEFAULT_BY = "kind,category,domain,campaign,day"
AXES = "kind,category,reason,domain,campaign,day,week"
"""The values of `bouncetool.stats.Dimension`, for the help text: written out because
importing the statistics (and their alerts) costs every command, ``classify`` too,
about 10 ms of start-up; a test keeps the two the same."""

_AGO = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_SEVERITY_WORDS = {"warning": ("varování", "warning"), "critical": ("KRITICKÉ", "CRITICAL")}


@app.command("stats")
def stats_command(
    *,
    state: Path | None = typer.Option(
        None, "--state", help="The ledger file (default: BOUNCETOOL_STATE, then the data dir)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only bounces from the last 30d, 12w, 48h, or since a date."
    ),
    by: str = typer.Option(DEFAULT_BY, "--by", help="Axes, comma-separated: " + AXES),
    sent: int | None = typer.Option(
        None, "--sent", min=1, help="How many recipients were mailed in the period (all)."
    ),
    campaigns: Path | None = typer.Option(
        None, "--campaigns", help="CSV with columns campaign,sent: rates per campaign."
    ),
    output_format: OutputFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        help="table for people, jsonl or csv for programs \\[default: table on a terminal, "
        "else jsonl].",
        show_default=False,
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report with charts here."
    ),
    lang: Lang | None = typer.Option(
        None,
        "--lang",
        help="Language of tables, warnings and report \\[default: BOUNCETOOL_LANG, the locale].",
        show_default=False,
    ),
    top: int = typer.Option(10, "--top", min=1, help="Rows per table and chart for people."),
) -> None:
    """Bounce counts and rates by kind, category, reason, domain, campaign, day or week.

    Warnings (a domain bouncing far more than the rest, rates over the levels
    providers act on, sender blocks) go to stderr.
    """
    dimensions = _parse_by(by)
    counts = _sent_counts(sent, campaigns)
    language = resolve_lang(lang.value if lang else None)
    form = output_format or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSONL)
    report = _summarise_ledger(state, _parse_since(since, datetime.now(UTC)), counts)
    try:
        _write(report, dimensions, form, language, top)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as classify does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if html is not None:
        from bouncetool.report_html import write_html

        try:
            write_html(html, report, language, top=top)
        except OutputError as error:
            raise BounceToolError(f"{html}: cannot write the report: {error.reason}") from error
        except OSError as error:
            raise BounceToolError(f"{html}: cannot write the report: {error.strerror}") from error
    _warn(report, language)


def _summarise_ledger(state: Path | None, since: datetime | None, sent: SentCounts) -> Report:
    from bouncetool.state import Ledger
    from bouncetool.state.location import resolve_state_path
    from bouncetool.stats import summarise

    location = resolve_state_path(state)
    if not location.exists():
        # Opening would create an empty ledger and report zeros: say what is wrong instead.
        raise StateError(f"{location}: no ledger here yet; read bounces into it first")
    with Ledger.open(location) as ledger:
        return summarise(ledger.events(since), sent=sent)


def _write(
    report: Report, dimensions: list[Dimension], output: OutputFormat, lang: Lang, top: int
) -> None:
    # Imported here: it brings rich, which ``bouncetool classify`` need not load.
    from bouncetool.stats_format import as_csv, as_jsonl, as_tables

    match output:
        case OutputFormat.TABLE:
            from rich.console import Console

            # Off a terminal (cron mail, a file) rich would squeeze tables into 80 columns
            wide = sys.stdout.isatty() or "COLUMNS" in os.environ
            console = Console(highlight=False, soft_wrap=False, width=None if wide else 160)
            for table in as_tables(report, dimensions, lang, top=top):
                console.print(table)
        case OutputFormat.JSONL:
            sys.stdout.writelines(as_jsonl(report, dimensions))
        case OutputFormat.CSV:
            sys.stdout.writelines(as_csv(report, dimensions))
        case _:
            assert_never(output)


def _warn(report: Report, lang: Lang) -> None:
    console = stderr()
    index = 0 if lang is Lang.CS else 1
    for alert in report.alerts:
        word = _SEVERITY_WORDS[alert.severity.value][index]
        style = "bold red" if alert.severity.value == "critical" else "yellow"
        console.print(f"[{style}]{word}:[/] ", end="")
        console.print(alert.text(lang), markup=False)


def _parse_by(text: str) -> list[Dimension]:
    from bouncetool.stats import Dimension

    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    known = {d.value for d in Dimension}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise typer.BadParameter(
            f"unknown axis {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}",
            param_hint="--by",
        )
    return list(dict.fromkeys(Dimension(name) for name in names))


def _sent_counts(sent: int | None, campaigns: Path | None) -> SentCounts:
    from bouncetool.stats import SentCounts

    if sent is not None and campaigns is not None:
        raise typer.BadParameter("give --sent or --campaigns, not both", param_hint="--sent")
    if campaigns is not None:
        from bouncetool.sent import read_campaigns

        return SentCounts(campaigns=read_campaigns(campaigns))
    return SentCounts(total=sent)


def _parse_since(text: str | None, now: datetime) -> datetime | None:
    """`text` as a moment: ``30d``/``12w``/``48h`` before `now`, or an ISO date or time (UTC)."""
    if text is None:
        return None
    ago = _AGO.match(text)
    if ago:
        return now - timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration (30d, 12w, 48h) nor a date (2026-11-01)",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
