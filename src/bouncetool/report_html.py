"""The HTML report of ``bouncetool stats --html``: one self-contained file.

Everything is inline — CSS, SVG charts drawn by `bouncetool.svgcharts`, no
script, no font, no image to fetch — so the file opens offline and can be
mailed on. A Content-Security-Policy forbids loading anything at all, as a
second guard behind escaping: every text from bounce mail (addresses,
domains, campaigns, diagnostics) and from rule files goes through
`html.escape`.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

from bouncetool import __version__
from bouncetool.atomicwrite import atomic_text_writer
from bouncetool.figures import format_number, format_percent
from bouncetool.model import Lang
from bouncetool.stats import KIND_COLUMNS, Dimension, Group, Report
from bouncetool.svgcharts import Bar, shorten, stacked_columns, stacked_rows

TIME_UNITS: tuple[tuple[str, float], ...] = (
    ("day", 62),
    ("week", 2 * 366),
    ("month", 10 * 366),
    ("year", math.inf),
)
"""The time line's bar: per day up to 62 days, per ISO week up to two years, then month, year."""

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
    "timeline_month": (
        "Nedoručené zprávy po měsících podle druhu",
        "Bounces per month by kind",
    ),
    "timeline_year": (
        "Nedoručené zprávy po letech podle druhu",
        "Bounces per year by kind",
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
td.name{overflow-wrap:anywhere;min-width:8em}
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
    """Write the report to `path` atomically: complete, or the old file untouched."""
    text = render_html(report, lang, top=top)
    with atomic_text_writer(path, newline="\n") as stream:
        stream.write(text)


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
    days = report.groups[Dimension.DAY]
    first, last = date.fromisoformat(days[0].key or ""), date.fromisoformat(days[-1].key or "")
    unit = next(unit for unit, limit in TIME_UNITS if (last - first).days <= limit)
    # Event counts add up, so longer periods are sums of the day groups.
    buckets: dict[str, list[int]] = {}
    moment = first
    while moment <= last:  # every bucket in the period, so quiet ones show as gaps
        buckets.setdefault(_bucket(moment, unit), [0] * len(KIND_COLUMNS))
        moment += timedelta(days=1)
    for group in days:
        counts = buckets[_bucket(date.fromisoformat(group.key or ""), unit)]
        for index, column in enumerate(KIND_COLUMNS):
            counts[index] += group.count(column)
    bars = [
        Bar(key, list(zip(KIND_COLUMNS, counts, strict=True))) for key, counts in buckets.items()
    ]
    chart = stacked_columns(
        "timeline", bars, lambda c: _texts(lang)[c], aria_label=TEXTS[f"timeline_{unit}"][1]
    )
    heading = _texts(lang)[f"timeline_{unit}"]
    return _section("timeline", heading, _legend(lang, KIND_COLUMNS) + chart)


def _bucket(day: date, unit: str) -> str:
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}" if unit == "month" else str(day.year)


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
    groups = report.groups[Dimension.CAMPAIGN]
    # Campaigns whose number sent is known always show (their rates are the point),
    # then the largest others up to the limit.
    known = [g for g in groups if g.sent]
    shown = known + [g for g in groups if not g.sent][: max(top, 20) - len(known)]
    names = ["events", "addresses", "tile_hard", "tile_soft", "tile_complaint"]
    names += ["sent", "bounce_rate", "complaint_rate"] if known else []
    rows = []
    for g in shown:
        cells = [
            format_number(v, lang) for v in (g.events, g.addresses, g.hard, g.soft, g.complaint)
        ]
        if known:
            cells.append(format_number(g.sent, lang) if g.sent else "–")
            cells += [
                format_percent(r, lang) if r is not None else "–"
                for r in (g.bounce_rate, g.complaint_rate)
            ]
        label = g.key or TEXTS["none"][0 if lang is Lang.CS else 1]
        rows.append(
            f'<tr><td class="name">{escape(label)}</td>'
            + "".join(f'<td class="n">{escape(c)}</td>' for c in cells)
            + "</tr>"
        )
    head = f"<tr><th>{t['campaign']}</th>" + "".join(f'<th class="n">{t[n]}</th>' for n in names)
    return _section("campaigns", t["campaigns"], _table(head + "</tr>", rows))
