"""A separate process that writes to a ledger, for the concurrency and crash tests.

    python -m tests.ledger_worker PATH SEED COUNT BATCH [--hang-in-transaction MARKER]

Ingests `mailbox(COUNT, SEED)` in batches of BATCH. With ``--hang-in-transaction``
it touches MARKER and sleeps once its first write transaction has inserted
rows and not yet committed: the test then kills it with SIGKILL.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bouncetool.state import Ledger
from tests.ledger_records import mailbox

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def main(argv: list[str]) -> int:
    path, seed, count, batch = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    marker = Path(argv[5]) if len(argv) > 5 and argv[4] == "--hang-in-transaction" else None
    records = mailbox(count, seed=seed, addresses=300)
    with Ledger.open(path, timeout=60) as ledger:
        if marker is not None:
            conn = ledger._conn  # the test reaches inside on purpose: to stop mid-write

            def hang() -> int:
                if conn.in_transaction and conn.total_changes > 0:
                    marker.touch()
                    time.sleep(3600)
                return 0

            conn.set_progress_handler(hang, 1000)
        summary = ledger.ingest(records, NOW, batch_size=batch)
    print(summary.new, summary.duplicate)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
