"""``bouncetool.toml``: what an unattended run reads, keeps and writes.

The file is TOML (read with `tomllib`). Every setting becomes a field of a
frozen dataclass; relative paths resolve against the folder of the file, so a
configuration works the same from cron, systemd or a terminal. Mistakes are
reported as `ConfigError` naming the file and line: tomllib gives the line of
a syntax error, and `TomlLines` finds the line of a key that is unknown or of
the wrong type. See README, "Unattended runs", for every key.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from bouncetool.errors import ConfigError, SourceError
from bouncetool.imap import (
    DEFAULT_PASSWORD_ENV,
    AfterRead,
    ImapSettings,
    is_imap_url,
    parse_imap_url,
)
from bouncetool.model import Kind, Lang

E = TypeVar("E", bound=enum.Enum)
ERROR_KINDS = ("hard", "soft", "complaint")  # what an export of error contacts can hold
_SINCE_SPAN = re.compile(r"^\s*\d+\s*[dhw]\s*$")  # the export-errors --since spans


class InvalidConfigError(ConfigError):
    """A configuration with one or more mistakes; `problems` lists them all, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        """Keep every problem; the message is the first one and how many follow."""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Thresholds of the ledger's policy (see `bouncetool.policy.Policy`)."""

    soft_threshold: int = 3  # soft bounces on distinct days that make an address hard
    window_days: int = 30  # ... counted within this many days
    retention_days: int = 60  # events older than this are pruned after each run


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One place bounces come from: a file or folder (`spec` is its path) or an IMAP mailbox."""

    spec: str
    imap: ImapSettings | None = None


class ContactsAction(enum.StrEnum):
    """What a run does to a contact file."""

    CLEAN = "clean"  # remove suppressed contacts, keeping them in a separate file
    ANNOTATE = "annotate"  # keep every row, add bounce columns


@dataclass(frozen=True, slots=True)
class ContactFile:
    """A contact CSV and what to do with it on every run."""

    path: Path
    action: ContactsAction
    removed: Path | None = None  # clean: where removed rows go (default: NAME.removed.csv)
    output: Path | None = None  # annotate: where to write (default: NAME.annotated.csv)
    backup: bool = True  # clean: keep the previous file as NAME.bak
    check_syntax: bool = False
    check_dns: bool = False
    email_column: str | None = None  # default: found by its name or content


class ExportFormat(enum.StrEnum):
    """File formats of the error export."""

    CSV = "csv"
    EXCEL = "excel"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class ExportConfig:
    """An export of error contacts from the ledger, rewritten on every run."""

    path: Path
    format: ExportFormat = ExportFormat.CSV
    kinds: tuple[Kind, ...] = ()  # empty: every error kind (hard, soft, complaint)
    since: str | None = None  # "60d", "12h", "2w" back from the run, or an ISO date


@dataclass(frozen=True, slots=True)
class Config:
    """A whole ``bouncetool.toml``, validated, with absolute paths."""

    path: Path
    sources: tuple[SourceConfig, ...] = ()
    state: Path | None = None  # the ledger; None: BOUNCETOOL_STATE, then the user data folder
    rules: tuple[Path, ...] = ()
    policy: PolicySettings = field(default_factory=PolicySettings)
    language: Lang | None = None
    contacts: tuple[ContactFile, ...] = ()
    exports: tuple[ExportConfig, ...] = ()
    log_file: Path | None = None
    summary_file: Path | None = None
    lock_file: Path | None = None  # None: beside the ledger
    quarantine: Path | None = None  # messages that cannot be parsed; None: beside the ledger


def load_config(path: Path) -> Config:
    """Read and validate the configuration at `path`; raises `ConfigError` listing every mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the configuration: {reason}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate TOML `text` read from `path` (which anchors relative paths)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidConfigError([_syntax_error(path, str(error))]) from None
    reader = _Reader(path, TomlLines(text))
    config = reader.config(data)
    if reader.problems:
        raise InvalidConfigError(reader.problems)
    return config


