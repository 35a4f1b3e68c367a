"""The period-aware probability: P(a deal is won within a window of days | its stage, its age in
the stage, where its expected close date falls), learned from deal histories.

A deal's win probability is not the probability that it closes *in this period*: most open
pipeline does not close within a given quarter, so valuing it all at its win rate overshoots. Here
the past is replayed: at snapshot days every ``snapshot_every_days`` back over ``lookback_days``
(each early enough that the whole window after it is already history at the cutoff), every open
deal is an observation of (stage, age bucket, close bucket) and whether it was won within the same
window after the snapshot. Rates per cell are shrunk toward coarser estimates with a Beta prior of
``prior_strength`` observations: cell -> (stage, age) -> stage -> the stage's configured rate
times the pooled share of wins that land in the window. Stale deals are then cut by the rule set's
``timing.stale`` factors.

Deals not yet created at the cutoff also book within the window: :func:`new_business` gives the
expected amount, the mean over the same snapshots of what such deals won.

Close buckets: 0 no expected close date, 1 expected close already past, 2 inside the window,
3 after the window. Only data up to the cutoff is used, so a backtest at a past cutoff is honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.forecast.history import (
    NO_DAY,
    DealHistory,
    first_won_row,
    stage_dwell_p90,
    state_at,
)
from engine.rules.compiler import CompiledRuleSet

N_CLOSE_BUCKETS = 4


@dataclass(frozen=True)
class PeriodRates:
    """Learned P(won within ``[cutoff + lo, cutoff + hi)``) per cell.

    ``rate``, ``observations`` and ``wins`` have shape (stages, age buckets, close buckets); ``stage_rate``
    is the stage-level estimate used when a deal's age in stage is unknown.
    """

    cutoff: int
    lo: int
    hi: int
    age_edges: np.ndarray
    rate: np.ndarray
    observations: np.ndarray
    wins: np.ndarray
    stage_rate: np.ndarray
    stage_observations: np.ndarray
    dwell_p90: np.ndarray
    snapshots: int


def close_bucket(close_day: np.ndarray, at: int | np.ndarray, hi: int) -> np.ndarray:
    """Bucket of each expected close day, seen from ``at`` for a window ending ``at + hi``."""
    at = np.asarray(at)
    return np.select(
        [close_day == NO_DAY, close_day <= at, close_day < at + hi],
        [0, 1, 2],
        default=3,
    ).astype(np.int64)


def _snapshots(history: DealHistory, rules: CompiledRuleSet, cutoff: int, hi: int) -> np.ndarray:
    """The past snapshot days learned from: every ``snapshot_every_days`` back from the latest
    whose whole window (``hi`` days) is history at the cutoff, over ``lookback_days``."""
    cfg = rules.document.timing
    last = cutoff - hi + 1
    first = max(cutoff - cfg.lookback_days, history.first_day)
    return np.arange(last, first - 1, -cfg.snapshot_every_days)


def fit_period_rates(
    history: DealHistory, rules: CompiledRuleSet, cutoff: int, lo: int, hi: int
) -> PeriodRates:
    """Learn the window's rates from snapshots of ``history`` whose outcome is known at ``cutoff``."""
    cfg = rules.document.timing
    edges = np.asarray(cfg.age_buckets_days, dtype=np.int64)
    n_stages, n_age = len(rules.stage_ids), edges.size + 1
    cells = n_stages * n_age * N_CLOSE_BUCKETS
    seen = np.zeros(cells)
    won = np.zeros(cells)
    expected = 0.0  # sum of configured stage rates over the observations
    snapshots = _snapshots(history, rules, cutoff, hi)
    for at in snapshots.tolist():
        rows = state_at(history, at)
        rows = rows[rows >= 0]
        stage = history.stage[rows]
        open_ = ~rules.stage_is_closed[stage]
        rows, stage = rows[open_], stage[open_]
        age = at - history.entered_day[rows]
        flat = (stage * n_age + np.searchsorted(edges, age, side="right")) * N_CLOSE_BUCKETS
        flat += close_bucket(history.close_day[rows], at, hi)
        w = history.won_day[history.deal[rows]]
        hit = (w >= at + lo) & (w < at + hi)
        seen += np.bincount(flat, minlength=cells)
        won += np.bincount(flat, weights=hit, minlength=cells)
        expected += float(rules.stage_rate_ppm[stage].sum()) / 1_000_000
    k = float(cfg.prior_strength)
    shape = (n_stages, n_age, N_CLOSE_BUCKETS)
    seen3, won3 = seen.reshape(shape), won.reshape(shape)
    share = float(won.sum()) / expected if expected > 0 else 0.0
    prior = np.minimum(rules.stage_rate_ppm / 1_000_000 * share, 1.0)
    s_seen, s_won = seen3.sum(axis=(1, 2)), won3.sum(axis=(1, 2))
    stage_rate = (s_won + k * prior) / (s_seen + k)
    a_seen, a_won = seen3.sum(axis=2), won3.sum(axis=2)
    age_rate = (a_won + k * stage_rate[:, None]) / (a_seen + k)
    rate = (won3 + k * age_rate[:, :, None]) / (seen3 + k)
    # Closed stages: won already counts as booked, lost never books.
    rate[rules.stage_is_closed] = 0.0
    stage_rate = np.where(rules.stage_is_closed, 0.0, stage_rate)
    return PeriodRates(
        cutoff=cutoff,
        lo=lo,
        hi=hi,
        age_edges=edges,
        rate=rate,
        observations=seen3.astype(np.int64),
        wins=won3.astype(np.int64),
        stage_rate=stage_rate,
        stage_observations=s_seen.astype(np.int64),
        dwell_p90=stage_dwell_p90(history, n_stages, cutoff),
        snapshots=int(snapshots.size),
    )


