"""Deal histories as columns: what each deal looked like on any past day.

A history is a log of deal states: each row says "from this day on, the deal is in this stage,
with this amount, expected close date and these attributes" (a CRM's stage-change log, a CSV
export, or the states the store's deal events produce). Rows are kept sorted by (deal, day);
several rows of one deal on one day keep the last. From it, columnar and without a loop over deals:

* :func:`state_at`: every deal's row in force at the end of a day (its state as of that day);
* ``entered_day``: the day each row's stage was entered (a row that keeps the previous row's stage
  inherits its entry day), so the age in stage at a cutoff is ``cutoff - entered_day``;
* ``won_day`` / ``closed_day``: the first day each deal was in a won (or any closed) stage.

Backtests and the period-aware forecast replay the past from these, using only what was known at
each cutoff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.frame import date_to_days
from engine.rules.compiler import CompiledRuleSet

#: "No day": a missing close date, or a deal never won / closed.
NO_DAY = np.iinfo(np.int64).max
#: Violations listed at most when a history is refused.
MAX_LISTED = 100


@dataclass(frozen=True)
class DealHistory:
    """Rows of deal states, sorted by (deal, day); per-deal outcomes.

    Attributes
    ----------
    deal_ids : list of str
        Deal ids; ``deal`` holds indices into it.
    deal, day, stage, amount_minor, close_day, entered_day : ndarray of int64, shape (rows,)
        ``day`` and the ``*_day`` columns are days since 1970-01-01; ``close_day`` is the expected
        close (``NO_DAY`` when none); ``stage`` indexes the rule set's ``stage_ids``.
    won_day, closed_day : ndarray of int64, shape (deals,)
    first_row : ndarray of int64, shape (deals,)
        Each deal's first row (its creation: ``day[first_row]`` is the day it was created).
    currency : str
    records : list of dict
        Each row as given (for rebuilding a deal batch of the states at a cutoff).
    """

    deal_ids: list[str]
    deal: np.ndarray
    day: np.ndarray
    stage: np.ndarray
    amount_minor: np.ndarray
    close_day: np.ndarray
    entered_day: np.ndarray
    won_day: np.ndarray
    closed_day: np.ndarray
    first_row: np.ndarray
    currency: str
    records: list[dict[str, Any]]

    @property
    def n_deals(self) -> int:
        return len(self.deal_ids)

    @property
    def first_day(self) -> int:
        return int(self.day.min()) if self.day.size else 0

    @property
    def last_day(self) -> int:
        return int(self.day.max()) if self.day.size else 0


def _day(value: Any) -> int:
    if isinstance(value, dt.date):
        return date_to_days(value)
    return date_to_days(dt.date.fromisoformat(str(value)))


def history_from_records(
    records: Sequence[Mapping[str, Any]], rules: CompiledRuleSet, path: str = "history"
) -> DealHistory:
    """Build a history from rows with ``deal_id``, ``date``, ``stage``, ``amount_minor``,
    ``currency`` and optionally ``close_date`` and any deal fields (kept for scoring).

    Raises INVALID_ARGUMENT naming every bad row (up to 100): missing deal id, a date that is not
    YYYY-MM-DD, a row dated before the previous row of its deal, an unknown stage, a negative or
    non-integer amount, and more than one currency.
    """
    n = len(records)
    problems: list[Violation] = []
    deal_of: dict[str, int] = {}
    deal = np.zeros(n, dtype=np.int64)
    day = np.zeros(n, dtype=np.int64)
    stage = np.zeros(n, dtype=np.int64)
    amount = np.zeros(n, dtype=np.int64)
    close = np.full(n, NO_DAY, dtype=np.int64)
    currencies: set[str] = set()
    days: dict[Any, int] = {}

    def bad(i: int, name: str, reason: str, message: str) -> None:
        problems.append(Violation(f"{path}[{i}].{name}", 0, 0, reason, message))

    for i, rec in enumerate(records):
        deal_id = rec.get("deal_id")
        if not deal_id:
            bad(i, "deal_id", "MISSING_FIELD", "every row needs the deal's id")
        else:
            deal[i] = deal_of.setdefault(str(deal_id), len(deal_of))
        for name, target in (("date", day), ("close_date", close)):
            value = rec.get(name)
            if value in (None, ""):
                if name == "date":
                    bad(i, name, "MISSING_FIELD", "every row needs the day it took effect")
                continue
            try:
                target[i] = days[value] if value in days else days.setdefault(value, _day(value))
            except ValueError:
                bad(i, name, "INVALID_DATE", f"expected YYYY-MM-DD, got {value!r}")
        code = rules.stage_index.get(str(rec.get("stage")))
        if code is None:
            bad(i, "stage", "UNKNOWN_STAGE", f"no stage {rec.get('stage')!r} in the rule set")
        else:
            stage[i] = code
        value = rec.get("amount_minor")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            bad(i, "amount_minor", "INVALID_AMOUNT", f"expected minor units >= 0, got {value!r}")
        else:
            amount[i] = value
        currencies.add(str(rec.get("currency") or ""))
    if len(currencies) > 1:
        problems.append(Violation(f"{path}.currency", 0, 0, "CURRENCY_MIXTURE",
                                  ", ".join(sorted(currencies))))  # fmt: skip
    if not problems and n > 1:
        # Each deal's rows must come in date order: a row dated before the deal's previous row
        # is a broken history, not something to sort away silently.
        by_deal = np.argsort(deal, kind="stable")
        back = (deal[by_deal][1:] == deal[by_deal][:-1]) & (day[by_deal][1:] < day[by_deal][:-1])
        for i in sorted(by_deal[1:][back].tolist())[:MAX_LISTED]:
            message = (
                "dated before the previous row of its deal: give each deal's rows in date order"
            )
            bad(i, "date", "DATE_OUT_OF_ORDER", message)
    if problems:
        raise InvalidArgumentError(
            f"the deal history has {len(problems)} problem(s)",
            reason="INVALID_HISTORY",
            violations=problems[:MAX_LISTED],
        )
    order = np.lexsort((np.arange(n), day, deal))
    deal, day, stage, amount, close = (
        deal[order],
        day[order],
        stage[order],
        amount[order],
        close[order],
    )
    # Of several rows of one deal on one day, the last (in input order) stands.
    last = np.ones(n, dtype=np.bool_)
    if n > 1:
        last[:-1] = (deal[1:] != deal[:-1]) | (day[1:] != day[:-1])
    keep = np.flatnonzero(last)
    deal, day, stage, amount, close = deal[keep], day[keep], stage[keep], amount[keep], close[keep]
    kept_records = [dict(records[int(order[k])]) for k in keep.tolist()]
    m = keep.size
    # The day each row's stage was entered: forward-fill the days where a run of a stage starts.
    starts = np.ones(m, dtype=np.bool_)
    if m > 1:
        starts[1:] = (deal[1:] != deal[:-1]) | (stage[1:] != stage[:-1])
    start_row = np.maximum.accumulate(np.where(starts, np.arange(m), 0))
    entered = day[start_row]
    n_deals = len(deal_of)
    won_stage = rules.stage_is_won[stage]
    closed_stage = rules.stage_is_closed[stage]
    won_day = np.full(n_deals, NO_DAY, dtype=np.int64)
    closed_day = np.full(n_deals, NO_DAY, dtype=np.int64)
    np.minimum.at(won_day, deal[won_stage], day[won_stage])
    np.minimum.at(closed_day, deal[closed_stage], day[closed_stage])
    ids = [""] * n_deals
    for deal_id, code in deal_of.items():
        ids[code] = deal_id
    return DealHistory(
        deal_ids=ids,
        deal=deal,
        day=day,
        stage=stage,
        amount_minor=amount,
        close_day=close,
        entered_day=entered,
        won_day=won_day,
        closed_day=closed_day,
        first_row=np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]]) if m else deal,
        currency=next(iter(currencies)) if currencies else "",
        records=kept_records,
    )


def group_codes(
    history: DealHistory, group_by: Sequence[str], team_of: Mapping[str, str] | None = None
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """A group code per history row (by the row's values of ``group_by``; '' where missing), and
    the group values of each code. ``team`` is the row owner's team by ``team_of``."""
    m = len(history.records)
    if not group_by:
        return np.zeros(m, dtype=np.int64), [()]
    parts = []
    for name in group_by:
        if name == "team" and team_of is not None:
            owners = [str(r.get("owner") or "") for r in history.records]
            values = np.array([team_of.get(o, "") for o in owners], dtype=object)
        else:
            values = np.array([str(r.get(name) or "") for r in history.records], dtype=object)
        parts.append(np.unique(values, return_inverse=True))
    radices = [max(len(u), 1) for u, _ in parts]
    flat = np.ravel_multi_index([inv for _, inv in parts], radices)
    uniq, code = np.unique(flat, return_inverse=True)
    unravel = np.unravel_index(uniq, radices)
    keys = [tuple(str(parts[g][0][unravel[g][j]]) for g in range(len(group_by)))
            for j in range(uniq.size)]  # fmt: skip
    return code.astype(np.int64), keys


def first_won_row(history: DealHistory, is_won_stage: np.ndarray) -> np.ndarray:
    """Each deal's first row in a won stage (its amount when won), or -1 for deals never won."""
    rows = np.flatnonzero(is_won_stage[history.stage])
    none = np.iinfo(np.int64).max
    first = np.full(history.n_deals, none, dtype=np.int64)
    np.minimum.at(first, history.deal[rows], rows)
    return np.where(first == none, -1, first)


def rows_in_force(history: DealHistory, deal: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """For each (deal, day) pair, the deal's row in force at the end of the day, or -1 when the
    deal did not exist yet. One binary search over the rows, sorted by (deal, day)."""
    deal = np.asarray(deal, dtype=np.int64)
    if history.day.size == 0:
        return np.full(deal.shape, -1, dtype=np.int64)
    base = int(history.day.min())
    span = int(history.day.max()) - base + 2
    key = history.deal * span + (history.day - base)
    offset = np.clip(np.asarray(day, dtype=np.int64) - base, -1, span - 1)
    row = np.searchsorted(key, deal * span + offset, side="right") - 1
    ok = (row >= 0) & (history.deal[np.clip(row, 0, None)] == deal)
    return np.where(ok, row, -1)


def state_at(history: DealHistory, day: int) -> np.ndarray:
    """Each deal's row in force at the end of ``day``, or -1 for deals created later."""
    return rows_in_force(history, np.arange(history.n_deals, dtype=np.int64), day)


def completed_stays(history: DealHistory, until_day: int | None = None) -> tuple[np.ndarray, ...]:
    """Every completed stay in a stage (ended by ``until_day``, when given): its stage and its
    length in days. A stay ends where the next row of the same deal has another stage."""
    if history.day.size < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    ends = (history.deal[1:] == history.deal[:-1]) & (history.stage[1:] != history.stage[:-1])
    if until_day is not None:
        ends &= history.day[1:] <= until_day
    rows = np.flatnonzero(ends)
    return history.stage[rows], history.day[rows + 1] - history.entered_day[rows]


def stage_quantiles(
    history: DealHistory, n_stages: int, qs: Sequence[float], until_day: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per stage: the number of completed stays and the ``qs`` quantiles of their lengths (days;
    NaN for stages without any), shape (stages, len(qs))."""
    stage, length = completed_stays(history, until_day)
    count = np.bincount(stage, minlength=n_stages)
    out = np.full((n_stages, len(qs)), np.nan)
    order = np.lexsort((length, stage))
    stage, length = stage[order], length[order].astype(np.float64)
    bounds = np.searchsorted(stage, np.arange(n_stages + 1))
    for s in np.flatnonzero(count).tolist():  # per stage, not per deal
        out[s] = np.quantile(length[bounds[s] : bounds[s + 1]], qs)
    return count, out


def stage_dwell_p90(history: DealHistory, n_stages: int, until_day: int) -> np.ndarray:
    """Per stage, the 90th percentile of completed stays (days) that ended by ``until_day``;
    -1 for stages without any."""
    _, q = stage_quantiles(history, n_stages, (0.9,), until_day)
    return np.nan_to_num(q[:, 0], nan=-1.0)


__all__ = [
    "NO_DAY",
    "DealHistory",
    "completed_stays",
    "first_won_row",
    "group_codes",
    "history_from_records",
    "rows_in_force",
    "stage_dwell_p90",
    "stage_quantiles",
    "state_at",
]
