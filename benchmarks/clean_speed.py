"""How fast `bouncetool clean` removes 100,000 bounced addresses from a 10,000,000-row list.

Generates, in a temporary folder, a Czech contact CSV (``;``, CRLF, UTF-8 so
that polars can read it too; ~1 GB at the default size) and a ledger with the
bounced addresses, then times, each in its own process, with wall time and
peak memory (the child's maximum resident set size):

- ``bouncetool clean`` (kept rows byte for byte, removed rows with reasons);
- a plain pandas script doing the same filtering (``read_csv`` / ``to_csv``);
- a polars lazy script doing the same filtering (``scan_csv`` / ``sink_csv``).

Every tool must keep the same number of rows; the script checks it.

    python benchmarks/clean_speed.py               # 10,000,000 rows
    python benchmarks/clean_speed.py --rows 200000 # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "src"))  # run from a checkout without installing
DOMAINS = ("seznam.cz", "email.cz", "gmail.com", "centrum.cz", "post.cz", "volny.cz", "wp.pl")
NAMES = ("Jan", "Petra", "Tomáš", "Eva", "Lukáš", "Martina", "Karel", "Šárka", "Jiří", "Anna")
# Addresses spell names without diacritics, as people do.
LOCALS = ("jan", "petra", "tomas", "eva", "lukas", "martina", "karel", "sarka", "jiri", "anna")
SURNAMES = ("Novák", "Svobodová", "Horák", "Králová", "Černý", "Veselá", "Dvořák", "Žáková")
CITIES = ("Praha", "Brno", "Ostrava", "Plzeň", "Olomouc", "Ústí nad Labem", "České Budějovice")
HEADER = "Jméno;Příjmení;E-mail;Telefon;Město;Poslední otevření;Poznámka\r\n"

# Each measured command runs under this wrapper, alone, so the wrapper's
# RUSAGE_CHILDREN peak is exactly that command's peak memory.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], check=False, capture_output=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024,
                  "cpu": usage.ru_utime + usage.ru_stime, "status": done.returncode,
                  "stderr": done.stderr.decode("utf-8", "replace")[-2000:]}))
"""

PANDAS = """
import sys
import pandas as pd
source, bounced, kept, removed = sys.argv[1:5]
gone = set(open(bounced, encoding="utf-8").read().split())
frame = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")
mask = frame["E-mail"].str.strip().str.lower().isin(gone)
frame[~mask].to_csv(kept, sep=";", index=False, lineterminator="\\r\\n")
frame[mask].to_csv(removed, sep=";", index=False, lineterminator="\\r\\n")
"""

POLARS = """
import sys
import polars as pl
source, bounced, kept, removed = sys.argv[1:5]
gone = pl.Series(open(bounced, encoding="utf-8").read().split())
frame = pl.scan_csv(source, separator=";", infer_schema=False, eol_char="\\n")
key = pl.col("E-mail").str.strip_chars().str.to_lowercase()
frame.filter(~key.is_in(gone)).sink_csv(kept, separator=";", line_terminator="\\r\\n")
frame.filter(key.is_in(gone)).sink_csv(removed, separator=";", line_terminator="\\r\\n")
"""

# Until a ledger is importable (bouncetool.state), bouncetool is timed through
# its Python API with the same status map the ledger would hand over.
API = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from bouncetool.contacts import CleanOptions, clean
from bouncetool.model import AddressStatus, Kind
source, bounced, kept, removed = sys.argv[1:5]
now = datetime.now(UTC)
statuses = {
    address: AddressStatus(address, True, Kind.HARD, "userunknown", "invalid-recipient",
                           "bench", "1 hard bounce", 1, now, now, "550 5.1.1",
                           "Adresa neexistuje.", "The address does not exist.", None)
    for address in open(bounced, encoding="utf-8").read().split()
}
summary = clean(Path(source), statuses, CleanOptions(output=Path(kept), removed=Path(removed)))
print(summary.kept, summary.removed, file=sys.stderr)
"""


@dataclass(frozen=True)
class Measured:
    """One tool's run."""

    tool: str
    seconds: float
    cpu_seconds: float  # user + system time of the process and its children: load-independent
    peak_mb: float
    kept_rows: int


