"""Crash safety of the credit ledger: SIGKILL the server in the middle of a stream of event
batches, restart it on the same file, and check that every acknowledged batch is there, none is
half there, and re-sending the unacknowledged ones gives the ledger of an uninterrupted run."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from tests.conftest import serve_subprocess

BATCHES = 40
PER_BATCH = 200
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def batch(i: int) -> credit_pb2.RecordDealEventsRequest:
    events = []
    for j in range(PER_BATCH):
        when = Timestamp()
        when.FromDatetime(T0 + dt.timedelta(seconds=i * PER_BATCH + j))
        deal = types_pb2.Deal(
            amount_minor=1_000_000 + j,
            currency="CNY",
            stage="quote",
            owner="li.wei",
            team=[
                types_pb2.TeamMember(person="li.wei", ratio="0.7"),
                types_pb2.TeamMember(person="zhang.min", ratio="0.3"),
            ],
        )
        events.append(
            credit_pb2.DealEvent(
                event_id=f"b{i}-e{j}",
                deal_id=f"d-{i}-{j}",
                event_time=when,
                kind=credit_pb2.DEAL_EVENT_KIND_CREATED,
                deal=deal,
            )
        )
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)


def deals_of(port: int) -> dict[str, tuple[int, int]]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        resp = credit_pb2_grpc.CreditServiceStub(ch).GetCredits(
            credit_pb2.GetCreditsRequest(person="zhang.min"), timeout=60
        )
    return {t.deal_id: (t.credit_minor, t.weighted_credit_minor) for t in resp.totals}


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_acknowledged_batch_and_tears_none(tmp_path: Path) -> None:
    acked: list[int] = []
    with serve_subprocess(tmp_path / "crash.sqlite3") as (proc, port):

        def send() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                stub = credit_pb2_grpc.CreditServiceStub(ch)
                for i in range(BATCHES):
                    try:
                        stub.RecordDealEvents(batch(i), timeout=30)
                    except grpc.RpcError:
                        return
                    acked.append(i)

        sender = threading.Thread(target=send)
        sender.start()
        while len(acked) < BATCHES // 4 and sender.is_alive():
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        sender.join(60)
    assert 0 < len(acked) < BATCHES, "the kill should land mid-stream"

    with serve_subprocess(tmp_path / "crash.sqlite3") as (_, port):
        present = deals_of(port)
        for i in range(BATCHES):
            have = sum(f"d-{i}-{j}" in present for j in range(PER_BATCH))
            if i in acked:
                assert have == PER_BATCH, f"acknowledged batch {i} lost deals"
            else:
                assert have in (0, PER_BATCH), f"batch {i} is half stored ({have} deals)"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = credit_pb2_grpc.CreditServiceStub(ch)
            for i in range(BATCHES):
                if i not in acked:
                    stub.RecordDealEvents(batch(i), timeout=60)
        after_retry = deals_of(port)

    with serve_subprocess(tmp_path / "clean.sqlite3") as (_, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = credit_pb2_grpc.CreditServiceStub(ch)
            for i in range(BATCHES):
                stub.RecordDealEvents(batch(i), timeout=60)
        clean = deals_of(port)
    assert after_retry == clean and len(clean) == BATCHES * PER_BATCH