def new_business(
    history: DealHistory,
    rules: CompiledRuleSet,
    cutoff: int,
    lo: int,
    hi: int,
    group_of_row: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """Expected bookings in the window from deals not yet created at the cutoff, per group.

    The open pipeline is not all a period books: deals created after the cutoff and won within the
    window count too. Its expectation is the mean, over the same snapshots as
    :func:`fit_period_rates`, of the amount won within the window by deals created after the
    snapshot; a deal's group is its group when created (``group_of_row`` gives each history row's).
    """
    snapshots = _snapshots(history, rules, cutoff, hi)
    if snapshots.size == 0 or history.n_deals == 0:
        return np.zeros(n_groups)
    created = history.day[history.first_row]
    won = history.won_day
    won_row = first_won_row(history, rules.stage_is_won)
    ok = won_row >= 0
    deals = np.flatnonzero(ok)
    amount = history.amount_minor[won_row[deals]].astype(np.float64)
    group = group_of_row[history.first_row[deals]]
    total = np.zeros(n_groups)
    for at in snapshots.tolist():
        hit = (created[deals] > at) & (won[deals] >= at + lo) & (won[deals] < at + hi)
        total += np.bincount(group[hit], weights=amount[hit], minlength=n_groups)
    return total / snapshots.size


def period_probability(
    rates: PeriodRates,
    rules: CompiledRuleSet,
    stage: np.ndarray,
    entered_day: np.ndarray,
    close_day: np.ndarray,
) -> np.ndarray:
    """P(won within the window) of open deals at the rates' cutoff, stale deals cut. Without any
    observation to learn from, the classic view: the stage rate if the expected close date falls
    within the window, else 0.

    ``entered_day`` is the day each deal entered its stage, ``NO_DAY`` when unknown (the stage-level
    rate is used then); ``close_day`` the expected close (``NO_DAY`` when none).
    """
    stage = np.asarray(stage, dtype=np.int64)
    entered = np.asarray(entered_day, dtype=np.int64)
    close = np.asarray(close_day, dtype=np.int64)
    known = entered != NO_DAY
    age = np.where(known, rates.cutoff - entered, 0)
    bucket = np.searchsorted(rates.age_edges, age, side="right")
    cb = close_bucket(close, rates.cutoff, rates.hi)
    if rates.observations.sum() == 0:
        # Nothing to learn from (a history shorter than the window): fall back to the classic
        # view, the stage rate for deals expected to close within the window.
        p = np.where(cb == 2, rules.stage_rate_ppm[stage] / 1_000_000, 0.0)
    else:
        p = np.where(known, rates.rate[stage, bucket, cb], rates.stage_rate[stage])
    stale = rules.document.timing.stale
    p = np.where(cb == 1, p * float(stale.past_close_factor), p)
    limit = rates.dwell_p90[stage] * float(stale.dwell_multiple)
    too_long = known & (rates.dwell_p90[stage] >= 0) & (age > limit)
    p = np.where(too_long, p * float(stale.dwell_factor), p)
    return np.clip(p, 0.0, 1.0)


__all__ = [
    "N_CLOSE_BUCKETS",
    "PeriodRates",
    "close_bucket",
    "fit_period_rates",
    "new_business",
    "period_probability",
]
