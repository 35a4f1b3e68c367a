"""The caller's deadline, where long work can see it: a call past its deadline stops working.

The access interceptor records each call's deadline (monotonic seconds) in a context variable for
the duration of the call; long operations call :func:`check_deadline` between their stages (after
loading, after calculating, before storing), which raises DEADLINE_EXCEEDED once it has passed. A
write stopped this way is rolled back: nothing of it is stored. Work done in parts (a backtest's
periods) runs them with :func:`checked_map`, which checks before each part.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from engine.errors import DeadlineExceededError

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "quotient_deadline", default=None
)


@contextmanager
def deadline_after(remaining_s: float | None) -> Iterator[None]:
    """Within the block, :func:`check_deadline` fails once ``remaining_s`` have passed."""
    token = _DEADLINE.set(None if remaining_s is None else time.monotonic() + remaining_s)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_deadline(stage: str) -> None:
    """Raise DEADLINE_EXCEEDED if the current call's deadline has passed (``stage``: where)."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlineExceededError(f"the call's deadline passed {stage}; the work was stopped")


_S = TypeVar("_S")
_P = TypeVar("_P")
_R = TypeVar("_R")


def checked_map(stage: str) -> Callable[[Callable[[_S, _P], _R], _S, Sequence[_P]], list[_R]]:
    """The in-process partition map (``engine.partition.local_map``), checking the deadline
    before each part, so a call past its deadline stops between parts (``stage``: where)."""

    def run(fn: Callable[[_S, _P], _R], shared: _S, partitions: Sequence[_P], /) -> list[_R]:
        out: list[_R] = []
        for part in partitions:
            check_deadline(stage)
            out.append(fn(shared, part))
        return out

    return run


__all__ = ["check_deadline", "checked_map", "deadline_after"]
