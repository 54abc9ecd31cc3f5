"""Helpers the tests share: where the corpus is, and running the real CLI or a script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


def corpus_dir() -> Path | None:
    """The shared corpus (``BOUNCETOOL_CORPUS`` or ``../shared/corpus``), or None when absent."""
    configured = os.environ.get("BOUNCETOOL_CORPUS")
    path = Path(configured) if configured else PROJECT.parent / "shared" / "corpus"
    return path if (path / "truth.jsonl").is_file() else None


@dataclass(frozen=True)
class CliResult:
    """What a run of the real ``bouncetool`` process gave."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    args: Sequence[str | Path],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run ``python -m bouncetool ARGS`` as a user would, in a separate process."""
    full_env = {**os.environ, "PYTHONPATH": str(PROJECT / "src"), "COLUMNS": "200"}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "bouncetool", *map(str, args)],
        input=input,
        capture_output=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return CliResult(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def run_python(
    script: str, *, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -c SCRIPT`` in a fresh interpreter that imports bouncetool from ``src``."""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
