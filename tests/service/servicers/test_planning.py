"""PlanningService.DecomposeTarget over a real channel: history read from the store's won deals,
custom metrics, a manual target, seasonality; bad trees refused with field paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from quotient.v1 import credit_pb2, credit_pb2_grpc, planning_pb2, planning_pb2_grpc, types_pb2
from tests.conftest import decode_details


def at(day: str) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt.datetime.fromisoformat(day + "T09:00:00+00:00"))
    return t


def record_wins(channel: grpc.Channel) -> None:
    events = []
    for deal_id, owner, amount, won in (("h1", "li.wei", 60_000_000, "2026-01-10"),
                                        ("h2", "zhang.min", 30_000_000, "2026-01-20"),
                                        ("h3", "li.wei", 99_000_000, "2026-02-02")):  # fmt: skip
        deal = types_pb2.Deal(amount_minor=amount, currency="CNY", stage="quote", owner=owner)
        events += [
            credit_pb2.DealEvent(event_id=f"{deal_id}-c", deal_id=deal_id, deal=deal,
                                 event_time=at("2026-01-02"),
                                 kind=credit_pb2.DEAL_EVENT_KIND_CREATED),
            credit_pb2.DealEvent(event_id=f"{deal_id}-w", deal_id=deal_id, event_time=at(won),
                                 kind=credit_pb2.DEAL_EVENT_KIND_WON),
        ]  # fmt: skip
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)
    )


def nodes(**extra: Any) -> list[planning_pb2.PlanNodeInput]:
    return [
        planning_pb2.PlanNodeInput(id="company"),
        planning_pb2.PlanNodeInput(id="north", parent="company", custom="30"),
        planning_pb2.PlanNodeInput(id="south", parent="company", custom="10",
                                   **extra.get("south", {})),
        planning_pb2.PlanNodeInput(id="li.wei", parent="north"),
        planning_pb2.PlanNodeInput(id="zhang.min", parent="north"),
        planning_pb2.PlanNodeInput(id="wang.fang", parent="south", history_minor=1),
    ]  # fmt: skip


def test_decompose_with_history_from_the_store(channel: grpc.Channel) -> None:
    record_wins(channel)
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    r = stub.DecomposeTarget(planning_pb2.DecomposeTargetRequest(
        currency="CNY", target_minor=100_000_000, nodes=nodes(),
        levels=[planning_pb2.LevelMethodInput(method="custom"),
                planning_pb2.LevelMethodInput(method="history")],
        seasonality=[planning_pb2.Phase(period="M1", weight="1"),
                     planning_pb2.Phase(period="M2", weight="2")],
        rule_set="default", history_first_date="2026-01-01", history_last_date="2026-01-31"))  # fmt: skip
    by = {n.id: n for n in r.nodes}
    # 30:10 accounts -> 75,000,000 / 25,000,000; January's wins 600,000 : 300,000 (h3 is
    # February's) -> 50,000,000 / 25,000,000.
    assert [by[k].target_minor for k in ("north", "south", "li.wei", "zhang.min", "wang.fang")] == [
        75_000_000, 25_000_000, 50_000_000, 25_000_000, 25_000_000]  # fmt: skip
    assert (by["north"].share, by["north"].share_ppm, by["li.wei"].metric) == (
        "3/4", 750_000, "60000000")  # fmt: skip
    assert by["north"].target_per_metric == "2500000" and by["north"].sibling_spread == "1"
    assert list(by["li.wei"].phased_minor) == [16_666_667, 33_333_333]
    assert [n.id for n in r.nodes][:3] == ["company", "north", "south"]
    manual = stub.DecomposeTarget(planning_pb2.DecomposeTargetRequest(
        currency="CNY", target_minor=100_000_000,
        nodes=nodes(south={"manual_minor": 40_000_000}),
        levels=[planning_pb2.LevelMethodInput(method="custom"),
                planning_pb2.LevelMethodInput(method="even")]))  # fmt: skip
    got = {n.id: (n.target_minor, n.bound) for n in manual.nodes}
    assert got["south"] == (40_000_000, "MANUAL") and got["north"] == (60_000_000, "")


def test_bad_plans_name_their_fields(channel: grpc.Channel) -> None:
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    cyclic = [planning_pb2.PlanNodeInput(id="a"), planning_pb2.PlanNodeInput(id="b", parent="c"),
              planning_pb2.PlanNodeInput(id="c", parent="b", custom="x")]  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.DecomposeTarget(planning_pb2.DecomposeTargetRequest(target_minor=10, nodes=cyclic))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {"nodes[2].custom"}  # type: ignore[attr-defined]
    cyclic[2] = planning_pb2.PlanNodeInput(id="c", parent="b")
    with pytest.raises(grpc.RpcError) as err:
        stub.DecomposeTarget(planning_pb2.DecomposeTargetRequest(target_minor=10, nodes=cyclic))
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {(v.field, v.reason) for v in bad.field_violations} == {  # type: ignore[attr-defined]
        ("nodes[1].parent", "CYCLE"), ("nodes[2].parent", "CYCLE")}  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.DecomposeTarget(planning_pb2.DecomposeTargetRequest(
            target_minor=10, nodes=nodes(), history_first_date="2026-01-01"))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "rule_set",
        "history_last_date",
    }
