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

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

from bouncetool.addresses import normalise_address
from bouncetool.annotation import ANNOTATE_COLUMNS, Annotator
from bouncetool.atomicwrite import AtomicFiles
from bouncetool.columns import find_column, find_email_column
from bouncetool.csvstream import Batch, iter_batches
from bouncetool.dialect import (
    Dialect,
    EncodingChangedError,
    EncodingCheck,
    detect_dialect,
    split_line_end,
)
from bouncetool.duplicates import Duplicate, DuplicateFinder, Visits, duplicates
from bouncetool.errors import ContactsError
from bouncetool.model import AddressStatus, Lang
from bouncetool.triage import (
    DomainCheck,
    Exit,
    Keys,
    Removal,
    SyntaxCheck,
    Triage,
)

__all__ = [
    "ANNOTATE_COLUMNS",
    "REMOVED_COLUMNS",
    "AnnotateOptions",
    "AnnotateSummary",
    "CleanOptions",
    "CleanSummary",
    "DomainCheck",
    "Duplicate",
    "Removal",
    "SyntaxCheck",
    "annotate",
    "clean",
    "sibling",
]

REMOVED_COLUMNS = (
    "reason",
    "kind",
    "category",
    "explanation",
    "last_bounce_at",
    "bounce_count",
    "suggested_email",
)


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
    try:
        return _clean(path, detect_dialect(path, whole=False), statuses, options)
    except EncodingChangedError:
        # A non-UTF-8 byte after a UTF-8 head: read it all and start over.
        return _clean(path, detect_dialect(path), statuses, options)


