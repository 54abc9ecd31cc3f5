"""How fast ``bouncetool classify`` reads a large mbox, against Sisimai on the same file.

Builds an mbox of at least 20,000 messages from the corpus emails (in a
temporary folder; nothing is committed), then times, in the same run:

- ``bouncetool classify --format jsonl MBOX > /dev/null`` (a subprocess, as a
  user runs it), and
- Sisimai (Debian's ``libsisimai-perl``; installed with apt-get when missing):
  ``Sisimai->dump(MBOX)``, which decodes every message into JSON like we do.

It prints messages per second for both, the ratio, and peak memory: the
largest single process (``getrusage``) and the whole process tree (PSS of the
command and its workers, sampled every 20 ms, so shared pages count once).
Memory is sampled in a run of its own after the timed ones: the sampling
takes CPU from the two cores our processes share, not from Sisimai's one.

Usage: ``python benchmarks/classify_speed.py [--messages N] [--workers N] [--runs N]``
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 8.0
TARGET_PEAK_MB = 150.0
_ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)
_SISIMAI = (
    'use Sisimai; my $j = Sisimai->dump($ARGV[0], "delivered" => 1); print length($j), "\\n";'
)


@dataclass(frozen=True)
class Timing:
    """One timed run of a command."""

    seconds: float
    largest_process_mb: float  # max RSS of the biggest single process
    tree_peak_mb: float  # peak summed PSS of the process and its children
    cpu_seconds: float  # user + system time of the command and its workers


def main(argv: Sequence[str] | None = None) -> int:
    """Build the mbox, time both tools, print the comparison; 1 if a target is missed."""
    args = _arguments(argv)
    corpus = _corpus(args.corpus)
    ensure_sisimai()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bouncetool-bench-") as folder:
        mbox = Path(folder) / "bounces.mbox"
        count = build_mbox(corpus / "emails", mbox, args.messages)
        size_mb = mbox.stat().st_size / 1e6
        print(f"mbox: {count:,} messages, {size_mb:.1f} MB (from {corpus / 'emails'})")
        ours = best_of(args.runs, _bouncetool_command(mbox, args.workers))
        theirs = best_of(1, ["perl", "-e", _SISIMAI, str(mbox)], memory=False)
    ours_rate, theirs_rate = count / ours.seconds, count / theirs.seconds
    ratio = ours_rate / theirs_rate
    print(_line("bouncetool classify", count, ours))
    print(_line("Sisimai 4.25 (perl)", count, theirs))
    print(f"ratio: {ratio:.1f}x Sisimai's messages/s (target >= {TARGET_RATIO:.0f}x)")
    print(
        f"CPU per message: bouncetool {1e6 * ours.cpu_seconds / count:.0f} µs (all its processes),"
        f" Sisimai {1e6 * theirs.cpu_seconds / count:.0f} µs"
        f" ({theirs.cpu_seconds / ours.cpu_seconds:.1f}x ours; unlike wall time,"
        " it moves little when other work runs)"
    )
    print(
        f"bouncetool peak memory: {ours.largest_process_mb:.0f} MB largest process, "
        f"{ours.tree_peak_mb:.0f} MB all processes (target <= {TARGET_PEAK_MB:.0f} MB)"
    )
    print(_load_note(load_before))
    met = ratio >= TARGET_RATIO and ours.tree_peak_mb <= TARGET_PEAK_MB
    print("targets met" if met else "TARGETS MISSED")
    return 0 if met else 1


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="at least this many")
    parser.add_argument("--workers", type=int, default=None, help="bouncetool --workers")
    parser.add_argument("--runs", type=int, default=3, help="bouncetool runs (best is kept)")
    parser.add_argument("--corpus", type=Path, default=None, help="the corpus folder")
    return parser.parse_args(argv)


def _corpus(given: Path | None) -> Path:
    configured = given or Path(
        os.environ.get("BOUNCETOOL_CORPUS", PROJECT.parent / "shared" / "corpus")
    )
    if not (configured / "emails").is_dir():
        sys.exit(f"classify_speed: no corpus at {configured} (set BOUNCETOOL_CORPUS or --corpus)")
    return configured


def ensure_sisimai() -> None:
    """Install Debian's libsisimai-perl when perl cannot load Sisimai."""
    if (
        subprocess.run(["perl", "-MSisimai", "-e1"], capture_output=True, check=False).returncode
        == 0
    ):
        return
    print("installing libsisimai-perl with apt-get ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "libsisimai-perl"], check=True)


def build_mbox(emails: Path, target: Path, at_least: int) -> int:
    """Write the corpus messages again and again into `target` until it holds `at_least`.

    Files that are already mboxes (start with a From line) go in as they are;
    other files get a From line and their body ``From `` lines escaped (mboxrd).
    Returns the number of messages written.
    """
    pieces: list[tuple[bytes, int]] = []
    for path in sorted(emails.iterdir()):
        data = path.read_bytes()
        if not data.strip():
            continue
        if data.startswith(b"From "):
            piece, count = data, len(re.findall(rb"(?:^|\n)From ", data))
        else:
            piece, count = (
                b"From MAILER-DAEMON Mon Nov 23 10:00:00 2026\n" + _ESCAPE.sub(rb">\1", data),
                1,
            )
        pieces.append((piece.rstrip(b"\r\n") + b"\n\n", count))
    written = 0
    with target.open("wb") as out:
        while written < at_least:
            for piece, count in pieces:
                out.write(piece)
                written += count
    return written


def _bouncetool_command(mbox: Path, workers: int | None) -> list[str]:
    command = [sys.executable, "-m", "bouncetool", "classify", "--format", "jsonl", str(mbox)]
    return [*command, "--workers", str(workers)] if workers else command


def best_of(runs: int, command: list[str], *, memory: bool = True) -> Timing:
    """The fastest of `runs` timed runs of `command` (output to /dev/null), and its peak memory.

    The timed runs are not watched: reading /proc every 20 ms costs about a
    tenth of a second of CPU per run, taken from the two cores our processes
    share (Sisimai's one process leaves the watcher a core of its own). The
    peak memory comes from one more run, watched (none with `memory=False`).
    """
    fastest = min((timed(command, watch=False) for _ in range(runs)), key=lambda t: t.seconds)
    if not memory:
        return fastest
    watched = timed(command)
    return Timing(
        fastest.seconds, watched.largest_process_mb, watched.tree_peak_mb, fastest.cpu_seconds
    )


def timed(command: list[str], *, watch: bool = True) -> Timing:
    """Run `command` once with stdout to /dev/null; its wall time and peak memory.

    Without `watch`, the memory of the process tree is not sampled (0).
    """
    path = os.pathsep.join(filter(None, [str(PROJECT / "src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
        sampler = _TreeSampler(process.pid)
        if watch:
            sampler.start()
        process.wait()
        seconds = time.perf_counter() - start
        if watch:
            sampler.stop()
        errors.seek(0)
        complaints = errors.read().decode("utf-8", "replace")
    # Exit status 1 with one line per bad message is a finished run; a
    # traceback is not.
    if process.returncode not in (0, 1) or "Traceback" in complaints:
        sys.exit(f"classify_speed: {command[:3]} failed ({process.returncode}):\n{complaints}")
    if complaints:
        print(
            f"({len(complaints.splitlines())} lines on stderr, e.g. {complaints.splitlines()[0]})"
        )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    largest_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    # RUSAGE_CHILDREN keeps the maximum over every child so far; a run that
    # stays below an earlier one cannot be told apart, so report the larger.
    return Timing(seconds, max(largest_kb, before) / 1024, sampler.peak_kb / 1024, cpu)


class _TreeSampler(threading.Thread):
    """Samples the summed PSS (or RSS) of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak_kb = max(self.peak_kb, sum(_memory_kb(p) for p in _tree(self.pid)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> int:
    for name, field in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _load_note(before: float) -> str:
    """The machine's load around the runs: other work stretches wall time, ours more.

    Sisimai runs in one process, bouncetool in one per core, so a busy machine
    takes more from bouncetool and the ratio comes out low.
    """
    cores = os.cpu_count() or 1
    after = os.getloadavg()[0]
    note = f"machine load (1 min): {before:.1f} before the runs, {after:.1f} after ({cores} cores)"
    if before > 0.5:  # "after" counts our own runs too
        note += (
            "; other work was running: wall times stretch, bouncetool's (one process"
            " per core) more than Sisimai's (one process)"
        )
    return note


def _line(name: str, count: int, timing: Timing) -> str:
    return (
        f"{name}: {count / timing.seconds:,.0f} messages/s "
        f"({timing.seconds:.2f} s wall, {timing.cpu_seconds:.2f} s CPU)"
    )


if __name__ == "__main__":
    if shutil.which("perl") is None:
        sys.exit("classify_speed: perl is needed to run Sisimai")
    sys.exit(main())
