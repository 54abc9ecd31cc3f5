"""The ledger: a SQLite file that remembers every bounce between runs.

See `bouncetool.state.ledger.Ledger`; the policy that reads it is
`bouncetool.policy`.
"""

from __future__ import annotations

from bouncetool.state.ledger import IngestSummary, Ledger
from bouncetool.state.location import STATE_ENV, default_state_path, resolve_state_path

__all__ = ["STATE_ENV", "IngestSummary", "Ledger", "default_state_path", "resolve_state_path"]
