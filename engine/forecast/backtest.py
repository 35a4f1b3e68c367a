"""Backtests: the forecast as it would have been made at past cutoffs, against what was won.

For each period, the cutoff is the day before it starts (or ``lead_days`` earlier). From the
history as known at the cutoff:

* **classic**: the weighted pipeline expected to close in the period: open deals whose expected
  close date falls in it, each scored by the rule set (stage rates, overrides) and weighted;
* **period-aware**: every open deal times its probability of being won within the period, plus
  the bookings expected from deals not yet created (:mod:`engine.forecast.timing`, learned only
  from history before the cutoff);
* **actual**: the amount of the deals won in the period (their amount when won).

Per group and period the three figures are reported; per group, over its complete periods, the
error (forecast - actual), the mean absolute error, the bias (total error / total actual) and the
MAPE (mean of |error| / actual over periods with bookings), for both forecasts. A period that ends
after the history is known is reported but left out of the metrics: its actuals are not all known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DEAL_COLUMNS, build_deal_batch, deal_input_from_records
from engine.forecast.history import NO_DAY, DealHistory, first_won_row, group_codes, state_at
from engine.forecast.rollup import Period, check_periods
from engine.forecast.scoring import score_deals
from engine.forecast.timing import fit_period_rates, new_business, period_probability
from engine.frame import date_to_days
from engine.partition import PartitionMap, local_map
from engine.rules.compiler import CompiledRuleSet


@dataclass(frozen=True)
class BacktestRow:
    """One group and period: the two forecasts made at the cutoff, and what was won."""

    group: tuple[str, ...]
    period: Period
    cutoff_day: int
    complete: bool
    open_count: int
    won_count: int
    classic_minor: int
    period_aware_minor: int
    new_business_minor: int  # the part of period_aware from deals not yet created
    actual_minor: int


@dataclass(frozen=True)
class ForecastError:
    """Accuracy of one forecast over a group's complete periods."""

    periods: int
    error_minor: int  # total forecast - total actual
    mae_minor: float
    bias: float | None  # total error / total actual; None without bookings
    mape: float | None  # mean |error| / actual over periods with bookings; None if none


@dataclass(frozen=True)
class GroupAccuracy:
    group: tuple[str, ...]
    classic: ForecastError
    period_aware: ForecastError


@dataclass(frozen=True)
class Backtest:
    """Rows per group and period (totals with the empty group last), and accuracy per group."""

    group_by: tuple[str, ...]
    currency: str
    rows: list[BacktestRow]
    accuracy: list[GroupAccuracy]


