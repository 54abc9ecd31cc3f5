"""The run lock: one holder at a time, waiting on request, taken over from dead runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bouncetool.errors import LockHeldError
from bouncetool.lock import RunLock
from tests.support import PROJECT

HOLDER = """
import sys, time
from pathlib import Path
from bouncetool.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def start_holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that takes the lock, says so, holds it `seconds`, then lets go."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    """A lock file in a folder that does not exist yet."""
    return tmp_path / "state" / "run.lock"


class TestExclusive:
    """While one run holds the lock, another fails at once naming the holder's PID."""

    def test_other_process_holds_it(self, lock_path: Path) -> None:
        holder = start_holder(lock_path, 30)
        try:
            started = time.monotonic()
            with pytest.raises(LockHeldError, match=rf"holds the lock \(pid {holder.pid}\)"):
                RunLock(lock_path).acquire()
            assert time.monotonic() - started < 0.5
        finally:
            holder.kill()
            holder.wait()

    def test_same_process_second_lock(self, lock_path: Path) -> None:
        with RunLock(lock_path), pytest.raises(LockHeldError):
            RunLock(lock_path).acquire()

    def test_exit_status_is_3(self) -> None:
        assert LockHeldError("x").exit_code == 3


class TestWaiting:
    """With a wait, a run takes the lock as soon as it is free, or gives up after the wait."""

    def test_waits_for_release(self, lock_path: Path) -> None:
        holder = start_holder(lock_path, 0.4)
        with RunLock(lock_path, wait=10, poll=0.02) as lock:
            assert lock.stale_pid is None  # released properly, not taken over
        assert holder.wait(timeout=5) == 0

    def test_gives_up_after_the_wait(self, lock_path: Path) -> None:
        holder = start_holder(lock_path, 30)
        try:
            started = time.monotonic()
            with pytest.raises(LockHeldError, match=r"gave up after waiting 0\.3 s"):
                RunLock(lock_path, wait=0.3, poll=0.02).acquire()
            assert 0.3 <= time.monotonic() - started < 2
        finally:
            holder.kill()
            holder.wait()


class TestStale:
    """A lock left by a killed run is taken over at once, and the dead PID is reported."""

    def test_killed_holder(self, lock_path: Path) -> None:
        holder = start_holder(lock_path, 30)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert lock_path.read_text().strip() == str(holder.pid)
        with RunLock(lock_path) as lock:
            assert lock.stale_pid == holder.pid
            assert lock_path.read_text().strip() == str(os.getpid())


class TestRelease:
    """Releasing empties the file and keeps it; the next run finds no stale PID."""

    def test_release(self, lock_path: Path) -> None:
        with RunLock(lock_path):
            pass
        assert lock_path.exists()
        assert lock_path.read_text() == ""
        with RunLock(lock_path) as lock:
            assert lock.stale_pid is None
