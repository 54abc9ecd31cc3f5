"""A statistics `Report` as output: rich tables for people, JSON Lines and CSV for machines.

The formats are those of ``classify`` (`bouncetool.render.OutputFormat`).

Nothing here prints: each function returns what the CLI writes to standard output.
Machine rows are `Group.as_dict` (fields `GROUP_FIELDS`): first the total row
(``dimension`` ``total``), then the rows of each asked axis in order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence

from rich.table import Table
from rich.text import Text

from bouncetool.figures import format_number, format_percent
from bouncetool.model import Lang
from bouncetool.stats import GROUP_FIELDS, KIND_COLUMNS, Dimension, Group, Report

_TITLES: dict[Dimension, tuple[str, str]] = {  # (cs, en)
    Dimension.KIND: ("Podle druhu", "By kind"),
    Dimension.CATEGORY: ("Podle kategorie", "By category"),
    Dimension.REASON: ("Podle důvodu", "By reason"),
    Dimension.DOMAIN: ("Podle domény příjemce", "By receiving domain"),
    Dimension.CAMPAIGN: ("Podle kampaně", "By campaign"),
    Dimension.DAY: ("Po dnech", "By day"),
    Dimension.WEEK: ("Po týdnech", "By week"),
}

_HEADINGS: dict[str, tuple[str, str]] = {
    "kind": ("Druh", "Kind"),
    "category": ("Kategorie", "Category"),
    "reason": ("Důvod", "Reason"),
    "domain": ("Doména", "Domain"),
    "campaign": ("Kampaň", "Campaign"),
    "day": ("Den", "Day"),
    "week": ("Týden", "Week"),
    "total": ("Celkem", "Total"),
    "events": ("Události", "Events"),
    "addresses": ("Adresy", "Addresses"),
    "hard": ("Trvalé", "Hard"),
    "soft": ("Dočasné", "Soft"),
    "complaint": ("Stížn.", "Compl."),
    "other": ("Ostatní", "Other"),
    "share": ("Podíl", "Share"),
    "sent": ("Odesláno", "Sent"),
    "bounce_rate": ("Míra chyb", "Bounce rate"),
    "complaint_rate": ("Míra stížn.", "Compl. rate"),
    "none": ("(neuvedeno)", "(none)"),
}


def rows(report: Report, dimensions: Sequence[Dimension]) -> Iterator[Group]:
    """The total row, then every group of each of `dimensions`."""
    yield report.total
    for dim in dimensions:
        yield from report.groups[dim]


def as_jsonl(report: Report, dimensions: Sequence[Dimension]) -> Iterator[str]:
    """One JSON object per line (with its newline) per row of `rows`."""
    for group in rows(report, dimensions):
        yield json.dumps(group.as_dict(), ensure_ascii=False) + "\n"


def as_csv(report: Report, dimensions: Sequence[Dimension]) -> Iterator[str]:
    """CSV text in chunks: a header of `GROUP_FIELDS`, then one line per row of `rows`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GROUP_FIELDS, lineterminator="\n")
    writer.writeheader()
    for group in rows(report, dimensions):
        writer.writerow(group.as_dict())
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def as_tables(
    report: Report, dimensions: Sequence[Dimension], lang: Lang, *, top: int = 10
) -> Iterator[Table]:
    """A totals table, then one table per axis (the `top` largest groups; time axes whole)."""
    yield _table(_heading("total", lang), [report.total], lang, first_column=None)
    for dim in dimensions:
        groups = report.groups[dim]
        shown = groups if dim.is_time else groups[:top]
        title = _TITLES[dim][0 if lang is Lang.CS else 1]
        if len(shown) < len(groups):
            title += f" (top {len(shown)} / {len(groups)})"
        yield _table(title, shown, lang, first_column=dim)


def _heading(key: str, lang: Lang) -> str:
    return _HEADINGS[key][0 if lang is Lang.CS else 1]


def _table(
    title: str, groups: Sequence[Group], lang: Lang, *, first_column: Dimension | None
) -> Table:
    with_rates = any(g.sent for g in groups)
    table = Table(title=title, title_justify="left")
    if first_column is not None:
        table.add_column(_heading(first_column.value, lang))
    numbers = ["events", "addresses", *KIND_COLUMNS, "share"]
    if with_rates:
        numbers += ["sent", "bounce_rate", "complaint_rate"]
    for key in numbers:
        table.add_column(_heading(key, lang), justify="right")
    for group in groups:
        # Text, not str: a domain or campaign from bounce mail must not be read as rich markup
        cells: list[Text | str] = []
        if first_column is not None:
            cells.append(Text(group.key or _heading("none", lang)))
        cells += [format_number(group.events, lang), format_number(group.addresses, lang)]
        cells += [format_number(group.count(c), lang) for c in KIND_COLUMNS]
        cells.append(format_percent(group.share, lang))
        if with_rates:
            cells.append(format_number(group.sent, lang) if group.sent else "–")
            cells += [
                format_percent(rate, lang) if rate is not None else "–"
                for rate in (group.bounce_rate, group.complaint_rate)
            ]
        table.add_row(*cells)
    return table
