"""Whole forecasts: subtotal levels, outcome distributions per row, targets with their gaps, rows for
targets without deals, and targets that do not fit refused with their paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from engine.errors import InvalidArgumentError
from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.gap import target_gaps
from engine.forecast.report import (
    DistributionOptions,
    ForecastReport,
    Method,
    Target,
    forecast_report,
)
from engine.forecast.rollup import PeriodKind, calendar_periods
from engine.forecast.scoring import score_deals
from engine.rules.compiler import compile_rule_set
from engine.rules.schema import Category
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
QUARTERS = calendar_periods(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
AS_OF = dt.date(2026, 2, 14)  # day 45 of Q1 (90 days)


def deal(stage: str, amount: int, region: str, owner: str, close: str) -> dict[str, Any]:
    return {"id": f"{owner}-{amount}", "amount_minor": amount, "currency": "CNY", "stage": stage,
            "region": region, "owner": owner, "close_date": close}  # fmt: skip


DEALS = [
    deal("initial_contact", 1_000_000, "North", "li.wei", "2026-02-10"),  # 10 %
    deal("quote", 2_000_000, "North", "li.wei", "2026-03-31"),  # 50 %
    deal("won", 500_000, "North", "zhang.min", "2026-01-05"),
    deal("lost", 700_000, "North", "zhang.min", "2026-02-01"),
    deal("quote", 400_000, "South", "wang.fang", "2026-05-02"),
]


def report(group_by: list[str], **kw: Any) -> ForecastReport:
    batch = build_deal_batch(deal_input_from_records(DEALS), RULES, keep_fields=group_by)
    return forecast_report(batch, score_deals(RULES, batch), group_by, QUARTERS, as_of=AS_OF, **kw)


def test_subtotal_levels_add_up() -> None:
    r = report(["region", "owner"], subtotals=True)
    keys = [(row.level, row.group, row.period.label) for row in r.rows]
    assert keys == [
        (2, ("North", "li.wei"), "2026-Q1"),
        (2, ("North", "zhang.min"), "2026-Q1"),
        (2, ("South", "wang.fang"), "2026-Q2"),
        (1, ("North", ""), "2026-Q1"),
        (1, ("South", ""), "2026-Q2"),
        (0, ("", ""), "2026-Q1"),
        (0, ("", ""), "2026-Q2"),
    ]
    north = r.rows[3]
    assert (north.pipeline_minor, north.weighted_minor, north.closed_won_minor) == (
        3_000_000, 1_100_000, 500_000)  # fmt: skip
    assert north.deal_count == 3  # the lost deal is omitted
    assert north.cumulative_minor[Category.BEST_CASE] == 2_500_000
    assert (r.deals_read, r.deals_omitted, r.deals_outside_periods, r.deals_unscored) == (
        5,
        1,
        0,
        0,
    )


def test_each_row_has_its_outcome_distribution() -> None:
    r = report(["owner"], options=DistributionOptions(quantiles=(0.05, 0.5, 0.99)))
    li = next(row for row in r.rows if row.group == ("li.wei",))
    assert li.outcome is not None and li.outcome.method == "exact"
    # 1,000,000 at 10 % and 2,000,000 at 50 %: outcomes 0 (.45), 1M (.05), 2M (.45), 3M (.05)
    # Round amounts are exact on their common divisor: no rounding error at all.
    assert li.outcome.error_bound_minor == 0
    assert li.outcome.quantiles_minor == (0, 1_000_000, 3_000_000)
    assert li.outcome.mean_minor == pytest.approx(1_100_000)
    zhang = next(row for row in r.rows if row.group == ("zhang.min",))
    assert zhang.outcome is not None and zhang.outcome.quantiles_minor == (500_000,) * 3


def test_a_target_gets_its_gap() -> None:
    r = report(["owner"], targets=[Target(("li.wei",), "2026-Q1", 2_500_000)])
    li = next(row for row in r.rows if row.group == ("li.wei",))
    assert li.target is not None
    g = li.target
    assert (g.target_minor, g.gap_minor, g.expected_gap_minor) == (2_500_000, 2_500_000, 1_400_000)
    assert g.coverage == pytest.approx(3_000_000 / 2_500_000)
    assert (g.days_elapsed, g.days_left, g.pace_minor_per_day, g.projected_minor) == (45, 45, 0, 0)
    # weighted rate 1.1M / 3M: the gap needs 2.5M x 3M / 1.1M of pipeline
    assert g.pipeline_needed_minor == round(2_500_000 * 3_000_000 / 1_100_000)
    assert g.p_reach_target == pytest.approx(0.05)  # only both deals won reach 2.5M
    assert all(row.target is None for row in r.rows if row.group != ("li.wei",))


def test_a_target_without_deals_in_its_period_still_gets_a_row() -> None:
    r = report(["owner"], targets=[Target(("wang.fang",), "2026-Q1", 100_000)])
    row = next(x for x in r.rows if x.group == ("wang.fang",) and x.period.label == "2026-Q1")
    assert row.deal_count == 0 and row.target is not None
    assert (row.target.gap_minor, row.target.pipeline_needed_minor) == (100_000, -1)
    assert row.target.p_reach_target == 0.0


def test_targets_that_do_not_fit_are_refused_with_paths() -> None:
    with pytest.raises(InvalidArgumentError) as e:
        report(
            ["owner"],
            targets=[
                Target(("li.wie",), "2026-Q1", 1),
                Target(("li.wei",), "2026-Q3", 1),
                Target(("li.wei", "x"), "2026-Q1", 1),
                Target((), "2026-Q1", 1),  # a total row, but subtotals are off
                Target(("zhang.min",), "2026-Q1", -5),
                Target(("zhang.min",), "2026-Q1", 5),
            ],
        )
    got = {(v.path, v.reason) for v in e.value.violations}
    assert got == {
        ("targets[0].group[0]", "UNKNOWN_GROUP"),
        ("targets[1].period", "UNKNOWN_PERIOD"),
        ("targets[2].group", "TARGET_GROUP_ARITY"),
        ("targets[3].group", "TARGET_GROUP_ARITY"),
        ("targets[4].target_minor", "NEGATIVE_TARGET"),
        ("targets[5]", "DUPLICATE_TARGET"),
    }


def test_monte_carlo_reports_its_seed_and_agrees_with_the_exact_result() -> None:
    seed = 20261201
    opts = DistributionOptions(Method.MONTE_CARLO, trials=20_000, seed=seed)
    mc = report([], options=opts)
    exact = report([])
    assert (mc.seed, mc.trials) == (seed, 20_000) and exact.seed is None
    for a, b in zip(mc.rows, exact.rows, strict=True):
        assert a.outcome is not None and b.outcome is not None
        assert a.outcome.method == "monte_carlo"
        assert a.outcome.mean_minor == pytest.approx(b.outcome.mean_minor, rel=0.02)


def test_no_distribution_when_not_asked() -> None:
    r = report(["region"], options=DistributionOptions(Method.NONE))
    assert all(row.outcome is None for row in r.rows)


def test_gap_figures_around_the_period() -> None:
    # Before the period, inside it, and after it; a closed gap needs no pipeline.
    g = target_gaps(
        np.array([100, 100, 100, 50]),
        np.array([0, 30, 60, 80]),
        np.array([0, 100, 0, 10]),
        np.array([0, 25, 0, 5]),
        np.array([0.0, 55.0, 60.0, 85.0]),
        np.array([10, 0, 0, 0]),
        np.array([20, 10, 10, 10]),
        4,
    )
    assert g.days_elapsed.tolist() == [0, 5, 5, 5] and g.days_left.tolist() == [10, 5, 5, 5]
    assert g.gap_minor.tolist() == [100, 70, 40, 0]
    assert g.expected_gap_minor.tolist() == [100, 45, 40, 0]
    assert g.pace_minor_per_day.tolist() == [0, 6, 12, 16]
    assert g.projected_minor.tolist() == [0, 60, 120, 160]
    assert g.pipeline_needed_minor.tolist() == [-1, 280, -1, 0]
    assert g.coverage.tolist() == pytest.approx([0, 100 / 70, 0, 0])


# --- period-aware ----------------------------------------------------------------------------


def test_period_aware_rows_add_open_deals_by_their_timing_and_new_business() -> None:
    from bench.histories import generate_history
    from engine.forecast.history import NO_DAY, history_from_records, state_at
    from engine.forecast.report import PeriodAwareInputs
    from engine.forecast.timing import fit_period_rates, new_business, period_probability
    from engine.frame import date_to_days

    history = history_from_records(generate_history(800, np.random.default_rng(5)), RULES)
    as_of = dt.date(2025, 8, 14)
    day = date_to_days(as_of)
    rows = state_at(history, day)
    rows = rows[rows >= 0]
    states = [history.records[r] for r in rows.tolist()]
    records = [{**{k: v for k, v in s.items() if k not in ("deal_id", "date")}, "id": s["deal_id"]}
               for s in states]  # fmt: skip
    batch = build_deal_batch(deal_input_from_records(records), RULES, keep_fields=["region"])
    scores = score_deals(RULES, batch)
    periods = calendar_periods(PeriodKind.QUARTER, dt.date(2025, 4, 1), dt.date(2025, 12, 31))
    r = forecast_report(batch, scores, ["region"], periods, as_of=as_of, subtotals=True,
                        period_aware=PeriodAwareInputs(RULES, history),
                        options=DistributionOptions(Method.NONE))  # fmt: skip
    total = {row.period.label: row for row in r.rows if row.level == 0}
    # Q2 is over: nothing more is expected than what was won.
    assert total["2025-Q2"].period_aware_minor == total["2025-Q2"].closed_won_minor
    assert total["2025-Q2"].new_business_minor == 0
    # Q3, directly: open deals x P(won by the end of Q3), plus new business.
    q3 = periods[1]
    hi = date_to_days(q3.end) - day
    rates = fit_period_rates(history, RULES, day, 1, hi)
    open_ = np.flatnonzero(~RULES.stage_is_closed[history.stage[rows]])
    p = period_probability(rates, RULES, history.stage[rows][open_],
                           history.entered_day[rows][open_], history.close_day[rows][open_])  # fmt: skip
    expected_open = float((history.amount_minor[rows][open_] * p).sum())
    codes = np.zeros(len(history.records), dtype=np.int64)
    expected_new = float(new_business(history, RULES, day, 1, hi, codes, 1)[0])
    row = total["2025-Q3"]
    assert row.new_business_minor == pytest.approx(expected_new, abs=1)
    ahead = row.period_aware_minor - row.closed_won_minor
    assert ahead == pytest.approx(expected_open + expected_new, abs=8)  # rounding per region
    # Every region's row adds up to the total (up to rounding).
    regions = [x for x in r.rows if x.level == 1 and x.period.label == "2025-Q4"]
    assert sum(x.period_aware_minor or 0 for x in regions) == pytest.approx(
        total["2025-Q4"].period_aware_minor, abs=len(regions) * 2)  # fmt: skip
    assert NO_DAY not in [x.period_aware_minor for x in r.rows]


# --- several currencies ------------------------------------------------------------------------


def test_an_fx_table_converts_every_deal_to_the_reporting_currency() -> None:
    text = (EXAMPLES / "default.yaml").read_text(encoding="utf-8") + (
        "\nfx:\n  reporting_currency: CNY\n  rates:\n"
        "    - {currency: USD, valid_from: 2026-01-01, rate: 7.1}\n"
        "    - {currency: USD, valid_from: 2026-03-01, rate: 7.3}\n"
        "    - {currency: JPY, valid_from: 2026-01-01, rate: 0.0475}\n"
    )
    rules = compile_rule_set(text)
    records = [
        {**deal("quote", 1_000, "North", "li.wei", "2026-02-10"), "currency": "USD"},  # 10.00 USD
        {**deal("won", 2_001, "North", "li.wei", "2026-02-11"), "currency": "JPY"},  # 2,001 yen
        deal("quote", 5_000, "North", "li.wei", "2026-02-12"),  # 50.00 CNY
    ]
    batch = build_deal_batch(deal_input_from_records(records), rules, keep_fields=["owner"])
    scores = score_deals(rules, batch)
    with pytest.raises(InvalidArgumentError) as e:
        forecast_report(batch, scores, ["owner"], QUARTERS, as_of=AS_OF)
    assert e.value.reason == "CURRENCY_MIXTURE"
    r = forecast_report(batch, scores, ["owner"], QUARTERS, as_of=AS_OF, fx=rules.fx)
    (row,) = r.rows
    assert r.currency == "CNY"
    # 10.00 USD at 7.1 (the rate in force on 2026-02-14) = 71.00 CNY; 2,001 yen x 0.0475 = 95.0475
    assert row.pipeline_minor == 7_100 + 5_000
    assert row.closed_won_minor == 9_505  # 95.05 CNY, half-even
    assert row.weighted_minor == 3_550 + 2_500  # 50 % of the converted amounts
    later = forecast_report(batch, scores, ["owner"], QUARTERS, as_of=dt.date(2026, 3, 2),
                            fx=rules.fx)  # fmt: skip
    assert later.rows[0].pipeline_minor == 7_300 + 5_000
    with pytest.raises(InvalidArgumentError) as e:
        forecast_report(batch, scores, ["owner"], QUARTERS, as_of=dt.date(2025, 12, 1),
                        fx=rules.fx)  # fmt: skip
    assert e.value.reason == "FX_RATE_MISSING"
    assert {v.message.split(":")[0] for v in e.value.violations} == {"USD", "JPY"}


# --- the rule set's targets --------------------------------------------------------------------


def test_rule_set_targets_apply_where_the_request_gives_none() -> None:
    sample = (EXAMPLES / "default.yaml").read_text(encoding="utf-8")
    text = (
        sample[: sample.index("\ntargets:")]
        + """
