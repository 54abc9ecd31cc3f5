"""The typer application every command module registers on.

Command modules import heavy libraries (pandas, dnspython) inside their
functions, so that ``bouncetool classify`` starts fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bouncetool",
    help="Bounce hygiene for bulk senders: read bounces, classify them, keep contact lists clean.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
