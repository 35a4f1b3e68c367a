"""Stage win rates learned from closed deals, per segment, without survivor bias.

Counting only the deals that sit in a stage when they close would overstate late stages and
understate early ones (a deal lost at *quote* was also not won from *initial contact*). So every
closed deal counts at each stage it went through: a won deal as won at every open stage from the
one it entered the pipeline at; a lost deal as lost at every open stage from its entry up to the
last it reached. With only the final stage known (no history), a deal is taken to have entered at
the first stage.

Per segment (any text fields: region, product line, team...), a stage's rate is shrunk toward the
global rate of that stage with a Beta prior of ``prior_strength`` deals:
``(won + k x global) / (deals + k)``; a segment with fewer than ``min_deals`` deals at a stage falls
back to the global rate, and a stage with no closed deal at all to the rule set's configured rate.
Every rate comes with its counts, its source (``segment``, ``global`` or ``configured``) and a 90 %
credible interval from the Beta posterior.

Also from the history: stage dwell times (median and P90 of completed stays) and stage-to-stage
conversion (of the deals that entered a stage, the share that reached a later one or were won).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from engine.errors import FailedPreconditionError
from engine.forecast.history import DealHistory, group_codes, stage_quantiles
from engine.rules.compiler import CompiledRuleSet

#: Where a learned rate comes from.
SEGMENT, GLOBAL, CONFIGURED = "segment", "global", "configured"


@dataclass(frozen=True)
class StageRates:
    """Learned rates: rows are segments (index 0 is the global row, segment ``()``), columns the
    rule set's open stages (``stage_ids``).

    ``won`` and ``deals`` are the survivor-bias-free counts; ``rate`` the shrunk estimate;
    ``low`` / ``high`` a 90 % interval; ``source`` says where each rate came from.
    """

    segment_by: tuple[str, ...]
    segments: list[tuple[str, ...]]
    stage_ids: tuple[str, ...]
    won: np.ndarray
    deals: np.ndarray
    rate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    source: np.ndarray  # of str
    closed_deals: int


@dataclass(frozen=True)
class StageFlow:
    """Per open stage: completed stays (count, median and P90 days) and conversion onward."""

    stage_ids: tuple[str, ...]
    stays: np.ndarray
    dwell_median_days: np.ndarray  # NaN where no stay completed
    dwell_p90_days: np.ndarray
    entered: np.ndarray  # closed deals that entered the stage
    advanced: np.ndarray  # ... and reached a later open stage or were won
    conversion: np.ndarray  # advanced / entered (NaN where none entered)


def _open_stages(rules: CompiledRuleSet) -> np.ndarray:
    return np.flatnonzero(~rules.stage_is_closed)


def _spans(history: DealHistory, rules: CompiledRuleSet) -> tuple[np.ndarray, ...]:
    """Per closed deal: its index, entry and last open stage (positions among the open stages,
    -1 if it never was open), and whether it was won."""
    open_idx = _open_stages(rules)
    position = np.full(len(rules.stage_ids), -1, dtype=np.int64)
    position[open_idx] = np.arange(open_idx.size)
    pos = position[history.stage]
    closed = np.flatnonzero(history.closed_day != np.iinfo(np.int64).max)
    first = history.first_row
    entry = np.full(history.n_deals, -1, dtype=np.int64)
    last = np.full(history.n_deals, -1, dtype=np.int64)
    rows = np.flatnonzero(pos >= 0)
    if rows.size:
        big = np.iinfo(np.int64).max
        lo = np.full(history.n_deals, big, dtype=np.int64)
        np.minimum.at(lo, history.deal[rows], pos[rows])
        entry = np.where(lo == big, -1, lo)
        np.maximum.at(last, history.deal[rows], pos[rows])
    # A deal whose first row is already closed (only its outcome is known): entered at the start.
    entry = np.where((entry < 0) & (pos[first] < 0), 0, entry)
    last = np.where((last < 0) & (pos[first] < 0), 0, last)
    won = history.won_day != np.iinfo(np.int64).max
    return closed, entry[closed], last[closed], won[closed]


def stage_win_rates(
    history: DealHistory,
    rules: CompiledRuleSet,
    segment_by: Sequence[str] = (),
    *,
    prior_strength: float = 20.0,
    min_deals: int = 30,
) -> StageRates:
    """Learn stage win rates from the closed deals of ``history`` (see the module).

    Raises FAILED_PRECONDITION (NO_CLOSED_DEALS) when no deal in the history has closed.
    """
    closed, entry, last, won = _spans(history, rules)
    if closed.size == 0:
        raise FailedPreconditionError(
            "no deal in the history has closed: there is nothing to learn win rates from",
            reason="NO_CLOSED_DEALS",
        )
    open_idx = _open_stages(rules)
    n_stages = open_idx.size
    code, keys = group_codes(history, segment_by, rules.team_of)
    # A deal's segment: its values on its last row.
    last_row = (
        np.r_[history.first_row[1:] - 1, history.deal.size - 1] if history.n_deals else closed
    )
    seg = code[last_row[closed]] + 1 if segment_by else np.zeros(closed.size, dtype=np.int64)
    n_seg = len(keys) + 1 if segment_by else 1
    segments: list[tuple[str, ...]] = [(), *keys] if segment_by else [()]
    # Difference arrays: +1 at the first counted stage, -1 after the last, then a running sum.
    end_lost = last + 1
    end_won = np.full(closed.size, n_stages)
    end = np.where(won, end_won, end_lost)
    valid = (entry >= 0) & (end > entry)
    diff_all = np.zeros((n_seg, n_stages + 1))
    diff_won = np.zeros((n_seg, n_stages + 1))
    for rows_seg in [np.zeros_like(seg)] + ([seg] if segment_by else []):
        np.add.at(diff_all, (rows_seg[valid], entry[valid]), 1)
        np.add.at(diff_all, (rows_seg[valid], end[valid]), -1)
        w = valid & won
        np.add.at(diff_won, (rows_seg[w], entry[w]), 1)
        np.add.at(diff_won, (rows_seg[w], end[w]), -1)
    deals = np.cumsum(diff_all, axis=1)[:, :n_stages]
    wins = np.cumsum(diff_won, axis=1)[:, :n_stages]
    configured = rules.stage_rate_ppm[open_idx] / 1_000_000
    source = np.full((n_seg, n_stages), SEGMENT, dtype=object)
    global_rate = np.where(deals[0] > 0, wins[0] / np.maximum(deals[0], 1), configured)
    source[0] = np.where(deals[0] > 0, GLOBAL, CONFIGURED)
    k = float(prior_strength)
    rate = (wins + k * global_rate) / (deals + k)
    rate[0] = global_rate
    thin = deals < min_deals
    thin[0] = False
    rate = np.where(thin, global_rate, rate)
    source[1:] = np.where(thin[1:], source[0], SEGMENT)
    # 90 % credible interval: Beta(won + k p + 1/2, lost + k (1 - p) + 1/2), Jeffreys-style.
    a = wins + k * global_rate + 0.5
    b = deals - wins + k * (1 - global_rate) + 0.5
    a[0], b[0] = wins[0] + 0.5, deals[0] - wins[0] + 0.5
    low, high = stats.beta.ppf(0.05, a, b), stats.beta.ppf(0.95, a, b)
    return StageRates(
        segment_by=tuple(segment_by),
        segments=segments,
        stage_ids=tuple(rules.stage_ids[i] for i in open_idx),
        won=wins.astype(np.int64),
        deals=deals.astype(np.int64),
        rate=rate,
        low=low,
        high=high,
        source=source,
        closed_deals=int(closed.size),
    )


def stage_flow(history: DealHistory, rules: CompiledRuleSet) -> StageFlow:
    """Dwell times and stage-to-stage conversion of the open stages (see the module)."""
    open_idx = _open_stages(rules)
    n = open_idx.size
    count, q = stage_quantiles(history, len(rules.stage_ids), (0.5, 0.9))
    stays, median, p90 = count[open_idx], q[open_idx, 0], q[open_idx, 1]
    _, entry, last, won = _spans(history, rules)
    valid = entry >= 0
    entered_end = np.where(won, n, last + 1)  # stages [entry, end) were entered
    advanced_end = np.where(won, n, last)  # and [entry, end) were left onward
    entered = np.zeros(n + 1)
    advanced = np.zeros(n + 1)
    np.add.at(entered, entry[valid], 1)
    np.add.at(entered, entered_end[valid], -1)
    np.add.at(advanced, entry[valid], 1)
    np.add.at(advanced, advanced_end[valid], -1)
    entered_n = np.cumsum(entered)[:n]
    advanced_n = np.cumsum(advanced)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        conversion = np.where(entered_n > 0, advanced_n / np.maximum(entered_n, 1), np.nan)
    return StageFlow(
        stage_ids=tuple(rules.stage_ids[i] for i in open_idx),
        stays=stays,
        dwell_median_days=median,
        dwell_p90_days=p90,
        entered=entered_n.astype(np.int64),
        advanced=advanced_n.astype(np.int64),
        conversion=conversion,
    )


__all__ = [
    "CONFIGURED",
    "GLOBAL",
    "SEGMENT",
    "StageFlow",
    "StageRates",
    "stage_flow",
    "stage_win_rates",
]
