"""`bouncetool clean` killed with SIGKILL while writing leaves the original list intact."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bouncetool.contacts import CleanOptions, clean
from bouncetool.state import Ledger
from tests.ledger_records import record
from tests.statuses import status, statuses
from tests.support import PROJECT

ROWS = 400_000


def make_list(path: Path) -> str:
    rows = "".join(f"Jméno {n};Příjmení;user{n}@seznam.cz;Praha\r\n" for n in range(ROWS))
    path.write_bytes(f"Jméno;Příjmení;E-mail;Město\r\n{rows}".encode("cp1250"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_ledger(path: Path) -> None:
    """A ledger with a hard bounce for every 400th contact."""
    with Ledger.open(path) as ledger:
        ledger.ingest(
            record(f"user{n}@seznam.cz", message_id=f"<m{n}@x>", message=n + 1)
            for n in range(0, ROWS, 400)
        )


def temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.endswith(".tmp")]


class TestKilledMidWrite:
    """SIGKILL while the new files are being written: original untouched, no half files."""

    @pytest.mark.parametrize("written", [256 * 1024, 4 * 1024 * 1024])
    def test_original_survives(self, tmp_path: Path, written: int) -> None:
        path = tmp_path / "list.csv"
        digest = make_list(path)
        state = tmp_path / "state" / "ledger.sqlite"
        make_ledger(state)
        env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
        process = subprocess.Popen(
            [sys.executable, "-m", "bouncetool", "clean", str(path), "--state", str(state)],
            env=env,
            cwd=PROJECT,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None:
                if any(t.stat().st_size >= written for t in temporaries(tmp_path)):
                    break
                time.sleep(0.001)
            assert process.poll() is None, "clean finished before it could be killed"
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        leftovers = {p.name for p in tmp_path.iterdir()} - {t.name for t in temporaries(tmp_path)}
        assert leftovers == {"list.csv", "state"}
        # Leftover temporaries do not get in the way of the next run.
        summary = clean(path, statuses(status("user0@seznam.cz")), CleanOptions())
        assert summary.removed == 1
