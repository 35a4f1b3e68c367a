"""AnalyticsService beyond the basics, over a real channel: the funnel product and two groups in
AttributeChange, histories passed in the request, and lead-source costs from the rule set."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from quotient.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    forecast_pb2,
    rulesets_pb2,
    rulesets_pb2_grpc,
    types_pb2,
)
from server import Quotient
from service.cli import main
from tests.conftest import EXAMPLES, decode_details
from tests.service.servicers.test_analytics import event, record

JAN = forecast_pb2.CustomPeriod(label="Jan", first_date="2026-01-01", last_date="2026-01-31")
FEB = forecast_pb2.CustomPeriod(label="Feb", first_date="2026-02-01", last_date="2026-02-28")
BOTH = forecast_pb2.CustomPeriod(label="Q", first_date="2026-01-01", last_date="2026-02-28")
FUNNEL = analytics_pb2.DECOMPOSITION_FUNNEL
MONTHS = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH, first_date="2026-01-01",
                                      last_date="2026-02-28")  # fmt: skip


def violations(err: pytest.ExceptionInfo[grpc.RpcError]) -> set[tuple[str, str]]:
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    return {(v.field, v.reason) for v in bad.field_violations}  # type: ignore[attr-defined]


def test_the_funnel_product_by_stage(channel: grpc.Channel) -> None:
    record(channel)
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    r = stub.AttributeChange(analytics_pb2.AttributeChangeRequest(
        rule_set="default", before=JAN, after=FEB, decomposition=FUNNEL))  # fmt: skip
    assert r.basis == "created_in_period"
    (total,) = r.rows
    # January's new deals: k1 (won, 100,000.00), k2 (lost), k3 (open at needs_confirmed): 3
    # entered, 2 got past the first stage, 1 reached each later stage. February's: k4 (quote ->
    # won, 200,000.00) and k5 (open at quote): both count as past the earlier stages.
    assert (total.before_minor, total.after_minor) == (10_000_000, 20_000_000)
    names = [(f.factor, f.from_stage, f.to_stage) for f in total.factors]
    assert names == [
        ("deals_entering", "", ""),
        ("initial_contact->needs_confirmed", "initial_contact", "needs_confirmed"),
        ("needs_confirmed->quote", "needs_confirmed", "quote"),
        ("quote->contract_drafted", "quote", "contract_drafted"),
        ("contract_drafted->won", "contract_drafted", "won"),
        ("average_deal", "", ""),
    ]
    before = [Fraction(f.before) for f in total.factors]
    after = [Fraction(f.after) for f in total.factors]
    assert before == [3, Fraction(2, 3), Fraction(1, 2), 1, 1, 10_000_000]
    assert after == [2, 1, 1, Fraction(1, 2), 1, 20_000_000]
    # The factors multiply to each side's bookings, and the contributions add up to the change.
    assert math.prod(before) == 10_000_000 and math.prod(after) == 20_000_000
    c = [f.contribution_minor for f in total.factors]
    assert sum(c) == 10_000_000
    # Fewer deals entered and fewer quotes became contracts: both took bookings away; the
    # earlier conversions and the deal size added; contract -> won did not move.
    assert c[0] < 0 and c[3] < 0 and c[1] > 0 and c[2] > 0 and c[5] > 0 and c[4] == 0


def test_two_groups_over_one_period(channel: grpc.Channel) -> None:
    record(channel)
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    pair = analytics_pb2.GroupComparison(field="owner", baseline="li.wei", compared="zhang.min")
    r = stub.AttributeChange(analytics_pb2.AttributeChangeRequest(
        rule_set="default", before=BOTH, groups=pair))  # fmt: skip
    assert (r.before_group, r.after_group, r.basis) == ("owner=li.wei", "owner=zhang.min",
                                                        "won_in_period")  # fmt: skip
    (total,) = r.rows
    # li.wei closed two (k1 won at 100,000.00, k2 lost), zhang.min one (k4 won at 200,000.00).
    assert [(f.factor, f.before, f.after) for f in total.factors] == [
        ("closed_deals", "2", "1"), ("win_rate", "1/2", "1"),
        ("average_deal", "10000000", "20000000")]  # fmt: skip
    assert total.change_minor == 10_000_000 == sum(f.contribution_minor for f in total.factors)
    bad = [
        (analytics_pb2.AttributeChangeRequest(rule_set="default", before=JAN, after=FEB,
                                              groups=pair),
         {("after", "PERIOD_WITH_GROUPS")}),
        (analytics_pb2.AttributeChangeRequest(rule_set="default", before=JAN, group_by=["owner"],
                                              groups=pair),
         {("groups.field", "GROUPED_FIELD")}),
        (analytics_pb2.AttributeChangeRequest(rule_set="default", before=JAN,
                                              groups=analytics_pb2.GroupComparison(
                                                  field="owner", baseline="a", compared="a")),
         {("groups.compared", "SAME_GROUP")}),
        (analytics_pb2.AttributeChangeRequest(rule_set="default", before=JAN,
                                              groups=analytics_pb2.GroupComparison(
                                                  field="owner", baseline="li.wei",
                                                  compared="nobody")),
         {("groups.compared", "UNKNOWN_GROUP")}),
        (analytics_pb2.AttributeChangeRequest(rule_set="default", before=JAN,
                                              groups=analytics_pb2.GroupComparison(
                                                  field="colour", baseline="a", compared="b")),
         {("group_by[0]", "UNKNOWN_FIELD")}),
    ]  # fmt: skip
    for request, expected in bad:
        with pytest.raises(grpc.RpcError) as err:
            stub.AttributeChange(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(err) == expected


def change(day: str, deal_id: str, stage: str, amount: int, owner: str) -> forecast_pb2.DealChange:
    return forecast_pb2.DealChange(date=day, deal=types_pb2.Deal(
        id=deal_id, stage=stage, amount_minor=amount, currency="CNY", owner=owner))  # fmt: skip


def test_a_history_given_in_the_request(channel: grpc.Channel) -> None:
    # Nothing recorded in the store: the request brings the deals' states by date.
    history = forecast_pb2.DealHistory(changes=[
        change("2026-01-05", "h1", "initial_contact", 10_000_000, "li.wei"),
        change("2026-01-20", "h1", "won", 10_000_000, "li.wei"),
        change("2026-01-08", "h2", "quote", 4_000_000, "li.wei"),
        change("2026-02-09", "h2", "lost", 4_000_000, "li.wei"),
    ])  # fmt: skip
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    r = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="default", custom=forecast_pb2.CustomPeriods(periods=[JAN, FEB]),
        history=history))  # fmt: skip
    by = {x.period: x for x in r.rows}
    assert r.deals_read == 2
    assert (by["Jan"].deals_created, by["Jan"].bookings_minor, by["Jan"].won_count) == (
        2, 10_000_000, 1)  # fmt: skip
    assert (by["Feb"].closed_count, by["Feb"].lost_count) == (1, 1)
    assert by["Jan"].cohort_bookings_minor == 10_000_000
    stuck = stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
        rule_set="default", as_of_date="2026-01-31", threshold_days={"quote": 10},
        history=history))  # fmt: skip
    assert [(d.deal_id, d.days_in_stage) for d in stuck.deals] == [("h2", 23)]
    moved = stub.AttributeChange(analytics_pb2.AttributeChangeRequest(
        rule_set="default", before=JAN, after=FEB, history=history))  # fmt: skip
    assert moved.rows[-1].change_minor == -10_000_000
    # The store is still empty: the request's history was read, not recorded.
    stored = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="default", custom=forecast_pb2.CustomPeriods(periods=[JAN])))  # fmt: skip
    assert stored.deals_read == 0
    with pytest.raises(grpc.RpcError) as err:
        stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
            rule_set="default", custom=forecast_pb2.CustomPeriods(periods=[JAN]),
            history=forecast_pb2.DealHistory(changes=[
                change("2026-13-01", "h1", "won", 1, "li.wei")])))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {f for f, _ in violations(err)} == {"history.changes[0].date"}


def web_deals(channel: grpc.Channel, rule_set: str = "default") -> None:
    c, won = credit_pb2.DEAL_EVENT_KIND_CREATED, credit_pb2.DEAL_EVENT_KIND_WON
    events = []
    for i, (source, amount) in enumerate((("web", 4_000_000), ("fair", 9_000_000))):
        deal = types_pb2.Deal(amount_minor=amount, currency="CNY", stage="quote", owner="li.wei",
                              source=source)  # fmt: skip
        events += [event(f"s{i}", 0, "2026-01-05", c, deal), event(f"s{i}", 1, "2026-01-25", won)]
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set=rule_set, events=events)
    )


def test_source_costs_from_the_rule_set(channel: grpc.Channel) -> None:
    web_deals(channel)
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    months = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH,
                                          first_date="2026-01-01", last_date="2026-02-28")  # fmt: skip
    # The sample rule set: web cost 10,000.00 in 2026-01 and 12,000.00 in 2026-02, the fair
    # 30,000.00 in 2026-01. The request's cost for the fair wins over the rule set's.
    r = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="default", group_by=["source"], calendar=months,
        source_cost_minor={"fair": 4_500_000}))  # fmt: skip
    by = {(x.group[0], x.period): x for x in r.rows}
    web = by[("web", "2026-01")]
    assert (web.cost_minor, web.cost_from, web.cost_per_won_minor, web.return_on_spend_ppm) == (
        1_000_000, "rule_set", 1_000_000, 4_000_000)  # fmt: skip
    feb = by[("web", "2026-02")]
    assert (feb.cost_minor, feb.cost_from, feb.HasField("cost_per_won_minor")) == (
        1_200_000, "rule_set", False)  # fmt: skip
    fair = by[("fair", "2026-01")]
    assert (fair.cost_minor, fair.cost_from, fair.return_on_spend_ppm) == (4_500_000, "request",
                                                                           2_000_000)  # fmt: skip
    # Not grouped by source: no costs.
    plain = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(rule_set="default", calendar=months))
    assert not any(x.HasField("cost_minor") for x in plain.rows)


def test_source_costs_in_another_currency(channel: grpc.Channel) -> None:
    text = (EXAMPLES / "default.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\nlead_sources:")].replace("name: default", "name: usd") + (
        "\nlead_sources:\n  currency: USD\n  costs:\n"
        "    - {source: web, period: 2026-01, amount: 100}\n")  # fmt: skip
    rulesets_pb2_grpc.RuleSetServiceStub(channel).CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=text, expected_revision=0)
    )
    web_deals(channel, "usd")
    months = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH,
                                          first_date="2026-01-01", last_date="2026-01-31")  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(
            analytics_pb2.ComputeKpisRequest(rule_set="usd", group_by=["source"],
                                             calendar=months))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "USD" in (err.value.details() or "")


def test_the_change_command_by_funnel_and_by_group(
    channel: grpc.Channel, app: Quotient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    record(channel)
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["change", "--before", "2026-01-01:2026-01-31", "--after",
                 "2026-02-01:2026-02-28", "--funnel", *server]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    head, total = (line.split("\t") for line in out.splitlines())
    assert head[3:5] == ["deals entering: change", "deals entering: contribution"]
    assert "quote->contract drafted: contribution" in head
    assert total[:3] == ["100,000.00", "200,000.00", "100,000.00"]  # no group_by: all deals
    assert "bookings of the deals created in the period = deals entering x" in err
    png = tmp_path / "groups.png"
    assert main(["change", "--before", "2026-01-01:2026-02-28", "--compare",
                 "owner=li.wei,zhang.min", "--plot", str(png), *server]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert out.splitlines()[1].split("\t")[:3] == ["100,000.00", "200,000.00", "100,000.00"]
    assert err.startswith("owner=li.wei -> owner=zhang.min over 2026-01-01..2026-02-28")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit, match="--compare"):
        main(["change", "--before", "2026-01-01:2026-01-31", "--compare", "owner", *server])
    with pytest.raises(SystemExit, match="--after"):
        main(["change", "--before", "2026-01-01:2026-01-31", *server])


def test_the_kpis_command_with_costs_from_the_rule_set_and_a_history_file(
    channel: grpc.Channel, app: Quotient, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    web_deals(channel)
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["kpis", "--group-by", "source", "--from", "2026-01-01", "--to", "2026-01-31",
                 *server]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    web = next(r for r in rows if r[0] == "web")
    at = rows[0].index("cost")
    assert web[at : at + 3] == ["10,000.00 (rule_set)", "10,000.00", "4.00x"]
    history = tmp_path / "history.csv"
    history.write_text("deal_id,date,stage,amount_minor,currency,owner\n"
                       "h1,2026-01-05,quote,500000,CNY,li.wei\n"
                       "h1,2026-01-09,won,500000,CNY,li.wei\n", encoding="utf-8")  # fmt: skip
    assert main(["kpis", "--from", "2026-01-01", "--to", "2026-01-31", "--history", str(history),
                 *server]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    (row,) = [line.split("\t") for line in out.splitlines()[1:]]
    assert row[1:5] == ["1", "5,000.00", "1", "5,000.00"] and "1 deals read" in err


def test_stuck_thresholds_from_the_request_the_rule_set_and_the_history(
    channel: grpc.Channel,
) -> None:
    # The sample rule set: contract_drafted is stuck after 30 days; other stages use their P90.
    history = forecast_pb2.DealHistory(changes=[
        change("2026-01-02", "c1", "contract_drafted", 1_000_000, "li.wei"),
        change("2026-01-05", "q1", "quote", 2_000_000, "li.wei"),
        change("2026-01-06", "q1", "contract_drafted", 2_000_000, "li.wei"),
        change("2026-01-20", "q1", "won", 2_000_000, "li.wei"),  # 14 days in contract_drafted
    ])  # fmt: skip
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    r = stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
        rule_set="default", as_of_date="2026-02-10", history=history))  # fmt: skip
    # c1: 39 days in contract_drafted > 30 (the rule set's, not the history's P90 of 14 days).
    assert [(d.deal_id, d.days_in_stage, d.threshold_days) for d in r.deals] == [("c1", 39, 30)]
    limits = {t.stage: (t.days if t.HasField("days") else None, t.source) for t in r.thresholds}
    assert limits == {
        "initial_contact": (None, ""), "needs_confirmed": (None, ""),
        "quote": (1, "history_p90"),  # q1's one-day stay in quote
        "contract_drafted": (30, "rule_set"),
    }  # fmt: skip
    # The request's threshold wins over the rule set's.
    r = stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
        rule_set="default", as_of_date="2026-02-10", history=history,
        threshold_days={"contract_drafted": 40}))  # fmt: skip
    assert not r.deals and r.total == 0
    assert {t.stage: t.source for t in r.thresholds}["contract_drafted"] == "request"


def test_dwell_per_group_and_period(
    channel: grpc.Channel, app: Quotient, capsys: pytest.CaptureFixture[str]
) -> None:
    record(channel)
    r = analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(
        analytics_pb2.ComputeKpisRequest(rule_set="default", group_by=["owner"], calendar=MONTHS)
    )
    by = {(x.group[0], x.period): {d.stage: d for d in x.stage_dwell} for x in r.rows}
    # li.wei's k1 left initial_contact after 5 days and quote after 10, both in January; k2 left
    # initial_contact (for lost) after 26 days, in February.
    jan = by[("li.wei", "2026-01")]
    assert (jan["initial_contact"].stays, jan["initial_contact"].median_days) == (1, 5)
    assert (jan["quote"].stays, jan["quote"].p90_days) == (1, 10)
    assert jan["needs_confirmed"].stays == 0 and not jan["needs_confirmed"].HasField("median_days")
    assert by[("li.wei", "2026-02")]["initial_contact"].median_days == 26
    assert by[("zhang.min", "2026-02")]["quote"].median_days == 10
    assert main(["kpis", "--group-by", "owner", "--from", "2026-01-01", "--to", "2026-02-28",
                 "--dwell", "--server", f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    at = rows[0].index("initial_contact dwell p50/p90 d")
    li = next(x for x in rows if x[:2] == ["li.wei", "2026-01"])
    assert li[at] == "5/5 (1)" and li[at + 1] == "-"


def test_costs_per_campaign(channel: grpc.Channel) -> None:
    # A rule set whose costs are keyed by a declared `campaign` field, not the lead source.
    text = (EXAMPLES / "default.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\nlead_sources:")].replace("name: default", "name: campaigns")
    text = text.replace("fields:\n", "fields:\n  campaign: {type: string}\n", 1) + (
        "\nlead_sources:\n  currency: CNY\n  field: campaign\n  costs:\n"
        "    - {source: spring, period: 2026-01, amount: 20000}\n")  # fmt: skip
    rulesets_pb2_grpc.RuleSetServiceStub(channel).CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=text, expected_revision=0)
    )
    spring = types_pb2.AttributeValue(string_value="spring")
    deal = types_pb2.Deal(amount_minor=6_000_000, currency="CNY", stage="quote", owner="li.wei",
                          source="web", attributes={"campaign": spring})  # fmt: skip
    c, won = credit_pb2.DEAL_EVENT_KIND_CREATED, credit_pb2.DEAL_EVENT_KIND_WON
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(credit_pb2.RecordDealEventsRequest(
        rule_set="campaigns", events=[event("p1", 0, "2026-01-05", c, deal),
                                      event("p1", 1, "2026-01-25", won)]))  # fmt: skip
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    month = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH,
                                         first_date="2026-01-01", last_date="2026-01-31")  # fmt: skip
    r = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="campaigns", group_by=["campaign"], calendar=month))  # fmt: skip
    (row,) = r.rows
    assert (row.group[0], row.cost_minor, row.cost_from, row.return_on_spend_ppm) == (
        "spring", 2_000_000, "rule_set", 3_000_000)  # fmt: skip
    # Keyed by source in the request instead: the rule set's campaign costs do not apply.
    r = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="campaigns", group_by=["source"], calendar=month, cost_field="source",
        source_cost_minor={"web": 1_000_000}))  # fmt: skip
    assert [(x.group[0], x.cost_minor, x.cost_from) for x in r.rows] == [
        ("web", 1_000_000, "request")]  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
            rule_set="campaigns", group_by=["source"], calendar=month,
            source_cost_minor={"spring": 1}))  # fmt: skip
    assert violations(err) == {("group_by", "SOURCE_NOT_GROUPED")}