def _clean(
    path: Path, dialect: Dialect, statuses: Mapping[str, AddressStatus], options: CleanOptions
) -> CleanSummary:
    layout = _Layout.of(path, dialect, options.email_column, options.engagement_column)
    triage = Triage.build(
        path,
        dialect.encoding,
        statuses,
        last_column=layout.email_is_last(dialect),
        lang=options.lang,
        check_syntax=options.check_syntax,
        suggest=options.suggest,
        unengaged_days=options.unengaged_days,
        engagement_column=options.engagement_column,
        today=options.today or datetime.now(UTC).date(),
    )
    if options.check_domains is not None:
        domains = _collect_domains(path, dialect, layout, triage.keys)
        triage.learn_dead_domains(options.check_domains(sorted(domains)))
    with EncodingCheck(path, dialect) as check:
        return _CleanRun(path, dialect, layout, triage, options, check.confirm).execute()


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
    keys = Keys(dialect.encoding, last_column=layout.email_is_last(dialect))
    lookup = {normalise_address(key).encode(): status for key, status in statuses.items()}
    annotator = Annotator(dialect, lookup, options.lang)
    finder = DuplicateFinder()
    visits = Visits()
    with AtomicFiles() as files:
        out = files.open(output)
        out.write(dialect.bom)
        if dialect.has_header:
            out.write(dialect.header_line(_raw_header(path, dialect), list(ANNOTATE_COLUMNS)))
        for batch in iter_batches(path, dialect, layout.columns):
            batch_keys = keys.of(batch.fields[0])
            finder.add(batch_keys)
            visits.add(batch)
            annotator.write(batch, batch_keys, out)
            files.write_behind()
        files.commit()
    count, examples = duplicates(path, dialect, layout.columns[0], finder, visits)
    counts = annotator.counts
    return AnnotateSummary(path, dialect, sum(counts.values()), counts, count, examples, output)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which columns `clean` and `annotate` read: the address first, then the engagement date."""

    columns: tuple[int, ...]

    def email_is_last(self, dialect: Dialect) -> bool:
        """True when the address is the last column (its field ends with the CR of CRLF)."""
        return self.columns[0] == len(dialect.header) - 1

    @classmethod
    def of(cls, path: Path, dialect: Dialect, email: str | None, engagement: str | None) -> _Layout:
        """The columns to read; ContactsError naming the columns there are when one is missing."""
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


def _collect_domains(path: Path, dialect: Dialect, layout: _Layout, keys: Keys) -> set[str]:
    domains: set[bytes] = set()
    for batch in iter_batches(path, dialect, layout.columns[:1]):
        domains.update(key.rpartition(b"@")[2] for key in keys.of(batch.fields[0]) if b"@" in key)
    return {domain.decode() for domain in domains if domain}


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
    triage: Triage
    options: CleanOptions
    confirm: Callable[[], None]  # raises when the file turned out not to be what was assumed
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    preview: list[Removal] = field(default_factory=list)
    rows: int = 0
    reactivated: int = 0

    def execute(self) -> CleanSummary:
        """Stream the list once, write the outputs, replace them together (unless dry run)."""
        output = self.options.output or self.path
        removed = self.options.removed or sibling(self.path, "removed")
        reactivate = self.options.reactivate or sibling(self.path, "reactivate")
        _refuse_same(self.path, [output, removed, reactivate])
        backup = None if self.options.output else sibling(self.path, "bak")
        header = _raw_header(self.path, self.dialect)
        added_header = self.dialect.bom
        if self.dialect.has_header:
            added_header += self.dialect.header_line(header, list(REMOVED_COLUMNS))
        plain_header = self.dialect.bom + header
        finder = DuplicateFinder()
        visits = Visits()
        with AtomicFiles() as files:
            sinks = None
            if not self.options.dry_run:
                sinks = (
                    _appending(files, removed, added_header),
                    _appending(files, reactivate, plain_header),
                    files.open(output),
                )
                sinks[2].write(plain_header)
            for batch in iter_batches(self.path, self.dialect, self.layout.columns):
                keys = self.triage.keys.of(batch.fields[0])
                finder.add(keys)
                visits.add(batch)
                exits = self.triage.decide(batch, keys)
                self._tally(batch, exits)
                if sinks is not None:
                    self._write(batch, exits, sinks)
                    files.write_behind()
            self.confirm()
            # Before the commit: the examples are quoted from the file, which
            # an in-place clean is about to replace.
            column = self.layout.columns[0]
            count, examples = duplicates(self.path, self.dialect, column, finder, visits)
            removed_count = sum(self.counts.values())
            changed = bool(removed_count or self.reactivated)
            written: tuple[Path, ...] = ()
            if sinks is not None and (changed or self.options.output):
                targets = [removed, reactivate, output]
                keep = [bool(removed_count), bool(self.reactivated), True]
                _drop_unused(files, targets, keep)
                files.commit((self.path, backup) if backup and changed else None)
                written = tuple(target for target, used in zip(targets, keep, strict=True) if used)
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

    def _tally(self, batch: Batch, exits: dict[int, Exit]) -> None:
        self.rows += len(batch) - len(batch.blank)
        for index, exit in exits.items():
            if exit is None:
                self.reactivated += 1
            elif isinstance(exit, Removal):
                self.counts[exit.kind, exit.reason] += 1
            else:
                self.counts[str(exit.kind), exit.reason or str(exit.kind)] += 1
            if exit is not None and len(self.preview) < self.options.preview:
                self.preview.append(self.triage.removal(batch, index, exit))

    def _write(
        self,
        batch: Batch,
        exits: dict[int, Exit],
        sinks: tuple[BinaryIO, BinaryIO, BinaryIO],
    ) -> None:
        removed, reactivate, kept = sinks
        view = memoryview(batch.data)
        done = 0
        newline = self.dialect.newline
        for (start, end), (index, exit) in zip(batch.spans(exits), exits.items(), strict=True):
            kept.write(view[done:start])
            done = end
            body, ending = split_line_end(batch.data[start:end])
            if exit is None:
                reactivate.write(body + (ending or newline))
            else:
                added = self.dialect.format_fields(self.triage.values(batch, index, exit))
                removed.write(body + added + newline)
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
