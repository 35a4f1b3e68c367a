"""CommissionService over a real channel: the tour's deal won in March paid under the sample plan
against monthly targets, statements that add up, idempotent run keys, dry runs, empty periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from quotient.v1 import (
    commission_pb2,
    commission_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    types_pb2,
)
from tests.conftest import decode_details


@pytest.fixture
def stub(channel: grpc.Channel) -> Iterator[commission_pb2_grpc.CommissionServiceStub]:
    credit = credit_pb2_grpc.CreditServiceStub(channel)

    def at(day: str) -> Timestamp:
        t = Timestamp()
        t.FromDatetime(dt.datetime.fromisoformat(day + "T09:00:00+00:00"))
        return t

    team = [types_pb2.TeamMember(person="li.wei", ratio="0.7"),
            types_pb2.TeamMember(person="zhang.min", ratio="0.3")]  # fmt: skip
    deal = types_pb2.Deal(amount_minor=100_000_000, currency="CNY", stage="initial_contact",
                          owner="li.wei", team=team)  # fmt: skip
    other = types_pb2.Deal(amount_minor=5_000_000, currency="CNY", stage="quote", owner="chen.jie")
    credit.RecordDealEvents(credit_pb2.RecordDealEventsRequest(rule_set="default", events=[
        credit_pb2.DealEvent(event_id="e1", deal_id="d-1", event_time=at("2026-03-02"),
                             kind=credit_pb2.DEAL_EVENT_KIND_CREATED, deal=deal),
        credit_pb2.DealEvent(event_id="e2", deal_id="d-1", event_time=at("2026-03-20"),
                             kind=credit_pb2.DEAL_EVENT_KIND_WON),
        credit_pb2.DealEvent(event_id="e3", deal_id="d-2", event_time=at("2026-03-03"),
                             kind=credit_pb2.DEAL_EVENT_KIND_CREATED, deal=other),
        credit_pb2.DealEvent(event_id="e4", deal_id="d-2", event_time=at("2026-04-02"),
                             kind=credit_pb2.DEAL_EVENT_KIND_WON),
    ]))  # fmt: skip
    yield commission_pb2_grpc.CommissionServiceStub(channel)


def run(stub: commission_pb2_grpc.CommissionServiceStub, **kw: Any) -> Any:
    request = {"rule_set": "default", "period": "2026-03", "first_date": "2026-03-01",
               "last_date": "2026-03-31", "as_of_date": "2026-03-31", "run_key": "mar-1", **kw}  # fmt: skip
    return stub.RunCommission(commission_pb2.RunCommissionRequest(**request))


def test_a_march_run_and_its_statements(stub: commission_pb2_grpc.CommissionServiceStub) -> None:
    r = run(stub)
    assert (r.run_key, r.revision, r.empty, r.already_existed) == ("mar-1", 1, False, False)
    people = {p.person: p for p in r.people}
    # li.wei: 700,000 of 800,000 (87.5 %): the 50 % unlock pays 10 % on all of it: 70,000.00.
    # zhang.min: 300,000 of 500,000 (60 %): 30,000.00. d-2 was won in April: not in March.
    assert (people["li.wei"].base_minor, people["li.wei"].pay_minor) == (70_000_000, 7_000_000)
    assert (people["zhang.min"].base_minor, people["zhang.min"].pay_minor) == (30_000_000,
                                                                                3_000_000)  # fmt: skip
    assert set(people) == {"li.wei", "zhang.min"} and r.total_pay_minor == 10_000_000
    s = stub.GetStatement(commission_pb2.GetStatementRequest(run_key="mar-1", person="li.wei"))
    assert (s.plan, s.currency, s.target_minor, s.attainment_ppm) == (
        "account_executive", "CNY", 80_000_000, 875_000)  # fmt: skip
    assert [(t.rate_ppm, t.base_in_tier, t.pay_minor) for t in s.tiers] == [
        (100_000, "40000000", 4_000_000), (100_000, "30000000", 3_000_000), (150_000, "0", 0)]  # fmt: skip
    assert [(d.deal_id, d.credit_minor, d.commission_minor) for d in s.deals] == [
        ("d-1", 70_000_000, 7_000_000)]  # fmt: skip
    assert sum(t.pay_minor for t in s.tiers) == s.pay_minor
    with pytest.raises(grpc.RpcError) as err:
        stub.GetStatement(commission_pb2.GetStatementRequest(run_key="mar-1", person="nobody"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_run_keys_are_idempotent_and_runs_immutable(
    stub: commission_pb2_grpc.CommissionServiceStub,
) -> None:
    first = run(stub)
    again = run(stub)
    assert again.already_existed and again.result_sha256 == first.result_sha256
    assert again.created_at == first.created_at
    fetched = stub.GetCommissionRun(commission_pb2.GetCommissionRunRequest(run_key="mar-1"))
    assert fetched.people == first.people and fetched.result_sha256 == first.result_sha256
    with pytest.raises(grpc.RpcError) as err:
        run(stub, as_of_date="2026-04-30")
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    status = rpc_status.from_call(err.value)
    assert status is not None
    assert decode_details(status)["ErrorInfo"].reason == "RUN_KEY_REUSED"  # type: ignore[attr-defined]
    # The same inputs under a new key give the same bytes.
    other = run(stub, run_key="mar-2")
    assert other.result_sha256 == first.result_sha256 and not other.already_existed


def test_dry_runs_store_nothing_and_empty_periods_say_so(
    stub: commission_pb2_grpc.CommissionServiceStub,
) -> None:
    dry = run(stub, run_key="", dry_run=True)
    assert dry.dry_run and dry.total_pay_minor == 10_000_000
    with pytest.raises(grpc.RpcError) as err:
        stub.GetCommissionRun(commission_pb2.GetCommissionRunRequest(run_key=""))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    feb = run(stub, run_key="feb", period="2026-02", first_date="2026-02-01",
              last_date="2026-02-28")  # fmt: skip
    assert feb.empty and not feb.people and feb.total_pay_minor == 0
    april = run(stub, run_key="apr", period="2026-04", first_date="2026-04-01",
                last_date="2026-04-30", as_of_date="2026-04-30")  # fmt: skip
    (chen,) = april.people  # covered by the plan, but without an April target
    flags = ["NO_TARGET", "BELOW_THRESHOLD"]
    assert (chen.person, chen.pay_minor, list(chen.flags)) == ("chen.jie", 0, flags)


def test_bad_runs(stub: commission_pb2_grpc.CommissionServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        run(stub, run_key="", last_date="2026-02-01")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    fields = {v.field for v in decode_details(status)["BadRequest"].field_violations}  # type: ignore[attr-defined]
    assert fields == {"last_date", "run_key"}


def test_compare_runs(stub: commission_pb2_grpc.CommissionServiceStub) -> None:
    run(stub)
    run(stub, run_key="mar-target", targets=[
        commission_pb2.PersonTarget(person="li.wei", target_minor=200_000_000)])  # fmt: skip
    c = stub.CompareRuns(commission_pb2.CompareRunsRequest(before_run_key="mar-1",
                                                           after_run_key="mar-target"))  # fmt: skip
    assert list(c.run_reasons) == []  # same revision, period, as-of and credits
    (li,) = c.people  # zhang.min is unchanged
    assert (li.person, list(li.reasons)) == ("li.wei", ["TARGET_CHANGED"])
    # 700,000 of 2,000,000 is 35 %: half rate, 35,000.00 instead of 70,000.00.
    assert (li.pay_before_minor, li.pay_after_minor) == (7_000_000, 3_500_000)
    assert (li.target_before_minor, li.target_after_minor) == (80_000_000, 200_000_000)
    assert [(d.deal_id, d.commission_before_minor, d.commission_after_minor) for d in li.deals] == [
        ("d-1", 7_000_000, 3_500_000)]  # fmt: skip
    assert (c.total_pay_before_minor, c.total_pay_after_minor) == (10_000_000, 6_500_000)
    april = run(stub, run_key="mar-later", as_of_date="2026-04-30")
    later = stub.CompareRuns(commission_pb2.CompareRunsRequest(before_run_key="mar-1",
                                                               after_run_key=april.run_key))  # fmt: skip
    assert list(later.run_reasons) == ["AS_OF_CHANGED"] and not later.people