def _syntax_error(path: Path, message: str) -> str:
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found is None:
        return f"{path}: not valid TOML: {message}"
    what = message[: found.start()]
    return f"{path}, line {found.group(1)}: not valid TOML: {what} (column {found.group(2)})"


class TomlLines:
    """Finds the line where a key is written, for messages about its value.

    TOML allows keys in ``[table]`` headers, ``[[array]]`` headers, dotted and
    inline forms; this finder knows headers and ``key = value`` lines, which is
    how configuration files are written, and falls back to the table's header.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        """Index the headers of `text`."""
        self.lines = text.splitlines()

    def _headers(self) -> Iterator[tuple[int, str, bool]]:
        for number, line in enumerate(self.lines, start=1):
            match = self._HEADER.match(line)
            if match:
                yield (
                    number,
                    match.group(2).replace('"', "").replace(" ", ""),
                    match.group(1) == "[[",
                )

    def table_span(self, table: str | None, index: int | None) -> tuple[int, int] | None:
        """First and last line of a table (``None``: the top level), or of its `index`-th item."""
        headers = list(self._headers())
        if table is None:
            end = headers[0][0] - 1 if headers else len(self.lines)
            return 1, end
        seen = -1
        for position, (number, name, is_array) in enumerate(headers):
            if name != table:
                continue
            seen += 1 if is_array else 0
            if index is None or seen == index:
                end = (
                    headers[position + 1][0] - 1 if position + 1 < len(headers) else len(self.lines)
                )
                return number, end
        return None

    def line_of(self, table: str | None, index: int | None, key: str | None) -> int | None:
        """The line of `key` in a table (or of the table's header when the key is not found)."""
        span = self.table_span(table, index)
        if span is None:
            return None
        if key is not None:
            pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
            for number in range(span[0], span[1] + 1):
                if pattern.match(self.lines[number - 1]):
                    return number
            if table is None:  # a top-level key written as a table: [policy] or [[sources]]
                found = self.table_span(key, None)
                return found[0] if found else None
        return span[0] if table is not None else None


@dataclass
class _Where:
    table: str | None = None
    index: int | None = None

    def label(self) -> str:
        if self.table is None:
            return ""
        if self.index is None:
            return f"[{self.table}] "
        return f"[[{self.table}]] #{self.index + 1} "


class _Section:
    """Typed access to one table; every mistake is recorded with its line, none raised."""

    def __init__(self, reader: _Reader, data: Mapping[str, Any], where: _Where) -> None:
        self.reader, self.data, self.where = reader, data, where
        self.used: set[str] = set()

    def problem(self, key: str | None, message: str) -> None:
        self.reader.problem(self.where, key, message)

    def get(self, key: str, kinds: tuple[type, ...], expected: str) -> Any:
        self.used.add(key)
        if key not in self.data:
            return None
        value = self.data[key]
        # bool is an int in Python, but `retention_days = true` is a mistake.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.problem(key, f"'{key}' must be {expected}, not {_toml_type(value)}")
            return None
        return value

    def string(self, key: str) -> str | None:
        value = self.get(key, (str,), "a string")
        if value is not None and not value.strip():
            self.problem(key, f"'{key}' must not be empty")
            return None
        return str(value) if value is not None else None

    def path(self, key: str) -> Path | None:
        text = self.string(key)
        return None if text is None else self.reader.resolve(text)

    def paths(self, key: str) -> tuple[Path, ...]:
        return tuple(self.reader.resolve(text) for text in self.strings(key))

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, (list, str), "a list of strings")
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(item, str) for item in items):
            self.problem(key, f"'{key}' must be a list of strings")
            return ()
        return tuple(items)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, (bool,), "true or false")
        return default if value is None else bool(value)

    def integer(self, key: str, default: int | None, minimum: int = 1) -> int | None:
        value = self.get(key, (int,), "a whole number")
        if value is None:
            return default
        if value < minimum:
            self.problem(key, f"'{key}' must be at least {minimum}, not {value}")
            return default
        return int(value)

    def choice(self, key: str, enum_type: type[E], default: E | None) -> E | None:
        text = self.string(key)
        if text is None:
            return default
        try:
            return enum_type(text.strip().lower())
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in enum_type)
            self.problem(key, f"'{key}' must be one of {allowed}, not {text!r}")
            return default

    def finish(self) -> None:
        """Record every key nobody asked for: a typo must not be silently ignored."""
        for key in self.data:
            if key not in self.used:
                known = ", ".join(sorted(self.used))
                self.problem(key, f"unknown key '{key}' (known here: {known})")


