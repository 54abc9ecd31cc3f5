"""Typo suggestions: ``jan@sezanm.cz`` was probably meant as ``jan@seznam.cz``.

A suggestion is made only for a domain one or two edits away from a common
mailbox provider (`PROVIDERS`); an edit is an inserted, deleted or changed
character or two neighbours swapped (optimal-string-alignment Damerau-
Levenshtein distance). A suggestion is a hint for a person and is never
applied automatically. The rules keep it from "correcting" real domains:

* A known domain (a provider, or a real domain in `NOT_TYPOS`) is never
  corrected.
* A domain is split into name and top-level domain (``seznam`` + ``cz``).
  Typos in the name may take 2 edits for names of 7 characters or more
  (``centrum``, ``outlook``), 1 edit for 5-6 (``gmail``, ``seznam``); a
  short name (``post``, ``wp``, ``gmx``) changed by one letter is usually
  another real domain (``host.cz``, ``posta.cz``), so there only a swap or a
  doubled letter counts (``pots.cz``, ``webb.de``).
* A slip in the top-level domain (``gmail.co``, ``seznam.cy``, ``seznam.c``)
  counts as one edit when the name is exact. For a short name a different
  top-level domain is usually another real domain (``post.sk`` is not a
  typo of ``post.cz``, ``gmx.net`` is GMX too), so there it counts only when
  the typed one cannot be a real top-level domain (``post.c``, ``wp.pll``).
* The candidate must be strictly nearer than any other (name edits plus one
  for a top-level slip); on a tie there is no suggestion: ``gmail.cz`` is as
  near to ``email.cz`` (one letter) as to ``gmail.com`` (a slip), so nobody
  can say which was meant.
* Whatever the rules, the suggestion is at most two edits from what was typed.

Speed: candidates are found with precomputed deletion variants (the
"symmetric delete" method): every string within two edits of a provider
shares a variant with it, so a lookup compares against a handful of providers
instead of all, and answers are cached per domain.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from bouncetool.addresses import normalise_domain
from bouncetool.syntax import check_syntax

PROVIDERS: Final[tuple[str, ...]] = (
    # Czech Republic
    "seznam.cz", "email.cz", "post.cz", "spoluzaci.cz", "centrum.cz", "atlas.cz",
    "volny.cz", "tiscali.cz", "quick.cz", "upcmail.cz", "o2active.cz", "outlook.cz",
    # Slovakia
    "azet.sk", "zoznam.sk", "centrum.sk", "atlas.sk", "pobox.sk", "outlook.sk",
    # Poland
    "wp.pl", "onet.pl", "onet.eu", "op.pl", "interia.pl", "interia.eu", "o2.pl",
    "tlen.pl", "gazeta.pl", "vp.pl", "orange.pl",
    # Germany, Austria, Switzerland
    "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de",
    "posteo.de", "arcor.de", "online.de",
    # France, Italy, Hungary
    "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "libero.it", "tiscali.it",
    "virgilio.it", "freemail.hu", "citromail.hu",
    # Worldwide
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "mail.com",
    "email.com", "gmx.com", "protonmail.com", "proton.me", "zoho.com", "yandex.ru",
    "yandex.com", "mail.ru", "hotmail.co.uk", "yahoo.co.uk",
)  # fmt: skip
"""Common mailbox providers: the domains suggestions point to."""

NOT_TYPOS: Final[frozenset[str]] = frozenset(
    {
        "post.sk",  # a Slovak domain, not a slip of post.cz
        "cpost.cz",  # Czech Post, one letter from post.cz
        "posta.cz",  # one letter from post.cz, and a real domain
        "seznamka.cz",  # a real site two letters from seznam.cz
    }
)
"""Real domains near a provider: never corrected, never suggested."""

_MAX_EDITS: Final = 2
# Real top-level domains a short name may well live under (two letters are
# country codes); anything else after a short name is a slip.
_REAL_TLDS: Final = frozenset({"com", "net", "org", "info", "biz", "edu", "gov", "name", "mobi"})


@dataclass(frozen=True, slots=True)
class _Domain:
    text: str
    name: str  # everything before the last dot
    tld: str  # after the last dot ("" when there is none)

    @classmethod
    def split(cls, text: str) -> _Domain:
        name, dot, tld = text.rpartition(".")
        return cls(text, name, tld) if dot else cls(text, text, "")


_BY_TEXT: Final = {domain: _Domain.split(domain) for domain in PROVIDERS}
_LONGEST: Final = max(len(domain) for domain in PROVIDERS)


def suggest_address(address: str) -> str | None:
    """`address` with its domain corrected to a common provider, or None when none is meant.

    Only the domain changes; the part before the ``@`` stays as typed. A
    suggestion is always a valid address (`check_syntax`): a broken part
    before the ``@`` is not for this module to guess at.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return None
    suggested = suggest_domain(domain)
    if suggested is None:
        return None
    corrected = f"{local}@{suggested}"
    return corrected if check_syntax(corrected) is None else None


