"""Allocation to the unit, compiled: each group's total split over its parts in one pass.

Why this exists: every allocation to the unit (a deal's credit over its team, its weighted
credit, a person's pay over their lines) is ``floor(total x weight / sum)`` per part and then the
group's leftover units to the parts with the largest remainders. In numpy that is a dozen passes
over every part (the exact product-and-divide alone is six) and a sort or a ranking for the
leftover units; compiled (numba), it is one walk over each group.

Exactness: ``total x weight`` is computed in int64 when it fits; past that, the quotient is
estimated in float64 and corrected in int64 arithmetic that wraps modulo 2**64 (the true
remainder and the estimate's error both fit, so the wrapped difference is exact), within the
same bounds as :func:`engine.credit.allocation.muldiv`. A group with a part beyond those bounds is
left to the caller (flagged), which computes it with Python integers.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Up to this many units a group's parts are scanned once per unit; past it they are sorted.
SCAN_UNITS = 8
_INT64_MAX = np.int64(2**63 - 1)
_FAST_PRODUCT = 2.0**110
_FAST_DIVISOR = 2.0**60
_FAST_QUOTIENT = 2.0**62


@numba.njit(nogil=True, cache=True)
def _hand_out(remainder: np.ndarray, lo: int, hi: int, units: int, out: np.ndarray) -> None:
    """One unit more in ``out`` for each of the ``units`` parts in ``lo:hi`` with the largest
    remainders (non-negative), an earlier part first among equals; a part takes at most one.
    The scan marks the parts it takes by setting their remainders to -1."""
    k = min(units, hi - lo)
    if k <= 0:
        return
    if k <= SCAN_UNITS:
        for _ in range(k):
            best = -1
            at = lo
            for i in range(lo, hi):
                if remainder[i] > best:
                    best = remainder[i]
                    at = i
            remainder[at] = -1
            out[at] += 1
    else:
        order = np.argsort(-remainder[lo:hi], kind="mergesort")  # stable
        for t in range(k):
            out[lo + order[t]] += 1


@numba.njit(nogil=True, cache=True)
def largest_remainder_units(
    starts: np.ndarray, remainder: np.ndarray, units: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover (compiled; its Python text never runs)
    """For each group ``g`` (the parts from ``starts[g]`` to the next start), add 1 to ``out`` for
    the ``units[g]`` parts with the largest ``remainder`` (non-negative; overwritten), an earlier
    part first among equals."""
    n = remainder.shape[0]
    groups = starts.shape[0]
    for g in range(groups):
        hi = starts[g + 1] if g + 1 < groups else n
        _hand_out(remainder, starts[g], hi, units[g], out)


@numba.njit(nogil=True, cache=True)
def allocate_runs(
    starts: np.ndarray, total: np.ndarray, weight: np.ndarray, out: np.ndarray,
    slow: np.ndarray,
) -> None:  # pragma: no cover (compiled)  # fmt: skip
    """Split ``total[g]`` over the parts of each group ``g`` (the run from ``starts[g]``) in
    proportion to ``weight`` (non-negative), to the unit, into ``out``: ``floor(total x weight /
    sum)`` plus one unit for as many of the largest remainders as the group needs, an earlier part
    first among equals. A group whose sum of weights is 0 gets no floors (so its units go to its
    first parts). Groups beyond the exact bounds, or with a negative total, are set in ``slow``
    and left at 0."""
    n = weight.shape[0]
    groups = starts.shape[0]
    remainder = np.zeros(n, dtype=np.int64)
    for g in range(groups):
        lo = starts[g]
        hi = starts[g + 1] if g + 1 < groups else n
        t = total[g]
        s = np.int64(0)
        top = np.int64(0)
        for i in range(lo, hi):
            s += weight[i]
            top = max(top, weight[i])
        given = np.int64(0)
        if t < 0:  # not an allocation this loop makes
            slow[g] = True
            continue
        if s > 0 and t > 0:
            fs = float(s)
            inv = 1.0 / fs
            small = t <= _INT64_MAX // top  # every product of the group fits in int64
            for i in range(lo, hi):
                w = weight[i]
                if w == 0:
                    q = np.int64(0)
                    r = np.int64(0)
                else:
                    # q = t x w // s without an integer division: a float estimate, corrected
                    # in int64 (t x w - q x s is exact when the product fits, else it wraps
                    # modulo 2**64 and the true value fits within these bounds)
                    product = float(t) * float(w)
                    estimate = math.floor(product * inv)
                    fits = small or t <= _INT64_MAX // w
                    if not (estimate < _FAST_QUOTIENT and (fits or (
                            product < _FAST_PRODUCT and fs < _FAST_DIVISOR))):  # fmt: skip
                        slow[g] = True
                        break
                    q = np.int64(estimate)
                    r = t * w - q * s
                    step = np.int64(math.floor(float(r) * inv))
                    q += step
                    r -= step * s
                    while r < 0:
                        q -= 1
                        r += s
                    while r >= s:
                        q += 1
                        r -= s
                out[i] = q
                remainder[i] = r
                given += q
            if slow[g]:
                for i in range(lo, hi):
                    out[i] = 0
                continue
        elif s == 0 and t != 0:
            for i in range(lo, hi):
                out[i] = 0
                remainder[i] = 0
        else:
            for i in range(lo, hi):
                out[i] = 0
            continue
        _hand_out(remainder, lo, hi, t - given, out)


__all__ = ["SCAN_UNITS", "allocate_runs", "largest_remainder_units"]
