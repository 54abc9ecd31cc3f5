"""Where the wall time of ``bouncetool classify --format jsonl`` goes, process by process.

Runs the real command once, in this process, on the same mbox as
``classify_speed.py`` (at least 20,000 corpus messages), with its steps
timed: each process (the main one and every worker) notes the clock and its
own CPU time at start-up, after the rule table, when each task starts and
ends, and while it sends each result back. It then prints, per process, when
it started and stopped, its CPU time inside and outside tasks, the idle gaps
between tasks and the CPU the main process spends getting the tasks (the
helper process that plans them beside it during start-up, see
``bouncetool.pipeline.beside``, takes no notes); that shows the
serial start-up (one core busy), how long the workers wait, and how far
apart they finish.

The command runs in this process, so the interpreter's own start-up (about
30 ms in a fresh ``python -m bouncetool``) is not in the timeline; the
import of the CLI and everything after it is.

The timing wraps internal functions (``Worker.run_batched``, the pipeline's
task loop, ``concurrent.futures``' result sending), so it may need updating
when those change; the command's own output goes to /dev/null.

Usage: ``python benchmarks/classify_timeline.py [--messages N] [--workers N]``
"""

from __future__ import annotations

import argparse
import concurrent.futures.process as pool_internals
import contextlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.classify_speed import _corpus, build_mbox


class Event(NamedTuple):
    """One note: which process, when (monotonic clock), its CPU time so far, what."""

    pid: int
    at: float
    cpu: float
    what: str
    detail: str


class _Log:
    """Appends events to a file every process shares (one write per event, O_APPEND)."""

    def __init__(self, path: Path) -> None:
        self.descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def __call__(self, what: str, detail: str = "") -> None:
        line = f"{os.getpid()} {time.perf_counter():.6f} {time.process_time():.6f} {what} {detail}"
        os.write(self.descriptor, (line + "\n").encode())


def _instrument(note: _Log) -> None:
    """Wrap the steps to time; the workers inherit the wrappers when forked."""
    import bouncetool.cli.classify as classify_module
    from bouncetool import pipeline
    from bouncetool.pipeline.worker import Worker

    start = classify_module._start

    def timed_start(*args: Any) -> Any:
        # The rule table (read and prepared by the helper process, compiled here)
        # and the extractor's import.
        note("table-start")
        table = start(*args)
        note("table-end")
        return table

    classify_module._start = timed_start  # type: ignore[assignment]

    run_batched = Worker.run_batched.__func__  # type: ignore[attr-defined]

    def timed_run(cls: type[Worker], task: Any) -> Any:
        note("task-start", str(task.size))
        result = run_batched(cls, task)
        note("task-end")
        return result

    # A bound method is pickled by name: the workers look it up under the old one.
    timed_run.__name__ = timed_run.__qualname__ = "run_batched"
    Worker.run_batched = classmethod(timed_run)  # type: ignore[assignment,method-assign]

    in_workers = pipeline._in_workers

    def timed_in_workers(tasks: Any, *args: Any) -> Iterator[Any]:
        def planned() -> Iterator[Any]:
            spent, source = 0.0, iter(tasks)
            while True:
                before = time.thread_time()
                try:
                    task = next(source)
                except StopIteration:
                    break
                spent += time.thread_time() - before
                yield task
            note("scan-cpu", f"{spent:.4f}")

        for results in in_workers(planned(), *args):
            note("result")
            yield results

    pipeline._in_workers = timed_in_workers  # type: ignore[assignment]

    send = pool_internals._sendback_result  # type: ignore[attr-defined]

    def timed_send(*args: Any, **keywords: Any) -> Any:
        note("send-start")
        try:
            return send(*args, **keywords)
        finally:
            note("send-end")

    pool_internals._sendback_result = timed_send  # type: ignore[attr-defined]


