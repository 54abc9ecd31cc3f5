"""One stderr line per problem, for every command that reads bounces; ``--quarantine DIR``.

`classify` and `ingest` report a source that cannot be read, or a message
that cannot be parsed, the same way: one line, and the run goes on. Given a
quarantine folder, the message is first kept aside there byte for byte
(`bouncetool.quarantine`), and its line says where.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bouncetool.cli.terminal import stderr
from bouncetool.errors import OutputError
from bouncetool.model import Problem

if TYPE_CHECKING:
    from bouncetool.quarantine import Quarantine

QUARANTINE_OPTION: Path | None = typer.Option(
    None,
    "--quarantine",
    help="Keep each message that cannot be parsed, byte for byte, in DIR \\[default: off].",
    metavar="DIR",
    file_okay=False,
)
"""``--quarantine DIR``, shared by the commands that read bounces."""


class ProblemLines:
    """Prints each problem as one stderr line and counts them.

    With a quarantine folder, a message that could not be parsed is kept
    aside there first; its line then says where (or why it could not be).
    """

    def __init__(self, folder: Path | None = None) -> None:
        """Report problems; keep their messages in `folder` when one is given."""
        self.count = 0
        self._quarantine = _quarantine(folder)

    def report(self, problem: Problem) -> None:
        """Keep the problem's message aside (when asked to), then print its line."""
        self.count += 1
        stderr().print(f"bouncetool: {self._line(problem)}", markup=False, highlight=False)

    def _line(self, problem: Problem) -> str:
        if self._quarantine is None or problem.data is None:
            return problem.describe()
        try:
            kept = self._quarantine.keep(problem)
        except OutputError as error:
            return f"{problem.describe()} (not kept aside: {error})"
        return f"{problem.describe()} (kept aside as {kept.path})"


def _quarantine(folder: Path | None) -> Quarantine | None:
    # Imported only when asked for: `classify` starts without it.
    if folder is None:
        return None
    from bouncetool.quarantine import Quarantine

    return Quarantine(folder)