targets:
  currency: CNY
  items:
    - {period: 2026-Q1, group: {owner: li.wei}, amount: 25000}
    - {period: 2026-Q1, group: {owner: wang.fang}, amount: 1000}
    - {period: 2026-Q1, group: {region: North}, amount: 50000}
    - {period: 2026-Q1, amount: 90000}
    - {period: 2027-Q1, amount: 1}
"""
    )
    rules = compile_rule_set(text)
    batch = build_deal_batch(deal_input_from_records(DEALS), rules, keep_fields=["region", "owner"])
    scores = score_deals(rules, batch)
    r = forecast_report(batch, scores, ["region", "owner"], QUARTERS, as_of=AS_OF, subtotals=True,
                        rule_targets=rules.targets,
                        targets=[Target(("North",), "2026-Q1", 60_000_00)])  # fmt: skip
    got = {(row.group, row.period.label): row.target for row in r.rows if row.target}
    li = got[(("North", "li.wei"), "2026-Q1")]
    assert li is not None and li.target_minor == 2_500_000
    assert li.p_reach_target == pytest.approx(0.05)  # both deals must be won
    # wang.fang has no deal in Q1 in the South: an owner target alone names no region, so no row.
    assert not any(g == ("South", "wang.fang") and p == "2026-Q1" for g, p in got)
    # The request's target wins over the rule set's for the North region.
    assert got[(("North", ""), "2026-Q1")].target_minor == 6_000_000  # type: ignore[union-attr]
    assert got[(("", ""), "2026-Q1")].target_minor == 9_000_000  # type: ignore[union-attr]
    assert (("", ""), "2027-Q1") not in got
    by_owner = forecast_report(batch, scores, ["owner"], QUARTERS, as_of=AS_OF,
                               rule_targets=rules.targets)  # fmt: skip
    rows = {(row.group, row.period.label): row for row in by_owner.rows}
    wang = rows[(("wang.fang",), "2026-Q1")]  # a target names exactly this level: a row of its own
    assert wang.deal_count == 0 and wang.target is not None and wang.target.gap_minor == 100_000
    usd = compile_rule_set(text.replace("currency: CNY", "currency: USD"))
    with pytest.raises(InvalidArgumentError) as e:
        forecast_report(batch, scores, ["owner"], QUARTERS, as_of=AS_OF, rule_targets=usd.targets)
    assert e.value.reason == "CURRENCY_MIXTURE"