def _classic_weighted(
    history: DealHistory, rules: CompiledRuleSet, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted amount of the states at ``rows`` under the rule set, and whether each scored."""
    allowed = set(DEAL_COLUMNS) | set(rules.schema)
    records = []
    for r in rows.tolist():
        rec = history.records[r]
        state = {k: v for k, v in rec.items() if k in allowed and k != "id"}
        state["id"] = rec.get("deal_id")
        records.append(state)
    batch = build_deal_batch(deal_input_from_records(records), rules)
    scores = score_deals(rules, batch)
    return scores.weighted_amount_minor.astype(np.float64), scores.valid


def _accuracy(rows: list[BacktestRow], forecast: str) -> ForecastError:
    done = [r for r in rows if r.complete]
    f = np.array([getattr(r, forecast) for r in done], dtype=np.float64)
    a = np.array([r.actual_minor for r in done], dtype=np.float64)
    err = f - a
    booked = a > 0
    total = float(a.sum())
    return ForecastError(
        periods=len(done),
        error_minor=int(err.sum()),
        mae_minor=float(np.abs(err).mean()) if done else 0.0,
        bias=float(err.sum()) / total if total > 0 else None,
        mape=float((np.abs(err[booked]) / a[booked]).mean()) if booked.any() else None,
    )


@dataclass(frozen=True)
class BacktestInputs:
    """What every period of a backtest reads (shared by the partitions of the period map)."""

    history: DealHistory
    rules: CompiledRuleSet
    group_by: tuple[str, ...]
    code: np.ndarray  # per history row: its group
    keys: list[tuple[str, ...]]
    won_row: np.ndarray  # per deal: the history row where it was first won
    lead_days: int
    known_through: int | None


def backtest_period(
    inputs: BacktestInputs, period: Period
) -> tuple[list[BacktestRow], BacktestRow | None]:
    """One period's rows per group, and its total row (when grouped): the unit a backtest maps
    over, since each period is forecast from the history as known at its own cutoff."""
    history, rules, code = inputs.history, inputs.rules, inputs.code
    n_groups = len(inputs.keys)
    known_through = inputs.known_through
    start, end = date_to_days(period.start), date_to_days(period.end)
    cutoff = start - 1 - inputs.lead_days
    complete = end - 1 <= max(history.last_day, known_through or history.last_day)
    at = state_at(history, cutoff)
    at = at[at >= 0]
    at = at[~rules.stage_is_closed[history.stage[at]]]
    amount = history.amount_minor[at].astype(np.float64)
    weighted, scored = _classic_weighted(history, rules, at)
    close = history.close_day[at]
    in_period = (close != NO_DAY) & (close >= start) & (close < end) & scored
    rates = fit_period_rates(history, rules, cutoff, start - cutoff, end - cutoff)
    p = period_probability(rates, rules, history.stage[at], history.entered_day[at], close)
    won_day = history.won_day
    won = np.flatnonzero((won_day >= start) & (won_day < end))
    won_rows = inputs.won_row[won]
    g_open, g_won = code[at], code[won_rows]
    classic = np.bincount(g_open, weights=np.where(in_period, weighted, 0), minlength=n_groups)
    new = new_business(history, rules, cutoff, start - cutoff, end - cutoff, code, n_groups)
    aware = np.bincount(g_open, weights=amount * p, minlength=n_groups) + new
    actual = np.bincount(g_won, weights=history.amount_minor[won_rows], minlength=n_groups)
    n_open = np.bincount(g_open, minlength=n_groups)
    n_won = np.bincount(g_won, minlength=n_groups)
    rows = []
    for g in np.flatnonzero((n_open > 0) | (n_won > 0) | (new > 0)).tolist():
        rows.append(BacktestRow(inputs.keys[g], period, cutoff, complete, int(n_open[g]),
                                int(n_won[g]), int(np.rint(classic[g])),
                                int(np.rint(aware[g])), int(np.rint(new[g])),
                                int(actual[g])))  # fmt: skip
    total = None
    if inputs.group_by:
        total = BacktestRow((), period, cutoff, complete, int(at.size), int(won.size),
                            int(np.rint(classic.sum())), int(np.rint(aware.sum())),
                            int(np.rint(new.sum())), int(actual.sum()))  # fmt: skip
    return rows, total


def backtest(
    history: DealHistory,
    rules: CompiledRuleSet,
    periods: Sequence[Period],
    group_by: Sequence[str] = (),
    *,
    lead_days: int = 0,
    known_through: int | None = None,
    map_partitions: PartitionMap = local_map,
) -> Backtest:
    """Replay the classic and period-aware forecasts at each period's cutoff (see the module).

    ``known_through`` (a day) says the history is complete up to that day even if its last row is
    earlier; by default it is complete up to its last row. The periods are mapped one per
    partition with ``map_partitions`` (in-process by default) and gathered in order.
    """
    check_periods(periods)
    # The earliest cutoff, the day before the first period less lead_days, must be a date.
    most = (min((p.start for p in periods), default=dt.date.max) - dt.date.min).days - 1
    if not 0 <= lead_days <= most:
        raise InvalidArgumentError(
            f"lead_days must be from 0 to {most}, got {lead_days}",
            reason="INVALID_ARGUMENT",
            violations=[Violation("lead_days", 0, 0, "INVALID_ARGUMENT",
                                  f"must be from 0 to {most}: the earliest cutoff is a date")],
        )  # fmt: skip
    code, keys = group_codes(history, group_by, rules.team_of)
    inputs = BacktestInputs(history, rules, tuple(group_by), code, keys,
                            first_won_row(history, rules.stage_is_won), lead_days,
                            known_through)  # fmt: skip
    ordered = sorted(periods, key=lambda p: p.start)
    rows: list[BacktestRow] = []
    totals: list[BacktestRow] = []
    for period_rows, total in map_partitions(backtest_period, inputs, ordered):
        rows += period_rows
        if total is not None:
            totals.append(total)
    rows.sort(key=lambda r: (r.group, r.period.start))
    all_rows = rows + totals
    by_group: dict[tuple[str, ...], list[BacktestRow]] = {}
    for r in all_rows:
        by_group.setdefault(r.group, []).append(r)
    accuracy = [
        GroupAccuracy(g, _accuracy(rs, "classic_minor"), _accuracy(rs, "period_aware_minor"))
        for g, rs in by_group.items()
    ]
    return Backtest(tuple(group_by), history.currency, all_rows, accuracy)


__all__ = [
    "Backtest",
    "BacktestInputs",
    "BacktestRow",
    "ForecastError",
    "GroupAccuracy",
    "backtest",
    "backtest_period",
]
