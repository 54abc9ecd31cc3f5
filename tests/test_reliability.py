"""A `bouncetool run` killed at any point, or two at once, lose nothing and count nothing twice.

Each test builds the same setup — unseen bounces in a real Dovecot INBOX, a
mailbox file with over one ledger transaction's worth of bounced recipients,
a contact list to clean, an export — kills a run with SIGKILL at one point,
runs again, and compares everything with one clean, uninterrupted run:
the ledger's events, the contact list, the removed rows, the export, and the
mailbox (every message still there, none left unread).

The points are the runner's ``BOUNCETOOL_KILL_AT`` checkpoints, with the
message or record number picked by a seeded random generator (the same on
every run of the suite), and one kill timed into the contact file's rewrite.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bouncetool.config import load_config
from bouncetool.runner import INGEST_BATCH, KILL_AT_ENV, run
from tests.imapserver import PASSWORD, DovecotServer
from tests.mailfactory import dsn
from tests.runsetup import Workspace, bounce_messages, make_workspace, write_mbox
from tests.support import PROJECT

SEED = 20261124
RECIPIENTS_PER_MESSAGE = 60
SMALL = 2  # campaign reports in the mbox: 120 recipients, inside one ledger transaction
BIG = INGEST_BATCH // RECIPIENTS_PER_MESSAGE + 2  # more than one ledger transaction
IMAP_MESSAGES = len(bounce_messages())
RECORDS_FROM_IMAP = IMAP_MESSAGES  # one record each (the plain message is one not-bounce)
ENV = {"PYTHONPATH": str(PROJECT / "src"), "BT_TEST_PW": PASSWORD}


def seeded() -> random.Random:
    """The same pseudo-random choices on every run of the suite."""
    return random.Random(SEED)  # noqa: S311  (reproducible test choices, not secrets)


def campaign_bounces(reports: int) -> list[bytes]:
    """Big bounce reports: many recipients of one campaign each (an mbox source)."""
    return [
        dsn(
            f"c{n}@example.cz",
            also=[f"c{n}-{k}@example.cz" for k in range(1, RECIPIENTS_PER_MESSAGE)],
        )
        for n in range(reports)
    ]


def build(
    root: Path, server: DovecotServer, folder: str, *, reports: int = SMALL, contacts_rows: int = 6
) -> Workspace:
    """The setup: unseen bounces in `folder`, a campaign mbox, contacts to clean, an export."""
    server.append_all(bounce_messages(), folder)
    source = f'imap = "{server.url(folder)}"\npassword_env = "BT_TEST_PW"'
    workspace = make_workspace(
        root, sources=[source, 'path = "campaign.mbox"'], contacts_rows=contacts_rows
    )
    write_mbox(root / "campaign.mbox", campaign_bounces(reports))
    return workspace


@dataclass(frozen=True)
class Outcome:
    """Everything a run leaves that must not depend on whether it was interrupted."""

    events: list[tuple[object, ...]]
    contacts: bytes
    removed: bytes
    export: bytes

    @classmethod
    def of(cls, workspace: Workspace) -> Outcome:
        with sqlite3.connect(workspace.ledger) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return cls(
            workspace.events(),
            workspace.contacts.read_bytes(),
            workspace.removed.read_bytes(),
            workspace.export.read_bytes(),
        )


@pytest.fixture(scope="module")
def references(
    dovecot: DovecotServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[int, Outcome]]:
    """What one uninterrupted run produces from the small and from the big setup."""
    saved = os.environ.get("BT_TEST_PW")
    os.environ["BT_TEST_PW"] = PASSWORD
    outcomes = {}
    for reports in (SMALL, BIG):
        root = tmp_path_factory.mktemp(f"reference{reports}")
        workspace = build(root, dovecot, f"Reference{reports}", reports=reports)
        summary = run(load_config(workspace.config))
        assert summary.exit_code == 0, summary.problems
        assert summary.messages == IMAP_MESSAGES + reports
        outcomes[reports] = Outcome.of(workspace)
    yield outcomes
    if saved is None:
        del os.environ["BT_TEST_PW"]
    else:
        os.environ["BT_TEST_PW"] = saved


@pytest.fixture
def reference(references: dict[int, Outcome]) -> Outcome:
    """The uninterrupted outcome of the small setup."""
    return references[SMALL]


def rerun(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, killed: int) -> None:
    """The next run, in this process (the state is in files and the mailbox, not in memory).

    It must take over the lock the killed run (PID `killed`) died holding and
    remove the temporary files that run left.
    """
    monkeypatch.setenv("BT_TEST_PW", PASSWORD)
    summary = run(load_config(workspace.config))
    assert summary.exit_code == 0, summary.problems
    assert summary.stale_lock_pid == killed
    # Nothing half-written is left lying around (a partial list is personal data).
    assert not list(workspace.root.rglob(".*.tmp"))


def start_run(
    workspace: Workspace, *extra: str, kill_at: str | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV}
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    return subprocess.Popen(
        [sys.executable, "-m", "bouncetool", "run", "-c", str(workspace.config), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _out, err = process.communicate(timeout=60)
    return process.returncode, err.decode("utf-8", "replace")


def kill_points() -> Iterator[str]:
    """The checkpoints of the small setup, message/record numbers from a seeded generator."""
    chooser = seeded()
    records = RECORDS_FROM_IMAP + SMALL * RECIPIENTS_PER_MESSAGE
    yield f"fetch:{chooser.randint(1, IMAP_MESSAGES)}"  # inside the IMAP fetch
    yield f"fetch:{chooser.randint(IMAP_MESSAGES + 1, IMAP_MESSAGES + SMALL)}"  # inside the mbox
    yield f"ingest:{chooser.randint(1, records)}"  # before the ledger's first commit
    yield from ("settle", "contacts", "exports", "prune", "summary")


def kill_point_after_a_commit() -> str:
    """A record number in the big setup's second ledger transaction (seeded)."""
    records = RECORDS_FROM_IMAP + BIG * RECIPIENTS_PER_MESSAGE
    return f"ingest:{seeded().randint(INGEST_BATCH + 1, records)}"


