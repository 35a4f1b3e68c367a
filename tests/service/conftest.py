"""Fixtures for batch jobs on a cluster: one two-worker ``distributed.LocalCluster`` for the whole
session (started on first use; worker processes, as a real cluster has), and servers started on
it or in-process over the same data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.batch import DaskCluster


@pytest.fixture(scope="session")
def dask_address() -> Iterator[str]:
    """The scheduler address of a two-worker local cluster (one thread each, separate
    processes, no dashboard)."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, scheduler_port=0)  # fmt: skip
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def dask_cluster(dask_address: str) -> Iterator[DaskCluster]:
    """An executor on the session's cluster."""
    executor = DaskCluster(dask_address)
    try:
        yield executor
    finally:
        executor.close()
