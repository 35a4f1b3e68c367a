"""Where batch jobs run: in this process, or on a Dask cluster when one is named.

Bulk scoring, commission runs, Monte Carlo scenarios and backtests are written as a partition map
plus a reduction (:mod:`engine.partition`): the same engine function runs on each partition, here
or on a worker, and the results are gathered in partition order, so a job gives the same bytes
wherever it runs. An executor is what runs the map:

* :class:`InProcess`: one partition after another in the calling thread (the default);
* :class:`DaskCluster`: the partitions as tasks on a ``distributed`` cluster (``dask scheduler``
  and ``dask worker`` processes, named by the scheduler's address), with the data every
  partition reads scattered once; progress is reported as partitions finish, in any order.

What crosses the wire is values this service built (arrays, engine dataclasses, parsed deal
records, rule sets as their source text, compiled again on arrival), serialized by the service
for its own workers: no bytes a caller sends are ever unpickled. ``distributed`` is imported
only when a cluster is named, so a service without one pays nothing for it at start.

How many partitions a job gets is :meth:`Executor.partitions`: one in-process (no overhead), and
on a cluster one per ``min_work`` units of work up to a few per worker thread, so that a small
job stays whole (the per-partition overhead measured by ``bench/batch.py`` would outweigh it).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from distributed import Client

from engine.partition import PartitionMap

LOG = logging.getLogger("quotient.batch")

_S = TypeVar("_S")
_P = TypeVar("_P")
_R = TypeVar("_R")

#: Called as partitions finish: ``(done, total)``.
Progress = Callable[[int, int], None]

#: Seconds to wait for a named scheduler at start before giving up.
CONNECT_TIMEOUT_S = 5.0
#: Most partitions per worker thread (a few, so a slow partition does not hold up the job).
PARTITIONS_PER_THREAD = 4


class ClusterUnreachableError(Exception):
    """The named Dask scheduler did not answer; the message names its address."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot reach the Dask scheduler at {address}: {reason}")
        self.address = address


class Executor(Protocol):
    """Runs ``fn(shared, partition)`` over partitions and returns the results in order."""

    #: ``in-process`` or the scheduler's address.
    name: str

    def map_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Sequence[_P],
        *,
        shared: _S,
        progress: Progress | None = None,
        label: str = "batch",
    ) -> list[_R]: ...

    def imap_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Iterable[_P],
        *,
        shared: _S,
        window: int | None = None,
        label: str = "batch",
    ) -> Iterator[_R]: ...

    def partitions(self, work: int, min_work: int) -> int: ...

    def close(self) -> None: ...


class InProcess:
    """Runs every partition in the calling thread, in order."""

    name = "in-process"

    def map_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Sequence[_P],
        *,
        shared: _S,
        progress: Progress | None = None,
        label: str = "batch",
    ) -> list[_R]:
        out = []
        for part in partitions:
            out.append(fn(shared, part))
            if progress is not None:
                progress(len(out), len(partitions))
        return out

    def imap_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Iterable[_P],
        *,
        shared: _S,
        window: int | None = None,
        label: str = "batch",
    ) -> Iterator[_R]:
        for part in partitions:
            yield fn(shared, part)

    def partitions(self, work: int, min_work: int) -> int:
        """In-process a job is never split: one partition, no overhead."""
        return 1

    def close(self) -> None:
        pass


