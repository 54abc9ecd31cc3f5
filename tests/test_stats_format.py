"""Statistics as output: JSON Lines and CSV rows for machines, rich tables for people."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console

from bouncetool.model import Lang
from bouncetool.stats import GROUP_FIELDS, Dimension, SentCounts, summarise
from bouncetool.stats_format import as_csv, as_jsonl, as_tables
from tests.stats_events import event
from tests.test_stats import small_ledger


def rendered(lang: Lang, dims: list[Dimension], **sent: int) -> str:
    report = summarise(small_ledger(), sent=SentCounts(campaigns=sent))
    console = Console(file=io.StringIO(), width=200, color_system=None)
    for table in as_tables(report, dims, lang):
        console.print(table)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


class TestJsonLines:
    """One object per line: the total first, then each asked axis in order."""

    def test_rows(self) -> None:
        report = summarise(small_ledger())
        lines = [json.loads(line) for line in as_jsonl(report, [Dimension.DOMAIN])]
        assert [(r["dimension"], r["key"], r["events"]) for r in lines] == [
            ("total", None, 7),
            ("domain", "gmail.com", 3),
            ("domain", "seznam.cz", 3),
            ("domain", "email.cz", 1),
        ]
        assert all(tuple(r) == GROUP_FIELDS for r in lines)


class TestCsv:
    """A header of the documented fields, then the same rows as JSON Lines."""

    def test_rows(self) -> None:
        report = summarise(small_ledger(), sent=SentCounts(campaigns={"nov": 40}))
        text = "".join(as_csv(report, [Dimension.CAMPAIGN, Dimension.WEEK]))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == GROUP_FIELDS
        assert [(r["dimension"], r["key"]) for r in rows] == [
            ("total", ""),
            ("campaign", "dec"),
            ("campaign", "nov"),
            ("campaign", ""),
            ("week", "2026-W47"),
            ("week", "2026-W48"),
        ]
        assert rows[2]["bounce_rate"] == "0.05"
        assert rows[2]["sent"] == "40"


class TestTables:
    """Tables for people: localised headings, rates only where sent is known, no markup."""

    def test_czech_headings_and_rates(self) -> None:
        output = rendered(Lang.CS, [Dimension.CAMPAIGN], nov=40)
        assert "Podle kampaně" in output
        assert "Míra chyb" in output
        assert "5,0 %" in output
        assert "(neuvedeno)" in output

    def test_no_rate_columns_without_sent(self) -> None:
        output = rendered(Lang.EN, [Dimension.DOMAIN])
        assert "By receiving domain" in output
        assert "Bounce rate" not in output

    def test_markup_in_keys_is_text(self) -> None:
        report = summarise([event("a@x.cz", campaign="[bold red]boo[/]")])
        console = Console(file=io.StringIO(), width=200, color_system=None)
        for table in as_tables(report, [Dimension.CAMPAIGN], Lang.EN):
            console.print(table)
        assert "[bold red]boo[/]" in console.file.getvalue()  # type: ignore[attr-defined]
