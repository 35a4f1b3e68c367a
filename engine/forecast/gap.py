"""The gap between a forecast and its target, for many groups at once.

A planner's first questions about a target are how far closed business is from it, how far the
expected outcome is, whether there is enough pipeline to close the gap, and where the current pace
leads. Each is a column here, one row per (group, period), computed with array operations:

* ``gap`` = max(target - closed-won, 0); ``expected gap`` = max(target - expected outcome, 0);
* ``coverage`` = open pipeline / gap (0 without a gap);
* ``pace`` = closed-won per day elapsed in the period at the as-of date, and ``projected`` =
  closed-won + pace x days left;
* ``pipeline needed`` = the open pipeline that fills the gap at the group's current weighted win
  rate (weighted / pipeline): gap x pipeline / weighted; -1 where the group has no weighted pipeline
  to take a rate from, 0 without a gap.

These are estimates, not payables: ratios are float64 and amounts are rounded once, half-even.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GapColumns:
    """Gap figures per row; all arrays have the rows' length."""

    gap_minor: np.ndarray
    expected_gap_minor: np.ndarray
    coverage: np.ndarray
    pace_minor_per_day: np.ndarray
    projected_minor: np.ndarray
    days_elapsed: np.ndarray
    days_left: np.ndarray
    pipeline_needed_minor: np.ndarray


def target_gaps(
    target_minor: np.ndarray,
    closed_won_minor: np.ndarray,
    pipeline_minor: np.ndarray,
    weighted_minor: np.ndarray,
    expected_minor: np.ndarray,
    period_start_day: np.ndarray,
    period_end_day: np.ndarray,
    as_of_day: int,
) -> GapColumns:
    """Gap figures for rows of targets and roll-up sums.

    Periods are half-open ``[start, end)`` in days since 1970-01-01; the as-of day counts as
    elapsed (``as_of`` is the end of that day's business). Before a period starts nothing has
    elapsed; after it ends nothing is left.
    """
    target = np.asarray(target_minor, dtype=np.int64)
    closed = np.asarray(closed_won_minor, dtype=np.int64)
    pipeline = np.asarray(pipeline_minor, dtype=np.int64)
    weighted = np.asarray(weighted_minor, dtype=np.int64)
    gap = np.maximum(target - closed, 0)
    expected = np.rint(np.asarray(expected_minor, dtype=np.float64)).astype(np.int64)
    expected_gap = np.maximum(target - expected, 0)
    length = np.asarray(period_end_day, dtype=np.int64) - np.asarray(period_start_day, np.int64)
    elapsed = np.clip(as_of_day + 1 - np.asarray(period_start_day, np.int64), 0, length)
    left = length - elapsed
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = np.where(elapsed > 0, closed / np.maximum(elapsed, 1), 0.0)
        coverage = np.where(gap > 0, pipeline / np.maximum(gap, 1), 0.0)
        needed = np.where(
            weighted > 0,
            np.rint(gap.astype(np.float64) * pipeline / np.maximum(weighted, 1)),
            -1.0,
        )
    needed = np.where(gap == 0, 0.0, needed).astype(np.int64)
    projected = closed + np.rint(pace * left).astype(np.int64)
    return GapColumns(
        gap_minor=gap,
        expected_gap_minor=expected_gap,
        coverage=coverage,
        pace_minor_per_day=pace,
        projected_minor=projected,
        days_elapsed=elapsed,
        days_left=left,
        pipeline_needed_minor=needed,
    )


__all__ = ["GapColumns", "target_gaps"]
