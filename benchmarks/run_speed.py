"""How long one `bouncetool run` takes: IMAP fetch, ledger, clean of a big list, export.

Starts a throwaway Dovecot on loopback (as the tests do), delivers MESSAGES
bounce reports into its INBOX, writes a contact list of CONTACTS rows, then
times, in this process:

- reading the mailbox alone (EXAMINE + UID FETCH BODY.PEEK[] in batches),
- a full `run` (read, parse, classify, ledger, mark read, clean, export, prune),
- a second `run` with nothing new (the nightly steady state).

Usage: ``python benchmarks/run_speed.py [MESSAGES] [CONTACTS]`` from the
project folder (defaults 2000 and 200000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT), str(PROJECT / "src")]

from bouncetool.runner import run  # noqa: E402
from tests.imapserver import PASSWORD, start_dovecot  # noqa: E402
from tests.mailfactory import dsn  # noqa: E402
from tests.runsetup import make_workspace  # noqa: E402

from bouncetool.config import load_config  # noqa: E402  (after the path is set)
from bouncetool.imap import ImapMailbox, ImapSettings, parse_imap_url  # noqa: E402


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    contacts = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    os.environ["BT_TEST_PW"] = PASSWORD
    server = start_dovecot()
    try:
        started = time.perf_counter()
        # Bounces for addresses on the list, spread over it: the clean removes them all.
        step = max(1, contacts // messages)
        server.append_all(dsn(f"kontakt{n * step}@example.cz") for n in range(messages))
        print(f"delivered {messages} messages by APPEND in {time.perf_counter() - started:.2f} s")
        location = parse_imap_url(server.url())
        settings = ImapSettings(location, password_env="BT_TEST_PW")  # noqa: S106
        started = time.perf_counter()
        with ImapMailbox(settings) as mailbox:
            size = sum(len(message.data) for message in mailbox.iter_messages())
        took = time.perf_counter() - started
        rate = messages / took
        print(f"fetch only: {messages} messages, {size / 1e6:.1f} MB: {took:.2f} s, {rate:,.0f}/s")
        with tempfile.TemporaryDirectory() as folder:
            source = f'imap = "{server.url()}"\npassword_env = "BT_TEST_PW"'
            workspace = make_workspace(Path(folder), sources=[source], contacts_rows=contacts)
            config = load_config(workspace.config)
            for label in ("first run", "second run (nothing new)"):
                started = time.perf_counter()
                summary = run(config)
                took = time.perf_counter() - started
                print(f"{label}: {took:.2f} s: {summary.line()}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
