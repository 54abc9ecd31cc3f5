"""From sources to records: read, extract, place, classify; in one process or two.

`iter_records` is the core of ``bouncetool classify``. Small inputs are
handled in this process. Large ones are cut into batches of messages that
worker processes parse in parallel, while this process keeps reading; the
records come back in input order. At most a few batches are in flight, so
memory stays flat whatever the mailbox size.

A message whose parsing raises becomes a `Problem` (file and message number)
and the run goes on; so does a source that cannot be read.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import Protocol, cast

from bouncetool.model import Bounce, Kind, Problem, RawMessage, Record, Verdict
from bouncetool.sources import iter_messages

Parse = Callable[[bytes], list[Bounce]]
"""An extractor: one message's bytes to its bounces (``bouncetool.extract.parse_message``)."""

BATCH_MESSAGES = 250
"""Messages per batch sent to a worker: enough to make the trip worth it."""
BATCH_BYTES = 2 << 20
"""... or fewer, when they add up to this many bytes (keeps memory flat)."""
IN_FLIGHT_PER_WORKER = 3
"""Batches queued per worker: keeps workers busy without reading far ahead."""


class Classifier(Protocol):
    """What the pipeline needs of a rule table (`bouncetool.rules.RuleTable`); picklable."""

    def classify(self, bounce: Bounce) -> Verdict:
        """The verdict for one bounce; never None (a fallback rule always decides)."""
        ...


Item = Record | Problem


def iter_records(
    specs: Sequence[str],
    *,
    table: Classifier | None = None,
    workers: int | None = None,
    parse: Parse | None = None,
) -> Iterator[Item]:
    """Every record (one per bounced recipient) from every source in `specs`, in order.

    `table` classifies each bounce when given. `workers`: processes to parse
    in (default: one per available core; 1 = this process only). `parse`
    replaces the extractor (tests; it must be picklable to run in workers).
    """
    messages = chain.from_iterable(iter_messages(spec) for spec in specs)
    count = available_cores() if workers is None else max(1, workers)
    first = _take_batch(messages)
    if count == 1 or (len(first) < BATCH_MESSAGES and _total_bytes(first) < BATCH_BYTES):
        # One batch holds everything (or one process was asked for): starting
        # workers would cost more than it saves.
        _Worker.setup(parse, table)
        yield from _Worker.run(first)
        while batch := _take_batch(messages):
            yield from _Worker.run(batch)
        return
    yield from _in_workers(_batches(first, messages), count, parse, table)


def available_cores() -> int:
    """The number of CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _in_workers(
    batches: Iterator[list[RawMessage | Problem]],
    count: int,
    parse: Parse | None,
    table: Classifier | None,
) -> Iterator[Item]:
    # "fork" starts a worker in milliseconds with the extractor already
    # imported; where it does not exist the default method pickles the table
    # once per worker through the initializer.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pending: deque[Future[list[Item]]] = deque()
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_Worker.setup, initargs=(parse, table)
    ) as pool:
        try:
            for batch in batches:
                pending.append(pool.submit(_Worker.run_batch, batch))
                if len(pending) >= count * IN_FLIGHT_PER_WORKER:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:  # the consumer stopped early
                future.cancel()


def _take_batch(messages: Iterator[RawMessage | Problem]) -> list[RawMessage | Problem]:
    batch: list[RawMessage | Problem] = []
    size = 0
    for item in messages:
        batch.append(item)
        if isinstance(item, RawMessage):
            size += len(item.data)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            break
    return batch


def _batches(
    first: list[RawMessage | Problem], messages: Iterator[RawMessage | Problem]
) -> Iterator[list[RawMessage | Problem]]:
    yield first
    while batch := _take_batch(messages):
        yield batch


def _total_bytes(batch: Iterable[RawMessage | Problem]) -> int:
    return sum(len(item.data) for item in batch if isinstance(item, RawMessage))


def _default_parse() -> Parse:
    # Imported on first use: the extractor is the heaviest part of start-up,
    # and a run over missing files never needs it.
    module = importlib.import_module("bouncetool.extract")
    return cast(Parse, module.parse_message)


class _Worker:
    """Parsing state of one process: the extractor and the table, set up once."""

    parse: Parse | None = None
    table: Classifier | None = None

    @classmethod
    def setup(cls, parse: Parse | None, table: Classifier | None) -> None:
        """Remember the extractor and the table (the initializer of each worker)."""
        cls.parse = parse
        cls.table = table

    @classmethod
    def run_batch(cls, batch: list[RawMessage | Problem]) -> list[Item]:
        """All records of a batch, as a list to send back to the main process."""
        return list(cls.run(batch))

    @classmethod
    def run(cls, batch: Iterable[RawMessage | Problem]) -> Iterator[Item]:
        """The records of each message in `batch`; problems pass through."""
        for item in batch:
            if isinstance(item, Problem):
                yield item
            else:
                yield from cls._records(item)

    @classmethod
    def _records(cls, raw: RawMessage) -> list[Item]:
        if cls.parse is None:
            cls.parse = _default_parse()
        try:
            bounces = cls.parse(raw.data) or [Bounce(Kind.NOT_BOUNCE)]
            placed = [bounce.at(raw.source, raw.number) for bounce in bounces]
            table = cls.table
            return [Record(b, table.classify(b) if table else None) for b in placed]
        except Exception as error:  # noqa: BLE001  (one bad message must not stop the run)
            return [Problem(raw.source, raw.number, f"cannot parse: {_describe(error)}")]


def _describe(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
