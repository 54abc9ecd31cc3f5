"""What a worker (or the main process, for small inputs) does with one task."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol, cast

from bouncetool.errors import BounceToolError
from bouncetool.model import Bounce, Kind, Problem, RawMessage, Record, Verdict
from bouncetool.pipeline.tasks import FilesTask, MessagesTask, RangeTask, Task
from bouncetool.sources import iter_file
from bouncetool.sources.ranges import iter_range

Parse = Callable[[bytes], list[Bounce]]
"""An extractor: one message's bytes to its bounces (``bouncetool.extract.parse_message``)."""

Item = Record | Problem


class Encode(Protocol):
    """Turns a record into its output text (`bouncetool.render.LineEncoder`); picklable."""

    def __call__(self, record: Record, source: str, message: int) -> str:
        """The text for `record`, which came from message `message` of `source`."""
        ...

    def line(self, bounce: Bounce, verdict: Verdict | None, source: str, message: int) -> str:
        """The text for ``Record(bounce, verdict)``, without making the record."""
        ...

    def add_utf8(
        self, out: list[bytes], bounce: Bounce, verdict: Verdict | None, source: str, message: int
    ) -> None:
        """Append that text to `out` in UTF-8 (in one or more pieces)."""
        ...


class Encoded(NamedTuple):
    """A record already turned into output text, with the place it came from."""

    source: str | None
    message: int | None
    text: str


class Batch(NamedTuple):
    """Consecutive encoded records of one task joined into one text, as UTF-8 bytes.

    A worker sends one byte string per run of records instead of one object
    per record: less to pickle there and to unpickle here, and one write.
    Bytes rather than text because the output is UTF-8 anyway: the worker
    encodes once, and the main process neither decodes (unpickling text
    does) nor encodes again, it only writes (`bouncetool.render.write_data`).
    """

    data: bytes
    records: int
    messages: int  # messages the records came from
    first: tuple[str | None, int | None]  # (source, message) of the first record
    last: tuple[str | None, int | None]  # and of the last

    @property
    def text(self) -> str:
        """The lines of the batch as text."""
        return self.data.decode("utf-8")


Result = Record | Encoded | Problem


class Classifier(Protocol):
    """What the pipeline needs of a rule table (`bouncetool.rules.RuleTable`); picklable."""

    def classify(self, bounce: Bounce) -> Verdict:
        """The verdict for one bounce; never None (a fallback rule always decides)."""
        ...


def default_parse() -> Parse:
    """The real extractor, imported on first use.

    It is the heaviest part of start-up, and a run over missing files never
    needs it.
    """
    module = importlib.import_module("bouncetool.extract")
    return cast(Parse, module.parse_message)


class Worker:
    """The parsing state of one process: the extractor and the table, set up once."""

    parse: Parse | None = None
    table: Classifier | None = None
    encode: Encode | None = None

    @classmethod
    def setup(cls, parse: Parse | None, table: Classifier | None, encode: Encode | None) -> None:
        """Remember the extractor, the table and the encoder (the initializer of each worker)."""
        cls.parse = parse
        cls.table = table
        cls.encode = encode

    @classmethod
    def run(cls, task: Task) -> list[Result]:
        """Read and parse everything `task` names."""
        return cls._parse_all(_items(task))

    @classmethod
    def run_batched(cls, task: Task) -> list[Batch | Problem]:
        """Like `run` with an encoder set up: the encoded records joined into batches.

        A batch holds the lines of consecutive messages; a problem ends one.
        """
        if cls.encode is None:
            raise TypeError("run_batched needs an encoder (Worker.setup)")
        if cls.parse is None:
            cls.parse = default_parse()
        # This loop runs once per message: what it calls is looked up once
        # per task, and a message's lines go straight into the batch, as UTF-8
        # pieces (taken out again if the message fails half way).
        parse, add, table = cls.parse, cls.encode.add_utf8, cls.table
        out: list[Batch | Problem] = []
        pieces: list[bytes] = []
        records = messages = 0
        first: tuple[str | None, int | None] = (None, None)
        last_source: str | None = None
        last_number: int | None = None
        for item in _items(task):
            if isinstance(item, Problem):
                problem = item
            else:
                source, number, done = item.source, item.number, len(pieces)
                try:
                    bounces = parse(item.data) or [Bounce(Kind.NOT_BOUNCE)]
                    for bounce in bounces:
                        verdict = table.classify(bounce) if table else None
                        add(pieces, bounce, verdict, source, number)
                except Exception as error:  # noqa: BLE001  (one bad message must not stop the run)
                    del pieces[done:]
                    # The bytes travel with the problem (failures only) so they can be kept aside.
                    problem = Problem(source, number, _describe(error), item.data)
                else:
                    if not records or number != last_number or source != last_source:
                        messages += 1
                    if not records:
                        first = (source, number)
                    records += len(bounces)
                    last_source, last_number = source, number
                    continue
            if records:
                out.append(_batch(pieces, records, messages, first, (last_source, last_number)))
                pieces, records, messages = [], 0, 0
            out.append(problem)
        if records:
            out.append(_batch(pieces, records, messages, first, (last_source, last_number)))
        return out

    @classmethod
    def _parse_all(cls, items: Iterable[RawMessage | Problem]) -> list[Result]:
        out: list[Result] = []
        for item in items:
            if isinstance(item, Problem):
                out.append(item)
            else:
                out.extend(cls._results(item))
        return out

    @classmethod
    def _results(cls, raw: RawMessage) -> list[Result]:
        # The records of one message: placed, or encoded with their place.
        if cls.parse is None:
            cls.parse = default_parse()
        source, number, table, encode = raw.source, raw.number, cls.table, cls.encode
        try:
            bounces = cls.parse(raw.data) or [Bounce(Kind.NOT_BOUNCE)]
            if encode is not None:
                # Placing a bounce copies it; the encoder writes the place
                # into the text instead.
                return [
                    Encoded(
                        source,
                        number,
                        encode.line(b, table.classify(b) if table else None, source, number),
                    )
                    for b in bounces
                ]
            placed = [b.at(source, number) for b in bounces]
            return [Record(b, table.classify(b) if table else None) for b in placed]
        except Exception as error:  # noqa: BLE001  (one bad message must not stop the run)
            # The bytes travel with the problem (failures only) so they can be kept aside.
            return [Problem(source, number, _describe(error), raw.data)]


def _batch(
    pieces: list[bytes],
    records: int,
    messages: int,
    first: tuple[str | None, int | None],
    last: tuple[str | None, int | None],
) -> Batch:
    return Batch(b"".join(pieces), records, messages, first, last)


def _items(task: Task) -> Iterable[RawMessage | Problem]:
    """The messages (and problems) of `task`, read in this process."""
    if isinstance(task, FilesTask):
        return (item for path in task.paths for item in iter_file(path))
    if isinstance(task, RangeTask):
        return iter_range(task.path, task.part)
    return task.items


def _describe(error: Exception) -> str:
    # Our own errors already say what is wrong in words; anything else is named
    # by its type too, since it is a bug in the extractor.
    if isinstance(error, BounceToolError):
        return str(error)
    text = str(error)
    return (
        f"cannot parse: {type(error).__name__}: {text}"
        if text
        else f"cannot parse: {type(error).__name__}"
    )


__all__ = [
    "Batch",
    "Classifier",
    "Encode",
    "Encoded",
    "Item",
    "MessagesTask",
    "Parse",
    "Result",
    "Worker",
    "default_parse",
]
