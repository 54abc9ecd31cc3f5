"""Bar charts as inline SVG text: no script, no library, nothing to load.

Each chart is an ``<svg class="chart" data-chart=NAME>`` element; every drawn
bar segment is one ``<rect class="seg k-COLUMN">`` with a ``<title>`` tooltip,
coloured by the page's CSS. Every piece of text passes through `html.escape`,
because labels are domains, campaigns and reasons taken from bounce mail.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Segments = Sequence[tuple[str, int]]
"""One bar: (column, value) pairs stacked in this order; column names the CSS class."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart: its label, its stacked segments and the tooltip label."""

    label: str
    segments: Segments
    tooltip: str | None = None  # the full label when `label` is shortened


def nice_ceiling(value: int) -> int:
    """The top of a y axis with four gridlines: 4 x a step of 1, 2 or 5 x 10^k, and >= `value`.

    So every gridline falls on a round whole number (325 -> 400: 100, 200, 300, 400).
    """
    power = 1
    while True:
        # 2.5 only from 25 up, so that a quarter of the axis stays a whole number
        for multiple in (1, 2, 5) if power < 10 else (1, 2, 2.5, 5):
            step = int(multiple * power)
            if step * 4 >= value:
                return step * 4
        power *= 10


def stacked_columns(
    name: str, bars: Sequence[Bar], describe: Callable[[str], str], *, aria_label: str
) -> str:
    """Vertical stacked bars (a time line): one column per bar, y axis from 0 to a nice maximum.

    `describe` turns a column name into the text shown in tooltips.
    """
    width, height, left, bottom, top = 760, 260, 48, 44, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = nice_ceiling(max((sum(v for _c, v in bar.segments) for bar in bars), default=0))
    slot = plot_w / max(len(bars), 1)
    parts = [_open(name, len(bars), (width, height), aria_label)]
    for tick in range(5):  # gridlines at 0, 1/4 ... of the maximum
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick(value)}</text>"
        )
    every = max(1, math.ceil(len(bars) / 12))  # at most about twelve date labels
    for index, bar in enumerate(bars):
        x = left + slot * index + slot * 0.1
        y = top + plot_h
        for column, value in bar.segments:
            if value <= 0:
                continue
            h = plot_h * value / peak
            y -= h
            tip = f"{bar.tooltip or bar.label} · {describe(column)}: {value}"
            parts.append(_rect(column, (x, y, slot * 0.8, h), tip))
        if index % every == 0:
            parts.append(
                f'<text class="axis" x="{x + slot * 0.4:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def stacked_rows(
    name: str, bars: Sequence[Bar], describe: Callable[[str], str], *, aria_label: str
) -> str:
    """Horizontal stacked bars (a ranking): one row per bar, label left, total right."""
    width, row, label_w = 760, 26, 220
    plot_w = width - label_w - 70
    height = row * len(bars) + 8
    peak = max((sum(v for _c, v in bar.segments) for bar in bars), default=0) or 1
    parts = [_open(name, len(bars), (width, height), aria_label)]
    for index, bar in enumerate(bars):
        y = 4 + index * row
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
            f"<title>{escape(bar.tooltip or bar.label)}</title>{escape(bar.label)}</text>"
        )
        x = float(label_w)
        for column, value in bar.segments:
            if value <= 0:
                continue
            w = plot_w * value / peak
            tip = f"{bar.tooltip or bar.label} · {describe(column)}: {value}"
            parts.append(_rect(column, (x, y + 3, w, row - 8), tip))
            x += w
        total = sum(v for _c, v in bar.segments)
        parts.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 17}">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)


def shorten(text: str, limit: int = 30) -> str:
    """`text` cut to `limit` characters with an ellipsis, so long labels keep the chart tidy."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(name: str, bars: int, size: tuple[int, int], aria_label: str) -> str:
    width, height = size
    return (
        f'<svg class="chart" data-chart="{escape(name)}" data-bars="{bars}" '
        f'viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(aria_label)}">'
    )


def _rect(column: str, box: tuple[float, float, float, float], tip: str) -> str:
    x, y, w, h = box
    return (
        f'<rect class="seg k-{escape(column)}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{max(w, 0.5):.1f}" height="{max(h, 0.5):.1f}"><title>{escape(tip)}</title></rect>'
    )


def _tick(value: float) -> str:
    return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
