"""From sources to records: read, extract, place, classify; in one process or several.

`iter_records` is the core of ``bouncetool classify``. The sources are cut
into tasks of a few megabytes (`tasks.plan`); small inputs are done in this
process, large ones by worker processes that read and parse their tasks
themselves, while this process only hands out work and puts the results back
in input order. At most a few tasks are in flight, so memory stays flat
whatever the mailbox size.

A message whose parsing raises becomes a `Problem` (file and message number)
and the run goes on; so does a source that cannot be read.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import cast

from bouncetool.model import Problem
from bouncetool.pipeline.tasks import TASK_BYTES, Task, plan
from bouncetool.pipeline.worker import (
    Batch,
    Classifier,
    Encode,
    Encoded,
    Item,
    Parse,
    Result,
    Worker,
    default_parse,
)

__all__ = [
    "Batch",
    "Classifier",
    "Encode",
    "Encoded",
    "Item",
    "Parse",
    "available_cores",
    "iter_batches",
    "iter_encoded",
    "iter_records",
]

IN_FLIGHT_PER_WORKER = 3
"""Tasks queued per worker: keeps workers busy without reading far ahead."""
SMALL_INPUT = 2 * TASK_BYTES
"""Inputs smaller than this are parsed here: starting workers would cost more than it saves."""


def iter_records(
    specs: Sequence[str],
    *,
    table: Classifier | None = None,
    workers: int | None = None,
    parse: Parse | None = None,
    planned: Iterable[Task | Problem] | None = None,
) -> Iterator[Item]:
    """Every record (one per bounced recipient) from every source in `specs`, in order.

    `table` classifies each bounce when given. `workers`: processes to parse
    in (default: one per available core; 1 = this process only). `parse`
    replaces the extractor (tests; it must be picklable to run in workers).
    `planned`: the tasks of `specs` (`tasks.plan`) when made elsewhere, e.g.
    by a helper process (`beside.Beside`) during start-up.
    """
    results = _iter_results(specs, table, workers, parse, None, run=Worker.run, planned=planned)
    return cast(Iterator[Item], results)


def iter_encoded(
    specs: Sequence[str],
    encode: Encode,
    *,
    table: Classifier | None = None,
    workers: int | None = None,
    parse: Parse | None = None,
) -> Iterator[Encoded | Problem]:
    """Like `iter_records`, each record turned into text by `encode` where it was made.

    Worker processes then send text, not records, back to this process, which
    only writes it out: the fastest way to JSON Lines or CSV. `encode` must be
    picklable (`bouncetool.render.LineEncoder` is).
    """
    results = _iter_results(specs, table, workers, parse, encode, run=Worker.run)
    return cast(Iterator[Encoded | Problem], results)


def iter_batches(
    specs: Sequence[str],
    encode: Encode,
    *,
    table: Classifier | None = None,
    workers: int | None = None,
    parse: Parse | None = None,
    planned: Iterable[Task | Problem] | None = None,
) -> Iterator[Batch | Problem]:
    """Like `iter_encoded`, with each run of lines of one task joined into one `Batch`.

    The text of the batches, in order, is the text of `iter_encoded`'s lines;
    problems come between batches where they came between lines. The main
    process then handles one object per task instead of one per record.
    """
    return cast(
        Iterator[Batch | Problem],
        _iter_results(
            specs, table, workers, parse, encode, run=Worker.run_batched, planned=planned
        ),
    )


Run = Callable[[Task], "list[Result] | list[Batch | Problem]"]


def _iter_results(
    specs: Sequence[str],
    table: Classifier | None,
    workers: int | None,
    parse: Parse | None,
    encode: Encode | None,
    *,
    run: Run,
    planned: Iterable[Task | Problem] | None = None,
) -> Iterator[Result | Batch]:
    count = available_cores() if workers is None else max(1, workers)
    tasks = plan(specs) if planned is None else iter(planned)
    head = _take_until(tasks, SMALL_INPUT)
    everything = chain(head, tasks)
    outcomes: Iterator[Sequence[Result | Batch]]
    if count == 1 or _size(head) < SMALL_INPUT:
        Worker.setup(parse, table, encode)
        outcomes = ([task] if isinstance(task, Problem) else run(task) for task in everything)
    else:
        outcomes = _in_workers(everything, count, (parse, table, encode), run)
    for results in outcomes:
        yield from results


def available_cores() -> int:
    """The number of CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _take_until(tasks: Iterator[Task | Problem], size: int) -> list[Task | Problem]:
    # Enough of the plan to tell a small input from a large one.
    head: list[Task | Problem] = []
    for task in tasks:
        head.append(task)
        if _size(head) >= size:
            break
    return head


def _size(tasks: Iterable[Task | Problem]) -> int:
    return sum(task.size for task in tasks if not isinstance(task, Problem))


def _in_workers(
    tasks: Iterable[Task | Problem],
    count: int,
    setup: tuple[Parse | None, Classifier | None, Encode | None],
    run: Run,
) -> Iterator[Sequence[Result | Batch]]:
    # "fork" starts a worker in milliseconds; where it does not exist the
    # default method pickles the table once per worker through the initializer.
    methods = multiprocessing.get_all_start_methods()
    forking = "fork" in methods
    context = multiprocessing.get_context("fork" if forking else None)
    if forking and setup[0] is None:
        # Imported once here, before the workers are forked, they share it
        # (copy on write) instead of each importing it again on its first task.
        default_parse()
    pending: deque[Future[Sequence[Result | Batch]] | list[Problem]] = deque()
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=Worker.setup, initargs=setup
    ) as pool:
        try:
            for task in tasks:
                if isinstance(task, Problem):
                    pending.append([task])
                else:
                    pending.append(pool.submit(run, task))
                while len(pending) > count * IN_FLIGHT_PER_WORKER:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for future in pending:  # the consumer stopped early
                if isinstance(future, Future):
                    future.cancel()


def _result(
    entry: Future[Sequence[Result | Batch]] | list[Problem],
) -> Sequence[Result | Batch]:
    return entry.result() if isinstance(entry, Future) else entry
