"""Dates of bounces (RFC 5322 ``Date``, DSN ``Arrival-Date`` and friends) as ISO 8601.

`email.utils.parsedate_to_datetime` costs several microseconds a call, as
much as the rest of a small bounce's fields together, and every message has a
different date. Almost every date is in the one form RFC 5322 recommends
(``Mon, 23 Nov 2026 10:00:00 +0100``); that form is read with one regular
expression, and anything else (named zones, two-digit years, ``-0000``,
missing parts) goes to the standard library, so results are the same.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, 1)}
_COMMON = re.compile(
    r"[ \t]*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ \t]*)?(\d{1,2})[ \t]+(" + "|".join(_MONTHS) + r")"
    r"[ \t]+([1-9]\d{3})[ \t]+(\d{1,2}):(\d{2})(?::(\d{2}))?[ \t]+([+-])(\d{2})(\d{2})(?:\s|$)"
)


def iso_date(value: str | None) -> str | None:
    """An RFC 5322 date as ISO 8601 (None when absent or unreadable)."""
    if not value:
        return None
    text = value.partition(";")[2] if ";" in value[:12] else value
    if text[:4].isdigit() and "T" in text:
        return _iso_passthrough(text.strip())
    common = _common_form(text)
    if common is not None:
        return common
    try:
        return parsedate_to_datetime(text.strip()).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _common_form(text: str) -> str | None:
    # None means "ask the standard library", never "unreadable".
    match = _COMMON.match(text)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    if sign == "-" and zone_hours == zone_minutes == "00":
        return None  # "-0000" means "zone unknown": the standard library makes it naive
    second = second or "00"
    # A date within range is written in ISO 8601 straight from its pieces, as
    # `datetime.isoformat` would write it: building the datetime costs more than
    # the rest of the reading. (Two-digit pieces compare as text.)
    if (
        (len(hour) == 1 or hour < "24")
        and minute < "60"
        and second < "60"
        and zone_hours < "24"
        and zone_minutes < "60"
        and _day_exists(int(year), _MONTH_NUMBER[month], int(day))
    ):
        return (
            f"{year}-{_MONTH_DIGITS[month]}-{day.zfill(2)}T{hour.zfill(2)}:{minute}:{second}"
            f"{sign}{zone_hours}:{zone_minutes}"
        )
    offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
    try:
        moment = datetime(
            int(year),
            _MONTH_NUMBER[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(-offset if sign == "-" else offset),
        )
    except ValueError:
        return None
    return moment.isoformat()


_MONTH_DIGITS = {name: f"{number:02d}" for name, number in _MONTH_NUMBER.items()}
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_exists(year: int, month: int, day: int) -> bool:
    if 1 <= day <= _MONTH_DAYS[month - 1]:
        return True
    return month == 2 and day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _iso_passthrough(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None
