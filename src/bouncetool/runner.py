"""One unattended pass: sources -> ledger -> settle IMAP -> policy -> contact files -> exports.

The order is what makes a killed run harmless. Messages are read without a
trace (IMAP: ``EXAMINE`` + ``BODY.PEEK``) and stored in the ledger, which
counts a bounce once however often it is read. Only after the ledger has
committed are IMAP messages marked read or moved, so a run killed before that
reads them again and loses nothing; one killed after it finds them settled.
Contact files and exports are recomputed from the ledger on every run and
written atomically, so a run killed while writing leaves the previous file
whole and the next run writes the new one. A message that cannot be parsed
is written into the quarantine folder (`bouncetool.quarantine`) as soon as it
is met; only once its bytes are there is an IMAP message settled with the rest.

`run` holds the run lock for the whole pass, logs each step to the
``bouncetool.run`` logger (the CLI decides where that goes) and returns a
`RunSummary`; it never prints.

Testing hook: ``BOUNCETOOL_KILL_AT=STAGE[:N]`` makes the process SIGKILL
itself at a named point (``fetch:N`` after N messages of the run were read,
``ingest:N`` after N records went to the ledger, ``settle``, ``contacts``,
``exports``, ``prune``, ``summary``), so the reliability tests hit every
window deterministically. It does nothing unless set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bouncetool.atomicwrite import AtomicFiles
from bouncetool.config import Config, ContactFile, ContactsAction, ExportConfig, SourceConfig
from bouncetool.contacts import AnnotateOptions, CleanOptions, annotate, clean, sibling
from bouncetool.dnscheck import dead_domains
from bouncetool.errorexport import ERROR_KINDS, ExportFormat, error_rows, parse_since, write_errors
from bouncetool.errors import (
    BounceToolError,
    ConfigError,
    ContactsError,
    OutputError,
    SourceError,
)
from bouncetool.extract import parse_message
from bouncetool.imap import AfterReadAction, ImapMailbox, ImapSettings
from bouncetool.language import resolve_lang
from bouncetool.lock import RunLock
from bouncetool.model import AddressStatus, Bounce, Kind, Lang, Problem, RawMessage, Record
from bouncetool.policy import Policy
from bouncetool.quarantine import Quarantine, default_folder
from bouncetool.rules import RuleTable, load_table
from bouncetool.sources import iter_messages
from bouncetool.state import Ledger
from bouncetool.state.location import resolve_state_path
from bouncetool.syntax import check_syntax
from bouncetool.typos import suggest_address

log = logging.getLogger("bouncetool.run")

KILL_AT_ENV = "BOUNCETOOL_KILL_AT"
INGEST_BATCH = 500  # records per ledger transaction: a killed run redoes at most this much


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    """What a run did to one contact file."""

    path: str
    action: str
    rows: int  # rows read
    removed: int  # clean: rows moved to the removed file
    annotated: int  # annotate: rows that got bounce information


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """One export written by a run."""

    path: str
    rows: int


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Everything one run did, for the summary line, the JSON file and the exit status."""

    started_at: datetime
    seconds: float
    messages: int  # messages read from all sources
    bounces: Mapping[str, int]  # records read, by kind
    new_events: int  # bounces the ledger had not seen before
    settled: Mapping[str, int]  # IMAP messages by what was done: marked read, moved, deleted
    contacts: tuple[ContactOutcome, ...] = ()
    exports: tuple[ExportOutcome, ...] = ()
    pruned: int = 0
    problems: tuple[str, ...] = ()
    stale_lock_pid: int | None = None
    quarantine: str | None = None  # the folder where unparseable messages are kept aside
    quarantined: int = 0  # messages that could not be parsed, kept aside by this run
    already_quarantined: int = 0  # ... read again, their bytes already kept by an earlier run

    @property
    def exit_code(self) -> int:
        """0 when all went well, 1 when the run finished but some input was bad."""
        return 1 if self.problems else 0

    def line(self) -> str:
        """The one summary line for stderr and the log."""
        order = {str(kind): position for position, kind in enumerate(Kind)}
        ranked = sorted(self.bounces.items(), key=lambda item: order.get(item[0], len(order)))
        kinds = ", ".join(f"{count} {kind}" for kind, count in ranked)
        removed = sum(outcome.removed for outcome in self.contacts)
        annotated = sum(outcome.annotated for outcome in self.contacts)
        parts = [
            f"{self.messages} messages read",
            f"bounces: {kinds or 'none'} ({self.new_events} new)",
            f"contacts: {removed} removed, {annotated} annotated",
        ]
        parts += [f"{count} {done}" for done, count in sorted(self.settled.items()) if count]
        if count := self.quarantined + self.already_quarantined:
            before = (
                f" ({self.already_quarantined} already there)" if self.already_quarantined else ""
            )
            parts.append(
                f"{count} unparseable message{'' if count == 1 else 's'} kept aside "
                f"in {self.quarantine}{before}"
            )
        if self.problems:
            count = len(self.problems)
            parts.append(f"{count} problem{'' if count == 1 else 's'}")
        return "bouncetool run: " + "; ".join(parts) + f"; {self.seconds:.1f} s"

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (the summary file)."""
        data = dataclasses.asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["bounces"] = dict(sorted(self.bounces.items()))
        data["settled"] = dict(sorted(self.settled.items()))
        data["exit_code"] = self.exit_code
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class _Tally:
    """Counts kept while records stream into the ledger."""

    messages: int = 0
    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    quarantined: int = 0  # unparseable messages written aside by this run
    already_quarantined: int = 0  # ... whose bytes an earlier run had kept
    held: int = 0  # unparseable messages that could not be kept aside: never settled

    def problem(self, text: str) -> None:
        log.warning("%s", text)
        self.problems.append(text)


@dataclass(frozen=True, slots=True)
class _MailboxRead:
    """What was read from one IMAP mailbox, to settle once the ledger has it."""

    settings: ImapSettings
    uidvalidity: int
    uids: tuple[int, ...]


_DONE = {
    AfterReadAction.SEEN: "marked read",
    AfterReadAction.MOVE: "moved",
    AfterReadAction.DELETE: "deleted",
    AfterReadAction.KEEP: "kept unread",
}


def lock_path(config: Config) -> Path:
    """The run lock: as configured, else beside the ledger (runs on one ledger exclude each other).

    The lock is taken before the ledger is opened, so its place comes from the
    same rule the ledger follows (`resolve_state_path`).
    """
    if config.lock_file is not None:
        return config.lock_file
    ledger = resolve_state_path(config.state)
    return ledger.with_name(ledger.name + ".lock")


def quarantine_path(config: Config) -> Path:
    """Where messages that cannot be parsed are kept: as configured, else beside the ledger."""
    if config.quarantine is not None:
        return config.quarantine
    return default_folder(resolve_state_path(config.state))


def run(config: Config, *, wait: float = 0.0, now: datetime | None = None) -> RunSummary:
    """One pass over `config` under the run lock; `LockHeldError` when another run holds it."""
    if config.summary_file is not None:
        # Found out now, before anything is read or written, not after the whole pass.
        _make_folder(config.summary_file, "summary file")
    with RunLock(lock_path(config), wait=wait) as lock:
        if lock.stale_pid is not None:
            log.warning("took over the lock of run %d, which died holding it", lock.stale_pid)
            for leftover in sweep_leftovers(config):
                log.info("removed %s, left half-written by the dead run", leftover)
        moment = now or datetime.now(UTC)
        try:
            summary = _Pass(config, moment).run()
        except BounceToolError as error:
            # A monitor reading the summary must not see the last good run's.
            if config.summary_file is not None:
                write_failure(config.summary_file, moment, error)
            raise
        summary = dataclasses.replace(summary, stale_lock_pid=lock.stale_pid)
        if config.summary_file is not None:
            write_summary(config.summary_file, summary)
        checkpoint("summary")
        return summary


def _make_folder(path: Path, what: str) -> None:
    """Create the folder of `path`; a `ConfigError` naming `path` when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{path}: cannot write the {what}: {error.strerror}") from None


