"""The period-aware forecast of a batch of deals: what each group should book in each period.

For a period seen from the as-of day, every open deal counts with its probability of being won
within the part of the period still ahead (:func:`~engine.forecast.timing.period_probability`,
learned from the history up to the as-of day), whatever its expected close date; deals not yet
created add the new business history expects (:func:`~engine.forecast.timing.new_business`).
A deal's age in its stage comes from the history when the history knows the deal in the same
stage at the as-of day; otherwise the stage-level rate is used. Periods already over expect
nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.forecast.deals import DealBatch, group_keys
from engine.forecast.history import NO_DAY, DealHistory, group_codes, state_at
from engine.forecast.rollup import Period
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.forecast.timing import fit_period_rates, new_business, period_probability
from engine.frame import date_to_days
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import CATEGORY_ORDER, Category

_OMITTED = CATEGORY_ORDER.index(Category.OMITTED)


@dataclass(frozen=True)
class PeriodAwareSums:
    """Expected bookings still ahead per (group values, period label): from open deals, and
    from new business."""

    open_minor: dict[tuple[tuple[str, ...], str], float]
    new_minor: dict[tuple[tuple[str, ...], str], float]


def deal_entry_days(batch: DealBatch, history: DealHistory, as_of_day: int) -> np.ndarray:
    """The day each deal entered its current stage, where the history knows it (else NO_DAY)."""
    out = np.full(batch.n_deals, NO_DAY, dtype=np.int64)
    if history.n_deals == 0 or batch.n_deals == 0:
        return out
    known = np.array(history.deal_ids, dtype=object)
    order = np.argsort(known)
    ids = np.array(batch.ids, dtype=object)
    pos = np.clip(np.searchsorted(known[order], ids), 0, known.size - 1)
    found = known[order][pos] == ids
    deal = order[pos]
    row = state_at(history, as_of_day)[deal]
    same = found & (row >= 0)
    same &= history.stage[np.clip(row, 0, None)] == batch.stage_idx
    out[same] = history.entered_day[row[same]]
    return out


def period_aware_sums(
    batch: DealBatch,
    scores: ScoreResult,
    rules: CompiledRuleSet,
    history: DealHistory,
    group_by: Sequence[str],
    periods: Sequence[Period],
    as_of_day: int,
    *,
    new_business_factor: float = 1.0,
) -> PeriodAwareSums:
    """Expected bookings ahead per group and period (see the module). New business, learned in
    the history's currency, is multiplied by ``new_business_factor`` (its FX conversion)."""
    is_open = scores.valid & (scores.prob_source != ProbSource.CLOSED_STAGE)
    is_open &= scores.category != _OMITTED
    deals = np.flatnonzero(is_open)
    group, keys = group_keys(batch, group_by)
    entered = deal_entry_days(batch, history, as_of_day)[deals]
    close = batch.frame["close_date"]
    close_day = close.values.astype(np.int64)
    if close.null is not None:
        close_day = np.where(close.null, NO_DAY, close_day)
    amount = batch.frame["amount_minor"].values[deals].astype(np.float64)
    stage = batch.stage_idx[deals].astype(np.int64)
    hist_code, hist_keys = group_codes(history, group_by, rules.team_of)
    open_minor: dict[tuple[tuple[str, ...], str], float] = {}
    new_minor: dict[tuple[tuple[str, ...], str], float] = {}
    for period in periods:
        start, end = date_to_days(period.start), date_to_days(period.end)
        if end <= as_of_day + 1:
            continue  # over: nothing more to expect
        lo, hi = max(start - as_of_day, 1), end - as_of_day
        rates = fit_period_rates(history, rules, as_of_day, lo, hi)
        p = period_probability(rates, rules, stage, entered, close_day[deals])
        sums = np.bincount(group[deals], weights=amount * p, minlength=len(keys))
        for g in np.flatnonzero(sums > 0).tolist():
            open_minor[(keys[g], period.label)] = float(sums[g])
        new = new_business(history, rules, as_of_day, lo, hi, hist_code, len(hist_keys))
        new *= new_business_factor
        for g in np.flatnonzero(new > 0).tolist():
            new_minor[(hist_keys[g], period.label)] = float(new[g])
    return PeriodAwareSums(open_minor, new_minor)


__all__ = ["PeriodAwareSums", "deal_entry_days", "period_aware_sums"]
