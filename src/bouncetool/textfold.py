"""Fold diagnostic text so one pattern matches every spelling of it.

Servers answer with and without diacritics ("schránka je plná", "schranka je
plna"), in any case, wrapped over several lines. Rules are written against the
folded form: lower case, no diacritics, single spaces.
"""

from __future__ import annotations

import unicodedata

# Letters that NFKD does not decompose into a base letter and a mark.
_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})


def strip_diacritics(text: str) -> str:
    """`text` without diacritics (``Schránka`` -> ``Schranka``, ``pełna`` -> ``pelna``)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_text(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, lower-cased, without diacritics, one space apart."""
    return " ".join(strip_diacritics(text[:limit]).lower().split())
