"""The HTML report of ``bouncetool stats --html``: one self-contained file.

Everything is inline — CSS, SVG charts drawn by `bouncetool.svgcharts`, no
script, no font, no image to fetch — so the file opens offline and can be
mailed on. A Content-Security-Policy forbids loading anything at all, as a
second guard behind escaping: every text from bounce mail (addresses,
domains, campaigns, diagnostics) and from rule files goes through
`html.escape`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

from bouncetool import __version__
from bouncetool.figures import format_number, format_percent
from bouncetool.model import Lang
from bouncetool.stats import KIND_COLUMNS, Dimension, Group, Report
from bouncetool.svgcharts import Bar, shorten, stacked_columns, stacked_rows

DAILY_LIMIT = 62
"""Up to this many days the time line has a bar per day; beyond, a bar per ISO week."""

TEXTS: dict[str, tuple[str, str]] = {  # key -> (cs, en)
    "title": ("Přehled nedoručených zpráv", "Bounce report"),
    "period": ("Období", "Period"),
    "generated": ("Vytvořeno", "Generated"),
    "events": ("Události", "Events"),
    "addresses": ("Adresy", "Addresses"),
    "sent": ("Odesláno", "Sent"),
    "bounce_rate": ("Míra nedoručitelnosti", "Bounce rate"),
    "complaint_rate": ("Míra stížností", "Complaint rate"),
    "warnings": ("Upozornění", "Warnings"),
    "no_warnings": ("Žádná upozornění.", "No warnings."),
    "timeline_day": (
        "Nedoručené zprávy po dnech podle druhu",
        "Bounces per day by kind",
    ),
    "timeline_week": (
        "Nedoručené zprávy po týdnech podle druhu",
        "Bounces per week by kind",
    ),
    "categories": ("Kategorie", "Categories"),
    "domains": ("Nejčastější domény příjemců", "Top receiving domains"),
    "reasons": ("Nejčastější důvody", "Top reasons"),
    "reason": ("Důvod", "Reason"),
    "explanation": ("Vysvětlení", "Explanation"),
    "example": ("Příklad hlášení serveru", "Example server message"),
    "campaigns": ("Kampaně", "Campaigns"),
    "campaign": ("Kampaň", "Campaign"),
    "none": ("(neuvedeno)", "(none)"),
    "empty": ("Žádné události v tomto období.", "No events in this period."),
    "counting": (
        "Události = uložená hlášení o nedoručení; adresy = různí příjemci. "
        "Míry = různé adresy / odesláno.",
        "Events = stored bounce reports; addresses = distinct recipients. "
        "Rates = distinct addresses / sent.",
    ),
    "hard": ("trvalá chyba", "hard"),
    "soft": ("dočasná chyba", "soft"),
    "complaint": ("stížnost", "complaint"),
    "other": ("ostatní", "other"),
    "tile_hard": ("Trvalé chyby", "Hard bounces"),
    "tile_soft": ("Dočasné chyby", "Soft bounces"),
    "tile_complaint": ("Stížnosti", "Complaints"),
    "tile_other": ("Ostatní", "Other"),
    "all": ("události", "events"),
    "warning": ("varování", "warning"),
    "critical": ("kritické", "critical"),
}

_CSS = """
:root{color-scheme:light;--hard:#c62828;--soft:#ef8f00;--complaint:#7b1fa2;--other:#78909c;
--all:#1e88e5;--ink:#1d2630;--muted:#5f6b77;--line:#e3e7eb}
*{box-sizing:border-box}
body{margin:0;background:#f5f7f9;color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:820px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:0 0 12px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
.meta,.note,footer{color:var(--muted);font-size:13px}
.tiles{display:flex;flex-wrap:wrap;gap:8px;background:none;border:0;padding:0}
.tile{flex:1 1 120px;background:#fff;border:1px solid var(--line);border-radius:8px;
padding:10px 12px}
.tile b{display:block;font-size:22px}.tile span{color:var(--muted);font-size:13px}
.alerts{list-style:none;margin:0;padding:0}
.alert{border-left:4px solid var(--soft);background:#fff8e6;padding:8px 12px;margin:6px 0}
.alert.critical{border-color:var(--hard);background:#fdecec}
.alert b{text-transform:uppercase;font-size:12px;margin-right:6px}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
svg.chart{display:block;max-width:100%;height:auto}
svg .grid{stroke:var(--line)}svg .axis,svg .value{font-size:11px;fill:var(--muted)}
svg .label{font-size:12px;fill:var(--ink)}
.k-hard{fill:var(--hard);background:var(--hard)}.k-soft{fill:var(--soft);background:var(--soft)}
.k-complaint{fill:var(--complaint);background:var(--complaint)}
.k-other{fill:var(--other);background:var(--other)}.k-all{fill:var(--all);background:var(--all)}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
code{font-size:12px;word-break:break-word;color:var(--muted)}
"""


def render_html(
    report: Report, lang: Lang, *, generated_at: datetime | None = None, top: int = 10
) -> str:
    """The whole report page as text, in `lang`, showing the `top` largest groups per chart."""
    generated_at = generated_at or datetime.now(UTC)
    t = _texts(lang)
    body = [
        f"<h1>{t['title']}</h1>",
        f'<p class="meta">{t["period"]}: {_period(report)} · {t["generated"]}: '
        f"{escape(generated_at.strftime('%Y-%m-%d %H:%M %Z'))}</p>",
        _tiles(report, lang),
        _warnings(report, lang),
    ]
    if report.total.events:
        body += [
            _timeline(report, lang),
            _ranking("categories", report.groups[Dimension.CATEGORY][:top], lang, single=True),
            _ranking("domains", report.groups[Dimension.DOMAIN][:top], lang, single=False),
            _reasons(report, lang, top),
        ]
    else:
        body.append(f"<section><p>{t['empty']}</p></section>")
    if any(g.key is not None for g in report.groups[Dimension.CAMPAIGN]):
        body.append(_campaigns(report, lang, top))
    body.append(f"<footer>{t['counting']} · bouncetool {escape(__version__)}</footer>")
    return (
        f'<!DOCTYPE html>\n<html lang="{lang.value}">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{t['title']}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_html(path: Path, report: Report, lang: Lang, *, top: int = 10) -> None:
    """Write the report to `path` atomically (temporary file, fsync, rename)."""
    text = render_html(report, lang, top=top)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path())
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)  # mkstemp makes it private; a report is for sharing
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _section(name: str, heading: str, inner: str) -> str:
    return f'<section id="{name}"><h2>{heading}</h2>{inner}</section>'


def _table(head: str, rows: list[str]) -> str:
    # Wide tables scroll inside their box instead of breaking the page on a phone.
    return f'<div class="scroll"><table>{head}{"".join(rows)}</table></div>'


def _texts(lang: Lang) -> dict[str, str]:
    index = 0 if lang is Lang.CS else 1
    return {key: escape(pair[index]) for key, pair in TEXTS.items()}


def _period(report: Report) -> str:
    if report.first_at is None or report.last_at is None:
        return "–"
    first = report.first_at.astimezone(UTC).date().isoformat()
    last = report.last_at.astimezone(UTC).date().isoformat()
    return escape(first if first == last else f"{first} – {last}")


def _tiles(report: Report, lang: Lang) -> str:
    t, total = _texts(lang), report.total
    tiles = [
        (format_number(total.events, lang), t["events"]),
        (format_number(total.addresses, lang), t["addresses"]),
        *((format_number(total.count(c), lang), t[f"tile_{c}"]) for c in KIND_COLUMNS),
    ]
    if total.sent:
        tiles.append((format_number(total.sent, lang), t["sent"]))
        tiles.append((format_percent(total.bounce_rate or 0.0, lang), t["bounce_rate"]))
        tiles.append((format_percent(total.complaint_rate or 0.0, lang), t["complaint_rate"]))
    cells = "".join(f'<div class="tile"><b>{escape(v)}</b><span>{k}</span></div>' for v, k in tiles)
    return f'<section class="tiles">{cells}</section>'


def _warnings(report: Report, lang: Lang) -> str:
    t = _texts(lang)
    if not report.alerts:
        return f'<section id="warnings"><h2>{t["warnings"]}</h2><p>{t["no_warnings"]}</p></section>'
    items = "".join(
        f'<li class="alert {escape(a.severity.value)}" data-code="{escape(a.code)}">'
        f"<b>{t[a.severity.value]}</b>{escape(a.text(lang))}</li>"
        for a in report.alerts
    )
    return (
        f'<section id="warnings"><h2>{t["warnings"]}</h2><ul class="alerts">{items}</ul></section>'
    )


def _legend(lang: Lang, columns: tuple[str, ...]) -> str:
    t = _texts(lang)
    spans = "".join(f'<span><i class="k-{c}"></i>{t[c]}</span>' for c in columns)
    return f'<p class="legend">{spans}</p>'


def _timeline(report: Report, lang: Lang) -> str:
    t = _texts(lang)
    days = report.groups[Dimension.DAY]
    weekly = len(days) > 1 and _span_days(days) > DAILY_LIMIT
    dim = Dimension.WEEK if weekly else Dimension.DAY
    by_key = {g.key: g for g in report.groups[dim]}
    keys = _weeks(days) if weekly else _days(days)
    bars = [
        Bar(key, [(c, by_key[key].count(c) if key in by_key else 0) for c in KIND_COLUMNS])
        for key in keys
    ]
    heading = t["timeline_week"] if weekly else t["timeline_day"]
    chart = stacked_columns(
        "timeline", bars, lambda c: _texts(lang)[c], aria_label=TEXTS["timeline_day"][1]
    )
    return (
        f'<section id="timeline"><h2>{heading}</h2>{_legend(lang, KIND_COLUMNS)}{chart}</section>'
    )


def _span_days(days: tuple[Group, ...]) -> int:
    return (date.fromisoformat(days[-1].key or "") - date.fromisoformat(days[0].key or "")).days


def _days(days: tuple[Group, ...]) -> Iterator[str]:
    # Every day from the first to the last, so quiet days show as gaps, not vanish.
    first = date.fromisoformat(days[0].key or "")
    for offset in range(_span_days(days) + 1):
        yield (first + timedelta(days=offset)).isoformat()


def _weeks(days: tuple[Group, ...]) -> Iterator[str]:
    first = date.fromisoformat(days[0].key or "")
    first -= timedelta(days=first.weekday())  # the Monday of the first week
    last = date.fromisoformat(days[-1].key or "")
    while first <= last:
        year, week, _weekday = first.isocalendar()
        yield f"{year}-W{week:02d}"
        first += timedelta(days=7)


def _ranking(name: str, groups: tuple[Group, ...], lang: Lang, *, single: bool) -> str:
    t = _texts(lang)
    none = TEXTS["none"][0 if lang is Lang.CS else 1]
    columns: tuple[str, ...] = ("all",) if single else KIND_COLUMNS
    bars = [
        Bar(
            shorten(g.key or none),
            [("all", g.events)] if single else [(c, g.count(c)) for c in KIND_COLUMNS],
            tooltip=g.key or none,
        )
        for g in groups
    ]
    chart = stacked_rows(name, bars, lambda c: _texts(lang)[c], aria_label=TEXTS[name][1])
    legend = "" if single else _legend(lang, columns)
    return f'<section id="{name}"><h2>{t[name]}</h2>{legend}{chart}</section>'


def _reasons(report: Report, lang: Lang, top: int) -> str:
    t = _texts(lang)
    rows = []
    for group in report.groups[Dimension.REASON][:top]:
        reason = group.key or TEXTS["none"][0 if lang is Lang.CS else 1]
        explanation = report.explanation(group.key, lang) or ""
        example = report.examples.get(group.key or "", "")
        rows.append(
            f"<tr><td><b>{escape(reason)}</b></td>"
            f'<td class="n">{format_number(group.events, lang)}</td>'
            f'<td class="n">{format_number(group.addresses, lang)}</td>'
            f"<td>{escape(explanation)}"
            + (f"<br><code>{escape(example)}</code>" if example else "")
            + "</td></tr>"
        )
    head = (
        f'<tr><th>{t["reason"]}</th><th class="n">{t["events"]}</th>'
        f'<th class="n">{t["addresses"]}</th><th>{t["explanation"]} · {t["example"]}</th></tr>'
    )
    return _section("reasons", t["reasons"], _table(head, rows))


def _campaigns(report: Report, lang: Lang, top: int) -> str:
    t = _texts(lang)
    rows = []
    for g in report.groups[Dimension.CAMPAIGN][: max(top, 20)]:
        rates = [
            format_percent(r, lang) if r is not None else "–"
            for r in (g.bounce_rate, g.complaint_rate)
        ]
        rows.append(
            f"<tr><td>{escape(g.key or TEXTS['none'][0 if lang is Lang.CS else 1])}</td>"
            + "".join(
                f'<td class="n">{format_number(v, lang)}</td>'
                for v in (g.events, g.addresses, g.hard, g.soft, g.complaint)
            )
            + f'<td class="n">{format_number(g.sent, lang) if g.sent else "–"}</td>'
            + "".join(f'<td class="n">{escape(r)}</td>' for r in rates)
            + "</tr>"
        )
    names = ("events", "addresses", "hard", "soft", "complaint", "sent")
    head = f"<tr><th>{t['campaign']}</th>" + "".join(f'<th class="n">{t[n]}</th>' for n in names)
    head += f'<th class="n">{t["bounce_rate"]}</th><th class="n">{t["complaint_rate"]}</th></tr>'
    return _section("campaigns", t["campaigns"], _table(head, rows))
