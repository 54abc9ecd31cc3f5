"""How many recipients each campaign was sent to: the campaigns CSV of ``stats --campaigns``.

The file has a header with a ``campaign`` column and a ``sent`` column (Czech
``kampaň`` and ``odesláno`` are accepted too, any case), separated by commas,
semicolons or tabs, in UTF-8 (with or without BOM) or Windows-1250 — what
Excel saves. ``sent`` is a whole number; spaces grouping thousands are allowed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bouncetool.errors import ConfigError

_CAMPAIGN_NAMES = frozenset({"campaign", "kampaň", "kampan"})
_SENT_NAMES = frozenset({"sent", "odesláno", "odeslano"})


def read_campaigns(path: Path) -> dict[str, int]:
    """Campaign name -> number sent, from the CSV at `path`.

    Raises `ConfigError` naming the file and line for anything it cannot read.
    """
    text = _decode(path)
    try:
        return _parse(text, path)
    except csv.Error as error:
        raise ConfigError(f"{path}: not a readable CSV file: {error}") from error


def _parse(text: str, path: Path) -> dict[str, int]:
    lines = text.splitlines()
    if not lines:
        raise ConfigError(f"{path}: the file is empty; expected a header campaign,sent")
    delimiter = max(",;\t", key=lines[0].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().casefold() for name in next(reader)]
    campaign_at = _column(header, _CAMPAIGN_NAMES, path, "campaign")
    sent_at = _column(header, _SENT_NAMES, path, "sent")
    counts: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(campaign_at, sent_at):
            raise ConfigError(
                f"{path}, line {line}: expected {len(header)} columns, got {len(row)}"
            )
        name = row[campaign_at].strip()
        if not name:
            raise ConfigError(f"{path}, line {line}: the campaign name is empty")
        if name in counts:
            raise ConfigError(f"{path}, line {line}: campaign {name!r} is listed twice")
        counts[name] = _whole_number(row[sent_at], path, line)
    return counts


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the campaigns file: {error.strerror}") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Czech Excel saves "CSV" in Windows-1250, where every byte decodes
        return data.decode("cp1250", errors="replace")


def _column(header: list[str], names: frozenset[str], path: Path, wanted: str) -> int:
    for index, name in enumerate(header):
        if name in names:
            return index
    raise ConfigError(f"{path}, line 1: no {wanted!r} column in the header {header}")


def _whole_number(cell: str, path: Path, line: int) -> int:
    digits = cell.strip().replace("\u00a0", "").replace(" ", "")
    if not digits.isdigit() or not digits.isascii():
        raise ConfigError(f"{path}, line {line}: sent must be a whole number, got {cell!r}")
    return int(digits)
