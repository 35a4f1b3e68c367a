"""Sales KPIs from deal histories, per group and period, each with the counts behind it.

A deal belongs to the group of its latest state (owner, region, product line...). Periods are
half-open day ranges; each KPI dates a deal by the event it counts:

* **created** (its first row): deals created and the pipeline created (the amount when created);
* **won** (the first day in a won stage): won deals, bookings (the amount when won), the average
  deal size (bookings / won, half-even to the minor unit) and the sales cycle (created -> won, in
  days: median and P90, nearest rank);
* **closed** (won or lost): the win rate, won / closed, in ppm (half-even); none closed, no rate;
* the **funnel** of the deals created in the period: how many reached each stage (in the rule
  set's order, lost excluded) and the conversion from each stage to the next, in ppm.

Empty groups and periods report zero counts and no rates, never a division by zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.forecast.history import NO_DAY, DealHistory, first_won_row, state_at

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


def _nearest_rank(sorted_values: np.ndarray, q: float) -> int | None:
    if sorted_values.size == 0:
        return None
    rank = max(1, int(np.ceil(q * sorted_values.size)))
    return int(sorted_values[rank - 1])


def _ppm(num: int, den: int) -> int | None:
    if den <= 0:
        return None
    q, r = divmod(num * _PPM, den)
    return q + (2 * r > den or (2 * r == den and q % 2 == 1))


def compute_kpis(
    history: DealHistory,
    deal_group: np.ndarray,
    groups: Sequence[tuple[str, ...]],
    periods: Sequence[tuple[str, int, int]],
    stage_is_won: np.ndarray,
    stage_is_lost: np.ndarray,
) -> list[KpiRow]:
    """KPIs per (group, period) (see the module). ``deal_group`` is each deal's group code into
    ``groups``; ``periods`` are ``(label, first day, end day)`` half-open; stages are indices
    into the rule set's stages in their order."""
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
    out = []
    for code, group in enumerate(groups):
        mine = deal_group == code
        for label, first, end in periods:
            new = mine & (created >= first) & (created < end)
            won = mine & (won_day != NO_DAY) & (won_day >= first) & (won_day < end)
            closed = mine & (closed_day != NO_DAY) & (closed_day >= first) & (closed_day < end)
            n_won, n_closed = int(won.sum()), int(closed.sum())
            bookings = int(won_amount[won].sum())
            cycle = np.sort(won_day[won] - created[won])
            counts = [int((reached[new] >= k).sum()) for k in range(funnel_stages.size)]
            conversion = tuple(_ppm(counts[k + 1], counts[k]) for k in range(len(counts) - 1))
            out.append(KpiRow(
                group=group, period=label, deals_created=int(new.sum()),
                pipeline_created_minor=int(created_amount[new].sum()), won_count=n_won,
                bookings_minor=bookings,
                average_deal_minor=half_even_div(bookings, n_won),
                closed_count=n_closed, lost_count=int((closed & lost).sum()),
                win_rate_ppm=_ppm(int((closed & ~lost).sum()), n_closed),
                cycle_count=int(cycle.size), cycle_median_days=_nearest_rank(cycle, 0.5),
                cycle_p90_days=_nearest_rank(cycle, 0.9), funnel_reached=tuple(counts),
                funnel_conversion_ppm=conversion,
            ))  # fmt: skip
    return out


def half_even_div(num: int, den: int) -> int | None:
    """``num / den`` rounded half to even; None when ``den`` is not positive."""
    if den <= 0:
        return None
    q, r = divmod(num, den)
    return q + (2 * r > den or (2 * r == den and q % 2 == 1))


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
