"""AnalyticsService over a real channel: KPIs from recorded deal histories, worked by hand, and
stuck deals with thresholds and pages; bad input named by field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from quotient.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    forecast_pb2,
    types_pb2,
)
from server import Quotient
from service.cli import main
from tests.conftest import decode_details

Q1 = forecast_pb2.CalendarPeriods(kind=forecast_pb2.PERIOD_KIND_MONTH, first_date="2026-01-01",
                                  last_date="2026-02-28")  # fmt: skip


def at(day: str) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt.datetime.fromisoformat(day + "T09:00:00+00:00"))
    return t


def event(deal_id: str, n: int, day: str, kind: int, deal: types_pb2.Deal | None = None
          ) -> credit_pb2.DealEvent:  # fmt: skip
    return credit_pb2.DealEvent(event_id=f"{deal_id}-{n}", deal_id=deal_id, event_time=at(day),
                                kind=kind, deal=deal)  # fmt: skip


def record(channel: grpc.Channel) -> None:
    def deal(stage: str, amount: int, owner: str) -> types_pb2.Deal:
        return types_pb2.Deal(amount_minor=amount, currency="CNY", stage=stage, owner=owner)

    c, s = credit_pb2.DEAL_EVENT_KIND_CREATED, credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED
    won, lost = credit_pb2.DEAL_EVENT_KIND_WON, credit_pb2.DEAL_EVENT_KIND_LOST
    events = [
        event("k1", 0, "2026-01-05", c, deal("initial_contact", 10_000_000, "li.wei")),
        event("k1", 1, "2026-01-10", s, types_pb2.Deal(stage="quote")),
        event("k1", 2, "2026-01-20", won),
        event("k2", 0, "2026-01-08", c, deal("initial_contact", 5_000_000, "li.wei")),
        event("k2", 1, "2026-02-03", lost),
        event("k3", 0, "2026-01-15", c, deal("needs_confirmed", 8_000_000, "li.wei")),
        event("k4", 0, "2026-02-01", c, deal("quote", 20_000_000, "zhang.min")),
        event("k4", 1, "2026-02-11", won),
        event("k5", 0, "2026-02-02", c, deal("quote", 3_000_000, "zhang.min")),
    ]  # fmt: skip
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)
    )


def test_kpis_from_the_store(channel: grpc.Channel) -> None:
    record(channel)
    r = analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(
        analytics_pb2.ComputeKpisRequest(rule_set="default", group_by=["owner"], calendar=Q1)
    )
    assert list(r.funnel_stages) == ["initial_contact", "needs_confirmed", "quote",
                                     "contract_drafted", "won"]  # fmt: skip
    by = {(tuple(x.group), x.period): x for x in r.rows}
    li = by[(("li.wei",), "2026-01")]
    assert (li.deals_created, li.pipeline_created_minor, li.won_count, li.bookings_minor) == (
        3, 23_000_000, 1, 10_000_000)  # fmt: skip
    assert (li.average_deal_minor, li.win_rate_ppm, li.cycle_median_days) == (
        10_000_000, 1_000_000, 15)  # fmt: skip
    assert list(li.funnel_reached) == [3, 2, 1, 1, 1]
    assert [(f.from_stage, f.conversion_ppm) for f in li.funnel_conversion][:2] == [
        ("initial_contact", 666_667), ("needs_confirmed", 500_000)]  # fmt: skip
    li_feb = by[(("li.wei",), "2026-02")]
    assert (li_feb.closed_count, li_feb.lost_count, li_feb.win_rate_ppm) == (1, 1, 0)
    assert not li_feb.HasField("average_deal_minor")  # nothing won: no average, no division
    zhang = by[(("zhang.min",), "2026-02")]
    assert (zhang.deals_created, zhang.bookings_minor, zhang.cycle_median_days) == (
        2, 20_000_000, 10)  # fmt: skip
    empty = by[(("zhang.min",), "2026-01")]
    assert (empty.deals_created, empty.HasField("win_rate_ppm")) == (0, False)
    dwell = {d.stage: d for d in r.dwell}
    assert dwell["initial_contact"].stays == 2  # k1 (5 days) and k2 (26 days)
    assert dwell["initial_contact"].median_days == pytest.approx(15.5)
    # The box: quartiles between the two stays (linear interpolation).
    assert (dwell["initial_contact"].p25_days, dwell["initial_contact"].p75_days) == (
        pytest.approx(10.25), pytest.approx(20.75))  # fmt: skip


def test_stuck_deals_and_pages(channel: grpc.Channel) -> None:
    record(channel)
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    r = stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
        rule_set="default", as_of_date="2026-03-01",
        threshold_days={"needs_confirmed": 30, "quote": 20}, page_size=1))  # fmt: skip
    # k3: needs confirmed since Jan 15 (45 days > 30); k5: quote since Feb 2 (27 days > 20).
    assert r.total == 2 and r.next_page_token
    assert [(d.deal_id, d.stage, d.days_in_stage, d.owner, d.amount_minor) for d in r.deals] == [
        ("k3", "needs_confirmed", 45, "li.wei", 8_000_000)]  # fmt: skip
    nxt = stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
        rule_set="default", as_of_date="2026-03-01",
        threshold_days={"needs_confirmed": 30, "quote": 20}, page_size=1,
        page_token=r.next_page_token))  # fmt: skip
    assert [d.deal_id for d in nxt.deals] == ["k5"] and not nxt.next_page_token


def test_bad_requests_name_their_fields(channel: grpc.Channel) -> None:
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(rule_set="default",
                                                          group_by=["mood"], calendar=Q1))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {"group_by[0]"}  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as err:
        stub.ListStuckDeals(analytics_pb2.ListStuckDealsRequest(
            rule_set="default", threshold_days={"nowhere": 3, "quote": -1}, page_token="x"))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "threshold_days.nowhere",
        "threshold_days.quote",
        "page_token",
    }


def test_the_kpis_and_stuck_commands(channel: grpc.Channel, app: Quotient,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    record(channel)
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["kpis", "--group-by", "owner", "--from", "2026-01-01", "--to", "2026-02-28",
                 *server]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    li = next(r for r in rows if r[:2] == ["li.wei", "2026-01"])
    assert li[2:9] == ["3", "230,000.00", "1", "100,000.00", "100,000.00", "1", "100.0 %"]
    assert li[12] == "3 > 2 > 1 > 1 > 1" and li[13:] == ["-", "-", "-"]  # no source costs given
    assert main(["stuck", "--as-of", "2026-03-01", "--threshold", "needs_confirmed=30",
                 "--threshold", "quote=20", *server]) == 0  # fmt: skip
    out = capsys.readouterr()
    assert [r.split("\t")[0] for r in out.out.splitlines()[1:]] == ["k3", "k5"]
    assert "2 stuck deal(s)" in out.err
    assert "needs_confirmed 30 d (request)" in out.err
    assert "contract_drafted 30 d (rule set)" in out.err


def test_why_bookings_moved(channel: grpc.Channel) -> None:
    record(channel)
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    jan = forecast_pb2.CustomPeriod(label="Jan", first_date="2026-01-01", last_date="2026-01-31")
    feb = forecast_pb2.CustomPeriod(label="Feb", first_date="2026-02-01", last_date="2026-02-28")
    r = stub.AttributeChange(analytics_pb2.AttributeChangeRequest(
        rule_set="default", group_by=["owner"], before=jan, after=feb))  # fmt: skip
    rows = {tuple(x.group): x for x in r.rows}
    li = rows[("li.wei",)]
    # li.wei closed one deal each month: won in January (100,000.00), lost in February. Only the
    # win rate moved (1 -> 0): all of the change is the win rate's.
    assert (li.before_minor, li.after_minor, li.change_minor) == (10_000_000, 0, -10_000_000)
    assert [(f.factor, f.contribution_minor) for f in li.factors] == [
        ("closed_deals", 0), ("win_rate", -10_000_000), ("average_deal", 0)]  # fmt: skip
    assert li.factors[1].relative_change == -1.0
    # zhang.min closed nothing in January and won 200,000.00 in February: the closed deals.
    zhang = rows[("zhang.min",)]
    assert [f.contribution_minor for f in zhang.factors] == [20_000_000, 0, 0]
    assert not zhang.factors[0].HasField("relative_change")  # from 0: no ratio
    total = rows[("",)]
    assert total.change_minor == 10_000_000 == sum(f.contribution_minor for f in total.factors)
    with pytest.raises(grpc.RpcError) as err:
        stub.AttributeChange(analytics_pb2.AttributeChangeRequest(rule_set="default",
                                                                  before=jan, after=jan))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {(v.field, v.reason) for v in bad.field_violations} == {  # type: ignore[attr-defined]
        ("after", "SAME_PERIOD")
    }


def test_the_change_command(channel: grpc.Channel, app: Quotient,
                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    record(channel)
    assert main(["change", "--before", "2026-01-01:2026-01-31", "--after",
                 "2026-02-01:2026-02-28", "--group-by", "owner", "--server",
                 f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    li = next(r for r in rows if r[0] == "li.wei")
    assert li[1:4] == ["100,000.00", "0.00", "-100,000.00"]
    assert li[6:8] == ["-100.0%", "-100,000.00"]  # the win rate took all of it


def test_source_roi(channel: grpc.Channel) -> None:
    c, won = credit_pb2.DEAL_EVENT_KIND_CREATED, credit_pb2.DEAL_EVENT_KIND_WON
    events = []
    for i, (source, amount, wins) in enumerate((("web", 4_000_000, True), ("web", 2_000_000, False),
                                                ("fair", 9_000_000, True))):  # fmt: skip
        deal = types_pb2.Deal(amount_minor=amount, currency="CNY", stage="quote", owner="li.wei",
                              source=source)  # fmt: skip
        events.append(event(f"s{i}", 0, "2026-01-05", c, deal))
        if wins:
            events.append(event(f"s{i}", 1, "2026-01-25", won))
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)
    )
    stub = analytics_pb2_grpc.AnalyticsServiceStub(channel)
    jan = forecast_pb2.CustomPeriods(periods=[forecast_pb2.CustomPeriod(
        label="Jan", first_date="2026-01-01", last_date="2026-01-31")])  # fmt: skip
    r = stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
        rule_set="default", group_by=["source"], custom=jan,
        source_cost_minor={"web": 1_000_000, "fair": 3_000_000}))  # fmt: skip
    by = {x.group[0]: x for x in r.rows}
    # web: 10,000 spent, one deal of 40,000 won: 10,000 per won deal, 4x return.
    assert (by["web"].cost_minor, by["web"].cost_per_won_minor, by["web"].return_on_spend_ppm) == (
        1_000_000, 1_000_000, 4_000_000)  # fmt: skip
    assert (by["web"].deals_created, by["web"].pipeline_created_minor) == (2, 6_000_000)
    assert by["fair"].return_on_spend_ppm == 3_000_000
    with pytest.raises(grpc.RpcError) as err:
        stub.ComputeKpis(analytics_pb2.ComputeKpisRequest(
            rule_set="default", group_by=["source"], custom=jan,
            source_cost_minor={"radio": 5}))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "source_cost_minor.radio"
    }


def test_kpi_and_change_pictures(channel: grpc.Channel, app: Quotient, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    record(channel)
    server = ["--server", f"127.0.0.1:{app.port}"]
    funnel, waterfall = tmp_path / "funnel.png", tmp_path / "change.png"
    assert main(["kpis", "--from", "2026-01-01", "--to", "2026-02-28", "--plot", str(funnel),
                 *server]) == 0  # fmt: skip
    assert main(["change", "--before", "2026-01-01:2026-01-31", "--after",
                 "2026-02-01:2026-02-28", "--plot", str(waterfall), *server]) == 0  # fmt: skip
    capsys.readouterr()
    for png in (funnel, waterfall):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    page = tmp_path / "kpis.html"
    assert main(["kpis", "--from", "2026-01-01", "--to", "2026-02-28", "--html", str(page),
                 *server]) == 0  # fmt: skip
    capsys.readouterr()
    html = page.read_text(encoding="utf-8")
    assert "<h1>Sales KPIs 2026-01-01..2026-02-28</h1>" in html
    assert "data:image/png;base64," in html and "<td>2026-01</td>" in html


def test_activities_and_existing_business_from_the_store(channel: grpc.Channel) -> None:
    c, won = credit_pb2.DEAL_EVENT_KIND_CREATED, credit_pb2.DEAL_EVENT_KIND_WON
    events = []
    for i, (customer, visits, day) in enumerate((("acme", 6, "2026-01-10"),
                                                 ("acme", 2, "2026-02-10"),
                                                 ("globex", 3, "2026-02-12"))):  # fmt: skip
        deal = types_pb2.Deal(amount_minor=1_000_000 * (i + 1), currency="CNY", stage="quote",
                              owner="li.wei", attributes={
                                  "customer": types_pb2.AttributeValue(string_value=customer),
                                  "visits": types_pb2.AttributeValue(int_value=visits)})  # fmt: skip
        events += [event(f"x{i}", 0, day, c, deal), event(f"x{i}", 1, day, won)]
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)
    )
    r = analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(
        analytics_pb2.ComputeKpisRequest(rule_set="default", calendar=Q1,
                                         activity_fields=["visits"], customer_field="customer"))  # fmt: skip
    by = {x.period: x for x in r.rows}
    jan, feb = by["2026-01"], by["2026-02"]
    assert (list(jan.activities), jan.activity_per_won[0].per_won) == ([6], 6.0)
    assert (list(feb.activities), feb.activity_per_won[0].per_won) == ([5], 2.5)
    # February: acme's second win is existing business (20,000), globex's first is new (30,000).
    assert (feb.new_business_minor, feb.existing_business_minor, feb.existing_won_count) == (
        3_000_000, 2_000_000, 1)  # fmt: skip
    assert (jan.new_business_minor, jan.existing_business_minor) == (1_000_000, 0)
    # Why bookings moved, by visits: 6 -> 5 visits, conversion 1/6 -> 2/5, deal 10,000 -> 25,000.
    jan_p = forecast_pb2.CustomPeriod(first_date="2026-01-01", last_date="2026-01-31")
    feb_p = forecast_pb2.CustomPeriod(first_date="2026-02-01", last_date="2026-02-28")
    why = analytics_pb2_grpc.AnalyticsServiceStub(channel).AttributeChange(
        analytics_pb2.AttributeChangeRequest(rule_set="default", before=jan_p, after=feb_p,
                                             activity_field="visits"))  # fmt: skip
    (total,) = why.rows
    assert [(f.factor, f.before, f.after) for f in total.factors] == [
        ("visits", "6", "5"),
        ("conversion", "1/6", "2/5"),
        ("average_deal", "1000000", "2500000"),
    ]
    assert sum(f.contribution_minor for f in total.factors) == total.change_minor == 4_000_000
    with pytest.raises(grpc.RpcError) as err:
        analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(analytics_pb2.ComputeKpisRequest(
            rule_set="default", calendar=Q1, activity_fields=["industry"],
            customer_field="visits"))  # fmt: skip
    bad = decode_details(rpc_status.from_call(err.value))["BadRequest"]
    assert {v.field for v in bad.field_violations} == {  # type: ignore[attr-defined]
        "activity_fields[0]",
        "customer_field",
    }


def test_kpis_command_with_activities_and_customers(channel: grpc.Channel, app: Quotient,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    record(channel)  # these deals name no customer and no visits
    assert main(["kpis", "--from", "2026-01-01", "--to", "2026-02-28", "--activity", "visits",
                 "--customer-field", "customer", "--server", f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows[0][-3:] == ["visits per won", "new business", "existing business"]
    assert rows[1][0] == "2026-01" and rows[1][-3:] == ["0.0", "100,000.00", "0.00"]
