"""``bouncetool clean``, ``annotate`` and ``export-errors``: the contact-list commands.

Wiring only: options in, a call into `bouncetool.contacts` / `errorexport`,
a summary table on stderr. Data goes to files (or stdout for export-errors).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr
from bouncetool.errors import ContactsError
from bouncetool.language import resolve_lang

if TYPE_CHECKING:
    from bouncetool.contacts import AnnotateSummary, CleanSummary, Duplicate
    from bouncetool.model import AddressStatus

STATE_HELP = "Ledger file (default: $BOUNCETOOL_STATE, else the user data folder)."
LANG_HELP = "Language of explanations: cs or en (default: $BOUNCETOOL_LANG, then the locale)."
EMAIL_HELP = "The column with the address, by name or 1-based number (default: found by name)."


@app.command()
def clean(
    path: Path = typer.Argument(..., help="The contact CSV to clean."),
    state: Path | None = typer.Option(None, "--state", help=STATE_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    email_column: str | None = typer.Option(None, "--email-column", help=EMAIL_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the kept rows here instead of replacing PATH."
    ),
    removed: Path | None = typer.Option(
        None, "--removed", help="Where removed rows go (default: <name>.removed.csv)."
    ),
    reactivate: Path | None = typer.Option(
        None, "--reactivate", help="Where unengaged rows go (default: <name>.reactivate.csv)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would go; write nothing."),
    check_syntax: bool = typer.Option(
        False, "--check-syntax", help="Also remove addresses that are not valid."
    ),
    check_dns: bool = typer.Option(
        False,
        "--check-dns",
        help="Also remove addresses whose domain does not exist or has null MX.",
    ),
    unengaged_days: int | None = typer.Option(
        None, "--unengaged-days", min=1, help="Move rows with no open or click for N days."
    ),
    engagement_column: str | None = typer.Option(
        None, "--engagement-column", help="The column with the last open or click date."
    ),
) -> None:
    """Remove suppressed contacts; removed rows, with the reason, go to a separate file."""
    from bouncetool.contacts import CleanOptions
    from bouncetool.contacts import clean as clean_list
    from bouncetool.dnscheck import dead_domains
    from bouncetool.syntax import check_syntax as syntax_check
    from bouncetool.typos import suggest_address

    if unengaged_days is not None and engagement_column is None:
        raise ContactsError("--unengaged-days needs --engagement-column")
    options = CleanOptions(
        lang=resolve_lang(lang),
        email_column=email_column,
        output=output,
        removed=removed,
        reactivate=reactivate,
        dry_run=dry_run,
        check_syntax=syntax_check if check_syntax else None,
        check_domains=dead_domains if check_dns else None,
        suggest=suggest_address,
        unengaged_days=unengaged_days,
        engagement_column=engagement_column,
    )
    summary = clean_list(path, load_statuses(state), options)
    _show_clean(summary, dry_run)


@app.command()
def annotate(
    path: Path = typer.Argument(..., help="The contact CSV to annotate."),
    state: Path | None = typer.Option(None, "--state", help=STATE_HELP),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
    email_column: str | None = typer.Option(None, "--email-column", help=EMAIL_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write (default: <name>.annotated.csv)."
    ),
) -> None:
    """Keep every row and add the bounce columns (status, kind, reason, count, last bounce)."""
    from bouncetool.contacts import AnnotateOptions
    from bouncetool.contacts import annotate as annotate_list

    options = AnnotateOptions(lang=resolve_lang(lang), email_column=email_column, output=output)
    summary = annotate_list(path, load_statuses(state), options)
    _show_annotate(summary)


@app.command("export-errors")
def export_errors(
    state: Path | None = typer.Option(None, "--state", help=STATE_HELP),
    csv_flag: bool = typer.Option(False, "--csv", help="CSV output (the default)."),
    fmt: str = typer.Option(
        "csv", "--format", help="csv, excel (';', BOM, CRLF: opens right in Excel) or jsonl."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here (default: standard output)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only errors seen since: 60d, 2w, 2026-10-01."
    ),
    kind: str = typer.Option("hard,soft,complaint", "--kind", help="Kinds to export."),
    lang: str | None = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """One row per error address: latest verdict, counts, dates, diagnostic, explanation."""
    from bouncetool.atomicwrite import AtomicFiles
    from bouncetool.errorexport import (
        ExportFormat,
        error_rows,
        parse_kinds,
        parse_since,
        write_errors,
    )

    try:
        output_format = ExportFormat("csv" if csv_flag else fmt.lower())
    except ValueError:
        raise ContactsError(f"--format {fmt!r}: expected csv, excel or jsonl") from None
    from bouncetool.cli.ledger import existing_ledger
    from bouncetool.policy import Policy
    from bouncetool.state import Ledger

    kinds = parse_kinds(kind)
    floor = parse_since(since) if since else None
    with Ledger.open(existing_ledger(state)) as ledger:
        chosen = ledger.error_addresses(Policy(), since=floor, kinds=kinds)
    rows = error_rows(chosen, kinds=kinds, since=floor, lang=resolve_lang(lang))
    if output is None:
        write_errors(rows, sys.stdout.buffer, output_format)
        sys.stdout.flush()
    else:
        with AtomicFiles() as files:
            write_errors(rows, files.open(output), output_format)
            files.commit()
    stderr().print(f"{len(rows)} error addresses exported", markup=False)


def load_statuses(state: Path | None) -> Mapping[str, AddressStatus]:
    """The policy's decision for every address the ledger at `state` knows."""
    from bouncetool.cli.ledger import existing_ledger
    from bouncetool.policy import Policy
    from bouncetool.state import Ledger

    with Ledger.open(existing_ledger(state)) as ledger:
        return ledger.address_statuses(Policy(), datetime.now(UTC))


