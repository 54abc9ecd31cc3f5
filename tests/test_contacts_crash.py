"""A clean killed with SIGKILL while writing leaves the original list intact."""

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
from tests.statuses import status, statuses
from tests.support import PROJECT

ROWS = 400_000
# A real process runs the library's clean; the test kills it mid-write.
DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from bouncetool.contacts import clean
from tests.statuses import status, statuses
bounced = statuses(*(status(f"user{n}@seznam.cz") for n in range(0, 400_000, 7)))
clean(Path(sys.argv[1]), bounced)
"""


def make_list(path: Path) -> str:
    rows = "".join(f"Jméno {n};Příjmení;user{n}@seznam.cz;Praha\r\n" for n in range(ROWS))
    path.write_bytes(f"Jméno;Příjmení;E-mail;Město\r\n{rows}".encode("cp1250"))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.endswith(".tmp")]


class TestKilledMidWrite:
    """SIGKILL while the new files are being written: original untouched, no half files."""

    @pytest.mark.parametrize("written", [256 * 1024, 4 * 1024 * 1024])
    def test_original_survives(self, tmp_path: Path, written: int) -> None:
        path = tmp_path / "list.csv"
        digest = make_list(path)
        env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(path), str(PROJECT)],
            env=env,
            cwd=PROJECT,
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
        assert leftovers == {"list.csv"}
        # Leftover temporaries do not get in the way of the next run.
        summary = clean(path, statuses(status("user0@seznam.cz")), CleanOptions())
        assert summary.removed == 1
