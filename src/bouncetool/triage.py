"""Where each row of a contact list goes: kept, removed (and why), or to reactivation.

The policy has already decided per address (`AddressStatus`); triage matches
rows to those decisions and adds the optional checks (syntax, DNS,
engagement). It works on a whole batch at a time, because per-row Python is
what makes ten million rows slow: the common case (a plain ASCII address not
in the ledger) costs a few C-level list operations and one dict lookup.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import compress
from pathlib import Path

from bouncetool.addresses import normalise_address
from bouncetool.columns import parse_engagement
from bouncetool.csvstream import Batch
from bouncetool.errors import ContactsError
from bouncetool.model import AddressStatus, Kind, Lang

# Bytes a canonical ASCII address may hold; a key with any other byte (space,
# angle bracket, non-ASCII) is normalised the slow, exact way.
_PLAIN = bytes(byte for byte in range(0x21, 0x7F) if byte not in b"<>") + b"\n"
_ODD = re.compile(rb"[^\x21-\x3b\x3d\x3f-\x7e]|xn--|\.$")

SyntaxCheck = Callable[[str], "str | None"]
"""`check_syntax(address)`: None when valid, else the reason."""

DomainCheck = Callable[[Collection[str]], Mapping[str, str]]
"""Looks domains up; returns the dead ones with ``"nxdomain"`` or ``"null-mx"``.

Domains that did not answer (timeout, SERVFAIL) are not dead: they are left out.
"""

_DNS_TEXT = {
    "nxdomain": (
        "The domain {domain} does not exist (DNS: NXDOMAIN).",
        "Doména {domain} neexistuje (DNS: NXDOMAIN).",
    ),
    "null-mx": (
        "The domain {domain} accepts no mail (null MX, RFC 7505).",
        "Doména {domain} nepřijímá žádnou poštu (null MX, RFC 7505).",
    ),
}


@dataclass(frozen=True, slots=True)
class Removal:
    """Why one row leaves the list: the values of the added columns."""

    line: int
    address: str
    reason: str
    kind: str
    category: str
    explanation: str
    last_bounce_at: str = ""
    bounce_count: int | None = None
    suggested_email: str | None = None

    def values(self) -> list[str]:
        """The added columns, in `REMOVED_COLUMNS` order."""
        count = "" if self.bounce_count is None else str(self.bounce_count)
        return [
            self.reason,
            self.kind,
            self.category,
            self.explanation,
            self.last_bounce_at,
            count,
            self.suggested_email or "",
        ]


Exit = Removal | AddressStatus | None
"""How a row leaves: a Removal (a check failed), the ledger's decision, or None (reactivation)."""


def when(moment: datetime) -> str:
    """A bounce date as the added columns show it."""
    return moment.isoformat(timespec="seconds")


class Keys:
    """Turns address fields into lookup keys: the UTF-8 bytes of `normalise_address(field)`."""

    def __init__(self, encoding: str, *, last_column: bool = True) -> None:
        self._decode = codecs.getdecoder(encoding)
        # The last column carries the CR of a CRLF line end; others need no
        # stripping unless they hold spaces, which the odd-byte check catches.
        self._strip = last_column

    def of(self, fields: list[bytes]) -> list[bytes]:
        """The key of each field, in order (b"" for an empty field)."""
        keys = list(map(bytes.strip, fields)) if self._strip else fields
        joined = b"\n".join(keys)
        lowered = joined.lower()
        if lowered != joined:  # most lists are lower case already: then no copy per key
            keys = list(map(bytes.lower, keys))
            joined = lowered
        elif keys is fields:
            keys = list(fields)  # the caller's list stays as it was
        # For plain ASCII, stripping and lower-casing IS the normalisation; one
        # pass over the joined keys tells whether any key needs the exact way.
        odd = joined.translate(None, _PLAIN) or b"xn--" in joined or b".\n" in joined
        if odd or joined.endswith(b"."):
            for index, key in enumerate(keys):
                if _ODD.search(key):
                    text = self._decode(fields[index])[0]
                    keys[index] = normalise_address(text).encode()
        return keys