def _run(mbox: Path, workers: int | None, note: _Log) -> None:
    from bouncetool.cli import app, quickparams

    quickparams.install()  # as bouncetool.cli.main does
    note("imported")
    _instrument(note)
    args = ["classify", "--format", "jsonl", str(mbox)]
    args += ["--workers", str(workers)] if workers else []
    with Path(os.devnull).open("w") as null, contextlib.redirect_stderr(null):
        saved = os.dup(1)
        os.dup2(null.fileno(), 1)
        try:
            app(args, standalone_mode=False)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    note("done")


def report(events: list[Event], count: int) -> None:
    """Print the timeline of each process from the events."""
    start = events[0].at
    main = events[0].pid
    by_process: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        by_process[event.pid].append(event)
    end = max(event.at for event in events)
    print(f"{count:,} messages; from the first note to the last: {end - start:.3f} s")
    total_cpu = 0.0
    for pid, notes in by_process.items():
        named = {event.what: event for event in notes}
        tasks = _pairs(notes, "task-start", "task-end")
        sends = _pairs(notes, "send-start", "send-end")
        cpu = notes[-1].cpu - (notes[0].cpu if pid == main else 0.0)  # a fork starts at 0
        total_cpu += cpu
        role = "main  " if pid == main else "worker"
        print(
            f"{role} {pid}: {notes[0].at - start:6.3f} .. {notes[-1].at - start:6.3f} s,"
            f" CPU {cpu:.3f} s"
        )
        if pid == main:
            for what in ("imported", "table-start", "table-end", "done"):
                if what in named:
                    moment = named[what]
                    print(
                        f"    {what:<12} at {moment.at - start:6.3f} s,"
                        f" CPU {moment.cpu - notes[0].cpu:.3f} s"
                    )
            if "scan-cpu" in named:
                scan = named["scan-cpu"].detail
                print(f"    CPU of getting the tasks (scan, or the helper's plan): {scan} s")
        if tasks:
            inside = sum(b.cpu - a.cpu for a, b in tasks)
            busy = sum(b.at - a.at for a, b in tasks)
            gaps = [tasks[i + 1][0].at - tasks[i][1].at for i in range(len(tasks) - 1)]
            print(
                f"    {len(tasks)} tasks from {tasks[0][0].at - start:.3f} to"
                f" {tasks[-1][1].at - start:.3f} s: CPU {inside:.3f} s in {busy:.3f} s of wall;"
                f" CPU outside tasks {cpu - inside:.3f} s; gaps between tasks {sum(gaps):.3f} s"
            )
        if sends:
            print(
                f"    sending results: {sum(b.at - a.at for a, b in sends):.3f} s wall,"
                f" {sum(b.cpu - a.cpu for a, b in sends):.3f} s CPU"
            )
    print(f"CPU of all processes: {total_cpu:.3f} s ({1e6 * total_cpu / count:.0f} µs per message)")


def _pairs(notes: list[Event], opening: str, closing: str) -> list[tuple[Event, Event]]:
    pairs, opened = [], None
    for event in notes:
        if event.what == opening:
            opened = event
        elif event.what == closing and opened is not None:
            pairs.append((opened, event))
            opened = None
    return pairs


def _read(path: Path) -> list[Event]:
    events = []
    for line in path.read_text().splitlines():
        pid, at, cpu, what, *detail = line.split(" ", 4)
        events.append(Event(int(pid), float(at), float(cpu), what, " ".join(detail)))
    return sorted(events, key=lambda event: event.at)


def main() -> None:
    """Build the mbox, run classify once with its steps timed, print the timeline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="at least this many")
    parser.add_argument("--workers", type=int, default=None, help="bouncetool --workers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bouncetool-timeline-") as folder:
        mbox, log = Path(folder) / "bounces.mbox", Path(folder) / "events"
        count = build_mbox(_corpus(None) / "emails", mbox, args.messages)
        note = _Log(log)
        note("start")
        _run(mbox, args.workers, note)
        report(_read(log), count)


if __name__ == "__main__":
    sys.exit(main())
