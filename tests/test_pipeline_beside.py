"""`Beside`: start-up work done by a forked helper process, and what happens when it fails."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

import pytest

from bouncetool.pipeline.beside import Beside

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

PARENT = os.getpid()


def _numbered(
    count: int, *, die_at: int | None = None, fail_at: int | None = None
) -> Callable[[], Iterator[tuple[int, int]]]:
    def work() -> Iterator[tuple[int, int]]:
        for number in range(count):
            in_helper = os.getpid() != PARENT
            if in_helper and number == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            if in_helper and number == fail_at:
                raise RuntimeError("the helper fails here")
            yield os.getpid(), number

    return work


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped already
    return False


class TestItemsFromTheHelper:
    """The items of the work come in order, computed in another process, which is then reaped."""

    def test_in_order_from_another_process(self) -> None:
        beside = Beside(_numbered(50))
        helper = beside.pid
        items = list(beside)
        assert [number for _, number in items] == list(range(50))
        assert {pid for pid, _ in items} == {helper}
        assert helper is not None and helper != os.getpid()
        assert _gone(helper)


class TestHelperKilled:
    """A helper killed part way: the rest is computed here, nothing lost or repeated."""

    def test_rest_computed_here(self) -> None:
        beside = Beside(_numbered(10, die_at=4))
        helper = beside.pid
        items = list(beside)
        assert [number for _, number in items] == list(range(10))
        assert [pid for pid, _ in items] == [helper] * 4 + [os.getpid()] * 6
        assert helper is not None and _gone(helper)


class TestHelperFails:
    """A helper whose work raises sends no end mark: the work goes on here from that item."""

    def test_rest_computed_here(self) -> None:
        items = list(Beside(_numbered(6, fail_at=2)))
        assert [number for _, number in items] == list(range(6))
        assert [pid == os.getpid() for pid, _ in items] == [False] * 2 + [True] * 4

    def test_an_error_here_reaches_the_caller(self) -> None:
        def work() -> Iterator[int]:
            yield 1
            raise ValueError("bad rule file")

        items = iter(Beside(work))
        assert next(items) == 1
        with pytest.raises(ValueError, match="bad rule file"):
            next(items)


class TestStoppingEarly:
    """A reader that stops early ends the helper (which may still be working) and reaps it."""

    def test_helper_ended(self) -> None:
        def endless() -> Iterator[int]:
            number = 0
            while True:
                yield number
                number += 1

        beside = Beside(endless)
        helper = beside.pid
        items = iter(beside)
        assert [next(items) for _ in range(3)] == [0, 1, 2]
        items.close()  # type: ignore[attr-defined]
        assert helper is not None and _gone(helper)