def written_files(config: Config) -> Iterator[Path]:
    """Every file a run of `config` may replace (contact lists and their siblings, exports...)."""
    for contact in config.contacts:
        yield contact.path
        yield contact.removed or sibling(contact.path, "removed")
        yield sibling(contact.path, "reactivate")
        yield sibling(contact.path, "bak")
        yield contact.output or sibling(contact.path, "annotated")
    yield from (export.path for export in config.exports)
    if config.summary_file is not None:
        yield config.summary_file


def sweep_leftovers(config: Config) -> list[Path]:
    """Delete the temporary files (``.NAME.*.tmp``) a killed run left beside what it writes.

    Called only after taking over a dead run's lock: those files can only be
    its half-written copies (a partial contact list is personal data nobody
    should find lying around). Returns what was removed.
    """
    patterns = [
        (target.parent, f".{glob.escape(target.name)}.*.tmp") for target in written_files(config)
    ]
    patterns.append((quarantine_path(config), ".*.eml.*.tmp"))  # a message being kept aside
    removed = []
    for folder, pattern in patterns:
        for leftover in folder.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(leftover)
    return removed


def write_summary(path: Path, summary: RunSummary) -> None:
    """Replace `path` with the JSON summary, atomically (a reader never sees half a file)."""
    _write_json(path, summary.as_dict())


