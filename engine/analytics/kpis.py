"""Sales KPIs from deal histories, per group and period, each with the counts behind it.

A deal belongs to the group of its latest state (owner, region, product line...). Periods are
half-open day ranges; each KPI dates a deal by the event it counts:

* **created** (its first row): deals created and the pipeline created (the amount when created);
* **won** (the first day in a won stage): won deals, bookings (the amount when won), the average
  deal size (bookings / won, half-even to the minor unit) and the sales cycle (created -> won, in
  days: median and P90, nearest rank);
* **closed** (won or lost): the win rate, won / closed, in ppm (half-even); none closed, no rate;
* **stays** that ended in the period (the deal moved on): per stage, how many, and their median
  and P90 length in days (nearest rank), per group as well as overall;
* the **funnel** of the deals created in the period: how many reached each stage (in the rule
  set's order, lost excluded), the conversion from each stage to the next, in ppm, and what
  those deals booked when won (whenever that was: the funnel product's bookings).

Empty groups and periods report zero counts and no rates, never a division by zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.forecast.history import NO_DAY, DealHistory, first_won_row, state_at
from engine.money import divide_half_even

_PPM = 1_000_000


@dataclass(frozen=True)
class KpiRow:
    group: tuple[str, ...]
    period: str
    deals_created: int
    pipeline_created_minor: int
    won_count: int
    bookings_minor: int
    average_deal_minor: int | None  # None: nothing won
    closed_count: int
    lost_count: int
    win_rate_ppm: int | None  # None: nothing closed
    cycle_count: int
    cycle_median_days: int | None
    cycle_p90_days: int | None
    funnel_reached: tuple[int, ...]  # per funnel stage: created-in-period deals that reached it
    funnel_conversion_ppm: tuple[int | None, ...]  # from each stage to the next
    activities: tuple[int, ...] = ()  # per activity kind, of the deals created in the period
    new_business_minor: int = 0  # bookings from customers without an earlier won deal
    existing_business_minor: int = 0  # bookings from customers with one (expansion, retention)
    existing_won_count: int = 0
    cohort_bookings_minor: int = 0  # what the deals created in the period booked, when won
    # Per stage (the rule set's order): stays that ended in the period, their median and P90
    # length in days (nearest rank; None without stays).
    dwell_stays: tuple[int, ...] = ()
    dwell_median_days: tuple[int | None, ...] = ()
    dwell_p90_days: tuple[int | None, ...] = ()


def _nearest_rank(sorted_values: np.ndarray, q: float) -> int | None:
    if sorted_values.size == 0:
        return None
    rank = max(1, int(np.ceil(q * sorted_values.size)))
    return int(sorted_values[rank - 1])


def _ppm(num: int, den: int) -> int | None:
    return half_even_div(num * _PPM, den)


def compute_kpis(
    history: DealHistory,
    deal_group: np.ndarray,
    groups: Sequence[tuple[str, ...]],
    periods: Sequence[tuple[str, int, int]],
    stage_is_won: np.ndarray,
    stage_is_lost: np.ndarray,
    *,
    activity: np.ndarray | None = None,
    customer: np.ndarray | None = None,
) -> list[KpiRow]:
    """KPIs per (group, period) (see the module). ``deal_group`` is each deal's group code into
    ``groups``; ``periods`` are ``(label, first day, end day)`` half-open and not overlapping
    (in any order); stages are indices into the rule set's stages in their order. Every deal is
    put in its (group, period) bins once per event it counts for, and the bins are counted,
    summed and sorted at once: no pass over the deals per group or period.

    ``activity`` (deals x kinds, e.g. visits and calls as each deal last recorded them) is
    counted in the period each deal was created. ``customer`` (a code per deal, -1 for none)
    splits bookings: a won deal whose customer had a deal won earlier (an earlier day, or the same
    day and an earlier deal) is existing business, the rest new business."""
    n = history.n_deals
    created = history.day[history.first_row] if n else np.zeros(0, np.int64)
    created_amount = history.amount_minor[history.first_row] if n else np.zeros(0, np.int64)
    won_row = first_won_row(history, stage_is_won)
    won_day = np.where(won_row >= 0, history.day[np.maximum(won_row, 0)], NO_DAY)
    won_amount = np.where(won_row >= 0, history.amount_minor[np.maximum(won_row, 0)], 0)
    closed_day = history.closed_day
    lost = (closed_day != NO_DAY) & (won_row < 0)
    funnel_stages = np.flatnonzero(~stage_is_lost)
    # The furthest funnel stage each deal reached (position in funnel_stages), -1 for none.
    position = np.full(stage_is_lost.size, -1, dtype=np.int64)
    position[funnel_stages] = np.arange(funnel_stages.size)
    reached = np.full(n, -1, dtype=np.int64)
    if history.deal.size:
        np.maximum.at(reached, history.deal, position[history.stage])
    g, p = len(groups), len(periods)
    by_start = np.argsort([first for _, first, _ in periods], kind="stable").astype(np.int64)
    starts = np.array([periods[k][1] for k in by_start.tolist()], dtype=np.int64)
    ends = np.array([periods[k][2] for k in by_start.tolist()], dtype=np.int64)

    def bins(day: np.ndarray, valid: np.ndarray, group: np.ndarray = deal_group) -> np.ndarray:
        """Each deal's (group, period) bin by ``day``, or -1 outside every period."""
        if not p:
            return np.full(day.shape, -1, dtype=np.int64)
        k = np.clip(np.searchsorted(starts, day, side="right") - 1, -1, None)
        inside = valid & (k >= 0) & (day < ends[np.maximum(k, 0)])
        return np.where(inside, group * p + by_start[np.maximum(k, 0)], -1)

    def count(b: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        ok = b >= 0
        if weights is None:
            return np.bincount(b[ok], minlength=g * p)
        out = np.zeros(g * p, dtype=np.int64)
        np.add.at(out, b[ok], weights[ok].astype(np.int64))
        return out

    new_bin = bins(created, np.ones(n, dtype=np.bool_))
    won_bin = bins(won_day, won_day != NO_DAY)
    closed_bin = bins(closed_day, closed_day != NO_DAY)
    created_n, created_amount_sum = count(new_bin), count(new_bin, created_amount)
    won_n, bookings = count(won_bin), count(won_bin, won_amount)
    cohort_bookings = count(np.where(won_row >= 0, new_bin, -1), won_amount)
    closed_n, lost_n = count(closed_bin), count(np.where(lost, closed_bin, -1))
    reached_n = [count(np.where(reached >= k, new_bin, -1)) for k in range(funnel_stages.size)]
    kinds = 0 if activity is None else activity.shape[1]
    activity_n = [count(new_bin, activity[:, j]) for j in range(kinds)]  # type: ignore[index]
    existing = np.zeros(n, dtype=np.bool_)
    if customer is not None:
        is_won = (won_day != NO_DAY) & (customer >= 0)
        rows = np.flatnonzero(is_won)
        order = rows[np.lexsort((rows, won_day[rows], customer[rows]))]
        later = np.zeros(order.size, dtype=np.bool_)
        later[1:] = customer[order][1:] == customer[order][:-1]
        existing[order[later]] = True
    existing_bookings = count(np.where(existing, won_bin, -1), won_amount)
    existing_n = count(np.where(existing, won_bin, -1))
    dwell = _dwell(history, deal_group, bins, g * p, stage_is_won.size)
    # Sales cycles by bin, sorted: each bin's values are a run of the sorted array.
    ok = won_bin >= 0
    cycle_bin, cycle_len = won_bin[ok], (won_day - created)[ok]
    order = np.lexsort((cycle_len, cycle_bin))
    cycle_sorted = cycle_len[order]
    bounds = np.searchsorted(cycle_bin[order], np.arange(g * p + 1))
    out = []
    for code, group in enumerate(groups):
        for j, (label, _, _) in enumerate(periods):
            i = code * p + j
            cycle = cycle_sorted[bounds[i] : bounds[i + 1]]
            counts = [int(r[i]) for r in reached_n]
            conversion = tuple(_ppm(counts[k + 1], counts[k]) for k in range(len(counts) - 1))
            n_won, n_closed, n_lost = int(won_n[i]), int(closed_n[i]), int(lost_n[i])
            out.append(KpiRow(
                group=group, period=label, deals_created=int(created_n[i]),
                pipeline_created_minor=int(created_amount_sum[i]), won_count=n_won,
                bookings_minor=int(bookings[i]),
                average_deal_minor=half_even_div(int(bookings[i]), n_won),
                closed_count=n_closed, lost_count=n_lost,
                win_rate_ppm=_ppm(n_closed - n_lost, n_closed),
                cycle_count=int(cycle.size), cycle_median_days=_nearest_rank(cycle, 0.5),
                cycle_p90_days=_nearest_rank(cycle, 0.9), funnel_reached=tuple(counts),
                funnel_conversion_ppm=conversion,
                activities=tuple(int(a[i]) for a in activity_n),
                new_business_minor=int(bookings[i] - existing_bookings[i]),
                existing_business_minor=int(existing_bookings[i]),
                existing_won_count=int(existing_n[i]),
                cohort_bookings_minor=int(cohort_bookings[i]),
                dwell_stays=tuple(int(v) for v in dwell[0][i]),
                dwell_median_days=tuple(None if v < 0 else int(v) for v in dwell[1][i]),
                dwell_p90_days=tuple(None if v < 0 else int(v) for v in dwell[2][i]),
            ))  # fmt: skip
    return out


def _count_values(n_values: int, n_stays: int) -> bool:
    """Whether ranks come from counting each possible value (few of them) or from a sort."""
    return n_values <= max(4 * n_stays, 1 << 20)


def _dwell(
    history: DealHistory,
    deal_group: np.ndarray,
    bins: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    n_bins: int,
    n_stages: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (group, period) bin and stage: the stays in the stage that ended in the period (the
    deal moved to another stage), and their median and P90 length in days by nearest rank (-1
    without stays); each of shape (bins, stages). One sort of every stay by (bin, stage,
    length), or a count of the values when they are few; the ranks are picked at once."""
    if history.day.size < 2 or not n_bins:
        empty = np.zeros((n_bins, n_stages), dtype=np.int64)
        return empty, empty - 1, empty - 1
    ends = (history.deal[1:] == history.deal[:-1]) & (history.stage[1:] != history.stage[:-1])
    rows = np.flatnonzero(ends)
    end_day = history.day[rows + 1]
    b = bins(end_day, np.ones(rows.size, dtype=np.bool_), deal_group[history.deal[rows]])
    ok = b >= 0
    key = b[ok] * n_stages + history.stage[rows][ok]
    length = (end_day - history.entered_day[rows])[ok]
    n_keys = n_bins * n_stages
    stays = np.bincount(key, minlength=n_keys)
    first = np.cumsum(stays) - stays
    # (key, length) as one integer: ranks within a key are ranks of the combined values.
    span = int(length.max()) + 1 if length.size else 1
    combined = key * span + length
    if _count_values(n_keys * span, combined.size):
        # Few distinct values: count them instead of sorting; a rank's value is where the
        # running count passes it.
        running = np.cumsum(np.bincount(combined, minlength=n_keys * span))

        def value_at(rank: np.ndarray) -> np.ndarray:
            return np.searchsorted(running, rank, side="right") % span
    else:
        ordered = np.sort(combined) % span

        def value_at(rank: np.ndarray) -> np.ndarray:
            return ordered[np.minimum(rank, max(ordered.size - 1, 0))] if ordered.size else rank

    def rank(q: float) -> np.ndarray:
        at = first + np.maximum(np.ceil(q * stays).astype(np.int64), 1) - 1
        return np.where(stays > 0, value_at(at), -1).reshape(n_bins, n_stages)

    return stays.reshape(n_bins, n_stages), rank(0.5), rank(0.9)


def half_even_div(num: int, den: int) -> int | None:
    """``num / den`` rounded half to even; None when ``den`` is not positive."""
    return None if den <= 0 else divide_half_even(num, den)


@dataclass(frozen=True)
class StuckDeal:
    deal_id: str
    stage: int
    days_in_stage: int
    threshold_days: int
    owner: str
    amount_minor: int


def stuck_deals(
    history: DealHistory,
    as_of_day: int,
    threshold_days: np.ndarray,
    stage_is_closed: np.ndarray,
) -> list[StuckDeal]:
    """Open deals (as of ``as_of_day``) whose time in their stage exceeds the stage's threshold
    (days; -1: no threshold), the longest over first."""
    row = state_at(history, as_of_day)
    live = np.flatnonzero(row >= 0)
    r = row[live]
    stage = history.stage[r]
    days = as_of_day - history.entered_day[r]
    limit = threshold_days[stage]
    hit = ~stage_is_closed[stage] & (limit >= 0) & (days > limit)
    order = np.lexsort((live[hit], -(days[hit] - limit[hit])))
    out = []
    for k in order.tolist():
        d = int(live[hit][k])
        rr = int(r[hit][k])
        out.append(StuckDeal(history.deal_ids[d], int(stage[hit][k]), int(days[hit][k]),
                             int(limit[hit][k]), str(history.records[rr].get("owner") or ""),
                             int(history.amount_minor[rr])))  # fmt: skip
    return out


__all__ = ["KpiRow", "StuckDeal", "compute_kpis", "half_even_div", "stuck_deals"]
