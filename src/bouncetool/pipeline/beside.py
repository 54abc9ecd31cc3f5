"""Start-up work done beside this process, in a forked helper, while this one does other work.

``bouncetool classify`` starts with one core busy and the other idle: it
reads the rule table, imports the extractor, compiles the patterns and
plans the tasks (a large mbox is scanned for its message separators) before
and while its workers parse. Work whose results are plain data (the rules
read and prepared, the task plan) can be done by a helper process on the
idle core instead; it sends each result, pickled, through a pipe, in order,
then an end mark.

If the helper fails or is killed before its end mark, the rest of the work
is done here, from where the helper stopped: nothing is lost and nothing
waits forever. So the work must give the same items when run again.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import BinaryIO, Generic, TypeVar

_T = TypeVar("_T")


class _End:
    """The mark after the last item: the helper finished."""


class Beside(Generic[_T]):
    """The items of `work()`, computed in a helper process started at once (where fork exists).

    Iterate once: the items come in order as the helper sends them; the
    helper is reaped when the items are done or the iteration stops early.
    """

    def __init__(self, work: Callable[[], Iterable[_T]]) -> None:
        """Start the helper on `work` (without fork: `work` runs here when iterated)."""
        self._work = work
        self._pid: int | None = None
        self._stream: BinaryIO | None = None
        self._finished = False
        if not hasattr(os, "fork"):
            return
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper
            _serve(work, reading, writing)
        os.close(writing)
        self._pid, self._stream = pid, os.fdopen(reading, "rb")

    @property
    def pid(self) -> int | None:
        """The helper's process id (None: no helper)."""
        return self._pid

    def __iter__(self) -> Iterator[_T]:
        """The items, in order; those the helper did not send are computed here."""
        received = 0
        try:
            stream = self._stream
            while stream is not None:
                try:
                    item = pickle.load(stream)  # noqa: S301  (our own fork sent it)
                except Exception:  # noqa: BLE001  (a helper cut short: EOF or a torn item)
                    break
                if isinstance(item, _End):
                    self._finished = True
                    return
                received += 1
                yield item
            self._close()
            yield from islice(self._work(), received, None)
        finally:
            self._close()

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._pid is not None:
            if not self._finished:
                # Stopped early, or the helper failed: it may still be working.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


def _serve(work: Callable[[], Iterable[object]], reading: int, writing: int) -> None:
    """The helper: send every item of `work()`, then the end mark; never returns."""
    code = 1
    try:
        os.close(reading)
        with os.fdopen(writing, "wb") as stream:
            for item in work():
                pickle.dump(item, stream, pickle.HIGHEST_PROTOCOL)
                stream.flush()  # each item as soon as it is ready: the other side waits for it
            pickle.dump(_End(), stream)
        code = 0
    except BaseException:  # noqa: BLE001, S110  (no end mark: the other side does the rest)
        pass
    finally:
        # Straight out: no exit functions, no flushing of buffers copied from the parent.
        os._exit(code)
