"""An older ledger file is brought up to date on open, keeping every event."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from bouncetool.model import Kind
from bouncetool.state import Ledger
from bouncetool.state.schema import APPLICATION_ID, LATEST, MIGRATIONS, migrate

V1_EVENT = {
    "fingerprint": "0123456789abcdef0123456789abcdef",
    "address": "jan@example.cz",
    "domain": "example.cz",
    "recipient": "Jan@Example.cz",
    "kind": "hard",
    "bounce_kind": "hard",
    "reason": "userunknown",
    "rule": "r-550",
    "bounced_at": "2026-01-05T10:00:00+01:00",
    "bounced_ts": int(datetime(2026, 1, 5, 9, tzinfo=UTC).timestamp()),
    "read_at": "2026-01-06T08:00:00+00:00",
}


def make_v1(path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, MIGRATIONS[:1])
    names = ", ".join(V1_EVENT)
    marks = ", ".join("?" * len(V1_EVENT))
    conn.execute(f"INSERT INTO events ({names}) VALUES ({marks})", tuple(V1_EVENT.values()))  # noqa: S608
    conn.close()


class TestMigrations:
    """Steps are numbered 1, 2, ... and each moves the file up by one version."""

    def test_steps_are_consecutive(self) -> None:
        assert [step.version for step in MIGRATIONS] == list(range(1, LATEST + 1))
        assert all(step.purpose for step in MIGRATIONS)

    def test_from_version_1(self, tmp_path) -> None:
        path = tmp_path / "old.sqlite3"
        make_v1(path)
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        conn.close()
        with Ledger.open(path) as ledger:
            [event] = ledger.events()
            assert (event.address, event.kind, event.rule) == ("jan@example.cz", Kind.HARD, "r-550")
            statuses = ledger.address_statuses(now=datetime(2026, 2, 1, tzinfo=UTC))
            assert statuses["jan@example.cz"].suppressed
            assert ledger.forget(["jan@example.cz"]) == 1  # needs the tables of version 2
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert conn.execute("SELECT count(*) FROM forgotten").fetchone()[0] == 1
        conn.close()

    def test_a_failing_step_leaves_the_old_version(self, tmp_path) -> None:
        path = tmp_path / "old.sqlite3"
        make_v1(path)
        broken = (
            *MIGRATIONS,
            MIGRATIONS[0].__class__(LATEST + 1, "broken", "CREATE TABLE events (x);"),
        )
        conn = sqlite3.connect(path, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            migrate(conn, path, broken)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert (
            conn.execute(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'suppressions'"
            ).fetchone()[0]
            == 0
        )
        conn.close()

    def test_reopening_a_current_file_changes_nothing(self, tmp_path) -> None:
        path = tmp_path / "ledger.sqlite3"
        with Ledger.open(path):
            pass
        with sqlite3.connect(path) as conn:
            schema = conn.execute("SELECT sql FROM sqlite_schema ORDER BY name").fetchall()
        conn.close()
        with Ledger.open(path):
            pass
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT sql FROM sqlite_schema ORDER BY name").fetchall() == schema
        conn.close()
