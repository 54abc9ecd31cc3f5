"""Clean and annotate a contact CSV against what the ledger knows, keeping every byte.

`clean` sends each row to exactly one place: kept (written back byte for
byte), removed (with the reason in added columns) or, with an engagement
window, the reactivation file. `annotate` keeps every row and appends the
bounce columns. Both stream the file (see `csvstream`), so ten million rows
need neither ten million objects nor a gigabyte of memory, and both write
through `AtomicFiles`, so a crash never leaves a half-written list.

The policy has decided before this module runs: it receives a mapping from
normalised address to `AddressStatus` and removes exactly the suppressed ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import compress
from pathlib import Path
from typing import BinaryIO

from bouncetool.addresses import normalise_address
from bouncetool.atomicwrite import AtomicFiles
from bouncetool.columns import find_column, find_email_column, parse_engagement
from bouncetool.csvstream import Batch, iter_batches, read_batch
from bouncetool.dialect import Dialect, detect_dialect, split_line_end
from bouncetool.duplicates import DuplicateFinder
from bouncetool.errors import ContactsError
from bouncetool.model import AddressStatus, Kind, Lang

REMOVED_COLUMNS = (
    "reason",
    "kind",
    "category",
    "explanation",
    "last_bounce_at",
    "bounce_count",
    "suggested_email",
)
ANNOTATE_COLUMNS = (
    "bounce_status",
    "bounce_kind",
    "bounce_reason",
    "bounce_category",
    "bounce_count",
    "last_bounce_at",
    "bounce_explanation",
)
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


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """How `clean` runs; the defaults clean in place with a backup."""

    lang: Lang = Lang.EN
    email_column: str | None = None
    output: Path | None = None  # None: replace the input, keeping <name>.bak
    removed: Path | None = None  # None: <name>.removed.csv
    reactivate: Path | None = None  # None: <name>.reactivate.csv
    dry_run: bool = False
    check_syntax: SyntaxCheck | None = None
    check_domains: DomainCheck | None = None
    suggest: Callable[[str], str | None] | None = None
    unengaged_days: int | None = None
    engagement_column: str | None = None
    today: date | None = None  # the day unengagement is counted to (default: today, UTC)
    preview: int = 10


@dataclass(frozen=True, slots=True)
class AnnotateOptions:
    """How `annotate` runs; the default output is <name>.annotated.csv."""

    lang: Lang = Lang.EN
    email_column: str | None = None
    output: Path | None = None


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


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row whose address an earlier row already has."""

    address: str
    line: int
    first_line: int


@dataclass(frozen=True, slots=True)
class CleanSummary:
    """What `clean` did (or, with dry_run, would do)."""

    source: Path
    dialect: Dialect
    rows: int
    kept: int
    removed: int
    reactivated: int
    by_reason: Counter[tuple[str, str]]  # (kind, reason) -> rows removed
    duplicates: int
    duplicate_examples: tuple[Duplicate, ...]
    preview: tuple[Removal, ...]
    written: tuple[Path, ...]  # files written, in the order they were replaced
    backup: Path | None


@dataclass(frozen=True, slots=True)
class AnnotateSummary:
    """What `annotate` wrote."""

    source: Path
    dialect: Dialect
    rows: int
    by_status: Counter[str]  # bounce_status -> rows
    duplicates: int
    duplicate_examples: tuple[Duplicate, ...]
    output: Path


def sibling(path: Path, tag: str) -> Path:
    """``contacts.csv`` -> ``contacts.<tag>.csv`` (``.bak`` for tag ``bak``)."""
    if tag == "bak":
        return path.with_name(f"{path.stem}.bak")
    return path.with_name(f"{path.stem}.{tag}{path.suffix or '.csv'}")


def clean(
    path: Path, statuses: Mapping[str, AddressStatus], options: CleanOptions | None = None
) -> CleanSummary:
    """Remove suppressed (and, on request, invalid or unengaged) contacts from `path`.

    Raises ContactsError naming the file and line for unusable input; then
    nothing is written.
    """
    options = options or CleanOptions()
    dialect = detect_dialect(path)
    layout = _Layout.of(path, dialect, options.email_column, options.engagement_column)
    judge = _Judge.build(path, dialect, layout, statuses, options)
    run = _CleanRun(path, dialect, layout, judge, options)
    return run.execute()


