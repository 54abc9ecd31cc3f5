"""The ledger's SQLite schema and the ordered steps that bring any older file up to date.

A file's schema version is ``PRAGMA user_version``; ``PRAGMA application_id``
marks it as a bouncetool ledger, so a stranger's database is refused rather
than altered. Each `Migration` moves the file up by one version; all pending
steps run in one ``BEGIN IMMEDIATE`` transaction, so two processes opening an
old file at once migrate it once, and a crash leaves the old version intact.
Never edit a released step: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bouncetool.errors import StateError

APPLICATION_ID = 0x424F554E  # "BOUN", in the SQLite header at offset 68


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: `version` is the user_version the file has after it."""

    version: int
    purpose: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events: one row per bounced recipient of one message",
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- monotonic: tells this run's rows apart
            fingerprint TEXT NOT NULL UNIQUE,  -- message identity + recipient + kind
            address TEXT NOT NULL,  -- normalise_address(recipient)
            domain TEXT NOT NULL,
            recipient TEXT NOT NULL,  -- as the bounce spelled it
            kind TEXT NOT NULL,  -- the verdict's kind (what the policy reads)
            bounce_kind TEXT NOT NULL,  -- the extractor's kind (part of the fingerprint)
            reason TEXT,
            category TEXT,
            blame TEXT,
            rule TEXT,
            matched TEXT,
            explanation_cs TEXT,
            explanation_en TEXT,
            action TEXT,
            status TEXT,
            reply_code TEXT,
            diagnostic TEXT,
            remote_mta TEXT,
            reporting_mta TEXT,
            original_message_id TEXT,
            original_sender TEXT,
            campaign TEXT,
            feedback_type TEXT,
            bounced_at TEXT NOT NULL,  -- ISO 8601 with the bounce's own offset
            bounced_ts INTEGER NOT NULL,  -- the same instant in Unix seconds, for ranges
            read_at TEXT NOT NULL,  -- ISO 8601, when it was stored
            source TEXT,
            message INTEGER
        );
        CREATE INDEX events_by_address ON events (address, bounced_ts);
        CREATE INDEX events_by_date ON events (bounced_ts);
        """,
    ),
    Migration(
        2,
        "suppressions that outlive their events; addresses forgotten on purpose",
        """
        CREATE TABLE suppressions (  -- escalations frozen when their soft bounces expired
            address TEXT PRIMARY KEY,
            cause TEXT NOT NULL,  -- 'escalated': the only cause so far
            kind TEXT NOT NULL,
            reason TEXT,
            category TEXT,
            rule TEXT,
            why TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            last_diagnostic TEXT,
            explanation_cs TEXT,
            explanation_en TEXT,
            campaign TEXT,
            frozen_at TEXT NOT NULL
        );
        CREATE TABLE forgotten (  -- bounces dated up to forgotten_ts are not stored again
            address TEXT PRIMARY KEY,
            forgotten_at TEXT NOT NULL,
            forgotten_ts INTEGER NOT NULL
        );
        """,
    ),
)

LATEST = MIGRATIONS[-1].version


def migrate(conn: sqlite3.Connection, path: Path, steps: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the ledger at `path` (open as `conn`, autocommit) up to the last of `steps`.

    Returns the version it had before. Refuses a database that is not a
    ledger, or one written by a newer bouncetool.
    """
    target = steps[-1].version if steps else 0
    version, app_id = _header(conn, path)
    _check(conn, path, version, app_id, target)
    if version == target:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version, app_id = _header(conn, path)  # another process may have migrated meanwhile
        _check(conn, path, version, app_id, target)
        for step in steps:
            if step.version > version:
                for statement in _statements(step.sql):
                    conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version


def check(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, before touching it, a file that is not a ledger this bouncetool can use."""
    version, app_id = _header(conn, path)
    _check(conn, path, version, app_id, LATEST)


def _header(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise StateError(f"{path}: not a bouncetool ledger ({error})") from error
    return int(version), int(app_id)


def _check(conn: sqlite3.Connection, path: Path, version: int, app_id: int, target: int) -> None:
    if app_id == 0 and version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()
        if tables[0]:
            raise StateError(f"{path}: not a bouncetool ledger (a database of something else)")
        return
    if app_id != APPLICATION_ID:
        raise StateError(f"{path}: not a bouncetool ledger (application id {app_id:#x})")
    if version > target:
        raise StateError(
            f"{path}: written by a newer bouncetool (schema {version}; this one knows {target})"
        )


def _statements(script: str) -> list[str]:
    """`script` split into statements (executescript would commit our transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
