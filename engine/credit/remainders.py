"""Largest-remainder units, compiled: which parts of each group get the units left over.

Why this exists: every allocation to the unit (a deal's credit over its team, a person's pay over
their lines) ends by handing a group's leftover units to the parts with the largest remainders.
In numpy that is a sort of every part, or round after round of per-group maxima; compiled
(numba), it is one pass over each group that has units to hand out.
"""

from __future__ import annotations

import numba
import numpy as np

#: Up to this many units a group's parts are scanned once per unit; past it they are sorted.
SCAN_UNITS = 8


@numba.njit(nogil=True, cache=True)
def largest_remainder_units(
    starts: np.ndarray, remainder: np.ndarray, units: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover (compiled; its Python text never runs)
    """For each group ``g`` (the parts from ``starts[g]`` to the next start), set ``out`` to 1 for
    the ``units[g]`` parts with the largest ``remainder``, an earlier part first among equals."""
    n = remainder.shape[0]
    groups = starts.shape[0]
    for g in range(groups):
        lo = starts[g]
        hi = starts[g + 1] if g + 1 < groups else n
        k = min(units[g], hi - lo)
        if k <= 0:
            continue
        if k <= SCAN_UNITS:
            for _ in range(k):
                best = -1
                at = lo
                for i in range(lo, hi):
                    if out[i] == 0 and remainder[i] > best:
                        best = remainder[i]
                        at = i
                out[at] = 1
        else:
            order = np.argsort(-remainder[lo:hi], kind="mergesort")  # stable
            for t in range(k):
                out[lo + order[t]] = 1


__all__ = ["SCAN_UNITS", "largest_remainder_units"]