def annotate(
    path: Path, statuses: Mapping[str, AddressStatus], options: AnnotateOptions | None = None
) -> AnnotateSummary:
    """Write `path` with every row kept and the bounce columns added."""
    options = options or AnnotateOptions()
    dialect = detect_dialect(path)
    if dialect.has_header and ANNOTATE_COLUMNS[0] in dialect.header:
        raise ContactsError(
            f"{path}, line 1: already has a {ANNOTATE_COLUMNS[0]} column; "
            "annotate the original list"
        )
    layout = _Layout.of(path, dialect, options.email_column, None)
    output = options.output or sibling(path, "annotated")
    _refuse_same(path, [output])
    keys = _Keys(dialect.encoding)
    lookup = {normalise_address(key).encode(): status for key, status in statuses.items()}
    tails: dict[str, bytes] = {}
    plain_tail = dialect.format_fields(["ok", "", "", "", "0", "", ""])
    finder = DuplicateFinder()
    visits = _Visits()
    counts: Counter[str] = Counter()
    with AtomicFiles() as files:
        out = files.open(output)
        if dialect.has_header:
            out.write(dialect.header_line(_raw_header(path, dialect), list(ANNOTATE_COLUMNS)))
        for batch in iter_batches(path, dialect, layout.columns):
            batch_keys = keys.of(batch.fields[0])
            finder.add(batch_keys)
            visits.add(batch)
            for index, (start, end) in enumerate(batch.spans(range(len(batch)))):
                body, ending = split_line_end(batch.data[start:end])
                if index in batch.blank:
                    out.write(body + ending)
                    continue
                status = lookup.get(batch_keys[index])
                if status is None:
                    counts["ok"] += 1
                    out.write(body + plain_tail + ending)
                    continue
                label = _status_label(status)
                counts[label] += 1
                tail = tails.get(status.address)
                if tail is None:
                    tail = dialect.format_fields(_annotation(status, options.lang))
                    tails[status.address] = tail
                out.write(body + tail + ending)
        files.commit()
    count, examples = _duplicates(path, dialect, layout, finder, visits)
    return AnnotateSummary(path, dialect, sum(counts.values()), counts, count, examples, output)


def _status_label(status: AddressStatus) -> str:
    return "suppressed" if status.suppressed else "watch"


def _annotation(status: AddressStatus, lang: Lang) -> list[str]:
    return [
        _status_label(status),
        str(status.kind),
        status.reason or "",
        status.category or "",
        str(status.count),
        _when(status.last_at),
        status.explanation(lang) or status.why,
    ]


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which columns `clean` and `annotate` read: the address first, then the engagement date."""

    columns: tuple[int, ...]

    @classmethod
    def of(cls, path: Path, dialect: Dialect, email: str | None, engagement: str | None) -> _Layout:
        if email:
            index = find_column(dialect, email)
            if index is None:
                raise ContactsError(
                    f"{path}, line 1: no column {email!r} (columns: {', '.join(dialect.header)})"
                )
        else:
            index = find_email_column(dialect, list(dialect.first_row))
            if index is None:
                raise ContactsError(
                    f"{path}, line 1: no email column among {', '.join(dialect.header)}; "
                    "name it with --email-column"
                )
        columns = [index]
        if engagement:
            other = find_column(dialect, engagement)
            if other is None:
                raise ContactsError(
                    f"{path}, line 1: no column {engagement!r} "
                    f"(columns: {', '.join(dialect.header)})"
                )
            columns.append(other)
        return cls(tuple(columns))


class _Keys:
    """Turns address fields into lookup keys: the bytes of `normalise_address(field)`."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding

    def of(self, fields: list[bytes]) -> list[bytes]:
        keys = list(map(bytes.lower, map(bytes.strip, fields)))
        joined = b"\n".join(keys)
        # For plain ASCII, stripping and lower-casing IS the normalisation; one
        # pass over the joined keys tells whether any key needs the exact way.
        if joined.translate(None, _PLAIN) or b"xn--" in joined or b".\n" in joined + b"\n":
            for index, key in enumerate(keys):
                if _ODD.search(key):
                    text = fields[index].decode(self._encoding)
                    keys[index] = normalise_address(text).encode()
        return keys


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


