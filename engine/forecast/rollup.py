"""Forecast roll-ups: scored deals summed by group and period, per forecast category, exactly.

A roll-up groups deals by any string fields (owner, region, a declared field...) and by period of
expected close (month, quarter, year or custom date ranges) and sums, per group: open pipeline,
weighted pipeline, closed-won, counts, and the amount in each forecast category, both as single
categories and in the cumulative view (commit = commit + closed; best case = best case + commit +
closed; omitted is excluded from every roll-up).

Sums are exact integers. They are computed with ``numpy.bincount``, which adds in float64: each
amount is split into three 21-bit limbs whose sums stay below 2**53 for any batch under 2**32
deals, so every limb sum is exact and the limbs recombine into the exact int64 total. That keeps
a roll-up a handful of passes over the columns, close to memory bandwidth.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.frame import FieldType, date_to_days
from engine.rules.schema import CATEGORY_ORDER, Category

_LIMB_BITS = 21
_LIMB_MASK = (1 << _LIMB_BITS) - 1
#: Category codes in the order roll-ups report them (omitted is left out).
REPORTED = tuple(c for c in CATEGORY_ORDER if c is not Category.OMITTED)
_CODE = {c: CATEGORY_ORDER.index(c) for c in CATEGORY_ORDER}
#: Cumulative views: a category and every category above it.
CUMULATIVE = {
    Category.PIPELINE: (Category.PIPELINE, Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.BEST_CASE: (Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.COMMIT: (Category.COMMIT, Category.CLOSED),
    Category.CLOSED: (Category.CLOSED,),
}


class PeriodKind(str, Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """A half-open range of close dates ``[start, end)`` with a label (``2026-Q1``)."""

    label: str
    start: dt.date
    end: dt.date


def calendar_periods(kind: PeriodKind, first: dt.date, last: dt.date) -> list[Period]:
    """The months, quarters or years that cover ``first``..``last`` (inclusive)."""
    if last < first:
        raise InvalidArgumentError(
            f"the period range ends ({last}) before it starts ({first})",
            reason="EMPTY_PERIODS",
            violations=[Violation("periods", 0, 0, "EMPTY_PERIODS", "end before start")],
        )
    step = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    month = (first.month - 1) // step * step + 1
    start = dt.date(first.year, month, 1)
    out = []
    while start <= last:
        m = start.month - 1 + step
        end = dt.date(start.year + m // 12, m % 12 + 1, 1)
        if kind is PeriodKind.MONTH:
            label = f"{start.year}-{start.month:02d}"
        elif kind is PeriodKind.QUARTER:
            label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        else:
            label = str(start.year)
        out.append(Period(label, start, end))
        start = end
    return out


def check_periods(periods: Sequence[Period]) -> None:
    """Refuse empty or overlapping periods (INVALID_ARGUMENT naming them)."""
    problems = [
        Violation(f"periods[{i}]", 0, 0, "EMPTY_PERIOD", f"{p.label} ends before it starts")
        for i, p in enumerate(periods)
        if p.end <= p.start
    ]
    ordered = sorted(range(len(periods)), key=lambda i: periods[i].start)
    for a, b in itertools.pairwise(ordered):
        if periods[b].start < periods[a].end:
            problems.append(
                Violation(
                    f"periods[{b}]",
                    0,
                    0,
                    "OVERLAPPING_PERIODS",
                    f"{periods[b].label} overlaps {periods[a].label}",
                )
            )
    if not periods:
        problems.append(Violation("periods", 0, 0, "EMPTY_PERIODS", "give at least one period"))
    if problems:
        raise InvalidArgumentError(
            "the periods are not usable", reason="INVALID_PERIODS", violations=problems
        )


@dataclass
class Rollup:
    """Sums per group and period (rows), in minor units of ``currency``.

    Attributes
    ----------
    keys : list of tuple of str
        Each row's group values (one per group-by field; '' for none), then the period label.
    deal_count, open_count, won_count : ndarray of int64, shape (rows,)
    pipeline_minor : ndarray of int64
        Amount of open deals (not won, not lost, not omitted).
    weighted_minor : ndarray of int64
        Weighted amount of open deals.
    closed_won_minor : ndarray of int64
    category_minor, cumulative_minor : dict of Category -> ndarray of int64
        Amount per forecast category (omitted excluded), single and cumulative.
    row_of_deal : ndarray of int64, shape (deals,)
        The row each deal of the batch was summed into; -1 for deals left out.
    """

    group_by: tuple[str, ...]
    currency: str
    keys: list[tuple[str, ...]]
    deal_count: np.ndarray
    open_count: np.ndarray
    won_count: np.ndarray
    pipeline_minor: np.ndarray
    weighted_minor: np.ndarray
    closed_won_minor: np.ndarray
    category_minor: dict[Category, np.ndarray]
    cumulative_minor: dict[Category, np.ndarray]
    row_of_deal: np.ndarray


def exact_group_sum(key: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """Sum int64 ``values`` (non-negative) per ``key`` exactly, with float64 ``bincount``."""
    total = np.zeros(n_keys, dtype=np.int64)
    v = values.astype(np.int64, copy=False)
    for limb in range(3):
        part = (v >> (limb * _LIMB_BITS)) & _LIMB_MASK
        sums = np.bincount(key, weights=part.astype(np.float64), minlength=n_keys)
        total += sums.astype(np.int64) << (limb * _LIMB_BITS)
    return total


def rollup(
    batch: DealBatch,
    scores: ScoreResult,
    group_by: Sequence[str],
    periods: Sequence[Period],
) -> Rollup:
    """Roll scored deals up by ``group_by`` fields and close-date ``periods``.

    Deals that could not be scored, have no close date, or close outside every period are left
    out. Raises INVALID_ARGUMENT for an unknown or non-string group-by field, unusable periods, or
    deals in more than one currency.
    """
    check_periods(periods)
    frame = batch.frame
    problems = []
    for i, name in enumerate(group_by):
        if name not in frame:
            problems.append(
                Violation(f"group_by[{i}]", 0, 0, "UNKNOWN_FIELD", f"no field {name!r}")
            )
        elif frame[name].type is not FieldType.STRING:
            problems.append(
                Violation(f"group_by[{i}]", 0, 0, "INVALID_GROUP_BY", f"{name} is not a text field")
            )
    if problems:
        raise InvalidArgumentError("cannot group by these fields", reason="INVALID_GROUP_BY",
                                   violations=problems)  # fmt: skip
    # Period of each deal by its close date.
    close = frame["close_date"]
    starts = np.array([date_to_days(p.start) for p in periods], dtype=np.int64)
    ends = np.array([date_to_days(p.end) for p in periods], dtype=np.int64)
    order = np.argsort(starts)
    day = close.values.astype(np.int64)
    slot = np.searchsorted(starts[order], day, side="right") - 1
    period = np.where(slot >= 0, order[np.clip(slot, 0, None)], -1)
    inside = (slot >= 0) & (day < ends[np.clip(period, 0, None)])
    if close.null is not None:
        inside &= ~close.null
    category = scores.category.astype(np.int64)
    keep = scores.valid & inside & (category != _CODE[Category.OMITTED])
    currency = frame["currency"]
    used_currencies = np.unique(currency.values[keep]) if keep.any() else np.zeros(0, np.int64)
    if used_currencies.size > 1:
        names = ", ".join(currency.dictionary[int(c)] for c in used_currencies)
        raise InvalidArgumentError(
            f"deals in several currencies ({names}) need an FX table to roll up together",
            reason="CURRENCY_MIXTURE",
            violations=[Violation("deals.currency", 0, 0, "CURRENCY_MIXTURE", names)],
        )
    reporting = currency.dictionary[int(used_currencies[0])] if used_currencies.size else ""
    # Composite key: each group field's code (+1, so null is 0), then the period.
    radices = [len(frame[name].dictionary) + 1 for name in group_by] + [len(periods)]
    codes = [frame[name].values.astype(np.int64) + 1 for name in group_by] + [period]
    rows = np.flatnonzero(keep)
    flat = np.ravel_multi_index([c[rows] for c in codes], radices) if rows.size else rows
    uniq, key = np.unique(flat, return_inverse=True)
    n = uniq.shape[0]
    row_of_deal = np.full(keep.shape[0], -1, dtype=np.int64)
    row_of_deal[rows] = key
    amount = frame["amount_minor"].values[rows]
    weighted = scores.weighted_amount_minor[rows]
    cat = category[rows]
    closed_stage = scores.prob_source[rows] == ProbSource.CLOSED_STAGE
    won = closed_stage & (scores.win_prob_ppm[rows] == 1_000_000)  # won stages weigh 100 %
    is_open = ~closed_stage

    def per(values: np.ndarray) -> np.ndarray:
        return exact_group_sum(key, values, n)

    single: dict[Category, np.ndarray] = {
        c: per(np.where(cat == _CODE[c], amount, 0)) for c in REPORTED
    }
    cumulative = {c: sum(single[k] for k in CUMULATIVE[c]) for c in REPORTED}
    unraveled = np.unravel_index(uniq, radices) if n else [np.zeros(0, np.int64)] * len(radices)
    keys = []
    for j in range(n):
        parts = []
        for g, name in enumerate(group_by):
            code = int(unraveled[g][j]) - 1
            parts.append(frame[name].dictionary[code] if code >= 0 else "")
        parts.append(periods[int(unraveled[-1][j])].label)
        keys.append(tuple(parts))
    return Rollup(
        group_by=tuple(group_by),
        currency=reporting,
        keys=keys,
        deal_count=np.bincount(key, minlength=n).astype(np.int64),
        open_count=np.bincount(key, weights=is_open, minlength=n).astype(np.int64),
        won_count=np.bincount(key, weights=won, minlength=n).astype(np.int64),
        pipeline_minor=per(np.where(is_open, amount, 0)),
        weighted_minor=per(np.where(is_open, weighted, 0)),
        closed_won_minor=per(np.where(won, amount, 0)),
        category_minor=single,
        cumulative_minor={c: np.asarray(v, dtype=np.int64) for c, v in cumulative.items()},
        row_of_deal=row_of_deal,
    )


__all__ = [
    "CUMULATIVE",
    "REPORTED",
    "Period",
    "PeriodKind",
    "Rollup",
    "calendar_periods",
    "check_periods",
    "exact_group_sum",
    "rollup",
]