def write_failure(path: Path, started_at: datetime, error: BounceToolError) -> None:
    """Replace `path` with the summary of a run that stopped on `error`."""
    data = {"started_at": started_at.isoformat(), "exit_code": error.exit_code, "error": str(error)}
    _write_json(path, data)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicFiles() as files:
        files.open(path).write(text.encode("utf-8"))
        files.commit()


def checkpoint(stage: str, count: int | None = None) -> None:
    """Testing hook: SIGKILL this process here when ``BOUNCETOOL_KILL_AT`` names this point."""
    wanted = os.environ.get(KILL_AT_ENV)
    if wanted and wanted == (stage if count is None else f"{stage}:{count}"):
        os.kill(os.getpid(), signal.SIGKILL)


class _Pass:
    """The steps of one run, in the order that keeps a killed run harmless."""

    def __init__(self, config: Config, now: datetime) -> None:
        self.config = config
        self.now = now
        self.lang = resolve_lang(config.language.value if config.language else None)
        self.tally = _Tally()
        self.reads: list[_MailboxRead] = []
        self.quarantine = Quarantine(quarantine_path(config))

    def run(self) -> RunSummary:
        started = time.monotonic()
        settings = self.config.policy
        policy = Policy(settings.soft_threshold, settings.window_days, settings.retention_days)
        table = load_table(self.config.rules)
        log.info("run started: %d sources, config %s", len(self.config.sources), self.config.path)
        with Ledger.open(self.config.state) as ledger:
            records = self._records(table)
            ingested = ledger.ingest(records, self.now, policy=policy, batch_size=INGEST_BATCH)
            log.info("ledger %s: %d new, %d known", ledger.path, ingested.new, ingested.duplicate)
            checkpoint("settle")
            settled: Counter[str] = Counter()
            for read in self.reads:
                settled[_DONE[read.settings.after_read.action]] += self._settle(read)
            statuses = ledger.address_statuses(policy, self.now)
            checkpoint("contacts")
            contacts = tuple(self._contacts(statuses))
            checkpoint("exports")
            exports = tuple(self._exports(statuses))
            checkpoint("prune")
            pruned = ledger.prune(self.now, policy=policy)
        summary = RunSummary(
            started_at=self.now,
            seconds=time.monotonic() - started,
            messages=self.tally.messages,
            bounces=dict(self.tally.kinds),
            new_events=ingested.new,
            settled=dict(settled),
            contacts=contacts,
            exports=exports,
            pruned=pruned + ingested.pruned,
            problems=tuple(self.tally.problems),
            quarantine=str(self.quarantine.folder),
            quarantined=self.tally.quarantined,
            already_quarantined=self.tally.already_quarantined,
        )
        log.info("%s", summary.line())
        return summary

    # -- reading -------------------------------------------------------------

    def _records(self, table: RuleTable) -> Iterator[Record]:
        """Every record of every source; problems are tallied, never raised."""
        for source in self.config.sources:
            for message in self._messages(source):
                if isinstance(message, Problem):
                    self._problem(message)
                    continue
                self.tally.messages += 1
                checkpoint("fetch", self.tally.messages)
                bounces = self._parse(message)
                if isinstance(bounces, Problem):
                    self._problem(bounces)
                    continue
                for bounce in bounces:
                    placed = bounce.at(message.source, message.number)
                    record = Record(placed, table.classify(placed))
                    self.tally.kinds[str(record.kind)] += 1
                    self.tally.records += 1
                    yield record
                    checkpoint("ingest", self.tally.records)

    def _parse(self, message: RawMessage) -> list[Bounce] | Problem:
        """The message's bounces, or the Problem (carrying its bytes) that it cannot be parsed."""
        try:
            return parse_message(message.data)
        except BounceToolError as error:  # the extractor says in words what is wrong
            return Problem(message.source, message.number, str(error), message.data)
        except Exception as error:  # a bug; one bad message must not stop the night's run
            log.exception("%s, message %d: cannot parse", message.source, message.number)
            return Problem(message.source, message.number, f"cannot parse: {error}", message.data)

    def _problem(self, problem: Problem) -> None:
        """Report `problem`; a message that could not be parsed is kept aside first.

        A message whose bytes an earlier run already kept aside is no new
        problem (a source read every night reports it once). One that cannot
        be kept aside is `held`: an IMAP message then stays unread.
        """
        if problem.data is None:
            self.tally.problem(problem.describe())
            return
        try:
            kept = self.quarantine.keep(problem)
        except OutputError as error:
            self.tally.held += 1
            self.tally.problem(f"{problem.describe()} (not kept aside: {error})")
            return
        if kept.new:
            self.tally.quarantined += 1
            self.tally.problem(f"{problem.describe()} (kept aside as {kept.path})")
        else:
            self.tally.already_quarantined += 1
            log.info("%s (already kept aside as %s)", problem.describe(), kept.path)

    def _messages(self, source: SourceConfig) -> Iterator[RawMessage | Problem]:
        if source.imap is not None:
            yield from self._mailbox_messages(source.imap)
            return
        log.info("reading %s", source.spec)
        yield from iter_messages(source.spec)

    def _mailbox_messages(self, settings: ImapSettings) -> Iterator[RawMessage | Problem]:
        """A mailbox's messages; the UIDs of those parsed or kept aside are kept for `_settle`."""
        url = settings.location.url
        log.info("reading %s", url)
        uids: list[int] = []
        try:
            with ImapMailbox(settings) as mailbox:
                for message in mailbox.iter_messages():
                    before = self.tally.held
                    yield message
                    # Settle only what is safe: parsed into the ledger, or its bytes on
                    # disk in the quarantine folder. Anything else stays unread for next time.
                    if isinstance(message, RawMessage) and self.tally.held == before:
                        uids.append(message.number)
                validity = mailbox.uidvalidity
        except SourceError as error:
            yield Problem(url, None, str(error).removeprefix(f"{url}: "))
            return
        self.reads.append(_MailboxRead(settings, validity, tuple(uids)))

    def _settle(self, read: _MailboxRead) -> int:
        """Mark as read (or move / delete) what the ledger now holds."""
        url = read.settings.location.url
        try:
            with ImapMailbox(read.settings, writable=True) as mailbox:
                done = mailbox.settle(read.uids, read.uidvalidity)
        except SourceError as error:
            # The bounces are stored; the messages are read again next time and counted once.
            self.tally.problem(f"{error} (the messages stay unread; the next run reads them again)")
            return 0
        if read.uids and not done and str(read.settings.after_read) != "keep":
            log.warning("%s: UIDVALIDITY changed; messages left as they were", url)
        log.info("%s: %d messages %s", url, done, read.settings.after_read)
        return done

    # -- writing -------------------------------------------------------------

    def _contacts(self, statuses: Mapping[str, AddressStatus]) -> Iterator[ContactOutcome]:
        for contact in self.config.contacts:
            try:
                outcome = apply_contact_file(contact, statuses, self.lang)
            except (ContactsError, OutputError) as error:
                self.tally.problem(str(error))
                continue
            except OSError as error:
                self.tally.problem(f"{contact.path}: cannot {contact.action}: {error}")
                continue
            log.info(
                "%s: %s done: %d rows, %d removed, %d annotated",
                outcome.path,
                outcome.action,
                outcome.rows,
                outcome.removed,
                outcome.annotated,
            )
            yield outcome

    def _exports(self, statuses: Mapping[str, AddressStatus]) -> Iterator[ExportOutcome]:
        for export in self.config.exports:
            try:
                outcome = write_export(export, statuses, self.now, self.lang)
            except OutputError as error:
                self.tally.problem(str(error))
                continue
            except (ContactsError, OSError) as error:
                self.tally.problem(f"{export.path}: cannot write the export: {error}")
                continue
            log.info("%s: %d error contacts exported", outcome.path, outcome.rows)
            yield outcome