@dataclass(slots=True)
class _Judge:
    """Decides, row by row, whether a contact stays, goes, or waits for reactivation."""

    encoding: str
    lang: Lang
    lookup: dict[bytes, AddressStatus]
    dead: dict[bytes, str]
    check_syntax: SyntaxCheck | None
    suggest: Callable[[str], str | None] | None
    cutoff: date | None
    engagement_column: str
    path: Path
    keys: _Keys
    parsed_dates: dict[bytes, date | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        path: Path,
        dialect: Dialect,
        layout: _Layout,
        statuses: Mapping[str, AddressStatus],
        options: CleanOptions,
    ) -> _Judge:
        keys = _Keys(dialect.encoding)
        lookup = {
            normalise_address(key).encode(): status
            for key, status in statuses.items()
            if status.suppressed
        }
        dead: dict[bytes, str] = {}
        if options.check_domains is not None:
            domains = _collect_domains(path, dialect, layout, keys)
            found = options.check_domains(sorted(domains))
            dead = {domain.encode(): code for domain, code in found.items()}
        cutoff = None
        if options.unengaged_days is not None:
            if options.engagement_column is None:
                raise ContactsError("--unengaged-days needs --engagement-column")
            today = options.today or datetime.now(UTC).date()
            cutoff = today - timedelta(days=options.unengaged_days)
        return cls(
            encoding=dialect.encoding,
            lang=options.lang,
            lookup=lookup,
            dead=dead,
            check_syntax=options.check_syntax,
            suggest=options.suggest,
            cutoff=cutoff,
            engagement_column=options.engagement_column or "",
            path=path,
            keys=keys,
        )

    def decide(self, batch: Batch, keys: list[bytes]) -> dict[int, Removal | None]:
        """Rows of `batch` that leave: a Removal, or None for the reactivation file."""
        verdicts: dict[int, Removal | None] = {}
        for index in compress(range(len(keys)), map(self.lookup.__contains__, keys)):
            verdicts[index] = self._from_status(batch, index, self.lookup[keys[index]])
        if self.check_syntax is not None:
            self._syntax(batch, keys, verdicts)
        if self.dead:
            self._dns(batch, keys, verdicts)
        if self.cutoff is not None:
            self._engagement(batch, verdicts)
        return dict(sorted(verdicts.items()))

    def _address(self, batch: Batch, index: int) -> str:
        return batch.fields[0][index].strip().decode(self.encoding)

    def _suggestion(self, address: str) -> str | None:
        return self.suggest(address) if self.suggest is not None else None

    def _from_status(self, batch: Batch, index: int, status: AddressStatus) -> Removal:
        address = self._address(batch, index)
        hard = status.kind is Kind.HARD
        return Removal(
            line=batch.lines[index],
            address=address,
            reason=status.reason or str(status.kind),
            kind=str(status.kind),
            category=status.category or "",
            explanation=status.explanation(self.lang) or status.why,
            last_bounce_at=_when(status.last_at),
            bounce_count=status.count,
            suggested_email=self._suggestion(address) if hard else None,
        )

    def _syntax(self, batch: Batch, keys: list[bytes], verdicts: dict[int, Removal | None]) -> None:
        if self.check_syntax is None:
            return
        for index, key in enumerate(keys):
            if index in verdicts or not key:
                continue
            address = self._address(batch, index)
            problem = self.check_syntax(address)
            if problem is None:
                continue
            text = (
                f"Adresa není platná: {problem}"
                if self.lang is Lang.CS
                else f"The address is not valid: {problem}"
            )
            verdicts[index] = Removal(
                batch.lines[index],
                address,
                "syntax",
                "invalid",
                "invalid-recipient",
                text,
                suggested_email=self._suggestion(address),
            )

    def _dns(self, batch: Batch, keys: list[bytes], verdicts: dict[int, Removal | None]) -> None:
        for index, key in enumerate(keys):
            code = self.dead.get(key.rpartition(b"@")[2])
            if code is None or index in verdicts:
                continue
            address = self._address(batch, index)
            domain = key.rpartition(b"@")[2].decode()
            english, czech = _DNS_TEXT.get(code, _DNS_TEXT["nxdomain"])
            text = (czech if self.lang is Lang.CS else english).format(domain=domain)
            reason = "notaccept" if code == "null-mx" else "hostunknown"
            verdicts[index] = Removal(
                batch.lines[index],
                address,
                reason,
                str(Kind.HARD),
                "dns-failure",
                text,
                suggested_email=self._suggestion(address),
            )

    def _engagement(self, batch: Batch, verdicts: dict[int, Removal | None]) -> None:
        if self.cutoff is None:
            return
        for index, cell in enumerate(batch.fields[1]):
            if index in verdicts or index in batch.blank:
                continue
            when = self._engaged_on(cell, batch.lines[index])
            if when is None or when < self.cutoff:
                verdicts[index] = None

    def _engaged_on(self, cell: bytes, line: int) -> date | None:
        if cell in self.parsed_dates:
            return self.parsed_dates[cell]
        try:
            when = parse_engagement(cell.decode(self.encoding))
        except ValueError as error:
            raise ContactsError(
                f"{self.path}, line {line}: column {self.engagement_column}: {error}"
            ) from None
        self.parsed_dates[cell] = when
        return when


