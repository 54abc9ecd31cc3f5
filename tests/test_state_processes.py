"""Real processes: a writer killed mid-write, or writers at once, never corrupt the ledger."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bouncetool.state import Ledger
from tests.ledger_records import dump, mailbox
from tests.ledger_worker import NOW
from tests.support import PROJECT


def start_worker(
    path: Path, seed: int, count: int, batch: int, *extra: str
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{PROJECT / 'src'}{os.pathsep}{PROJECT}"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ledger_worker",
            str(path),
            str(seed),
            str(count),
            str(batch),
            *extra,
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def stored(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=30) as conn:
            count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return int(count)


def healthy(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchall()
    conn.close()
    return result == [("ok",)]


def reference(path: Path, *seeds_and_counts: tuple[int, int]) -> dict:
    """The ledger that one undisturbed process builds from the same records."""
    with Ledger.open(path) as ledger:
        for seed, count in seeds_and_counts:
            ledger.ingest(mailbox(count, seed=seed, addresses=300), NOW)
    return dump(path)


class TestKilledWriter:
    """SIGKILL mid-ingest leaves the last committed state; ingesting again completes it."""

    def test_killed_inside_a_transaction(self, tmp_path) -> None:
        path, marker = tmp_path / "ledger.sqlite3", tmp_path / "in-transaction"
        worker = start_worker(path, 1, 3000, 1000, "--hang-in-transaction", str(marker))
        try:
            wait_for(marker.exists)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert worker.returncode == -signal.SIGKILL
        assert healthy(path)
        assert stored(path) == 0  # the open batch left nothing behind
        again = start_worker(path, 1, 3000, 1000)
        assert again.wait(timeout=120) == 0, again.stderr.read()  # type: ignore[union-attr]
        assert dump(path) == reference(tmp_path / "reference.sqlite3", (1, 3000))

    def test_killed_at_a_random_moment(self, tmp_path) -> None:
        path = tmp_path / "ledger.sqlite3"
        worker = start_worker(path, 2, 12000, 250)
        try:
            wait_for(lambda: stored(path) > 0)
            time.sleep(random.uniform(0, 0.3))  # noqa: S311
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert healthy(path)
        assert stored(path) % 250 == 0  # whole batches only
        # (all 12000 may be in even when the kill came, e.g. during the final prune or exit)
        assert stored(path) <= 12000
        again = start_worker(path, 2, 12000, 250)
        assert again.wait(timeout=120) == 0
        assert dump(path) == reference(tmp_path / "reference.sqlite3", (2, 12000))


class TestConcurrentWriters:
    """Writers at once wait for each other: every record is stored once, nothing corrupts."""

    def test_three_writers(self, tmp_path) -> None:
        path = tmp_path / "ledger.sqlite3"
        workers = [
            start_worker(path, 3, 8000, 1000),
            start_worker(path, 3, 8000, 700),  # the same mailbox, read at the same time
            start_worker(path, 4, 8000, 1000),
        ]
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
        new = [int(out.split()[0]) for out, _err in outputs]
        assert new[0] + new[1] == 8000
        assert new[2] == 8000
        assert healthy(path)
        assert dump(path) == reference(tmp_path / "reference.sqlite3", (3, 8000), (4, 8000))
