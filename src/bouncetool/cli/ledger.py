"""The ledger commands ``ingest``, ``prune`` and ``forget``: wiring; the work is in `state`."""

from __future__ import annotations

from pathlib import Path

import typer

from bouncetool.cli.app import app
from bouncetool.cli.terminal import stderr

STATE_OPTION = typer.Option(
    None,
    "--state",
    dir_okay=False,
    help="The ledger file. Default: $BOUNCETOOL_STATE, else a file in your data folder.",
)
"""``--state PATH``, shared by every command that reads or writes the ledger."""


@app.command()
def prune(
    days: int = typer.Option(60, "--days", min=1, help="Keep events this many days (bounce date)."),
    state: Path | None = STATE_OPTION,
) -> None:
    """Delete soft, delay and sender-side events older than --days.

    Hard bounces, complaints and escalated soft bounces stay until forgotten.
    """
    from bouncetool.policy import Policy
    from bouncetool.state import Ledger

    with Ledger.open(state) as ledger:
        pruned = ledger.prune(None, days, policy=Policy(retention_days=days))
        where = ledger.path
    stderr().print(f"pruned {_count(pruned, 'event')} older than {days} days from {where}")


@app.command()
def forget(
    addresses: list[str] = typer.Argument(..., metavar="ADDRESS...", help="Addresses to clear."),
    state: Path | None = STATE_OPTION,
) -> None:
    """Clear addresses from the ledger: they may be mailed again.

    Their bounces, suppressions and soft counts go; bounces dated before now
    are not stored for them again, so re-reading an old mailbox does not
    bring them back.
    """
    from bouncetool.addresses import normalise_address
    from bouncetool.state import Ledger

    wanted = [address for address in addresses if address.strip()]
    if not wanted:
        raise typer.BadParameter("give at least one address", param_hint="ADDRESS")
    with Ledger.open(state) as ledger:
        known = ledger.forget(wanted)
    unknown = len({normalise_address(address) for address in wanted}) - known
    note = (
        f" ({_count(unknown, 'address', 'addresses')} had nothing in the ledger)" if unknown else ""
    )
    stderr().print(f"forgot {_count(known, 'address', 'addresses')}{note}")


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
