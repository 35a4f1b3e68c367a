"""CreditService over a real channel: the 70/30 example at initial contact and at won, the owner
default, and per-deal problems returned on the deal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import pyarrow as pa
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from engine.forecast.deals import deal_input_from_records
from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from server import Quotient
from service.convert_arrow import deals_to_arrow, table_bytes, table_rows
from tests.conftest import decode_details


@pytest.fixture
def stub(channel: grpc.Channel) -> Iterator[credit_pb2_grpc.CreditServiceStub]:
    yield credit_pb2_grpc.CreditServiceStub(channel)


def example(stage: str) -> types_pb2.Deal:
    return types_pb2.Deal(
        id="d-1",
        amount_minor=100_000_000,
        currency="CNY",
        stage=stage,
        owner="li.wei",
        team=[
            types_pb2.TeamMember(person="li.wei", role="owner", ratio="0.7"),
            types_pb2.TeamMember(person="zhang.min", role="supporter", ratio="0.3"),
        ],
    )


def parts(deal: credit_pb2.DealCredits) -> list[tuple[str, int, int]]:
    return [(p.person, p.credit_minor, p.weighted_credit_minor) for p in deal.parts]


def test_the_example_split_follows_the_stage(
    stub: credit_pb2_grpc.CreditServiceStub,
    app: Quotient,
) -> None:
    resp = stub.SplitCredits(
        credit_pb2.SplitCreditsRequest(
            rule_set="default", deals=[example("initial_contact"), example("won")]
        )
    )
    assert (resp.rule_set, resp.revision, resp.failed_count) == ("default", 1, 0)
    early, won = resp.deals
    assert parts(early) == [
        ("li.wei", 100_000_000 * 7 // 10, 7_000_000),
        ("zhang.min", 30_000_000, 3_000_000),
    ]
    assert parts(won) == [("li.wei", 70_000_000, 70_000_000), ("zhang.min", 30_000_000, 30_000_000)]
    first = early.parts[0]
    assert (first.split, first.kind, first.basis, first.ratio, first.source) == (
        "revenue",
        credit_pb2.SPLIT_KIND_FULL,
        credit_pb2.CREDIT_BASIS_RATIO,
        "0.7",
        credit_pb2.CREDIT_SOURCE_TEAM,
    )
    assert (early.weighted_amount_minor, early.win_prob) == (10_000_000, "0.1")


def test_owner_default_and_per_deal_problems(stub: credit_pb2_grpc.CreditServiceStub) -> None:
    bad = example("quote")
    bad.team[1].ratio = "0.2"
    resp = stub.SplitCredits(
        credit_pb2.SplitCreditsRequest(
            rule_set="default",
            deals=[
                types_pb2.Deal(
                    id="solo", amount_minor=500, currency="CNY", stage="won", owner="wang.fang"
                ),
                bad,
            ],
        )
    )
    solo, refused = resp.deals
    assert parts(solo) == [("wang.fang", 500, 500)]
    assert solo.parts[0].source == credit_pb2.CREDIT_SOURCE_OWNER_DEFAULT
    assert resp.failed_count == 1 and not refused.parts
    assert refused.problem.reason == "RATIOS_NOT_100"
    assert "90 %" in refused.problem.message


def team_member(m: types_pb2.TeamMember) -> dict[str, Any]:
    share = m.WhichOneof("share")
    return {"person": m.person, "role": m.role or None, "split": m.split or None,
            "ratio": m.ratio if share == "ratio" else None,
            "amount_minor": m.amount_minor if share == "amount_minor" else None}  # fmt: skip


def as_columns(deals: list[types_pb2.Deal]) -> bytes:
    """The deals as Arrow columns, teams in the ``team`` column."""
    records = [{"id": d.id, "amount_minor": d.amount_minor, "currency": d.currency,
                "stage": d.stage, "owner": d.owner or None} for d in deals]  # fmt: skip
    table = deals_to_arrow(deal_input_from_records(records))
    member = pa.struct([("person", pa.string()), ("role", pa.string()), ("split", pa.string()),
                        ("ratio", pa.string()), ("amount_minor", pa.int64())])  # fmt: skip
    teams = pa.array([[team_member(m) for m in d.team] for d in deals], pa.list_(member))
    return table_bytes(table.append_column("team", teams))


def split_both_ways(
    stub: credit_pb2_grpc.CreditServiceStub, deals: list[types_pb2.Deal]
) -> list[dict[str, Any]]:
    """Split ``deals`` sent as messages and as columns; check the answers agree; the parts."""
    messages = stub.SplitCredits(credit_pb2.SplitCreditsRequest(rule_set="default", deals=deals))
    columns = stub.SplitCredits(
        credit_pb2.SplitCreditsRequest(rule_set="default", deal_columns=as_columns(deals))
    )
    assert (columns.failed_count, len(columns.deals)) == (messages.failed_count, 0)
    deal_rows = table_rows(columns.deal_columns)
    part_rows = table_rows(columns.part_columns)
    for i, d in enumerate(messages.deals):
        row = deal_rows[i]
        assert row["deal_id"] == d.deal_id and row["problem_reason"] == (d.problem.reason or None)
        if not d.problem.reason:
            assert (row["amount_minor"], row["weighted_amount_minor"]) == (
                d.amount_minor, d.weighted_amount_minor)  # fmt: skip
            assert row["win_prob"] == Decimal(d.win_prob)
        got = [r for r in part_rows if r["deal_index"] == i]
        want = [
            {"split": p.split, "kind": credit_pb2.SplitKind.Name(p.kind)[11:].lower(),
             "person": p.person, "role": p.role,
             "basis": credit_pb2.CreditBasis.Name(p.basis)[13:].lower(),
             "ratio": Decimal(p.ratio) if p.ratio else None,
             "fixed_amount_minor": p.fixed_amount_minor, "credit_minor": p.credit_minor,
             "weighted_credit_minor": p.weighted_credit_minor,
             "source": credit_pb2.CreditSource.Name(p.source)[14:].lower(), "policy": p.policy}
            for p in d.parts
        ]  # fmt: skip
        assert [{k: v for k, v in r.items() if k != "deal_index"} for r in got] == want, d.deal_id
    return part_rows


def test_deals_sent_as_columns_split_as_deal_messages_do(
    stub: credit_pb2_grpc.CreditServiceStub,
) -> None:
    bad = example("quote")
    bad.team[1].ratio = "0.2"
    fixed = example("contract_drafted")
    fixed.id = "fixed"
    del fixed.team[:]
    fixed.team.add(person="zhang.min", role="supporter", amount_minor=25_000_000)
    fixed.team.add(person="chen.jie", role="presales")  # the overlay policy gives the share
    overlay = example("won")
    overlay.id = "overlay"
    overlay.team.add(person="chen.jie", role="presales")
    solo = types_pb2.Deal(id="solo", amount_minor=500, currency="CNY", stage="won",
                          owner="wang.fang")  # fmt: skip
    nowhere = types_pb2.Deal(id="nowhere", amount_minor=5, currency="CNY", stage="nope", owner="x")
    # Fixed amounts and bad ratios: the members are checked one by one.
    parts = split_both_ways(stub, [example("initial_contact"), solo, bad, fixed, nowhere])
    assert {r["source"] for r in parts} >= {"team", "owner_default", "policy", "remainder"}
    first = parts[0]
    assert (first["person"], first["credit_minor"], first["weighted_credit_minor"]) == (
        "li.wei", 70_000_000, 7_000_000)  # fmt: skip
    # Plain ratios and roles only: the members are read as whole columns.
    parts = split_both_ways(stub, [example("initial_contact"), overlay, solo, nowhere])
    assert {r["source"] for r in parts} == {"team", "owner_default", "policy"}
    pair = types_pb2.Deal(id="pair", amount_minor=1_001, currency="CNY", stage="won", owner="a",
                          team=[types_pb2.TeamMember(person="a", ratio="0.5"),
                                types_pb2.TeamMember(person="b", ratio="0.5")])  # fmt: skip
    parts = split_both_ways(stub, [pair])  # no roles, no splits named
    assert [(r["person"], r["role"], r["credit_minor"]) for r in parts] == [
        ("a", "", 501), ("b", "", 500)]  # fmt: skip


def bad_request(err: grpc.RpcError) -> error_details_pb2.BadRequest:
    """The BadRequest detail of a failed call (the test fails if it has none)."""
    status = rpc_status.from_call(err)
    assert status is not None
    bad = decode_details(status).get("BadRequest")
    assert isinstance(bad, error_details_pb2.BadRequest)
    return bad


def test_a_team_column_that_is_not_a_list_of_members_is_refused(
    stub: credit_pb2_grpc.CreditServiceStub,
) -> None:
    table = pa.table({"id": ["d"], "amount_minor": [1], "currency": ["CNY"], "stage": ["won"],
                      "team": ["li.wei"]})  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.SplitCredits(
            credit_pb2.SplitCreditsRequest(rule_set="default", deal_columns=table_bytes(table))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = bad_request(err.value)
    assert [v.field for v in bad.field_violations] == ["deal_columns.team"]


# --- RecordDealEvents and GetCredits ------------------------------------------------------------

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def ts(minutes: int) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(T0 + dt.timedelta(minutes=minutes))
    return t


def event(
    event_id: str, kind: int, minutes: int, deal: types_pb2.Deal | None = None, deal_id: str = "d-1"
) -> credit_pb2.DealEvent:
    return credit_pb2.DealEvent(
        event_id=event_id,
        deal_id=deal_id,
        event_time=ts(minutes),
        kind=kind,
        deal=deal or types_pb2.Deal(),
    )


CREATED = credit_pb2.DEAL_EVENT_KIND_CREATED
STAGE = credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED


def record(stub: credit_pb2_grpc.CreditServiceStub, *events: credit_pb2.DealEvent) -> Any:
    return stub.RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=list(events))
    )


def totals(stub: credit_pb2_grpc.CreditServiceStub, **kw: Any) -> list[tuple[str, int, int]]:
    resp = stub.GetCredits(credit_pb2.GetCreditsRequest(**kw))
    return [(t.person, t.credit_minor, t.weighted_credit_minor) for t in resp.totals]


def test_the_example_ledger_over_grpc(stub: credit_pb2_grpc.CreditServiceStub) -> None:
    first = record(stub, event("e1", CREATED, 0, example("initial_contact")))
    assert (first.recorded_count, first.duplicate_count) == (1, 0)
    assert totals(stub, deal_id="d-1") == [
        ("li.wei", 70_000_000, 7_000_000),
        ("zhang.min", 30_000_000, 3_000_000),
    ]
    won = record(stub, event("e2", STAGE, 10, types_pb2.Deal(stage="won")))
    assert [(ln.person, ln.credit_delta_minor, ln.weighted_credit_delta_minor)
            for ln in won.lines] == [("li.wei", 0, 63_000_000), ("zhang.min", 0, 27_000_000)]  # fmt: skip
    line = won.lines[0]
    assert (line.deal_id, line.event_id, line.split, line.currency, line.rule_set) == (
        "d-1", "e2", "revenue", "CNY", "default"
    )  # fmt: skip
    assert (line.event_time, line.correction, line.line_id) == (ts(10), False, 0)
    assert line.revision >= 1
    assert totals(stub, deal_id="d-1") == [
        ("li.wei", 70_000_000, 70_000_000),
        ("zhang.min", 30_000_000, 30_000_000),
    ]
    # As of before the stage change, and per person with the lines behind the total.
    assert totals(stub, deal_id="d-1", as_of=ts(5))[1] == ("zhang.min", 30_000_000, 3_000_000)
    resp = stub.GetCredits(credit_pb2.GetCreditsRequest(person="zhang.min", include_lines=True))
    assert [ln.weighted_credit_delta_minor for ln in resp.lines] == [3_000_000, 27_000_000]
    assert [ln.event_time for ln in resp.lines] == [ts(0), ts(10)]
    assert 0 < resp.lines[0].line_id < resp.lines[1].line_id


def test_a_batch_acknowledged_without_its_lines_stores_them(
    stub: credit_pb2_grpc.CreditServiceStub,
) -> None:
    """``omit_lines`` leaves the lines out of the reply only: the counts are there, and the
    stored lines are those a reply with lines lists."""
    created = [event(f"e{k}", CREATED, 0, example("initial_contact"), deal_id=f"d-{k}")
               for k in (1, 2)]  # fmt: skip
    quiet = stub.RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=created, omit_lines=True)
    )
    assert (quiet.recorded_count, quiet.duplicate_count, len(quiet.lines)) == (2, 0, 0)
    stored = stub.GetCredits(credit_pb2.GetCreditsRequest(person="zhang.min", include_lines=True))
    assert [(ln.deal_id, ln.weighted_credit_delta_minor) for ln in stored.lines] == [
        ("d-1", 3_000_000),
        ("d-2", 3_000_000),
    ]
    loud = record(stub, event("e3", STAGE, 10, types_pb2.Deal(stage="won"), deal_id="d-1"))
    assert (loud.recorded_count, len(loud.lines)) == (1, 2)
    again = stub.RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=created, omit_lines=True)
    )
    assert (again.recorded_count, again.duplicate_count, len(again.lines)) == (0, 2, 0)


def test_retries_are_idempotent_and_reused_ids_refused(
    stub: credit_pb2_grpc.CreditServiceStub,
) -> None:
    e1 = event("e1", CREATED, 0, example("initial_contact"))
    record(stub, e1)
    again = record(stub, e1)
    assert (again.recorded_count, again.duplicate_count, len(again.lines)) == (0, 1, 0)
    changed = event("e1", CREATED, 0, example("quote"))
    with pytest.raises(grpc.RpcError) as err:
        record(stub, changed)
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_a_bad_event_refuses_the_whole_batch(stub: credit_pb2_grpc.CreditServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        record(
            stub,
            event("e1", CREATED, 0, example("initial_contact")),
            event("x", STAGE, 5, types_pb2.Deal(stage="won"), deal_id="nobody"),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert totals(stub, deal_id="d-1") == []
    bad_split = example("quote")
    bad_split.team[1].ratio = "0.2"
    with pytest.raises(grpc.RpcError) as err:
        record(stub, event("e1", CREATED, 0, bad_split))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = bad_request(err.value)
    assert [(v.field, v.reason) for v in bad.field_violations] == [
        ("events[0].deal.team", "RATIOS_NOT_100")
    ]


def test_a_late_event_is_placed_by_its_time(stub: credit_pb2_grpc.CreditServiceStub) -> None:
    record(stub, event("e1", CREATED, 0, example("initial_contact")))
    record(stub, event("e3", STAGE, 20, types_pb2.Deal(stage="won")))
    # Arrives last, happened in between: quote (50 %) from minute 10 to 20.
    late = record(stub, event("e2", STAGE, 10, types_pb2.Deal(stage="quote")))
    assert any(ln.correction for ln in late.lines)
    assert totals(stub, deal_id="d-1", as_of=ts(15)) == [
        ("li.wei", 70_000_000, 35_000_000),
        ("zhang.min", 30_000_000, 15_000_000),
    ]
    assert totals(stub, deal_id="d-1")[0] == ("li.wei", 70_000_000, 70_000_000)


def test_an_invalid_timestamp_is_refused_naming_it(
    stub: credit_pb2_grpc.CreditServiceStub,
) -> None:
    """A Timestamp outside years 1-9999 (or with nanos outside [0, 10^9)) is the caller's error,
    named by its field, and nothing of the batch is stored."""
    late = event("e2", STAGE, 5, types_pb2.Deal(stage="won"))
    late.event_time.seconds = 10**12
    for call in (
        lambda: record(stub, event("e1", CREATED, 0, example("initial_contact")), late),
        lambda: stub.GetCredits(
            credit_pb2.GetCreditsRequest(deal_id="d-1", as_of=Timestamp(seconds=0, nanos=-1))
        ),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        bad = bad_request(err.value)
        assert [v.reason for v in bad.field_violations] == ["INVALID_TIMESTAMP"]
        assert bad.field_violations[0].field in ("events[1].event_time", "as_of")
    assert totals(stub, deal_id="d-1") == []
