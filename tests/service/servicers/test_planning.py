"""PlanningService.DecomposeTarget over a real channel: history read from the store's won deals,
custom metrics, a manual target, seasonality; bad trees refused with field paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from engine.forecast.deals import deal_input_from_records
from engine.planning.scenario import plan_cost_minor
from engine.rules.compiler import compile_rule_set
from quotient.v1 import (
    credit_pb2,
    credit_pb2_grpc,
    forecast_pb2,
    forecast_pb2_grpc,
    planning_pb2,
    planning_pb2_grpc,
    types_pb2,
)
from service.convert_arrow import deals_to_arrow, table_bytes
from tests.conftest import EXAMPLES, decode_details


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


MARCH = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH, first_date="2026-03-01",
                                     last_date="2026-03-31")  # fmt: skip


def march_deal(i: int, stage: str, amount: int, owner: str) -> types_pb2.Deal:
    return types_pb2.Deal(id=f"s-{i}", amount_minor=amount, currency="CNY", stage=stage,
                          owner=owner, region="North", close_date="2026-03-20")  # fmt: skip


PIPELINE = [
    march_deal(1, "won", 30_000_000, "li.wei"),
    march_deal(2, "quote", 40_000_000, "li.wei"),
    march_deal(3, "contract_drafted", 20_000_000, "li.wei"),
    march_deal(4, "needs_confirmed", 10_000_000, "zhang.min"),
    march_deal(5, "won", 25_000_000, "zhang.min"),
]


def simulate(
    channel: grpc.Channel, *levers: planning_pb2.ScenarioLever, columns: bool = False
) -> Any:
    forecast = forecast_pb2.ComputeForecastRequest(
        rule_set="default", as_of_date="2026-03-10", group_by=["owner"], subtotals=True,
        calendar=MARCH)  # fmt: skip
    if columns:  # the same deals as Arrow columns
        records = [{"id": d.id, "amount_minor": d.amount_minor, "currency": d.currency,
                    "stage": d.stage, "owner": d.owner, "region": d.region,
                    "close_date": d.close_date} for d in PIPELINE]  # fmt: skip
        forecast.deal_columns = table_bytes(deals_to_arrow(deal_input_from_records(records)))
    else:
        forecast.deals.deals.extend(PIPELINE)
    return planning_pb2_grpc.PlanningServiceStub(channel).SimulateScenario(
        planning_pb2.SimulateScenarioRequest(name="push", forecast=forecast, levers=levers)
    )


def rows(response: Any) -> dict[tuple[str, ...], Any]:
    return {tuple(g.group): g for g in response.groups}


def test_a_scenario_without_levers_is_the_forecast(channel: grpc.Channel) -> None:
    r = simulate(channel)
    assert r.scenario == r.baseline and r.name == "push"
    forecast = forecast_pb2_grpc.ForecastServiceStub(channel).ComputeForecast(
        forecast_pb2.ComputeForecastRequest(
            rule_set="default", as_of_date="2026-03-10",
            deals=forecast_pb2.DealList(deals=PIPELINE), group_by=["owner"], subtotals=True,
            calendar=MARCH))  # fmt: skip
    assert r.baseline == forecast
    costs = {tuple(c.group): c for c in r.costs}
    assert costs[("li.wei",)].baseline_cost_minor == costs[("li.wei",)].scenario_cost_minor


def test_levers_move_the_outcome_and_the_commission(channel: grpc.Channel) -> None:
    r = simulate(
        channel,
        planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor="1.5",
                                                                      stage="quote")),
        planning_pb2.ScenarioLever(deal_size=planning_pb2.DealSizeLever(factor="1.1")),
        planning_pb2.ScenarioLever(new_pipeline=planning_pb2.NewPipelineLever(
            owner="zhang.min", stage="contract_drafted", count=2, amount_minor=5_000_000,
            currency="CNY", close_date="2026-03-25")),
    )  # fmt: skip
    base, scen = rows(r.baseline), rows(r.scenario)
    li_b, li_s = base[("li.wei",)], scen[("li.wei",)]
    # li.wei's weighted open pipeline: quote 400,000 x 50 % + contract 200,000 x 80 % = 360,000;
    # scenario: quote 440,000 x 75 % + contract 220,000 x 80 % = 506,000.
    assert (li_b.weighted_minor, li_s.weighted_minor) == (36_000_000, 50_600_000)
    assert li_s.closed_won_minor == li_b.closed_won_minor == 30_000_000  # closed deals stay
    zhang_b, zhang_s = base[("zhang.min",)], scen[("zhang.min",)]
    assert zhang_s.deal_count == zhang_b.deal_count + 2
    # needs_confirmed 110,000 x 30 % + two new contracts, 50,000 made 55,000 by the deal-size
    # lever like every open deal, x 80 %.
    assert zhang_s.weighted_minor == 3_300_000 + 2 * 4_400_000
    for key in base:  # better levers never lower the outcome or the chance of the target
        assert scen[key].distribution.mean_minor >= base[key].distribution.mean_minor
        assert scen[key].target.p_reach_target >= base[key].target.p_reach_target
    assert li_b.target.target_minor == 80_000_000  # the rule set's March target
    assert li_s.target.p_reach_target > li_b.target.p_reach_target
    costs = {tuple(c.group): c for c in r.costs}
    li = costs[("li.wei",)]
    p50_b = next(q.amount_minor for q in li_b.distribution.quantiles if q.quantile == 0.5)
    p50_s = next(q.amount_minor for q in li_s.distribution.quantiles if q.quantile == 0.5)
    assert (li.baseline_p50_minor, li.scenario_p50_minor) == (p50_b, p50_s)
    # The sample plan against li.wei's 800,000.00 March target, on each P50 (engine check).
    rules = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
    plan = rules.plans[0]
    assert li.baseline_cost_minor == plan_cost_minor(plan.spec, p50_b, 80_000_000, 8_000_000)
    assert li.scenario_cost_minor == plan_cost_minor(plan.spec, p50_s, 80_000_000, 8_000_000)
    assert li.scenario_cost_minor > li.baseline_cost_minor
    total = next(c for c in r.costs if c.level == 0)
    assert (
        total.scenario_cost_minor
        == li.scenario_cost_minor + costs[("zhang.min",)].scenario_cost_minor
    )


def test_a_scenario_over_deals_sent_as_columns_is_the_same(channel: grpc.Channel) -> None:
    levers = (
        planning_pb2.ScenarioLever(deal_size=planning_pb2.DealSizeLever(factor="1.1")),
        planning_pb2.ScenarioLever(new_pipeline=planning_pb2.NewPipelineLever(
            owner="zhang.min", stage="contract_drafted", count=2, amount_minor=5_000_000,
            currency="CNY", close_date="2026-03-25")),
    )  # fmt: skip
    as_messages = simulate(channel, *levers)
    assert rows(as_messages.scenario)[("zhang.min",)].deal_count == 4
    assert simulate(channel, *levers, columns=True) == as_messages


def test_bad_levers_name_their_fields(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as err:
        simulate(channel,
                 planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor="-1")),
                 planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor="2",
                                                                               stage="nowhere")))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {(v.field, v.reason) for v in bad.field_violations} == {  # type: ignore[attr-defined]
        ("levers[0].win_rate.factor", "NEGATIVE"),
        ("levers[1].win_rate.stage", "UNKNOWN_STAGE"),
    }
    with pytest.raises(grpc.RpcError) as err:
        simulate(channel, planning_pb2.ScenarioLever(
            new_pipeline=planning_pb2.NewPipelineLever(owner="x", stage="quote", count=0,
                                                       amount_minor=5, currency="CNY")))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "levers[0].new_pipeline.count"
    }
    with pytest.raises(grpc.RpcError) as err:
        simulate(channel, planning_pb2.ScenarioLever(deal_size=planning_pb2.DealSizeLever()))
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "levers[0].deal_size.factor"
    }


def test_compare_scenarios_side_by_side(channel: grpc.Channel) -> None:
    forecast = forecast_pb2.ComputeForecastRequest(
        rule_set="default", as_of_date="2026-03-10", deals=forecast_pb2.DealList(deals=PIPELINE),
        group_by=["owner"], subtotals=True, calendar=MARCH)  # fmt: skip
    quotes = planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor="1.5",
                                                                           stage="quote"))  # fmt: skip
    bigger = planning_pb2.ScenarioLever(deal_size=planning_pb2.DealSizeLever(factor="1.1"))
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    r = stub.CompareScenarios(planning_pb2.CompareScenariosRequest(forecast=forecast, scenarios=[
        planning_pb2.NamedScenario(name="quotes", levers=[quotes]),
        planning_pb2.NamedScenario(name="bigger", levers=[bigger])]))  # fmt: skip
    assert list(r.scenarios) == ["baseline", "quotes", "bigger"]
    li = next(row for row in r.rows if list(row.group) == ["li.wei"])
    assert [f.scenario for f in li.figures] == ["baseline", "quotes", "bigger"]
    alone = simulate(channel, quotes)
    li_cost = next(c for c in alone.costs if list(c.group) == ["li.wei"])
    base_row = rows(alone.baseline)[("li.wei",)]
    assert li.figures[0].p50_minor == next(q.amount_minor for q in base_row.distribution.quantiles
                                           if q.quantile == 0.5)  # fmt: skip
    assert (li.figures[0].commission_minor, li.figures[1].commission_minor) == (
        li_cost.baseline_cost_minor, li_cost.scenario_cost_minor)  # fmt: skip
    for f in li.figures:
        assert f.p10_minor <= f.p50_minor <= f.p90_minor and f.HasField("p_reach_target")
        assert f.cost_of_sales == pytest.approx(f.commission_minor / f.p50_minor)
    with pytest.raises(grpc.RpcError) as err:
        stub.CompareScenarios(planning_pb2.CompareScenariosRequest(forecast=forecast, scenarios=[
            planning_pb2.NamedScenario(name="baseline"),
            planning_pb2.NamedScenario(name="x", levers=[planning_pb2.ScenarioLever(
                deal_size=planning_pb2.DealSizeLever(factor="-2"))])]))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {"scenarios[0].name"}  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as err:
        stub.CompareScenarios(planning_pb2.CompareScenariosRequest(forecast=forecast, scenarios=[
            planning_pb2.NamedScenario(name="x", levers=[planning_pb2.ScenarioLever(
                win_rate=planning_pb2.WinRateLever(factor="2", stage="nowhere"))])]))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "scenarios[0].levers[0].win_rate.stage"
    }


def test_solve_gap_with_commission_costs(channel: grpc.Channel) -> None:
    forecast = forecast_pb2.ComputeForecastRequest(
        rule_set="default", as_of_date="2026-03-10", deals=forecast_pb2.DealList(deals=PIPELINE),
        group_by=["owner"], calendar=MARCH)  # fmt: skip
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    r = stub.SolveGap(planning_pb2.SolveGapRequest(forecast=forecast, confidence=0.9))
    li = rows(r.forecast)[("li.wei",)]
    assert li.target.target_minor == 80_000_000 and li.target.p_reach_target < 0.9
    levers = {(x.lever, x.stage): x for x in li.target.levers}
    assert {x.confidence for x in li.target.levers} == {0.9}
    assert {"win_rate", "deal_size", "new_pipeline", "balanced"} <= {k for k, _ in levers}
    both = levers[("balanced", "")]
    assert both.feasible and 0 < both.fraction <= 1
    costs = {(tuple(c.group), c.lever, c.stage): c for c in r.costs}
    for (lever, stage), x in levers.items():
        c = costs[(("li.wei",), lever, stage)]
        assert c.p50_minor == x.p50_minor
        if x.feasible:  # the median once the change is made is at least the target's
            assert c.commission_minor >= c.commission_before_minor
    with pytest.raises(grpc.RpcError) as err:
        stub.SolveGap(planning_pb2.SolveGapRequest(forecast=forecast, confidence=1.5))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_new_hires_bring_the_pipeline_of_an_average_person(channel: grpc.Channel) -> None:
    # North: 3 open deals over 2 owners = 1.5 per person. Two hires at full ramp bring 3 deals,
    # copies of North's open deals in order, owned by "new hire 1" and "new hire 2".
    r = simulate(channel, planning_pb2.ScenarioLever(headcount=planning_pb2.HeadcountLever(
        field="region", value="North", hires=2, ramp="1")))  # fmt: skip
    scen = rows(r.scenario)
    assert (scen[("new hire 1",)].deal_count, scen[("new hire 2",)].deal_count) == (2, 1)
    # s-2 (quote 400,000 x 50 %) and s-4 (needs confirmed 100,000 x 30 %) to hire 1, s-3
    # (contract 200,000 x 80 %) to hire 2.
    assert scen[("new hire 1",)].weighted_minor == 20_000_000 + 3_000_000
    assert scen[("new hire 2",)].weighted_minor == 16_000_000
    assert ("new hire 1",) not in rows(r.baseline)
    half = simulate(
        channel,
        planning_pb2.ScenarioLever(
            headcount=planning_pb2.HeadcountLever(
                field="region", value="North", hires=1, ramp="0.5"
            )
        ),
    )  # 0.75 deal -> 1 (half to even)
    assert rows(half.scenario)[("new hire 1",)].deal_count == 1
    with pytest.raises(grpc.RpcError) as err:
        simulate(channel, planning_pb2.ScenarioLever(headcount=planning_pb2.HeadcountLever(
            field="mood", value="x", hires=0, ramp="2")))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "levers[0].headcount.field",
        "levers[0].headcount.hires",
        "levers[0].headcount.ramp",
    }


def test_visits_cycle_time_and_target_levers(channel: grpc.Channel) -> None:
    # 5 visits at 40 % -> 2 new deals, copies of North's first open deals (s-2, s-3), owners kept.
    r = simulate(channel, planning_pb2.ScenarioLever(visits=planning_pb2.VisitsLever(
        field="region", value="North", visits=5, conversion="0.4")))  # fmt: skip
    base, scen = rows(r.baseline), rows(r.scenario)
    assert scen[("li.wei",)].deal_count == base[("li.wei",)].deal_count + 2
    assert scen[("li.wei",)].weighted_minor == base[("li.wei",)].weighted_minor * 2
    # A deal closing after March: with cycles half as long it closes in March.
    late = types_pb2.Deal(id="late", amount_minor=10_000_000, currency="CNY", stage="quote",
                          owner="zhang.min", region="North", close_date="2026-04-09")  # fmt: skip
    forecast = forecast_pb2.ComputeForecastRequest(
        rule_set="default", as_of_date="2026-03-10",
        deals=forecast_pb2.DealList(deals=[*PIPELINE, late]), group_by=["owner"],
        calendar=MARCH)  # fmt: skip
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    r = stub.SimulateScenario(planning_pb2.SimulateScenarioRequest(forecast=forecast, levers=[
        planning_pb2.ScenarioLever(cycle_time=planning_pb2.CycleTimeLever(factor="0.5")),
        planning_pb2.ScenarioLever(target=planning_pb2.TargetLever(
            group=["zhang.min"], period="2026-03", target_minor=40_000_000))]))  # fmt: skip
    base, scen = rows(r.baseline), rows(r.scenario)
    # 2026-04-09 is 30 days after as-of: 15 days -> 2026-03-25, inside March.
    assert scen[("zhang.min",)].deal_count == base[("zhang.min",)].deal_count + 1
    assert r.scenario.deals_outside_periods == r.baseline.deals_outside_periods - 1
    # The target lever changes the scenario's target only.
    assert (base[("zhang.min",)].target.target_minor, scen[("zhang.min",)].target.target_minor) == (
        50_000_000, 40_000_000)  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        simulate(channel,
                 planning_pb2.ScenarioLever(visits=planning_pb2.VisitsLever(
                     field="region", value="North", visits=5, conversion="1.5")),
                 planning_pb2.ScenarioLever(cycle_time=planning_pb2.CycleTimeLever(factor="0")))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "levers[0].visits.conversion",
        "levers[1].cycle_time.factor",
    }


def test_the_gap_solvers_answer_applied_as_a_scenario_reaches_the_target(
    channel: grpc.Channel,
) -> None:
    forecast = forecast_pb2.ComputeForecastRequest(
        rule_set="default", as_of_date="2026-03-10", deals=forecast_pb2.DealList(deals=PIPELINE),
        group_by=["owner"], calendar=MARCH)  # fmt: skip
    stub = planning_pb2_grpc.PlanningServiceStub(channel)
    for confidence in (0.5, 0.9):
        solved = stub.SolveGap(planning_pb2.SolveGapRequest(forecast=forecast,
                                                            confidence=confidence))  # fmt: skip
        li = rows(solved.forecast)[("li.wei",)]
        answers = {(x.lever, x.stage): x for x in li.target.levers if x.feasible}
        assert ("win_rate", "") in answers  # at P90 a bigger deal size alone may not do
        for (lever, stage), x in answers.items():
            if lever == "win_rate":
                applied = planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(
                    factor=f"{x.factor:.6f}", stage=stage))  # fmt: skip
            elif lever == "deal_size":
                applied = planning_pb2.ScenarioLever(
                    deal_size=planning_pb2.DealSizeLever(factor=f"{x.factor:.6f}"))  # fmt: skip
            else:
                continue
            r = stub.SimulateScenario(planning_pb2.SimulateScenarioRequest(
                forecast=forecast, levers=[applied]))  # fmt: skip
            reach = rows(r.scenario)[("li.wei",)].target.p_reach_target
            assert reach >= confidence - 0.01, (lever, stage, confidence, reach)