def _collect_domains(path: Path, dialect: Dialect, layout: _Layout, keys: _Keys) -> set[str]:
    domains: set[bytes] = set()
    for batch in iter_batches(path, dialect, layout.columns[:1]):
        domains.update(key.rpartition(b"@")[2] for key in keys.of(batch.fields[0]) if b"@" in key)
    return {domain.decode() for domain in domains if domain}


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a batch was in the file: enough to read its records again."""

    first_row: int
    offset: int
    size: int
    line: int


@dataclass(slots=True)
class _Visits:
    """The batches streamed so far, so a report can quote a row after the stream moved on."""

    places: list[_Place] = field(default_factory=list)
    records: int = 0

    def add(self, batch: Batch) -> None:
        line = batch.lines[0] if len(batch) else 1
        self.places.append(_Place(self.records, batch.offset, len(batch.data), line))
        self.records += len(batch)

    def row(self, path: Path, dialect: Dialect, column: int, row: int) -> tuple[int, str]:
        """The line and address of record number `row` (0-based, blank lines included)."""
        for place in reversed(self.places):
            if place.first_row <= row:
                batch = read_batch(
                    path, dialect, [column], offset=place.offset, size=place.size, line=place.line
                )
                index = row - place.first_row
                value = batch.fields[0][index].strip().decode(dialect.encoding)
                return batch.lines[index], value
        raise IndexError(row)


def _duplicates(
    path: Path,
    dialect: Dialect,
    layout: _Layout,
    finder: DuplicateFinder,
    visits: _Visits,
    *,
    limit: int = 10,
) -> tuple[int, tuple[Duplicate, ...]]:
    count, pairs = finder.repeats(limit)
    found: list[Duplicate] = []
    column = layout.columns[0]
    for row, first in pairs:
        later_line, address = visits.row(path, dialect, column, row)
        first_line, first_address = visits.row(path, dialect, column, first)
        if normalise_address(address) == normalise_address(first_address):
            found.append(Duplicate(address, later_line, first_line))
    return count, tuple(found)


def _raw_header(path: Path, dialect: Dialect) -> bytes:
    """The header row as in the file, without the BOM."""
    with path.open("rb") as handle:
        return handle.read(dialect.header_size)[len(dialect.bom) :]


def _refuse_same(source: Path, outputs: list[Path]) -> None:
    resolved = [target.resolve() for target in outputs]
    if source.resolve() in resolved[1:] or len(set(resolved)) != len(resolved):
        raise ContactsError(f"{source}: the output files must differ from each other")


@dataclass
class _CleanRun:
    """One run of `clean`: stream, decide, write, replace."""

    path: Path
    dialect: Dialect
    layout: _Layout
    judge: _Judge
    options: CleanOptions
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    preview: list[Removal] = field(default_factory=list)
    rows: int = 0
    reactivated: int = 0

    def execute(self) -> CleanSummary:
        output = self.options.output or self.path
        removed = self.options.removed or sibling(self.path, "removed")
        reactivate = self.options.reactivate or sibling(self.path, "reactivate")
        _refuse_same(self.path, [output, removed, reactivate])
        backup = None if self.options.output else sibling(self.path, "bak")
        header = _raw_header(self.path, self.dialect)
        added_header = self.dialect.bom + self.dialect.header_line(header, list(REMOVED_COLUMNS))
        plain_header = self.dialect.bom + header
        finder = DuplicateFinder()
        visits = _Visits()
        with AtomicFiles() as files:
            sinks = None
            if not self.options.dry_run:
                sinks = (
                    _appending(files, removed, added_header if self.dialect.has_header else b""),
                    _appending(files, reactivate, plain_header),
                    files.open(output),
                )
                sinks[2].write(plain_header)
            for batch in iter_batches(self.path, self.dialect, self.layout.columns):
                keys = self.judge.keys.of(batch.fields[0])
                finder.add(keys)
                visits.add(batch)
                verdicts = self.judge.decide(batch, keys)
                self._tally(batch, verdicts)
                if sinks is not None:
                    self._write(batch, verdicts, sinks)
            removed_count = sum(self.counts.values())
            changed = bool(removed_count or self.reactivated)
            written: tuple[Path, ...] = ()
            if sinks is not None and (changed or self.options.output):
                targets = [removed, reactivate, output]
                keep = [bool(removed_count), bool(self.reactivated), True]
                _drop_unused(files, targets, keep)
                files.commit((self.path, backup) if backup and changed else None)
                written = tuple(target for target, used in zip(targets, keep, strict=True) if used)
        count, examples = _duplicates(self.path, self.dialect, self.layout, finder, visits)
        kept = self.rows - removed_count - self.reactivated
        return CleanSummary(
            self.path,
            self.dialect,
            self.rows,
            kept,
            removed_count,
            self.reactivated,
            self.counts,
            count,
            examples,
            tuple(self.preview),
            written,
            backup if written and backup and changed else None,
        )

    def _tally(self, batch: Batch, verdicts: dict[int, Removal | None]) -> None:
        self.rows += len(batch) - len(batch.blank)
        for removal in verdicts.values():
            if removal is None:
                self.reactivated += 1
                continue
            self.counts[removal.kind, removal.reason] += 1
            if len(self.preview) < self.options.preview:
                self.preview.append(removal)

    def _write(
        self,
        batch: Batch,
        verdicts: dict[int, Removal | None],
        sinks: tuple[BinaryIO, BinaryIO, BinaryIO],
    ) -> None:
        removed, reactivate, kept = sinks
        view = memoryview(batch.data)
        done = 0
        newline = self.dialect.newline
        for (start, end), removal in zip(batch.spans(verdicts), verdicts.values(), strict=True):
            kept.write(view[done:start])
            done = end
            body, ending = split_line_end(batch.data[start:end])
            if removal is None:
                reactivate.write(body + (ending or newline))
            else:
                removed.write(body + self.dialect.format_fields(removal.values()) + newline)
        kept.write(view[done:])


def _appending(files: AtomicFiles, target: Path, header: bytes) -> BinaryIO:
    """A new file for `target`, or one that continues it when it exists with the same header."""
    handle = files.open(target)
    if target.is_file() and target.stat().st_size:
        with target.open("rb") as existing:
            start = existing.read(len(header))
            if header and start != header:
                raise ContactsError(
                    f"{target}: exists with other columns; move it away or choose another file"
                )
            handle.write(start)
            while block := existing.read(1024 * 1024):
                handle.write(block)
                start = block
        if not start.endswith(b"\n"):
            handle.write(b"\r\n" if header.endswith(b"\r\n") else b"\n")
    else:
        handle.write(header)
    return handle


def _drop_unused(files: AtomicFiles, targets: list[Path], keep: list[bool]) -> None:
    files.forget([target for target, used in zip(targets, keep, strict=True) if not used])