@functools.lru_cache(maxsize=1 << 14)
def suggest_domain(domain: str) -> str | None:
    """The common provider domain `domain` is a typo of, or None (see the module docstring)."""
    typed = normalise_domain(domain)
    if not typed or len(typed) > _LONGEST + _MAX_EDITS:
        return None
    if typed in _BY_TEXT or typed in NOT_TYPOS:
        return None  # a provider itself, or a real neighbour
    costs: dict[int, list[str]] = {}
    for known in _candidates(typed):
        cost = _cost(_Domain.split(typed), known)
        if cost is not None:
            costs.setdefault(cost, []).append(known.text)
    if not costs:
        return None
    nearest = costs[min(costs)]
    return nearest[0] if len(nearest) == 1 else None


def edit_distance(first: str, second: str) -> int:
    """Optimal-string-alignment Damerau-Levenshtein distance between two strings."""
    if first == second:
        return 0
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        current = [i, *([0] * len(second))]
        for j, other in enumerate(second, 1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (char != other),  # substitution
            )
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                current[j] = min(current[j], previous2[j - 2] + 1)  # swap of neighbours
        previous2, previous = previous, current
    return previous[-1]


def _cost(typed: _Domain, known: _Domain) -> int | None:
    """How far `typed` is from `known` by the rules above, or None when it is not a typo of it."""
    whole = edit_distance(typed.text, known.text)
    if whole > _MAX_EDITS:
        return None
    name_cost = _name_cost(typed.name, known.name)
    tld_cost = _tld_cost(typed.tld, known)
    if name_cost is not None and tld_cost is not None:
        return name_cost + tld_cost
    if whole == 1 and len(known.name) >= 5:
        return 1  # one slip across the dot: seznamcz, gmail.c.om
    return None


def _name_cost(typed: str, known: str) -> int | None:
    if typed == known:
        return 0
    if len(known) <= 4:
        return 1 if _is_swap(typed, known) or _is_doubling(typed, known) else None
    distance = edit_distance(typed, known)
    budget = 2 if len(known) >= 7 else 1
    return distance if distance <= budget else None


def _tld_cost(typed: str, known: _Domain) -> int | None:
    if typed == known.tld:
        return 0
    if edit_distance(typed, known.tld) > _MAX_EDITS:
        return None
    # A different top-level domain after a short name is usually another real
    # domain (post.sk, gmx.net); only a top-level domain that cannot exist is a slip.
    return 1 if len(known.name) >= 5 or not _could_be_real_tld(typed) else None


def _is_swap(typed: str, known: str) -> bool:
    if len(typed) != len(known):
        return False
    differ = [index for index, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and typed[differ[0]] == known[differ[1]]
        and typed[differ[1]] == known[differ[0]]
    )


def _is_doubling(typed: str, known: str) -> bool:
    if len(typed) != len(known) + 1:
        return False
    return any(
        typed[index] == typed[index - 1] and typed[:index] + typed[index + 1 :] == known
        for index in range(1, len(typed))
    )


def _could_be_real_tld(tld: str) -> bool:
    return (len(tld) == 2 and tld.isascii() and tld.isalpha()) or tld in _REAL_TLDS


def _deletions(text: str) -> Iterator[str]:
    """`text` with none, one or two characters deleted, in every way (duplicates possible)."""
    yield text
    for first in range(len(text)):
        once = text[:first] + text[first + 1 :]
        yield once
        for second in range(first, len(once)):
            yield once[:second] + once[second + 1 :]


def _build_variants() -> dict[str, frozenset[str]]:
    variants: dict[str, set[str]] = {}
    for known in PROVIDERS:
        for variant in _deletions(known):
            variants.setdefault(variant, set()).add(known)
    return {variant: frozenset(domains) for variant, domains in variants.items()}


# Deletion variant -> providers having it. Two strings within two edits share
# a variant made with at most two deletions from each (a swap of neighbours
# costs one deletion on each side).
_VARIANTS: Final = _build_variants()


def _candidates(typed: str) -> Iterator[_Domain]:
    found: set[str] = set()
    for variant in _deletions(typed):
        found.update(_VARIANTS.get(variant, ()))
    for text in sorted(found):
        yield _BY_TEXT[text]
