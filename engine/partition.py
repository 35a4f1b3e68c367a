"""Batch work as a partition map plus a reduction, with the map passed in as an argument.

The engine's batch functions (Monte Carlo trials, backtest periods) split their work into
partitions whose results do not depend on how the work is split, map one top-level function over
them and reduce the results in partition order. Which machine runs the map is not the engine's
business: :func:`local_map` runs it in this process, and the service passes a map that runs it
on a cluster (:mod:`service.batch`). Like a clock or a random generator, the map is an argument;
nothing here imports a scheduler.

A map is called as ``map(fn, shared, partitions)`` and returns ``[fn(shared, p) for p in
partitions]``: ``shared`` is what every partition reads (sent once to each machine), ``fn`` a
module-level function, so that it can be shipped by reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

_S = TypeVar("_S")
_P = TypeVar("_P")
_R = TypeVar("_R")


class PartitionMap(Protocol):
    """``map(fn, shared, partitions) -> [fn(shared, p) for p in partitions]``, in order."""

    def __call__(
        self, fn: Callable[[_S, _P], _R], shared: _S, partitions: Sequence[_P], /
    ) -> list[_R]: ...


def local_map(fn: Callable[[_S, _P], _R], shared: _S, partitions: Sequence[_P], /) -> list[_R]:
    """The in-process map: one partition after another, in this thread."""
    return [fn(shared, p) for p in partitions]


def split_even(costs: Sequence[int], parts: int) -> list[range]:
    """Contiguous ranges of ``costs``' indices, at most ``parts`` of them and none empty, each
    holding about an equal share of the total cost (a range closes once it reaches its share of
    what is left)."""
    n = len(costs)
    parts = max(1, min(parts, n))
    out: list[range] = []
    start = 0
    left = sum(costs)
    for k in range(parts, 0, -1):
        if start >= n:
            break
        if k == 1:
            out.append(range(start, n))
            break
        share = left / k
        stop, taken = start, 0
        while stop < n - (k - 1) and (taken == 0 or taken + costs[stop] / 2 <= share):
            taken += costs[stop]
            stop += 1
        out.append(range(start, stop))
        left -= taken
        start = stop
    return out


__all__ = ["PartitionMap", "local_map", "split_even"]