def apply_contact_file(
    contact: ContactFile, statuses: Mapping[str, AddressStatus], lang: Lang
) -> ContactOutcome:
    """Clean or annotate one contact file from the policy's `statuses` (atomically)."""
    log.info("%s: %s started", contact.path, contact.action)
    for written in (contact.output, contact.removed):
        if written is not None:
            written.parent.mkdir(parents=True, exist_ok=True)
    if contact.action is ContactsAction.ANNOTATE:
        options = AnnotateOptions(
            lang=lang, email_column=contact.email_column, output=contact.output
        )
        annotated = annotate(contact.path, statuses, options)
        marked = sum(count for label, count in annotated.by_status.items() if label != "ok")
        return ContactOutcome(str(contact.path), str(contact.action), annotated.rows, 0, marked)
    cleaned = clean(
        contact.path,
        statuses,
        CleanOptions(
            lang=lang,
            email_column=contact.email_column,
            removed=contact.removed,
            check_syntax=check_syntax if contact.check_syntax else None,
            check_domains=dead_domains if contact.check_dns else None,
            suggest=suggest_address,
        ),
    )
    if cleaned.backup is not None and not contact.backup:
        cleaned.backup.unlink(missing_ok=True)  # asked not to keep one
    return ContactOutcome(str(contact.path), str(contact.action), cleaned.rows, cleaned.removed, 0)


def write_export(
    export: ExportConfig, statuses: Mapping[str, AddressStatus], now: datetime, lang: Lang
) -> ExportOutcome:
    """Replace one export of error contacts (atomically) from the policy's `statuses`."""
    since = parse_since(export.since, now) if export.since else None
    kinds = export.kinds or ERROR_KINDS
    rows = error_rows(statuses.values(), kinds=kinds, since=since, lang=lang)
    export.path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicFiles() as files:
        write_errors(rows, files.open(export.path), ExportFormat(str(export.format)))
        files.commit()
    return ExportOutcome(str(export.path), len(rows))
