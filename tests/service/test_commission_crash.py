"""Crash safety of commission runs: SIGKILL the server while runs are being calculated and
stored, restart it on the same file, and check that every acknowledged run is there, whole (its
stored results hash to its result hash), that no run is half written, and that running an
unacknowledged key again gives the same bytes as the acknowledged runs of the same inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import signal
import sqlite3
import threading
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quotient.v1 import commission_pb2, commission_pb2_grpc, credit_pb2, credit_pb2_grpc, types_pb2
from tests.conftest import serve_subprocess

DEALS, PER_BATCH, RUNS = 4000, 500, 12


def events(b: int) -> credit_pb2.RecordDealEventsRequest:
    out = []
    for j in range(PER_BATCH):
        k = b * PER_BATCH + j
        for n, (kind, day) in enumerate(((credit_pb2.DEAL_EVENT_KIND_CREATED, 2),
                                         (credit_pb2.DEAL_EVENT_KIND_WON, 20))):  # fmt: skip
            when = Timestamp()
            when.FromDatetime(dt.datetime(2026, 3, day, 9, tzinfo=dt.UTC) + dt.timedelta(seconds=k))
            team = [types_pb2.TeamMember(person=f"p{k % 50}", ratio="0.6"),
                    types_pb2.TeamMember(person=f"p{(k + 1) % 50}", ratio="0.4")]  # fmt: skip
            deal = types_pb2.Deal(amount_minor=100_000 + k, currency="CNY", stage="quote",
                                  owner=f"p{k % 50}", team=team)  # fmt: skip
            out.append(credit_pb2.DealEvent(event_id=f"e{k}-{n}", deal_id=f"d{k}", event_time=when,
                                            kind=kind, deal=deal if n == 0 else None))  # fmt: skip
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=out)


def run_request(key: str) -> commission_pb2.RunCommissionRequest:
    return commission_pb2.RunCommissionRequest(
        rule_set="default", period="2026-03", first_date="2026-03-01", last_date="2026-03-31",
        as_of_date="2026-03-31", run_key=key)  # fmt: skip


@pytest.mark.slow
def test_sigkill_during_runs_tears_none_and_loses_no_acknowledged_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite3"
    acked: dict[str, str] = {}
    with serve_subprocess(db) as (proc, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = credit_pb2_grpc.CreditServiceStub(ch)
            for b in range(DEALS // PER_BATCH):
                stub.RecordDealEvents(events(b), timeout=120)

        def run_all() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                runs = commission_pb2_grpc.CommissionServiceStub(ch)
                for i in range(RUNS):
                    try:
                        r = runs.RunCommission(run_request(f"r{i}"), timeout=120)
                    except grpc.RpcError:
                        return
                    acked[r.run_key] = r.result_sha256

        runner = threading.Thread(target=run_all)
        runner.start()
        while len(acked) < 2 and runner.is_alive():
            time.sleep(0.005)
        time.sleep(0.05)  # into the next run
        proc.send_signal(signal.SIGKILL)
        runner.join(60)
    assert 0 < len(acked) < RUNS, "the kill should land while runs are going on"
    assert len(set(acked.values())) == 1  # same inputs, same bytes

    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT run_key, result, result_sha256 FROM commission_runs"
        ).fetchall()
    for key, result, sha in stored:
        assert hashlib.sha256(result.encode()).hexdigest() == sha, f"run {key} is torn"
    assert set(acked) <= {key for key, _, _ in stored}

    with serve_subprocess(db) as (_, port), grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        runs = commission_pb2_grpc.CommissionServiceStub(ch)
        for key, sha in acked.items():
            assert runs.GetCommissionRun(
                commission_pb2.GetCommissionRunRequest(run_key=key)).result_sha256 == sha  # fmt: skip
        again = runs.RunCommission(run_request(f"r{RUNS - 1}"), timeout=120)
        assert again.result_sha256 == next(iter(acked.values()))


@pytest.mark.slow
def test_sigterm_lets_a_run_in_flight_finish(tmp_path: Path) -> None:
    result: list[object] = []
    with serve_subprocess(tmp_path / "drain.sqlite3") as (proc, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = credit_pb2_grpc.CreditServiceStub(ch)
            for b in range(DEALS // PER_BATCH):
                stub.RecordDealEvents(events(b), timeout=120)

        def run_one() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                runs = commission_pb2_grpc.CommissionServiceStub(ch)
                try:
                    result.append(runs.RunCommission(run_request("in-flight"), timeout=120))
                except grpc.RpcError as exc:
                    result.append(exc.code())

        caller = threading.Thread(target=run_one)
        caller.start()
        time.sleep(0.15)  # the run is being calculated
        proc.send_signal(signal.SIGTERM)
        caller.join(60)
        assert proc.wait(timeout=60) == 0
    (outcome,) = result
    assert isinstance(outcome, commission_pb2.CommissionRun), outcome
    assert outcome.run_key == "in-flight" and len(outcome.people) == 50


@pytest.mark.slow
def test_a_run_past_its_deadline_stops_and_stores_nothing(tmp_path: Path) -> None:
    with (
        serve_subprocess(tmp_path / "late.sqlite3") as (_, port),
        grpc.insecure_channel(f"127.0.0.1:{port}") as ch,
    ):
        stub = credit_pb2_grpc.CreditServiceStub(ch)
        for b in range(DEALS // PER_BATCH):
            stub.RecordDealEvents(events(b), timeout=120)
        runs = commission_pb2_grpc.CommissionServiceStub(ch)
        t0 = time.monotonic()
        runs.RunCommission(run_request("timed"), timeout=120)
        took = time.monotonic() - t0
        with pytest.raises(grpc.RpcError) as err:
            runs.RunCommission(run_request("too-late"), timeout=took / 4)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        time.sleep(took * 2)  # long enough for the run to have been stored, had it gone on
        with pytest.raises(grpc.RpcError) as err:
            runs.GetCommissionRun(commission_pb2.GetCommissionRunRequest(run_key="too-late"))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
