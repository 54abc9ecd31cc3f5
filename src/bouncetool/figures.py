"""How counts and rates are written for people, in Czech and in English.

Czech groups thousands with a no-break space and writes a decimal comma and a
spaced percent sign (``1 234``, ``5,2 %``); English writes ``1,234`` and ``5.2%``.
"""

from __future__ import annotations

from bouncetool.model import Lang


def format_percent(value: float, lang: Lang) -> str:
    """`value` (a fraction) as a percentage; values under 1 % keep two decimals."""
    # Complaint rates live around 0.1 %, where one decimal would hide the difference.
    digits = 2 if value < 0.01 else 1
    text = f"{value * 100:.{digits}f}"
    return f"{text.replace('.', ',')} %" if lang is Lang.CS else f"{text}%"


def format_number(value: float, lang: Lang) -> str:
    """`value` with grouped thousands (one decimal when it is not whole)."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if lang is Lang.CS:
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def czech_plural(count: int, one: str, few: str, many: str) -> str:
    """The Czech noun form for `count`: 1 adresa, 2-4 adresy, 0 and 5+ adres."""
    if count == 1:
        return one
    return few if 2 <= count <= 4 else many
