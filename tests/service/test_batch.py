"""Batch executors: in-process and on a two-worker LocalCluster give the same results in the same
order, report progress as partitions finish, send shared data once; an unreachable scheduler
fails fast naming its address, and a server told to use one refuses to start. End to end, a
seeded Monte Carlo scenario and a backtest are the same on the cluster as in-process."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

import service.batch
from engine.partition import PartitionMap
from quotient.v1 import (
    forecast_pb2,
    forecast_pb2_grpc,
    planning_pb2,
    planning_pb2_grpc,
    types_pb2,
)
from server import ConfigError, Quotient, start
from service.batch import ClusterUnreachableError, DaskCluster, InProcess, connect
from service.cli import main
from service.cli_forecast import read_history
from service.config import Config
from tests.conftest import ROOT, TODAY


def scaled(shared: tuple[int, int], part: list[int]) -> list[int]:
    """A partition function: every value times the shared factor, plus the shared offset."""
    factor, offset = shared
    return [v * factor + offset for v in part]


def slow_when_first(shared: None, part: int) -> int:
    """Finishes out of order: the first partition sleeps."""
    if part == 0:
        time.sleep(0.3)
    return part * part


def test_in_process_runs_the_partitions_in_order_with_progress() -> None:
    seen: list[tuple[int, int]] = []
    out = InProcess().map_partitions(scaled, [[1, 2], [3], []], shared=(10, 1),
                                     progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert out == [[11, 21], [31], []]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert InProcess().partitions(10**12, 1) == 1  # in-process, a job is never split


def test_the_cluster_gives_the_same_results_in_partition_order(dask_cluster: DaskCluster) -> None:
    parts = [[i, i + 1] for i in range(0, 14, 2)]
    seen: list[tuple[int, int]] = []
    out = dask_cluster.map_partitions(scaled, parts, shared=(3, -1),
                                      progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert out == InProcess().map_partitions(scaled, parts, shared=(3, -1))
    assert seen == [(k, len(parts)) for k in range(1, len(parts) + 1)]
    # Finished out of order, gathered in order; progress counts completions.
    seen.clear()
    out = dask_cluster.map_partitions(slow_when_first, list(range(5)), shared=None,
                                      progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    assert out == [0, 1, 4, 9, 16] and [d for d, _ in seen] == [1, 2, 3, 4, 5]
    assert dask_cluster.map_partitions(scaled, [], shared=(1, 0)) == []
    assert list(dask_cluster.imap_partitions(slow_when_first, iter(range(6)), shared=None,
                                             window=2)) == [0, 1, 4, 9, 16, 25]  # fmt: skip


def test_partition_counts_follow_the_work(dask_cluster: DaskCluster) -> None:
    assert dask_cluster.threads() == 2
    assert dask_cluster.partitions(99, 100) == 1  # too small to split
    assert dask_cluster.partitions(350, 100) == 3
    assert dask_cluster.partitions(10**9, 100) == 2 * service.batch.PARTITIONS_PER_THREAD


def test_a_remote_error_comes_back_as_itself(dask_cluster: DaskCluster) -> None:
    with pytest.raises(ZeroDivisionError):
        dask_cluster.map_partitions(divide, [1, 0], shared=1)
    assert dask_cluster.map_partitions(divide, [1, 2], shared=1) == [1.0, 0.5]  # still usable


def divide(shared: int, part: int) -> float:
    return shared / part


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_an_unreachable_scheduler_fails_fast_naming_its_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    with pytest.raises(ClusterUnreachableError) as err:
        DaskCluster(address, timeout_s=0.5)
    assert address in str(err.value) and time.monotonic() - t0 < 10
    assert isinstance(connect(""), InProcess)
    monkeypatch.setattr(service.batch, "CONNECT_TIMEOUT_S", 0.5)
    db = tmp_path / "q.sqlite3"
    with pytest.raises(ConfigError, match=address):
        start(Config(address="127.0.0.1:0", db_path=db, auth="off", dask_address=address))
    assert not db.exists()  # nothing was started: not even the store was opened
    code = main(["serve", "--address", "127.0.0.1:0", "--db", str(db), "--dask", address])
    assert code == 2 and not db.exists()
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    monkeypatch.setenv("QUOTIENT_DASK_ADDRESS", address)
    assert Config.from_env().dask_address == address


@pytest.fixture
def servers(tmp_path: Path, dask_address: str) -> Iterator[tuple[grpc.Channel, grpc.Channel]]:
    """The same service twice, in-process and on the cluster: their channels."""
    apps: list[Quotient] = []
    channels: list[grpc.Channel] = []
    try:
        for name, address in (("local", ""), ("dask", dask_address)):
            config = Config(address="127.0.0.1:0", db_path=tmp_path / f"{name}.sqlite3",
                            auth="off", max_batch_deals=100_000, dask_address=address)  # fmt: skip
            apps.append(start(config, clock=lambda: TODAY))
            channels.append(grpc.insecure_channel(f"127.0.0.1:{apps[-1].port}"))
        assert isinstance(apps[1].batch, DaskCluster) and isinstance(apps[0].batch, InProcess)
        yield channels[0], channels[1]
    finally:
        for ch in channels:
            ch.close()
        for app in apps:
            app.stop(0)


def test_a_seeded_scenario_is_the_same_on_the_cluster(
    servers: tuple[grpc.Channel, grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.servicers.forecast as forecast

    monkeypatch.setattr(forecast, "MIN_DRAWS_PER_PARTITION", 1)  # split even this small one
    deals = [types_pb2.Deal(id=f"d-{i}", amount_minor=1_000_000 * (i % 7 + 1), currency="CNY",
                               stage=("quote", "needs_confirmed", "contract_drafted")[i % 3],
                               owner=("li.wei", "zhang.min", "chen.jie")[i % 3],
                               close_date="2026-03-20") for i in range(60)]  # fmt: skip
    request = planning_pb2.SimulateScenarioRequest(
        name="push",
        forecast=forecast_pb2.ComputeForecastRequest(
            rule_set="default", as_of_date="2026-03-10", deals=forecast_pb2.DealList(deals=deals),
            group_by=["owner"], subtotals=True, trials=5_500, seed=20261201,
            method=forecast_pb2.DISTRIBUTION_METHOD_MONTE_CARLO,
            calendar=forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH,
                                                  first_date="2026-03-01",
                                                  last_date="2026-03-31")),
        levers=[planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor="1.2"))],
    )  # fmt: skip
    local, dask = (planning_pb2_grpc.PlanningServiceStub(ch).SimulateScenario(request)
                   for ch in servers)  # fmt: skip
    assert local.seed == dask.seed == 20261201
    assert local.SerializeToString(deterministic=True) == dask.SerializeToString(deterministic=True)
    groups = list(local.baseline.groups)
    assert len(groups) == 4 and all(g.distribution.method == "monte_carlo" for g in groups)
    assert local.scenario.groups[0].distribution.mean_minor > groups[0].distribution.mean_minor


def test_a_backtest_is_the_same_on_the_cluster(
    servers: tuple[grpc.Channel, grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.servicers.forecast as forecast

    monkeypatch.setattr(forecast, "MIN_BACKTEST_WORK", 1)
    request = forecast_pb2.BacktestForecastRequest(
        rule_set="default", group_by=["region"],
        calendar=forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_QUARTER,
                                              first_date="2024-07-01", last_date="2025-12-31"),
        history=forecast_pb2.DealHistory(
            changes=read_history(str(ROOT / "examples" / "deals" / "history.csv"))),
    )  # fmt: skip
    local, dask = (forecast_pb2_grpc.ForecastServiceStub(ch).BacktestForecast(request)
                   for ch in servers)  # fmt: skip
    assert local.SerializeToString(deterministic=True) == dask.SerializeToString(deterministic=True)
    assert len({p.period for p in local.periods}) == 6 and local.deals == 1_000


def test_a_seeded_scenario_is_the_same_on_threads(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """In-process, a Monte Carlo large enough is split over threads: the same bytes as one."""
    import service.servicers.forecast as forecast

    monkeypatch.setattr(forecast, "MIN_DRAWS_PER_THREAD", 1_000)
    pools: list[int] = []
    real_thread_map = forecast.thread_map

    def counted(pool: ThreadPoolExecutor) -> PartitionMap:
        pools.append(pool._max_workers)
        return real_thread_map(pool)

    monkeypatch.setattr(forecast, "thread_map", counted)
    deals = [types_pb2.Deal(id=f"d-{i}", amount_minor=10_000 * (i % 13 + 1), currency="CNY",
                            stage=("quote", "needs_confirmed", "initial_contact")[i % 3],
                            owner=("li.wei", "zhang.min")[i % 2],
                            close_date="2026-03-20") for i in range(40)]  # fmt: skip
    request = forecast_pb2.ComputeForecastRequest(
        rule_set="default",
        as_of_date="2026-03-10",
        deals=forecast_pb2.DealList(deals=deals),
        group_by=["owner"],
        subtotals=True,
        trials=3_000,
        seed=7,
        method=forecast_pb2.DISTRIBUTION_METHOD_MONTE_CARLO,
        calendar=forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH,
                                              first_date="2026-03-01", last_date="2026-03-31"),
    )  # fmt: skip
    answers, apps = [], []
    try:
        for threads in (1, 3):
            config = Config(address="127.0.0.1:0", db_path=tmp_path / f"t{threads}.sqlite3",
                            auth="off", compute_threads=threads)  # fmt: skip
            apps.append(start(config, clock=lambda: TODAY))
            with grpc.insecure_channel(f"127.0.0.1:{apps[-1].port}") as channel:
                stub = forecast_pb2_grpc.ForecastServiceStub(channel)
                answers.append(stub.ComputeForecast(request))
    finally:
        for app in apps:
            app.stop(0)
    one, three = answers
    assert one.SerializeToString(deterministic=True) == three.SerializeToString(deterministic=True)
    assert [g.distribution.method for g in one.groups] == ["monte_carlo"] * 3
    assert one.seed == 7
    assert pools == [3]  # the one-thread server drew in this thread, the other on three
