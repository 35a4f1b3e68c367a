"""Rows grouped by a small integer code, stable, in one compiled counting pass.

Why this exists: a commission run, a split or a roll-up first puts its rows in group order (a
person's credit lines together, in input order). ``np.argsort(kind="stable")`` does that by
sorting, and then every column needs a random gather (``values[order]``). With the groups known
to be ``0 .. n_groups - 1`` a counting sort does it in two sequential passes, and carries one
column along in the same pass.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def _count_and_place(
    codes: np.ndarray, n_groups: int, values: np.ndarray, order: np.ndarray,
    bounds: np.ndarray, grouped: np.ndarray,
) -> bool:  # pragma: no cover (compiled)  # fmt: skip
    n = codes.shape[0]
    for i in range(n):
        c = codes[i]
        if c < 0 or c >= n_groups:
            return False
        bounds[c + 1] += 1
    for g in range(n_groups):
        bounds[g + 1] += bounds[g]
    at = bounds[:-1].copy()
    for i in range(n):
        c = codes[i]
        p = at[c]
        order[p] = i
        grouped[p] = values[i]
        at[c] = p + 1
    return True


def group_rows(
    codes: np.ndarray, n_groups: int, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows in group order: ``(order, bounds, values[order])``, where group ``g``'s rows are
    ``order[bounds[g]:bounds[g + 1]]`` in input order (so ``order`` is what a stable argsort of
    ``codes`` gives). ``codes`` are in ``[0, n_groups)`` (else ValueError); ``values`` (int64,
    one per row) is carried into group order in the same pass."""
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    n = codes.shape[0]
    carried = np.ascontiguousarray(values, dtype=np.int64)
    if carried.shape[0] != n:
        raise ValueError("values must have one entry per row")
    order = np.empty(n, dtype=np.int64)
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    grouped = np.empty(n, dtype=np.int64)
    if not _count_and_place(codes, n_groups, carried, order, bounds, grouped):
        raise ValueError(f"a group code is outside [0, {n_groups})")
    return order, bounds, grouped


@numba.njit(nogil=True, cache=True)
def _clip(values: np.ndarray, bounds: np.ndarray, limit: np.ndarray, cut: np.ndarray) -> None:
    for g in range(limit.shape[0]):
        top = limit[g]
        if top < 0:
            continue
        for i in range(bounds[g], bounds[g + 1]):
            if values[i] > top:
                cut[g] += top - values[i]
                values[i] = top


def clip_runs(values: np.ndarray, bounds: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Clip each row of group ``g`` (rows ``bounds[g]:bounds[g + 1]`` of ``values``, int64, in
    place) at ``limit[g]`` (negative: no limit); returns each group's total change (<= 0)."""
    cut = np.zeros(limit.shape[0], dtype=np.int64)
    _clip(values, np.ascontiguousarray(bounds, dtype=np.int64),
          np.ascontiguousarray(limit, dtype=np.int64), cut)  # fmt: skip
    return cut


__all__ = ["clip_runs", "group_rows"]
