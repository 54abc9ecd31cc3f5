"""The command line answers the basics a user tries first."""

from __future__ import annotations

from bouncetool import __version__
from tests.support import run_cli


class TestVersion:
    """`--version` prints the package version and exits 0."""

    def test_version(self) -> None:
        result = run_cli(["--version"])
        assert result.exit_code == 0
        assert result.stdout.strip() == f"bouncetool {__version__}"