class DaskCluster:
    """Runs the partitions on a ``distributed`` cluster; see the module."""

    def __init__(self, address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Connect to the scheduler at ``address`` (``tcp://host:8786``), or raise
        :class:`ClusterUnreachableError` after ``timeout_s`` seconds."""
        from distributed import Client

        self.name = address
        try:
            self.client: Client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnreachableError(address, str(exc) or type(exc).__name__) from None

    def threads(self) -> int:
        """Worker threads the cluster has now (it may grow or shrink between jobs)."""
        return max(1, sum(self.client.nthreads().values()))

    def partitions(self, work: int, min_work: int) -> int:
        """One partition per ``min_work`` units of ``work``, at most a few per worker thread."""
        return max(1, min(work // max(min_work, 1), self.threads() * PARTITIONS_PER_THREAD))

    def _scatter(self, shared: Any) -> Any:
        # Sent once to the workers that need it, not once per task; None needs no sending.
        # (In a list of one, so that a tuple or dict is sent whole, not element by element.)
        return None if shared is None else self.client.scatter([shared], hash=False)[0]

    def map_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Sequence[_P],
        *,
        shared: _S,
        progress: Progress | None = None,
        label: str = "batch",
    ) -> list[_R]:
        from distributed import as_completed

        if not partitions:
            return []
        job = f"{label}-{uuid.uuid4().hex[:12]}"
        data = self._scatter(shared)
        # The partitions are scattered too (each to one worker), not embedded in the task graph.
        parts = self.client.scatter(list(partitions), hash=False)
        futures = [
            self.client.submit(fn, data, part, key=f"{job}-{i}", pure=False)
            for i, part in enumerate(parts)
        ]
        position = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        done = 0
        try:
            for future in as_completed(futures, loop=self.client.loop):
                results[position[future.key]] = future.result()
                done += 1
                if progress is not None:
                    progress(done, len(futures))
        finally:
            self.client.cancel([f for f in futures if not f.done()])
            self.client.cancel([*parts, *([data] if data is not None else [])])
        return results

    def imap_partitions(
        self,
        fn: Callable[[_S, _P], _R],
        partitions: Iterable[_P],
        *,
        shared: _S,
        window: int | None = None,
        label: str = "batch",
    ) -> Iterator[_R]:
        """The results in order while at most ``window`` partitions (default: two per worker
        thread) are in flight, for a stream of partitions too long to hold at once, such as a
        large file's batches."""
        window = window or 2 * self.threads()
        job = f"{label}-{uuid.uuid4().hex[:12]}"
        data = self._scatter(shared)
        pending: list[Any] = []
        try:
            for i, part in enumerate(partitions):
                pending.append(self.client.submit(fn, data, part, key=f"{job}-{i}", pure=False))
                if len(pending) >= window:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            self.client.cancel(pending)
            if data is not None:
                self.client.cancel([data])

    def close(self) -> None:
        self.client.close()


def connect(address: str, *, timeout_s: float | None = None) -> Executor:
    """The executor for a configured address: a cluster when one is named (waiting at most
    ``timeout_s``, default :data:`CONNECT_TIMEOUT_S`), else in-process."""
    if not address:
        return InProcess()
    return DaskCluster(address, timeout_s=CONNECT_TIMEOUT_S if timeout_s is None else timeout_s)


def log_progress(label: str, every_s: float = 5.0) -> Progress:
    """A progress callback that logs ``label: done of total partitions`` at most every
    ``every_s`` seconds, and always the last (a job of one partition is not logged)."""
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if total > 1 and (done == total or now - last[0] >= every_s):
            last[0] = now
            LOG.info("%s: %d of %d partitions done", label, done, total)

    return report


def partition_map(
    executor: Executor, progress: Progress | None = None, label: str = "batch"
) -> PartitionMap:
    """The engine's map (:class:`engine.partition.PartitionMap`) on ``executor``."""

    def run(fn: Callable[[_S, _P], _R], shared: _S, partitions: Sequence[_P], /) -> list[_R]:
        return executor.map_partitions(fn, partitions, shared=shared, progress=progress,
                                       label=label)  # fmt: skip

    return run


def thread_map(pool: ThreadPoolExecutor) -> PartitionMap:
    """The engine's map on ``pool``'s threads, results in order: for partitions whose work
    releases the GIL (compiled loops, large numpy operations)."""

    def run(fn: Callable[[_S, _P], _R], shared: _S, partitions: Sequence[_P], /) -> list[_R]:
        return list(pool.map(lambda part: fn(shared, part), partitions))

    return run


__all__ = [
    "CONNECT_TIMEOUT_S",
    "ClusterUnreachableError",
    "DaskCluster",
    "Executor",
    "InProcess",
    "Progress",
    "connect",
    "log_progress",
    "partition_map",
    "thread_map",
]
