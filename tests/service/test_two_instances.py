"""Two service instances on one PostgreSQL database, over real channels: RecordDealEvents sent
to both at once (every batch to each, in opposite orders) leaves the ledger a single server on
SQLite leaves, event for event and credit for credit."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from server import Quotient, start
from service.channel import channel_target, open_channel
from service.config import Config
from tests.conftest import TODAY
from tests.postgres import PostgresServer

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def batch(b: int) -> credit_pb2.RecordDealEventsRequest:
    events = []
    for i in range(25):
        when = Timestamp()
        when.FromDatetime(T0 + dt.timedelta(minutes=b * 25 + i))
        deal = types_pb2.Deal(amount_minor=1_000_000 + 7 * i, currency="CNY", stage="quote",
                              owner="li.wei", team=[
                                  types_pb2.TeamMember(person="li.wei", ratio="0.7"),
                                  types_pb2.TeamMember(person="zhang.min", ratio="0.3")])  # fmt: skip
        deal_id = f"d-{i % 10}"  # ten deals, each changed by many batches
        kind = (credit_pb2.DEAL_EVENT_KIND_CREATED if b == 0
                else credit_pb2.DEAL_EVENT_KIND_AMOUNT_CHANGED)  # fmt: skip
        if b == 0 and i >= 10:
            kind = credit_pb2.DEAL_EVENT_KIND_AMOUNT_CHANGED
        events.append(credit_pb2.DealEvent(event_id=f"b{b}-e{i}", deal_id=deal_id,
                                           event_time=when, kind=kind, deal=deal))  # fmt: skip
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)


def ledger_of(app: Quotient) -> list[tuple[str, int, int]]:
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as ch:
        stub = credit_pb2_grpc.CreditServiceStub(ch)
        out = []
        for person in ("li.wei", "zhang.min"):
            r = stub.GetCredits(credit_pb2.GetCreditsRequest(person=person), timeout=60)
            out += [(f"{person}/{t.deal_id}", t.credit_minor, t.weighted_credit_minor)
                    for t in r.totals]  # fmt: skip
    return sorted(out)


def test_two_servers_on_one_database_equal_one_server(
    postgres: PostgresServer | None, tmp_path: Path
) -> None:
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    base = Config(address="127.0.0.1:0", db_path=tmp_path / "unused.sqlite3", auth="off",
                  max_batch_deals=1000)  # fmt: skip
    url = postgres.new_database()
    batches = [batch(b) for b in range(8)]
    # Batch 0 creates the deals; the rest arrive at both servers at once, in opposite orders.
    pair = [start(replace(base, database_url=url), clock=lambda: TODAY) for _ in range(2)]
    single = start(replace(base, db_path=tmp_path / "single.sqlite3"), clock=lambda: TODAY)
    try:
        errors: list[BaseException] = []

        def send(app: Quotient, order: list[credit_pb2.RecordDealEventsRequest]) -> None:
            try:
                with grpc.insecure_channel(f"127.0.0.1:{app.port}") as ch:
                    stub = credit_pb2_grpc.CreditServiceStub(ch)
                    for request in order:
                        stub.RecordDealEvents(request, timeout=60)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        send(pair[0], batches[:1])
        threads = [threading.Thread(target=send, args=(pair[0], batches[1:])),
                   threading.Thread(target=send, args=(pair[1], batches[1:][::-1]))]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        send(single, batches)
        expected = ledger_of(single)
        assert len(expected) == 20
        assert ledger_of(pair[0]) == expected == ledger_of(pair[1])
    finally:
        for app in (*pair, single):
            app.stop(0)


def test_a_client_spreads_calls_over_both_and_survives_one(
    postgres: PostgresServer | None, tmp_path: Path
) -> None:
    if postgres is None:
        pytest.skip("PostgreSQL is not installed here")
    base = Config(address="127.0.0.1:0", db_path=tmp_path / "unused.sqlite3", auth="off")
    url = postgres.new_database()
    pair = [start(replace(base, database_url=url), clock=lambda: TODAY) for _ in range(2)]
    try:
        both = f"127.0.0.1:{pair[0].port},localhost:{pair[1].port}"
        assert channel_target(both) == (
            f"ipv4:127.0.0.1:{pair[0].port},127.0.0.1:{pair[1].port}",
            [("grpc.lb_policy_name", "round_robin")])  # fmt: skip
        with open_channel(both, env={}) as channel:
            stub = credit_pb2_grpc.CreditServiceStub(channel)
            stub.RecordDealEvents(batch(0), timeout=30)
            for _ in range(6):  # reads on either instance see what the other wrote
                r = stub.GetCredits(credit_pb2.GetCreditsRequest(person="zhang.min"), timeout=30)
                assert len(r.totals) == 10
            pair[0].stop(0)
            r = stub.GetCredits(credit_pb2.GetCreditsRequest(person="zhang.min"), timeout=30)
            assert len(r.totals) == 10  # the other instance answers
    finally:
        for app in pair:
            app.stop(0)
