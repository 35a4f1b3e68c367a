"""ForecastService.ComputeForecast over a real channel: a hand-checked roll-up with subtotals, the
outcome distribution and target gap, stored deals with a filter, a replayable Monte Carlo, and bad
input refused with the field paths in the status details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from engine.forecast.deals import deal_input_from_records
from quotient.v1 import credit_pb2, credit_pb2_grpc, forecast_pb2, forecast_pb2_grpc, types_pb2
from service.convert_arrow import deals_to_arrow, table_bytes
from tests.conftest import decode_details

Q = forecast_pb2.PERIOD_KIND_QUARTER
Y = forecast_pb2.PERIOD_KIND_YEAR
H1 = forecast_pb2.CalendarPeriods(kind=Q, first_date="2026-01-01", last_date="2026-06-30")


@pytest.fixture
def stub(channel: grpc.Channel) -> Iterator[forecast_pb2_grpc.ForecastServiceStub]:
    yield forecast_pb2_grpc.ForecastServiceStub(channel)


def deal(i: int, stage: str, amount: int, region: str, owner: str, close: str) -> types_pb2.Deal:
    return types_pb2.Deal(id=f"d-{i}", amount_minor=amount, currency="CNY", stage=stage,
                          region=region, owner=owner, close_date=close)  # fmt: skip


DEALS = [
    deal(1, "initial_contact", 1_000_000, "North", "li.wei", "2026-02-10"),
    deal(2, "quote", 2_000_000, "North", "li.wei", "2026-03-31"),
    deal(3, "won", 500_000, "North", "zhang.min", "2026-01-05"),
    deal(4, "lost", 700_000, "North", "zhang.min", "2026-02-01"),
    deal(5, "quote", 400_000, "South", "wang.fang", "2026-05-02"),
    deal(6, "quote", 400_000, "South", "wang.fang", "2027-05-02"),  # outside the periods
    deal(7, "nowhere", 400_000, "South", "wang.fang", "2026-05-02"),  # unknown stage
]


def compute(stub: forecast_pb2_grpc.ForecastServiceStub, **kw: Any) -> Any:
    if "custom" not in kw:
        kw.setdefault("calendar", H1)
    kw.setdefault("as_of_date", "2026-02-14")
    return stub.ComputeForecast(forecast_pb2.ComputeForecastRequest(rule_set="default", **kw))


def test_a_rollup_with_subtotals_distribution_and_gap(
    stub: forecast_pb2_grpc.ForecastServiceStub,
) -> None:
    resp = compute(
        stub,
        deals=forecast_pb2.DealList(deals=DEALS),
        group_by=["region", "owner"],
        subtotals=True,
        targets=[
            forecast_pb2.GroupTarget(group=["North"], period="2026-Q1", target_minor=3_000_000)
        ],
    )
    assert (resp.rule_set, resp.revision, resp.currency) == ("default", 1, "CNY")
    assert (resp.deals_read, resp.deals_unscored, resp.deals_outside_periods, resp.deals_omitted) == (
        7, 1, 1, 1)  # fmt: skip
    assert [(u.deal_id, u.problem.reason) for u in resp.unscored] == [("d-7", "UNKNOWN_STAGE")]
    rows = {(tuple(g.group), g.level, g.period): g for g in resp.groups}
    assert list(rows)[:3] == [
        (("North", "li.wei"), 2, "2026-Q1"),
        (("North", "zhang.min"), 2, "2026-Q1"),
        (("South", "wang.fang"), 2, "2026-Q2"),
    ]
    north = rows[(("North", ""), 1, "2026-Q1")]
    assert (north.deal_count, north.open_count, north.won_count) == (3, 2, 1)
    assert (north.pipeline_minor, north.weighted_minor, north.closed_won_minor) == (
        3_000_000, 1_100_000, 500_000)  # fmt: skip
    cats = {types_pb2.Category.Name(c.category): (c.amount_minor, c.cumulative_minor)
            for c in north.categories}  # fmt: skip
    assert cats == {
        "CATEGORY_PIPELINE": (1_000_000, 3_500_000),
        "CATEGORY_BEST_CASE": (2_000_000, 2_500_000),
        "CATEGORY_COMMIT": (0, 500_000),
        "CATEGORY_CLOSED": (500_000, 500_000),
    }
    d = north.distribution
    assert d.method == "exact" and [q.quantile for q in d.quantiles] == [0.1, 0.5, 0.9]
    assert d.mean_minor == pytest.approx(1_600_000)
    # 500,000 won + {0, 1M, 2M, 3M} with probabilities .45 .05 .45 .05
    for q, want in zip(d.quantiles, [500_000, 1_500_000, 2_500_000], strict=True):
        assert abs(q.amount_minor - want) <= d.error_bound_minor
    t = north.target
    assert (t.target_minor, t.gap_minor, t.expected_gap_minor) == (3_000_000, 2_500_000, 1_400_000)
    assert (t.days_elapsed, t.days_left) == (45, 45)
    assert t.p_reach_target == pytest.approx(0.05)  # only with both open deals won
    assert not rows[(("", ""), 0, "2026-Q1")].HasField("target")


def test_deals_sent_as_columns_roll_up_as_deal_messages_do(
    stub: forecast_pb2_grpc.ForecastServiceStub,
) -> None:
    records = [
        {"id": d.id, "amount_minor": d.amount_minor, "currency": d.currency, "stage": d.stage,
         "region": d.region, "owner": d.owner, "close_date": d.close_date}
        for d in DEALS
    ]  # fmt: skip
    columns = table_bytes(deals_to_arrow(deal_input_from_records(records)))
    common: dict[str, Any] = {
        "group_by": ["region", "owner"],
        "subtotals": True,
        "targets": [
            forecast_pb2.GroupTarget(group=["North"], period="2026-Q1", target_minor=3_000_000)
        ],
    }
    as_messages = compute(stub, deals=forecast_pb2.DealList(deals=DEALS), **common)
    as_columns = compute(stub, deal_columns=columns, **common)
    assert as_columns == as_messages
    assert [(u.deal_id, u.problem.reason) for u in as_columns.unscored] == [
        ("d-7", "UNKNOWN_STAGE")
    ]


def test_stored_deals_with_a_filter(
    stub: forecast_pb2_grpc.ForecastServiceStub, channel: grpc.Channel
) -> None:
    credit = credit_pb2_grpc.CreditServiceStub(channel)
    t = Timestamp()
    t.FromDatetime(dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    events = [
        credit_pb2.DealEvent(
            event_id=f"e-{d.id}",
            deal_id=d.id,
            event_time=t,
            kind=credit_pb2.DEAL_EVENT_KIND_CREATED,
            deal=d,
        )
        for d in DEALS[:5]
    ]
    credit.RecordDealEvents(credit_pb2.RecordDealEventsRequest(rule_set="default", events=events))
    resp = compute(
        stub,
        stored=forecast_pb2.StoredDeals(filter="region = 'North' AND amount >= 10000"),
        group_by=["owner"],
        method=forecast_pb2.DISTRIBUTION_METHOD_NONE,
    )
    assert resp.deals_read == 2
    assert [(tuple(g.group), g.period, g.pipeline_minor) for g in resp.groups] == [
        (("li.wei",), "2026-Q1", 3_000_000)
    ]
    assert not resp.groups[0].HasField("distribution")
    everything = compute(stub, stored=forecast_pb2.StoredDeals())
    assert everything.deals_read == 5


def test_monte_carlo_is_replayable_by_its_seed(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    mc = forecast_pb2.DISTRIBUTION_METHOD_MONTE_CARLO
    first = compute(stub, deals=forecast_pb2.DealList(deals=DEALS), method=mc, trials=2_000)
    assert first.seed != 0 and first.trials == 2_000
    again = compute(stub, deals=forecast_pb2.DealList(deals=DEALS), method=mc, trials=2_000,
                    seed=first.seed)  # fmt: skip
    assert again.groups == first.groups
    assert first.groups[0].distribution.method == "monte_carlo"


def bad_request(stub: forecast_pb2_grpc.ForecastServiceStub, **kw: Any) -> set[tuple[str, str]]:
    with pytest.raises(grpc.RpcError) as err:
        compute(stub, deals=forecast_pb2.DealList(deals=DEALS), **kw)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    bad = decode_details(status)["BadRequest"]
    return {(v.field, v.reason) for v in bad.field_violations}  # type: ignore[attr-defined]


CAL_TO_9999 = forecast_pb2.CalendarPeriods(kind=Y, first_date="2026-01-01", last_date="9999-12-31")
CUSTOM_TO_9999 = forecast_pb2.CustomPeriods(
    periods=[forecast_pb2.CustomPeriod(label="A", first_date="2026-01-01", last_date="9999-12-31")]
)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"group_by": ["regoin"]}, {("group_by[0]", "UNKNOWN_FIELD")}),
        ({"quantiles": [0.5, 1.0]}, {("quantiles[1]", "INVALID_QUANTILE")}),
        (
            {"calendar": forecast_pb2.CalendarPeriods(kind=Q, first_date="2026-13-01")},
            {("calendar.first_date", "INVALID_DATE"), ("calendar.last_date", "INVALID_DATE")},
        ),
        (  # the year after the last date must exist, for the period holding it
            {"calendar": CAL_TO_9999},
            {("calendar.last_date", "INVALID_DATE")},
        ),
        (
            {"custom": CUSTOM_TO_9999},
            {("custom.periods[0].last_date", "INVALID_DATE")},
        ),
        (
            {
                "custom": forecast_pb2.CustomPeriods(
                    periods=[
                        forecast_pb2.CustomPeriod(
                            label="A", first_date="2026-01-01", last_date="2026-03-31"
                        ),
                        forecast_pb2.CustomPeriod(
                            label="B", first_date="2026-03-01", last_date="2026-04-30"
                        ),
                    ]
                )
            },
            {("custom.periods[1]", "OVERLAPPING_PERIODS")},
        ),
        ({"custom": forecast_pb2.CustomPeriods()}, {("custom.periods", "EMPTY_PERIODS")}),
        (
            {
                "group_by": ["owner"],
                "targets": [forecast_pb2.GroupTarget(group=["li.wie"], period="2026-Q1")],
            },
            {("targets[0].group[0]", "UNKNOWN_GROUP")},
        ),
    ],
)
def test_bad_input_names_the_field(
    stub: forecast_pb2_grpc.ForecastServiceStub, kw: dict[str, Any], expected: set[Any]
) -> None:
    assert bad_request(stub, **kw) == expected


def test_a_filter_that_does_not_compile(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        compute(stub, stored=forecast_pb2.StoredDeals(filter="regoin = 'North'"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    details = decode_details(status)
    assert details["ErrorInfo"].reason == "INVALID_FILTER"  # type: ignore[attr-defined]
    fields = [v.field for v in details["BadRequest"].field_violations]  # type: ignore[attr-defined]
    assert fields == ["stored.filter"]


def test_currency_mixture_is_refused(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    usd = types_pb2.Deal(id="u", amount_minor=5, currency="USD", stage="quote",
                         close_date="2026-02-02")  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        compute(stub, deals=forecast_pb2.DealList(deals=[*DEALS, usd]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    assert decode_details(status)["ErrorInfo"].reason == "CURRENCY_MIXTURE"  # type: ignore[attr-defined]


def test_gap_levers(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    resp = compute(
        stub,
        deals=forecast_pb2.DealList(deals=DEALS[:3]),
        group_by=["owner"],
        targets=[
            forecast_pb2.GroupTarget(group=["li.wei"], period="2026-Q1", target_minor=3_000_000)
        ],
        solve_levers=True,
        visit_to_deal="0.25",
    )
    (li,) = [g for g in resp.groups if g.HasField("target")]
    levers = {(x.lever, x.stage, x.confidence): x for x in li.target.levers}
    # Both deals must win: quote caps at 1 from x2, then initial contact needs x10 alone, x5 with it
    assert 5 <= levers[("win_rate", "", 0.5)].factor <= 5.03
    assert not levers[("win_rate", "quote", 0.5)].feasible
    assert 1.5 <= levers[("deal_size", "", 0.5)].factor <= 1.51  # 2M x f >= 3M at P = .5
    new = levers[("new_pipeline", "", 0.9)]
    assert new.feasible and new.new_pipeline_minor == new.new_deals * 1_500_000
    assert levers[("visits", "", 0.9)].visits == new.new_deals * 4
    assert bad_request(stub, visit_to_deal="1.5") == {("visit_to_deal", "INVALID_ARGUMENT")}


# --- timing and backtests --------------------------------------------------------------------


def change(deal_id: str, date: str, stage: str, amount: int, close: str, region: str) -> Any:
    return forecast_pb2.DealChange(
        date=date,
        deal=types_pb2.Deal(id=deal_id, stage=stage, amount_minor=amount, currency="CNY",
                            close_date=close, region=region, owner="li.wei"),
    )  # fmt: skip


HISTORY = [
    change("a", "2026-01-05", "initial_contact", 1000, "2026-04-15", "North"),
    change("a", "2026-02-01", "quote", 1000, "2026-04-15", "North"),
    change("a", "2026-04-10", "won", 1200, "2026-04-10", "North"),
    change("b", "2026-02-01", "quote", 2000, "2026-05-01", "South"),
    change("b", "2026-05-20", "lost", 2000, "2026-05-20", "South"),
    change("c", "2026-04-05", "quote", 500, "2026-04-30", "North"),
    change("c", "2026-04-25", "won", 500, "2026-04-25", "North"),
    change("e", "2026-07-02", "initial_contact", 10, "2026-12-01", "South"),
]
Q2 = forecast_pb2.CalendarPeriods(kind=Q, first_date="2026-04-01", last_date="2026-06-30")


def test_backtest_of_a_history_in_the_request(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    resp = stub.BacktestForecast(
        forecast_pb2.BacktestForecastRequest(
            rule_set="default", history=forecast_pb2.DealHistory(changes=HISTORY),
            group_by=["region"], calendar=Q2,
        )
    )  # fmt: skip
    assert (resp.currency, resp.deals, resp.changes) == ("CNY", 4, 8)
    rows = {(tuple(p.group), p.period): p for p in resp.periods}
    north, total = rows[(("North",), "2026-Q2")], rows[((), "2026-Q2")]
    assert (north.cutoff_date, north.complete) == ("2026-03-31", True)
    assert (north.classic_minor, north.actual_minor, north.won_count) == (500, 1700, 2)
    assert (total.classic_minor, total.actual_minor) == (1500, 1700)
    acc = {tuple(a.group): a for a in resp.accuracy}
    assert acc[()].classic.error_minor == -200
    assert acc[()].classic.bias == pytest.approx(-200 / 1700)
    assert not acc[("South",)].classic.HasField("mape")  # no bookings in the South


def test_backtest_and_period_aware_forecast_from_the_store(
    stub: forecast_pb2_grpc.ForecastServiceStub, channel: grpc.Channel
) -> None:
    credit = credit_pb2_grpc.CreditServiceStub(channel)
    kinds = {"initial_contact": credit_pb2.DEAL_EVENT_KIND_CREATED,
             "quote": credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED,
             "won": credit_pb2.DEAL_EVENT_KIND_WON, "lost": credit_pb2.DEAL_EVENT_KIND_LOST}  # fmt: skip
    events = []
    seen: set[str] = set()
    for n, c in enumerate(HISTORY):
        t = Timestamp()
        t.FromDatetime(dt.datetime.fromisoformat(c.date + "T09:00:00+00:00"))
        kind = kinds[c.deal.stage] if c.deal.id in seen else credit_pb2.DEAL_EVENT_KIND_CREATED
        seen.add(c.deal.id)
        events.append(credit_pb2.DealEvent(event_id=f"e{n}", deal_id=c.deal.id, event_time=t,
                                           kind=kind, deal=c.deal))  # fmt: skip
    credit.RecordDealEvents(credit_pb2.RecordDealEventsRequest(rule_set="default", events=events))
    stored = stub.BacktestForecast(
        forecast_pb2.BacktestForecastRequest(
            rule_set="default", stored=forecast_pb2.StoredHistory(), group_by=["region"],
            calendar=Q2,
        )
    )  # fmt: skip
    given = stub.BacktestForecast(
        forecast_pb2.BacktestForecastRequest(
            rule_set="default", history=forecast_pb2.DealHistory(changes=HISTORY),
            group_by=["region"], calendar=Q2,
        )
    )  # fmt: skip
    assert stored.deals == 4
    for a, b in zip(stored.periods, given.periods, strict=True):
        assert (a.group, a.classic_minor, a.period_aware_minor, a.open_count, a.won_count) == (
            b.group, b.classic_minor, b.period_aware_minor, b.open_count, b.won_count)  # fmt: skip
    # A won event moves the stage only (an amount_changed event would change the amount), so the
    # store has deal a won at 1,000, not the 1,200 of the history given above.
    north = next(p for p in stored.periods if list(p.group) == ["North"])
    assert north.actual_minor == 1500
    # The period-aware forecast learns from the store's history as from the same history given.
    deals = forecast_pb2.DealList(deals=[DEALS[1], DEALS[4]])
    common = {"deals": deals, "as_of_date": "2026-03-31", "period_aware": True,
              "method": forecast_pb2.DISTRIBUTION_METHOD_NONE,
              "calendar": forecast_pb2.CalendarPeriods(kind=Q, first_date="2026-04-01",
                                                       last_date="2026-12-31")}  # fmt: skip
    from_store = compute(stub, **common)
    from_request = compute(stub, history=forecast_pb2.DealHistory(changes=HISTORY), **common)
    assert [g.period_aware_minor for g in from_store.groups] == [
        g.period_aware_minor for g in from_request.groups]  # fmt: skip
    assert any(g.period_aware_minor > 0 for g in from_store.groups)


def test_a_bad_history_names_its_rows(stub: forecast_pb2_grpc.ForecastServiceStub) -> None:
    bad = [*HISTORY[:2], change("z", "2026-02-30", "nowhere", 5, "", "North")]
    with pytest.raises(grpc.RpcError) as err:
        stub.BacktestForecast(
            forecast_pb2.BacktestForecastRequest(
                rule_set="default", history=forecast_pb2.DealHistory(changes=bad), calendar=Q2
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    fields = {(v.field, v.reason)
              for v in decode_details(status)["BadRequest"].field_violations}  # type: ignore[attr-defined]  # fmt: skip
    assert fields == {("history.changes[2].date", "INVALID_DATE"),
                      ("history.changes[2].stage", "UNKNOWN_STAGE")}  # fmt: skip


def test_several_currencies_with_the_rule_sets_fx_table(
    stub: forecast_pb2_grpc.ForecastServiceStub, app: Any, sample_text: str
) -> None:
    fx = ("\nfx:\n  reporting_currency: CNY\n  rates:\n"
          "    - {currency: USD, valid_from: 2026-01-01, rate: 7.1}\n")  # fmt: skip
    app.repository.publish(sample_text + fx, expected_revision=1)
    usd = types_pb2.Deal(id="u", amount_minor=1_000, currency="USD", stage="quote",
                         close_date="2026-02-02", region="North", owner="li.wei")  # fmt: skip
    resp = compute(stub, deals=forecast_pb2.DealList(deals=[*DEALS[:3], usd]), group_by=["region"])
    (north,) = resp.groups
    assert (resp.currency, resp.revision) == ("CNY", 2)
    assert north.pipeline_minor == 3_000_000 + 7_100
    eur = types_pb2.Deal(id="e", amount_minor=1, currency="EUR", stage="quote",
                         close_date="2026-02-02")  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        compute(stub, deals=forecast_pb2.DealList(deals=[*DEALS[:3], eur]))
    status = rpc_status.from_call(err.value)
    assert status is not None
    assert decode_details(status)["ErrorInfo"].reason == "FX_RATE_MISSING"  # type: ignore[attr-defined]


def test_rolling_up_along_the_rule_sets_hierarchy(
    stub: forecast_pb2_grpc.ForecastServiceStub,
) -> None:
    resp = compute(stub, deals=forecast_pb2.DealList(deals=DEALS), hierarchy=True,
                   method=forecast_pb2.DISTRIBUTION_METHOD_NONE)  # fmt: skip
    assert list(resp.group_by) == ["region", "team", "owner"]
    q1 = [(tuple(g.group), g.level, g.pipeline_minor) for g in resp.groups if g.period == "2026-Q1"]
    assert q1 == [
        (("North", "north_key_accounts", "li.wei"), 3, 3_000_000),
        (("North", "north_key_accounts", "zhang.min"), 3, 0),
        (("North", "north_key_accounts", ""), 2, 3_000_000),
        (("North", "", ""), 1, 3_000_000),
        (("", "", ""), 0, 3_000_000),
    ]
    by_team = compute(stub, deals=forecast_pb2.DealList(deals=DEALS), group_by=["team"],
                      method=forecast_pb2.DISTRIBUTION_METHOD_NONE)  # fmt: skip
    assert {(g.group[0], g.period) for g in by_team.groups} == {
        ("north_key_accounts", "2026-Q1"), ("south_enterprise", "2026-Q2")}  # fmt: skip
    assert bad_request(stub, hierarchy=True, group_by=["region"]) == {
        ("group_by", "INVALID_ARGUMENT")
    }