@dataclass(slots=True)
class Triage:
    """Decides, a batch at a time, which rows stay, go, or wait for reactivation."""

    path: Path
    encoding: str
    lang: Lang
    keys: Keys
    lookup: dict[bytes, AddressStatus]
    dead: dict[bytes, str] = field(default_factory=dict)
    check_syntax: SyntaxCheck | None = None
    suggest: Callable[[str], str | None] | None = None
    cutoff: date | None = None
    engagement_column: str = ""
    _dates: dict[bytes, date | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        path: Path,
        encoding: str,
        statuses: Mapping[str, AddressStatus],
        *,
        last_column: bool = True,
        lang: Lang = Lang.EN,
        check_syntax: SyntaxCheck | None = None,
        suggest: Callable[[str], str | None] | None = None,
        unengaged_days: int | None = None,
        engagement_column: str | None = None,
        today: date,
    ) -> Triage:
        """A triage removing the suppressed addresses of `statuses`."""
        lookup = {
            normalise_address(key).encode(): status
            for key, status in statuses.items()
            if status.suppressed
        }
        cutoff = None
        if unengaged_days is not None:
            if engagement_column is None:
                raise ContactsError("--unengaged-days needs --engagement-column")
            cutoff = today - timedelta(days=unengaged_days)
        return cls(
            path=path,
            encoding=encoding,
            lang=lang,
            keys=Keys(encoding, last_column=last_column),
            lookup=lookup,
            check_syntax=check_syntax,
            suggest=suggest,
            cutoff=cutoff,
            engagement_column=engagement_column or "",
        )

    def learn_dead_domains(self, dead: Mapping[str, str]) -> None:
        """Remove, from now on, addresses at these domains (``nxdomain`` / ``null-mx``)."""
        self.dead = {domain.encode(): code for domain, code in dead.items()}

    def decide(self, batch: Batch, keys: list[bytes]) -> dict[int, Exit]:
        """The rows of `batch` that leave, in order, with how they leave."""
        exits: dict[int, Exit] = {}
        for index in compress(range(len(keys)), map(self.lookup.__contains__, keys)):
            exits[index] = self.lookup[keys[index]]
        if self.check_syntax is not None:
            self._syntax(batch, keys, exits)
        if self.dead:
            self._dns(batch, keys, exits)
        if self.cutoff is not None:
            self._engagement(batch, exits)
        return dict(sorted(exits.items()))

    def removal(self, batch: Batch, index: int, exit: Removal | AddressStatus) -> Removal:
        """The full Removal for row `index` (for reports)."""
        if isinstance(exit, Removal):
            return exit
        address = self.address(batch, index)
        return Removal(
            line=batch.lines[index],
            address=address,
            reason=exit.reason or str(exit.kind),
            kind=str(exit.kind),
            category=exit.category or "",
            explanation=exit.explanation(self.lang) or exit.why,
            last_bounce_at=when(exit.last_at),
            bounce_count=exit.count,
            suggested_email=self.suggestion(address) if exit.kind is Kind.HARD else None,
        )

    def values(self, batch: Batch, index: int, exit: Removal | AddressStatus) -> list[str]:
        """The added columns of row `index` (`REMOVED_COLUMNS` order)."""
        if isinstance(exit, Removal):
            return exit.values()
        suggested = None
        if exit.kind is Kind.HARD and self.suggest is not None:
            suggested = self.suggestion(self.address(batch, index))
        return [
            exit.reason or str(exit.kind),
            str(exit.kind),
            exit.category or "",
            exit.explanation(self.lang) or exit.why,
            when(exit.last_at),
            str(exit.count),
            suggested or "",
        ]

    def address(self, batch: Batch, index: int) -> str:
        """Row `index`'s address as written (trimmed)."""
        return batch.fields[0][index].strip().decode(self.encoding)

    def suggestion(self, address: str) -> str | None:
        """A likely correction of a typo in the domain (never applied to the list)."""
        return self.suggest(address) if self.suggest is not None else None

    def _syntax(self, batch: Batch, keys: list[bytes], exits: dict[int, Exit]) -> None:
        if self.check_syntax is None:
            return
        for index in range(len(keys)):
            # An empty cell is no address either (the check says so); a blank line is no row.
            if index in exits or index in batch.blank:
                continue
            address = self.address(batch, index)
            problem = self.check_syntax(address)
            if problem is None:
                continue
            text = (
                f"Adresa není platná: {problem}"
                if self.lang is Lang.CS
                else f"The address is not valid: {problem}"
            )
            exits[index] = Removal(
                batch.lines[index],
                address,
                "syntax",
                "invalid",
                "invalid-recipient",
                text,
                suggested_email=self.suggestion(address),
            )

    def _dns(self, batch: Batch, keys: list[bytes], exits: dict[int, Exit]) -> None:
        for index, key in enumerate(keys):
            domain = key.rpartition(b"@")[2]
            code = self.dead.get(domain)
            if code is None or index in exits:
                continue
            address = self.address(batch, index)
            english, czech = _DNS_TEXT.get(code, _DNS_TEXT["nxdomain"])
            text = (czech if self.lang is Lang.CS else english).format(domain=domain.decode())
            exits[index] = Removal(
                batch.lines[index],
                address,
                "notaccept" if code == "null-mx" else "hostunknown",
                str(Kind.HARD),
                "dns-failure",
                text,
                suggested_email=self.suggestion(address),
            )

    def _engagement(self, batch: Batch, exits: dict[int, Exit]) -> None:
        if self.cutoff is None:
            return
        for index, cell in enumerate(batch.fields[1]):
            if index in exits or index in batch.blank:
                continue
            engaged = self._engaged_on(cell, batch.lines[index])
            if engaged is None or engaged < self.cutoff:
                exits[index] = None

    def _engaged_on(self, cell: bytes, line: int) -> date | None:
        if cell in self._dates:
            return self._dates[cell]
        try:
            engaged = parse_engagement(cell.decode(self.encoding))
        except ValueError as error:
            raise ContactsError(
                f"{self.path}, line {line}: column {self.engagement_column}: {error}"
            ) from None
        self._dates[cell] = engaged
        return engaged
