"""Which language explanations are shown in: option, then BOUNCETOOL_LANG, then locale."""

from __future__ import annotations

import locale
import os

from bouncetool.model import Lang


def resolve_lang(option: str | None = None) -> Lang:
    """The language to explain in.

    An explicit `option` wins; then ``BOUNCETOOL_LANG``; then the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), Czech for ``cs*``; else English.
    """
    for candidate in (option, os.environ.get("BOUNCETOOL_LANG"), _locale_language()):
        if candidate:
            code = candidate.strip().lower()[:2]
            if code in {lang.value for lang in Lang}:
                return Lang(code)
    return Lang.EN


def _locale_language() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return value
    language, _encoding = locale.getlocale()
    return language