def generate(folder: Path, rows: int, bounced: int) -> tuple[Path, Path]:
    """The contact CSV and the list of bounced addresses (every rows/bounced-th contact)."""
    path = folder / "contacts.csv"
    every = max(rows // bounced, 1)
    gone: list[str] = []
    with path.open("wb") as handle:
        handle.write(HEADER.encode("utf-8"))
        block: list[str] = []
        for number in range(rows):
            address = f"{LOCALS[number % 10]}.{number}@{DOMAINS[number % 7]}"
            if number % every == 0 and len(gone) < bounced:
                gone.append(address)
            block.append(
                f"{NAMES[number % 10]};{SURNAMES[number % 8]};{address};+420 6{number:08d};"
                f"{CITIES[number % 7]};2026-{1 + number % 12:02d}-{1 + number % 28:02d};"
                f"zákazník od roku {2000 + number % 25}\r\n"
            )
            if len(block) == 100_000:
                handle.write("".join(block).encode("utf-8"))
                block.clear()
        handle.write("".join(block).encode("utf-8"))
    listing = folder / "bounced.txt"
    listing.write_text("\n".join(gone) + "\n", encoding="utf-8")
    return path, listing


def make_ledger(folder: Path, listing: Path) -> Path | None:
    """A real ledger holding one hard bounce per bounced address, when the ledger exists."""
    if importlib.util.find_spec("bouncetool.state") is None:
        return None
    from datetime import UTC, datetime

    from bouncetool.model import Blame, Bounce, Kind, Record, Verdict
    from bouncetool.state import Ledger

    state = folder / "state.sqlite"
    verdict = Verdict(
        Kind.HARD,
        "userunknown",
        "invalid-recipient",
        Blame.RECIPIENT,
        "bench",
        "5.1.1",
        "Adresa neexistuje.",
        "The address does not exist.",
    )
    date = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).isoformat()
    records = (
        Record(
            Bounce(
                Kind.HARD,
                recipient=address,
                status="5.1.1",
                reply_code="550",
                diagnostic="550 5.1.1 user unknown",
                date=date,
                original_message_id=f"<bench-{number}@example.cz>",
                source="bench.mbox",
                message=number + 1,
            ),
            verdict,
        )
        for number, address in enumerate(listing.read_text(encoding="utf-8").split())
    )
    with Ledger.open(state) as ledger:
        ledger.ingest(records)
    return state


def measure(tool: str, command: list[str], kept: Path) -> Measured:
    """Run `command` alone under the wrapper; count the rows it kept."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        check=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT / "src")},
    )
    result = json.loads(done.stdout)
    if result["status"] != 0:
        raise SystemExit(f"{tool} failed:\n{result['stderr']}")
    with kept.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
    return Measured(tool, result["seconds"], result["cpu"], result["peak_mb"], lines - 1)


def main() -> None:
    """Generate, run the three tools, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--bounced", type=int, default=100_000)
    parser.add_argument("--skip", action="append", default=[], help="pandas or polars")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if importlib.util.find_spec("polars") is None and "polars" not in args.skip:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "polars"], check=True)
    folder = Path(tempfile.mkdtemp(prefix="bouncetool-bench-"))
    started = time.perf_counter()
    source, listing = generate(folder, args.rows, args.bounced)
    size = source.stat().st_size
    took = time.perf_counter() - started
    print(f"generated {args.rows:,} rows ({size / 1e9:.2f} GB) in {took:.0f} s")
    state = make_ledger(folder, listing)
    results = []
    kept, removed = folder / "kept.csv", folder / "removed.csv"
    if state is not None:
        command = [
            sys.executable,
            "-m",
            "bouncetool",
            "clean",
            str(source),
            "--state",
            str(state),
            "--output",
            str(kept),
            "--removed",
            str(removed),
        ]
        results.append(measure("bouncetool clean", command, kept))
    else:
        command = [sys.executable, "-c", API, str(source), str(listing), str(kept), str(removed)]
        results.append(measure("bouncetool clean (API)", command, kept))
    for tool, script in (("pandas", PANDAS), ("polars lazy", POLARS)):
        if tool.split()[0] in args.skip:
            continue
        for path in (kept, removed):
            path.unlink(missing_ok=True)
        command = [sys.executable, "-c", script, str(source), str(listing), str(kept), str(removed)]
        results.append(measure(tool, command, kept))
    print(f"{'tool':<24} {'rows':>12} {'kept':>12} {'wall s':>8} {'cpu s':>7} {'peak MB':>9}")
    for item in results:
        print(
            f"{item.tool:<24} {args.rows:>12,} {item.kept_rows:>12,} "
            f"{item.seconds:>8.1f} {item.cpu_seconds:>7.1f} {item.peak_mb:>9.0f}"
        )
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} (other work on the machine stretches wall time)")
    if len({item.kept_rows for item in results}) != 1:
        raise SystemExit("the tools disagree on how many rows to keep")
    if args.keep:
        print(f"files kept in {folder}")
    else:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