class _Reader:
    """Builds a `Config` from parsed TOML, collecting problems as ``file, line N: ...``."""

    def __init__(self, path: Path, lines: TomlLines) -> None:
        self.path, self.lines = path, lines
        self.folder = path.resolve().parent
        self.problems: list[str] = []

    def problem(self, where: _Where, key: str | None, message: str) -> None:
        line = self.lines.line_of(where.table, where.index, key)
        place = f"{self.path}, line {line}" if line else str(self.path)
        self.problems.append(f"{place}: {where.label()}{message}")

    def resolve(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.folder / path

    def config(self, data: Mapping[str, Any]) -> Config:
        top = _Section(self, data, _Where())
        config = Config(
            path=self.path.resolve(),
            state=top.path("state"),
            rules=top.paths("rules"),
            language=top.choice("language", Lang, None),
            log_file=top.path("log_file"),
            summary_file=top.path("summary_file"),
            lock_file=top.path("lock_file"),
            quarantine=top.path("quarantine"),
            policy=self.policy(top),
            sources=tuple(self.items(top, "sources", self.source)),
            contacts=tuple(self.items(top, "contacts", self.contact_file)),
            exports=tuple(self.items(top, "exports", self.export)),
        )
        top.finish()
        if not config.sources:
            self.problem(_Where(), None, "no [[sources]]: name at least one path or imap mailbox")
        return config

    def items(self, top: _Section, name: str, build: Any) -> Iterator[Any]:
        """Each table of the array `name`, built by `build`; skips (and reports) malformed ones."""
        value = top.get(name, (list,), f"an array of tables ([[{name}]])")
        for index, item in enumerate(value or ()):
            if not isinstance(item, dict):
                top.problem(name, f"'{name}' must hold tables ([[{name}]]), not {_toml_type(item)}")
                continue
            section = _Section(self, item, _Where(name, index))
            built = build(section)
            section.finish()
            if built is not None:
                yield built

    def policy(self, top: _Section) -> PolicySettings:
        value = top.get("policy", (dict,), "a table ([policy])")
        section = _Section(self, value or {}, _Where("policy"))
        defaults = PolicySettings()
        settings = PolicySettings(
            soft_threshold=section.integer("soft_threshold", defaults.soft_threshold) or 1,
            window_days=section.integer("window_days", defaults.window_days) or 1,
            retention_days=section.integer("retention_days", defaults.retention_days) or 1,
        )
        section.finish()
        return settings

    _IMAP_KEYS = (
        "password_env",
        "password_file",
        "ca_file",
        "allow_plaintext",
        "read",
        "after_read",
        "timeout",
    )

    def source(self, section: _Section) -> SourceConfig | None:
        path, url = section.string("path"), section.string("imap")
        if url is not None and path is None:
            return self.imap_source(section, url)
        section.used.update(self._IMAP_KEYS)  # known keys, even where they do not apply
        if url is not None or path is None:
            section.problem(None, "give exactly one of 'path' or 'imap'")
            return None
        for key in self._IMAP_KEYS:
            if key in section.data:
                section.problem(key, f"'{key}' applies to 'imap' sources only")
        if is_imap_url(path):
            section.problem("path", "an IMAP URL goes in 'imap', not 'path'")
            return None
        return SourceConfig(path if path == "-" else str(self.resolve(path)))

    def imap_source(self, section: _Section, url: str) -> SourceConfig | None:
        password_env = section.string("password_env") or DEFAULT_PASSWORD_ENV
        password_file, ca_file = section.path("password_file"), section.path("ca_file")
        read = section.string("read") or "unseen"
        after = section.string("after_read") or "seen"
        timeout = section.integer("timeout", 60) or 60
        allow_plaintext = section.boolean("allow_plaintext", default=False)
        if read not in ("unseen", "all"):
            section.problem("read", f"'read' must be 'unseen' or 'all', not {read!r}")
        try:
            location = parse_imap_url(url)
        except SourceError as error:
            section.problem("imap", str(error))
            return None
        if location.secure and allow_plaintext:
            # Harmless, but a sign the user believes imaps:// can fall back: say it cannot.
            section.problem(
                "allow_plaintext",
                "'allow_plaintext' applies to imap:// only: imaps:// is always TLS",
            )
        try:
            after_read = AfterRead.parse(after)
        except ConfigError as error:
            section.problem("after_read", str(error))
            return None
        settings = ImapSettings(
            location,
            password_env=password_env,
            password_file=password_file,
            ca_file=ca_file,
            unseen_only=read != "all",
            after_read=after_read,
            timeout=float(timeout),
            allow_plaintext=allow_plaintext,
        )
        return SourceConfig(location.url, settings)

    def contact_file(self, section: _Section) -> ContactFile | None:
        path = section.path("path")
        action = section.choice("action", ContactsAction, None)
        contact = ContactFile(
            path=path or self.folder,
            action=action or ContactsAction.ANNOTATE,
            removed=section.path("removed"),
            output=section.path("output"),
            backup=section.boolean("backup", default=True),
            check_syntax=section.boolean("check_syntax", default=False),
            check_dns=section.boolean("check_dns", default=False),
            email_column=section.string("email_column"),
        )
        if path is None:
            section.problem(None, "'path' is required: the contact CSV")
        if action is None and "action" not in section.data:
            section.problem(None, "'action' is required: 'clean' or 'annotate'")
        if contact.action is ContactsAction.CLEAN and contact.output is not None:
            section.problem("output", "'output' applies to 'annotate'; 'clean' rewrites the file")
        if contact.action is ContactsAction.ANNOTATE and contact.removed is not None:
            section.problem("removed", "'removed' applies to 'clean' only")
        return contact if path is not None and action is not None else None

    def export(self, section: _Section) -> ExportConfig | None:
        path = section.path("path")
        kinds = self.kinds(section)
        export = ExportConfig(
            path=path or self.folder,
            format=section.choice("format", ExportFormat, ExportFormat.CSV) or ExportFormat.CSV,
            kinds=kinds,
            since=self.since(section),
        )
        if path is None:
            section.problem(None, "'path' is required: where the export is written")
            return None
        return export

    def kinds(self, section: _Section) -> tuple[Kind, ...]:
        kinds: list[Kind] = []
        for text in section.strings("kinds"):
            kind = text.strip().lower()
            if kind not in ERROR_KINDS:
                allowed = ", ".join(ERROR_KINDS)
                section.problem("kinds", f"kind {text!r} in 'kinds' is not one of {allowed}")
            else:
                kinds.append(Kind(kind))
        return tuple(kinds)

    def since(self, section: _Section) -> str | None:
        text = section.string("since")
        if text is None or _SINCE_SPAN.match(text):
            return text
        try:
            date.fromisoformat(text.strip())
        except ValueError:
            section.problem(
                "since", f"'since' must be like 60d, 12h, 2w or 2026-10-01, not {text!r}"
            )
            return None
        return text


def _toml_type(value: object) -> str:
    names: Sequence[tuple[type | tuple[type, ...], str]] = (
        (bool, "true/false"),
        (int, "a number"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a table"),
        ((datetime, date, time), "a date"),
    )
    for kinds, name in names:
        if isinstance(value, kinds):
            return name
    return type(value).__name__
