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

#: A group's parts are scanned once per unit for one unit, or while units x parts is at most this;
#: past it, the remainders are put in ``BUCKETS`` buckets first.
SCAN_WORK = 64
BUCKETS = 64
_INT64_MAX = np.int64(2**63 - 1)
_FAST_PRODUCT = 2.0**110
_FAST_DIVISOR = 2.0**60
_FAST_QUOTIENT = 2.0**62


@numba.njit(nogil=True, cache=True)
def _kth_smallest(a: np.ndarray, n: int, k: int) -> np.int64:  # pragma: no cover (compiled)
    """The ``k``-th smallest (from 0) of ``a[:n]``, by selection (Hoare's, median-of-three
    pivot; linear on average); ``a`` is reordered."""
    lo = 0
    hi = n - 1
    while True:
        if hi <= lo + 1:
            if hi == lo + 1 and a[hi] < a[lo]:
                a[lo], a[hi] = a[hi], a[lo]
            return a[k]
        mid = (lo + hi) >> 1
        a[mid], a[lo + 1] = a[lo + 1], a[mid]
        if a[lo] > a[hi]:
            a[lo], a[hi] = a[hi], a[lo]
        if a[lo + 1] > a[hi]:
            a[lo + 1], a[hi] = a[hi], a[lo + 1]
        if a[lo] > a[lo + 1]:
            a[lo], a[lo + 1] = a[lo + 1], a[lo]
        i = lo + 1
        j = hi
        pivot = a[lo + 1]
        while True:
            i += 1
            while a[i] < pivot:
                i += 1
            j -= 1
            while a[j] > pivot:
                j -= 1
            if j < i:
                break
            a[i], a[j] = a[j], a[i]
        a[lo + 1] = a[j]
        a[j] = pivot
        if j >= k:
            hi = j - 1
        if j <= k:
            lo = i


@numba.njit(nogil=True, cache=True)
def _hand_out(
    remainder: np.ndarray, base: int, out: np.ndarray, lo: int, m: int, units: int,
    scratch: np.ndarray,
) -> None:  # pragma: no cover (compiled)  # fmt: skip
    """One unit more in ``out[lo + j]`` for each of the ``units`` parts ``j < m`` with the largest
    remainders (``remainder[base + j]``, non-negative), an earlier part first among equals; a
    part takes at most one. The scan marks the parts it takes by setting their remainders to -1;
    ``scratch`` holds at least ``2 x m + BUCKETS`` values."""
    k = min(units, m)
    if k <= 0:
        return
    if k == 1 or k * m <= SCAN_WORK:
        for _ in range(k):
            best = -1
            at = 0
            for j in range(m):
                if remainder[base + j] > best:
                    best = remainder[base + j]
                    at = j
            remainder[base + at] = -1
            out[lo + at] += 1
        return
    # Buckets of remainders, in order (a float scale is monotone, so a larger remainder never
    # falls in a lower bucket): the buckets above the one holding the k-th largest remainder
    # each take a unit, without a branch per part; only that bucket's parts are compared.
    top = np.int64(0)
    for j in range(m):
        top = max(top, remainder[base + j])
    scale = BUCKETS / (float(top) + 1.0)
    count = scratch[2 * m : 2 * m + BUCKETS]
    count[:] = 0
    for i in range(m):
        b = min(int(float(remainder[base + i]) * scale), BUCKETS - 1)
        scratch[i] = b
        count[b] += 1
    cut = BUCKETS - 1
    above = 0
    while above + count[cut] < k:
        above += count[cut]
        cut -= 1
    need = k - above
    ties = 0
    for i in range(m):
        out[lo + i] += scratch[i] > cut
        if scratch[i] == cut:
            scratch[m + ties] = i
            ties += 1
    # The bucket's ``need`` largest: above its ``need``-th largest value, then the earliest
    # equal ones (``ties`` parts, in input order, at scratch[m:m + ties]).
    values = scratch[:ties]  # the bucket numbers are no longer needed
    for t in range(ties):
        values[t] = remainder[base + scratch[m + t]]
    threshold = _kth_smallest(values, ties, ties - need)
    left = need
    for t in range(ties):
        j = scratch[m + t]
        if remainder[base + j] > threshold:
            out[lo + j] += 1
            left -= 1
    for t in range(ties):
        if left == 0:
            break
        j = scratch[m + t]
        if remainder[base + j] == threshold:
            out[lo + j] += 1
            left -= 1


@numba.njit(nogil=True, cache=True)
def _scratch(starts: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover (compiled)
    """Room for :func:`_hand_out` on the largest group."""
    widest = 0
    groups = starts.shape[0]
    for g in range(groups):
        hi = starts[g + 1] if g + 1 < groups else n
        widest = max(widest, hi - starts[g])
    return np.empty(2 * widest + BUCKETS, dtype=np.int64)


@numba.njit(nogil=True, cache=True)
def largest_remainder_units(
    starts: np.ndarray, remainder: np.ndarray, units: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover (compiled; its Python text never runs)
    """For each group ``g`` (the parts from ``starts[g]`` to the next start), add 1 to ``out`` for
    the ``units[g]`` parts with the largest ``remainder`` (non-negative; overwritten), an earlier
    part first among equals."""
    n = remainder.shape[0]
    groups = starts.shape[0]
    scratch = _scratch(starts, n)
    for g in range(groups):
        hi = starts[g + 1] if g + 1 < groups else n
        _hand_out(remainder, starts[g], out, starts[g], hi - starts[g], units[g], scratch)


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
    scratch = _scratch(starts, n)
    remainder = np.empty((scratch.shape[0] - BUCKETS) // 2, dtype=np.int64)  # one group's
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
                remainder[i - lo] = r
                given += q
            if slow[g]:
                for i in range(lo, hi):
                    out[i] = 0
                continue
        elif s == 0 and t != 0:
            for i in range(lo, hi):
                out[i] = 0
                remainder[i - lo] = 0
        else:
            for i in range(lo, hi):
                out[i] = 0
            continue
        _hand_out(remainder, 0, out, lo, hi - lo, t - given, scratch)


__all__ = ["BUCKETS", "SCAN_WORK", "allocate_runs", "largest_remainder_units"]
