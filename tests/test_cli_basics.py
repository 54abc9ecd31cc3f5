"""The command line answers the basics a user tries first."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bouncetool import __version__
from tests.support import PROJECT, run_cli, run_python


class TestVersion:
    """`--version` prints the package version and exits 0."""

    def test_version(self) -> None:
        result = run_cli(["--version"])
        assert result.exit_code == 0
        assert result.stdout.strip() == f"bouncetool {__version__}"


def _run_main(tmp_path: Path, prelude: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``bouncetool.cli.main()`` with `args` in a fresh process, after `prelude`."""
    script = (
        "import sys\n"
        f"{prelude}\n"
        "from bouncetool.cli import main\n"
        f"sys.argv = ['bouncetool', *{args!r}]\n"
        "main()\n"
    )
    return run_python(script, cwd=tmp_path)


class TestEnding:
    """A finished command ends at once, yet its output, exit functions and status are kept."""

    def test_output_exit_functions_and_status(self, tmp_path: Path) -> None:
        mbox = tmp_path / "in.mbox"
        mbox.write_bytes((PROJECT / "examples" / "bounces.mbox").read_bytes() + b"From x\n\n\x00")
        prelude = (
            "import atexit, pathlib\n"
            "atexit.register(lambda: pathlib.Path('atexit-ran').write_text('yes'))"
        )
        done = _run_main(tmp_path, prelude, ["classify", "--format", "jsonl", str(mbox)])
        normal = run_cli(["classify", "--format", "jsonl", PROJECT / "examples" / "bounces.mbox"])
        assert done.returncode == 1, done.stderr  # the last message is not mail
        assert done.stdout.startswith(
            normal.stdout.replace(str(PROJECT / "examples" / "bounces.mbox"), str(mbox))
        )
        assert (tmp_path / "atexit-ran").read_text() == "yes"

    def test_a_running_thread_is_waited_for(self, tmp_path: Path) -> None:
        prelude = (
            "import pathlib, threading, time\n"
            "def late():\n"
            "    time.sleep(0.3)\n"
            "    pathlib.Path('thread-done').write_text('yes')\n"
            "threading.Thread(target=late).start()"
        )
        done = _run_main(tmp_path, prelude, ["--version"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("bouncetool ")
        assert (tmp_path / "thread-done").read_text() == "yes"
