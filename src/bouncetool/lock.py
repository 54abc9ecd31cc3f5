"""One run at a time: an exclusive ``flock`` on a lock file that holds the runner's PID.

The kernel releases a ``flock`` when its process dies, however it dies, so a
lock left behind by a killed run is simply free: the next run takes it over
(and says so, because the file still names the dead PID). The file itself is
never deleted — deleting a lock file while another process waits on it is how
two runs end up holding "the" lock at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from bouncetool.errors import LockHeldError, StateError


class RunLock:
    """An exclusive lock on `path`, held from ``with`` until its end (or `release`)."""

    def __init__(self, path: Path, *, wait: float = 0.0, poll: float = 0.1) -> None:
        """Prepare to lock `path`; `wait` seconds to wait for another run (0: fail at once)."""
        self.path = path
        self.wait = wait
        self.poll = poll
        self.stale_pid: int | None = None  # PID of a dead run whose lock was taken over
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait` seconds; `LockHeldError` if another run keeps it."""
        fd = self._open()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_pid(fd)
                    os.close(fd)
                    raise LockHeldError(self._held_message(holder)) from None
                time.sleep(self.poll)
        self._fd = fd
        # A PID left in the file means its run ended without releasing: it died.
        self.stale_pid = _read_pid(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        """Empty the file (no PID: nobody holds it) and let the lock go."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the last descriptor drops the flock
        self._fd = None

    def __enter__(self) -> RunLock:
        """Acquire the lock."""
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Release the lock."""
        self.release()

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise StateError(f"{self.path}: cannot open the lock file: {error.strerror}") from None

    def _held_message(self, holder: int | None) -> str:
        who = f" (pid {holder})" if holder else ""
        waited = f" after waiting {self.wait:g} s" if self.wait > 0 else ""
        return f"{self.path}: another bouncetool run holds the lock{who}; gave up{waited}"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
