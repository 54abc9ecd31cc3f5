"""A workspace for `bouncetool run` tests: bounces, a contact list and a bouncetool.toml.

Everything is written on the spot from `tests.mailfactory`: three hard
bounces, one address soft-bouncing on three days (escalates to hard), one
ordinary message, and a ``;``-separated UTF-8-with-BOM contact list with
Czech names where those four addresses sit among addresses that never
bounced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.mailfactory import dsn, plain_message, soft_dsn

HARD = ("jan.novak@example.cz", "petr@seznam.cz", "lucie@post.cz")
SOFT = "eva@example.cz"
SUPPRESSED = (*HARD, SOFT)


def bounce_messages() -> list[bytes]:
    """The test bounces: 3 hard, 3 soft for one address on 3 days, 1 plain message."""
    return [
        *(dsn(address) for address in HARD),
        *(soft_dsn(SOFT, day) for day in (1, 2, 3)),
        plain_message(),
    ]


def write_mbox(path: Path, messages: Sequence[bytes]) -> Path:
    """`messages` as an mbox file (``From `` lines, LF line ends)."""
    with path.open("wb") as out:
        for message in messages:
            body = message.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
            out.write(b"From MAILER-DAEMON Fri Nov 20 08:30:00 2026\n" + body + b"\n")
    return path


def write_contacts(path: Path, extra_rows: int = 6) -> Path:
    """A ``;`` CSV in UTF-8 with BOM: the suppressed addresses among `extra_rows` good ones."""
    rows = ["email;jméno;město"]
    good = [f"kontakt{n}@example.cz;Zákazník {n};Brno" for n in range(extra_rows)]
    bounced = [f"{address};Příjmení {n};Praha" for n, address in enumerate(SUPPRESSED)]
    for index, row in enumerate(good):
        rows.append(row)
        if index < len(bounced):
            rows.append(bounced[index])
    rows.extend(bounced[len(good) :])
    path.write_bytes("\ufeff".encode() + "\r\n".join(rows).encode() + b"\r\n")
    return path


@dataclass(frozen=True)
class Workspace:
    """The files of one test run."""

    root: Path
    config: Path

    @property
    def contacts(self) -> Path:
        return self.root / "contacts.csv"

    @property
    def removed(self) -> Path:
        return self.root / "contacts.removed.csv"

    @property
    def export(self) -> Path:
        return self.root / "out" / "errors.csv"

    @property
    def summary(self) -> Path:
        return self.root / "out" / "summary.json"

    @property
    def log(self) -> Path:
        return self.root / "out" / "run.log"

    @property
    def ledger(self) -> Path:
        return self.root / "state" / "ledger.sqlite3"

    def events(self) -> list[tuple[object, ...]]:
        """The ledger's events without the columns that name where or when they were read."""
        with sqlite3.connect(self.ledger) as conn:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
            keep = [
                c for c in columns if c not in {"id", "source", "message", "read_at", "read_ts"}
            ]
            return sorted(conn.execute(f"SELECT {', '.join(keep)} FROM events").fetchall())  # noqa: S608


def make_workspace(
    root: Path,
    *,
    sources: Sequence[str] = ('path = "bounces.mbox"',),
    action: str = "clean",
    extra: str = "",
    contacts_rows: int = 6,
) -> Workspace:
    """Write bounces, contacts and a bouncetool.toml naming them into `root`."""
    root.mkdir(parents=True, exist_ok=True)
    write_mbox(root / "bounces.mbox", bounce_messages())
    write_contacts(root / "contacts.csv", contacts_rows)
    blocks = "".join(f"\n[[sources]]\n{source}\n" for source in sources)
    output = 'output = "out/contacts.annotated.csv"\n' if action == "annotate" else ""
    text = f"""\
state = "state/ledger.sqlite3"
language = "cs"
log_file = "out/run.log"
summary_file = "out/summary.json"
{extra}
{blocks}
[[contacts]]
path = "contacts.csv"
action = "{action}"
{output}
[[exports]]
path = "out/errors.csv"
"""
    config = root / "bouncetool.toml"
    config.write_text(text, encoding="utf-8")
    return Workspace(root, config)