def assert_like_reference(workspace: Workspace, server: DovecotServer, reference: Outcome) -> None:
    assert Outcome.of(workspace) == reference
    assert server.uids(criteria="UNSEEN") == []  # nothing left unread ...
    assert len(server.uids()) == IMAP_MESSAGES  # ... and nothing lost


class TestKilled:
    """A run killed at any checkpoint, then run again, ends exactly like one clean run."""

    @pytest.mark.parametrize("point", list(kill_points()))
    def test_kill_then_rerun(
        self,
        point: str,
        tmp_path: Path,
        imap_server: DovecotServer,
        reference: Outcome,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        workspace = build(tmp_path, imap_server, "INBOX")
        original = workspace.contacts.read_bytes()
        process = start_run(workspace, kill_at=point)
        code, _ = finish(process)
        assert code == -signal.SIGKILL
        # Whatever the point, the contact list is whole: the old one or the new one.
        assert workspace.contacts.read_bytes() in (original, reference.contacts)
        rerun(workspace, monkeypatch, process.pid)
        assert_like_reference(workspace, imap_server, reference)

    def test_kill_after_a_ledger_commit(
        self,
        tmp_path: Path,
        imap_server: DovecotServer,
        references: dict[int, Outcome],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Killed with one ledger transaction committed and the next one open."""
        workspace = build(tmp_path, imap_server, "INBOX", reports=BIG)
        process = start_run(workspace, kill_at=kill_point_after_a_commit())
        code, _ = finish(process)
        assert code == -signal.SIGKILL
        assert 0 < len(workspace.events()) < len(references[BIG].events)
        rerun(workspace, monkeypatch, process.pid)
        assert_like_reference(workspace, imap_server, references[BIG])

    def test_kill_while_the_contact_file_is_written(
        self, tmp_path: Path, imap_server: DovecotServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Killed with the new list part-written: the old list stays whole, the rerun finishes."""
        rows = 150_000
        clean = build(tmp_path / "clean", imap_server, "Clean", contacts_rows=rows)
        monkeypatch.setenv("BT_TEST_PW", PASSWORD)
        run(load_config(clean.config))
        expected = Outcome.of(clean)
        workspace = build(tmp_path / "killed", imap_server, "INBOX", contacts_rows=rows)
        original = workspace.contacts.read_bytes()
        # Kill once the temporary new list holds this share of the old one's bytes.
        share = seeded().uniform(0.1, 0.9)
        process = start_run(workspace)
        written = _wait_for_partial(workspace.root, ".contacts.csv.", share * len(original))
        process.send_signal(signal.SIGKILL)
        finish(process)
        assert 0 < written < len(original)
        assert "clean done" not in _text(workspace.log)
        assert workspace.contacts.read_bytes() == original
        rerun(workspace, monkeypatch, process.pid)
        assert Outcome.of(workspace) == expected


def _wait_for_partial(folder: Path, prefix: str, size: float) -> int:
    """Wait until a temporary file `prefix`* in `folder` has `size` bytes; returns its size."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    current = entry.stat().st_size
                    if current >= size:
                        return current
        time.sleep(0.001)
    raise AssertionError(f"no temporary {prefix}* file reached {size:.0f} bytes in {folder}")


class TestConcurrent:
    """Two runs started together never corrupt anything: one waits or gives up with status 3."""

    def test_both_wait(
        self, tmp_path: Path, imap_server: DovecotServer, reference: Outcome
    ) -> None:
        workspace = build(tmp_path, imap_server, "INBOX")
        first, second = start_run(workspace, "--wait", "60"), start_run(workspace, "--wait", "60")
        results = [finish(first), finish(second)]
        assert [code for code, _ in results] == [0, 0], results
        assert_like_reference(workspace, imap_server, reference)

    def test_one_gives_up(
        self, tmp_path: Path, imap_server: DovecotServer, reference: Outcome
    ) -> None:
        workspace = build(tmp_path, imap_server, "INBOX")
        first, second = start_run(workspace), start_run(workspace)
        codes = sorted(code for code, _ in (finish(first), finish(second)))
        assert codes in ([0, 0], [0, 3])
        assert_like_reference(workspace, imap_server, reference)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
