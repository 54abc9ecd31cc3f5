"""What the columns of a contact list mean: which holds the address, which the last open.

Column names come from Excel sheets in Czech, Slovak, Polish, English and
German, typed by people: "E-mail", "Emailová adresa", "Adres e-mail",
"Email Address". They are compared without case, diacritics, spaces, dashes
and underscores.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

from bouncetool.dialect import Dialect

EMAIL_COLUMN_NAMES = frozenset(
    {
        "email",
        "mail",
        "emailaddress",
        "emailadresa",  # cs, sk: e-mailová adresa
        "emailovaadresa",
        "adresaemailu",
        "emailovadresa",
        "adresemail",  # pl: adres e-mail
        "adresemailowy",
        "emailadres",  # nl
        "emailadresse",  # de: E-Mail-Adresse
        "correo",
        "correoelectronico",
        "courriel",
        "emailaddr",
        "mailaddress",
        "kontaktniemail",
    }
)

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
)


def fold_name(name: str) -> str:
    """`name` without case, diacritics, spaces, dashes, dots and underscores."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\s\-_.]+", "", plain.casefold())


def find_column(dialect: Dialect, wanted: str) -> int | None:
    """The index of the column named `wanted` (folded), or numbered `wanted` (1-based)."""
    folded = fold_name(wanted)
    for index, name in enumerate(dialect.header):
        if fold_name(name) == folded:
            return index
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(dialect.header):
        return int(wanted) - 1
    return None


def find_email_column(dialect: Dialect, first_row: list[str] | None = None) -> int | None:
    """The column that holds the address, by its name (or, without a header, by content)."""
    if dialect.has_header:
        for index, name in enumerate(dialect.header):
            if fold_name(name) in EMAIL_COLUMN_NAMES:
                return index
        return None
    for index, value in enumerate(first_row or []):
        if "@" in value:
            return index
    return None


def parse_engagement(text: str) -> date | None:
    """The date in an engagement cell ("2024-05-01", "1. 5. 2024 10:30", ...); None when empty.

    Raises ValueError when the cell holds something that is not a date.
    """
    value = re.sub(r"\s*\.\s*", ".", text.strip())
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None:
        return parsed.astimezone(UTC).date() if parsed.tzinfo else parsed.date()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()  # a calendar day: no zone
        except ValueError:
            continue
    raise ValueError(f"not a date: {text.strip()!r}")