def _show_clean(summary: CleanSummary, dry_run: bool) -> None:
    from rich.table import Table

    console = stderr()
    console.print(f"{summary.source}: {summary.dialect.describe()}", markup=False)
    table = Table(title="would go" if dry_run else "clean", title_justify="left")
    table.add_column("rows")
    table.add_column("count", justify="right")
    table.add_row("read", f"{summary.rows:,}")
    table.add_row("kept", f"{summary.kept:,}")
    for (kind, reason), count in summary.by_reason.most_common():
        table.add_row(f"removed: {kind} / {reason}", f"{count:,}")
    if summary.reactivated:
        table.add_row("to reactivate (unengaged)", f"{summary.reactivated:,}")
    if summary.duplicates:
        table.add_row("duplicate addresses (kept)", f"{summary.duplicates:,}")
    console.print(table)
    _show_duplicates(summary.duplicate_examples)
    if dry_run and summary.preview:
        first = Table(title="first rows that would go", title_justify="left")
        for name in ("line", "address", "kind", "reason", "explanation", "suggested"):
            first.add_column(name)
        for removal in summary.preview:
            first.add_row(
                str(removal.line),
                removal.address,
                removal.kind,
                removal.reason,
                removal.explanation,
                removal.suggested_email or "",
            )
        console.print(first)
    for path in summary.written:
        console.print(f"wrote {path}", markup=False)
    if summary.backup:
        console.print(f"backup {summary.backup}", markup=False)
    if not dry_run and not summary.written:
        console.print("nothing to change; no file written", markup=False)


def _show_annotate(summary: AnnotateSummary) -> None:
    from rich.table import Table

    console = stderr()
    console.print(f"{summary.source}: {summary.dialect.describe()}", markup=False)
    table = Table(title="annotate", title_justify="left")
    table.add_column("bounce_status")
    table.add_column("rows", justify="right")
    for status, count in summary.by_status.most_common():
        table.add_row(status, f"{count:,}")
    if summary.duplicates:
        table.add_row("duplicate addresses", f"{summary.duplicates:,}")
    console.print(table)
    _show_duplicates(summary.duplicate_examples)
    console.print(f"wrote {summary.output}", markup=False)


def _show_duplicates(examples: tuple[Duplicate, ...]) -> None:
    for duplicate in examples:
        stderr().print(
            f"line {duplicate.line}: {duplicate.address} repeats line {duplicate.first_line}",
            markup=False,
        )
