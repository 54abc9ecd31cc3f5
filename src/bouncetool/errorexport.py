"""The error contacts as a table: what users hand to their CRM after every campaign.

One row per address that failed, with the policy's latest verdict, counts,
first and last seen, the last diagnostic, the explanation and the campaign.
pandas builds and writes the table (it is small: one row per failing address).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO, assert_never

from bouncetool.addresses import domain_of
from bouncetool.errors import ContactsError
from bouncetool.model import AddressStatus, Kind, Lang

if TYPE_CHECKING:
    import pandas as pd

ERROR_KINDS = (Kind.HARD, Kind.SOFT, Kind.COMPLAINT)
EXPORT_COLUMNS = (
    "address",
    "domain",
    "status",
    "kind",
    "reason",
    "category",
    "count",
    "first_seen",
    "last_seen",
    "last_diagnostic",
    "explanation",
    "why",
    "rule",
    "campaign",
)
_SPAN = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class ExportFormat(enum.StrEnum):
    """The formats `export-errors` writes."""

    CSV = "csv"
    EXCEL = "excel"  # CSV as Excel opens it by double-click in Czech/Polish locales
    JSONL = "jsonl"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``60d``, ``12h``, ``2w`` back from `now`, or an ISO date (``2026-10-01``), as UTC."""
    moment = now or datetime.now(UTC)
    span = _SPAN.match(text)
    if span:
        return moment - int(span.group(1)) * _UNITS[span.group(2)]
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ContactsError(f"--since {text!r}: expected e.g. 60d, 12h, 2w or 2026-10-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_kinds(text: str) -> frozenset[Kind]:
    """``hard,soft,complaint`` as kinds; ContactsError for a kind that is not an error."""
    kinds = set()
    for part in filter(None, (item.strip().lower() for item in text.split(","))):
        try:
            kind = Kind(part)
        except ValueError:
            kind = None
        if kind not in ERROR_KINDS:
            allowed = ", ".join(str(kind) for kind in ERROR_KINDS)
            raise ContactsError(f"--kind {part!r}: expected some of {allowed}")
        kinds.add(kind)
    return frozenset(kinds) or frozenset(ERROR_KINDS)


def error_rows(
    statuses: Iterable[AddressStatus],
    *,
    kinds: Collection[Kind] = ERROR_KINDS,
    since: datetime | None = None,
    lang: Lang = Lang.EN,
) -> list[dict[str, object]]:
    """One dict per error address (`EXPORT_COLUMNS`), the most recent failure first."""
    chosen = [
        status
        for status in statuses
        # Something against it (as the ledger's error_addresses): suppressed, or failures counted.
        if (status.suppressed or status.count > 0)
        and status.kind in kinds
        and (since is None or status.last_at >= since)
    ]
    chosen.sort(key=lambda status: (status.last_at, status.address), reverse=True)
    return [_row(status, lang) for status in chosen]


def _row(status: AddressStatus, lang: Lang) -> dict[str, object]:
    return {
        "address": status.address,
        "domain": domain_of(status.address),
        "status": "suppressed" if status.suppressed else "watch",
        "kind": str(status.kind),
        "reason": status.reason,
        "category": status.category,
        "count": status.count,
        "first_seen": status.first_at.isoformat(timespec="seconds"),
        "last_seen": status.last_at.isoformat(timespec="seconds"),
        "last_diagnostic": status.last_diagnostic,
        "explanation": status.explanation(lang),
        "why": status.why,
        "rule": status.rule,
        "campaign": status.campaign,
    }


def error_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """`rows` as a DataFrame with the `EXPORT_COLUMNS` (also when there are none)."""
    import pandas as pd  # noqa: PLC0415  (loaded only to export: keeps start-up fast)

    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def write_errors(rows: list[dict[str, object]], handle: BinaryIO, fmt: ExportFormat) -> None:
    """Write `rows` to `handle` as CSV (with header), Excel's CSV, or JSON Lines; all UTF-8.

    ``excel`` is what a double-click in Excel reads right in Czech and Polish
    locales: ``;`` between fields (their list separator), a byte-order mark
    (without it Excel takes UTF-8 for the ANSI code page and garbles "ř"),
    and CRLF line ends.
    """
    frame = error_frame(rows)
    if fmt is ExportFormat.CSV:
        data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    elif fmt is ExportFormat.EXCEL:
        data = frame.to_csv(index=False, sep=";", lineterminator="\r\n").encode("utf-8-sig")
    elif fmt is ExportFormat.JSONL:
        text = frame.to_json(orient="records", lines=True, force_ascii=False) if rows else ""
        if text and not text.endswith("\n"):
            text += "\n"
        data = text.encode("utf-8")
    else:
        assert_never(fmt)
    handle.write(data)
