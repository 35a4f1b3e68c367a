"""Exact integer arithmetic for splitting money: products, quotients and largest-remainder shares.

Credit splits multiply amounts in minor units by exact ratios and must add up to the cent. int64
holds every amount, but ``amount x ratio`` can exceed it (a 10,000,000.00 deal times a ratio kept to
ten places is already past 2**63). :func:`muldiv` computes ``a x b / d`` exactly: a float64
estimate of the quotient, corrected with int64 arithmetic (which is exact for the remainder even
where the product itself wraps), so even products past int64 stay on the vectorised path; only
rows beyond the estimate's bounds (quotients near 2**62) fall back to Python integers, row by row.

:func:`allocate` then divides a total among weighted parts by the largest-remainder method: each part
gets the floor of its exact share, and the minor units left over go one each to the parts with the
largest remainders; ties go to the part listed first. The parts of a group always add up to the
group's total exactly.
"""

from __future__ import annotations

import numpy as np

#: Beyond these the float estimate below may be too far off to correct in int64.
_FAST_PRODUCT = 2.0**110
_FAST_DIVISOR = 2.0**60
_FAST_QUOTIENT = 2.0**62


def muldiv(a: np.ndarray, b: np.ndarray, d: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Return the floor quotient and remainder of ``a x b / d``, exactly, element-wise.

    The product may exceed int64. The quotient is estimated in float64 (off by at most a few
    thousand) and corrected exactly with int64 arithmetic that wraps modulo 2**64: the true
    remainder and the estimate's error both fit in int64, so the wrapped difference is exact.
    Rows outside the bounds where that holds are computed with Python integers.

    Parameters
    ----------
    a, b : ndarray of int64, same shape (or broadcastable)
        Non-negative.
    d : ndarray of int64 or int
        Positive.

    Returns
    -------
    (q, r) : ndarray of int64
        ``a x b == q x d + r`` with ``0 <= r < d``. Raises ``OverflowError`` if ``q`` itself does
        not fit in int64.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    a, b = np.broadcast_arrays(a, b)
    den = np.broadcast_to(np.asarray(d, dtype=np.int64), a.shape)
    if a.size and int(a.max()) * int(b.max()) < 2**62 and int(a.min()) >= 0 and int(b.min()) >= 0:
        product_int = a * b  # every product fits: plain integer arithmetic
        q = product_int // den
        product_int -= q * den
        return q, product_int
    df = den.astype(np.float64)
    estimate = a.astype(np.float64)
    estimate *= b
    estimate /= df
    np.floor(estimate, out=estimate)
    # Bounds checked on the maxima when they allow every row (a and b are not negative).
    everywhere = bool(a.size) and float(a.max()) * float(b.max()) < _FAST_PRODUCT and (
        float(df.max()) < _FAST_DIVISOR and float(estimate.max()) < _FAST_QUOTIENT)  # fmt: skip
    fast = None if everywhere else (
        (a.astype(np.float64) * b < _FAST_PRODUCT) & (df < _FAST_DIVISOR)
        & (estimate < _FAST_QUOTIENT)
    )  # fmt: skip
    q = estimate.astype(np.int64) if fast is None else np.where(fast, estimate, 0).astype(np.int64)
    with np.errstate(over="ignore"):
        r = a * b - q * den  # exact modulo 2**64, and the true value fits: so exact
        # The estimate is off by at most a few thousand: the remainder says by how much. Its
        # quotient by the divisor, in float64 again, is off by at most one, which one compare
        # each way settles; no integer division (numpy's is several times slower than float's).
        fix = r.astype(np.float64)
        fix /= df
        np.floor(fix, out=fix)
        if fast is not None:  # rows past the bounds are redone exactly below
            fix[~fast] = 0
        step = fix.astype(np.int64)
        q += step
        r -= step * den
    if r.size and int(r.min()) < 0:
        low = r < 0
        q -= low
        r += np.where(low, den, 0)
    high = r >= den
    if high.any():
        q += high
        r -= np.where(high, den, 0)
    if fast is None:
        return q, r
    slow = np.flatnonzero(~fast)
    exact = [divmod(int(a[i]) * int(b[i]), int(den[i])) for i in slow.tolist()]
    if any(qq >= 2**63 for qq, _ in exact):
        raise OverflowError("a credit does not fit in 64-bit minor units")
    q[slow] = np.array([qq for qq, _ in exact], dtype=np.int64)
    r[slow] = np.array([rr for _, rr in exact], dtype=np.int64)
    return q, r


def muldiv_half_even(a: np.ndarray, b: np.ndarray, d: np.ndarray | int) -> np.ndarray:
    """Return ``a x b / d`` rounded half to even, exactly (see :func:`muldiv`)."""
    q, r = muldiv(a, b, d)
    den = np.broadcast_to(np.asarray(d, dtype=np.int64), q.shape)
    twice = 2 * r  # r < d <= 2**62 in practice; d is a scale or an amount
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    return q + up


def allocate(
    total_minor: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    *,
    starts: np.ndarray | None = None,
) -> np.ndarray:
    """Split each group's total among its parts in proportion to their weights, to the unit.

    Parameters
    ----------
    total_minor : ndarray of int64, shape (n_groups,)
        Non-negative totals.
    group : ndarray of int64, shape (n_parts,)
        The group of each part; parts of one group keep their relative order for the tie-break.
    weight : ndarray of int64, shape (n_parts,)
        Non-negative weights; every group with a non-zero total has a positive weight sum.

    starts : ndarray of int64, optional
        When the parts are already in group order (group ``g`` is the run starting at
        ``starts[g]``, every group non-empty), the run starts; this skips a sort.

    Returns
    -------
    ndarray of int64, shape (n_parts,)
        ``floor(total x weight / sum(weight))`` plus one unit for the parts with the largest
        remainders, as many as the group's total needs; ties go to the earlier part. The parts of
        each group sum to its total exactly.

    The groups are walked in a compiled loop (:mod:`engine.credit.allocation_loops`); a group
    whose products are beyond its exact int64 bounds is computed here, with Python integers
    where needed.
    """
    # Imported here: numba takes a while to import, and not every caller allocates.
    from engine.credit.allocation_loops import allocate_runs

    weight = np.asarray(weight, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    n = group.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    total = np.asarray(total_minor, dtype=np.int64)
    order = None
    if starts is None:
        order = np.argsort(group, kind="stable")
        g_sorted = group[order]
        starts = np.flatnonzero(np.concatenate(([True], g_sorted[1:] != g_sorted[:-1])))
        total = total[g_sorted[starts]]
        weight = weight[order]
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    out = np.zeros(n, dtype=np.int64)
    slow = np.zeros(starts.shape[0], dtype=np.bool_)
    allocate_runs(starts, np.ascontiguousarray(total), np.ascontiguousarray(weight), out, slow)
    if slow.any():
        run = np.repeat(np.arange(starts.shape[0]), np.diff(np.append(starts, n)))
        rows = slow[run]
        out[rows] = _allocate_numpy(total[slow], (np.cumsum(slow) - 1)[run[rows]], weight[rows])
    if order is None:
        return out
    result = np.empty(n, dtype=np.int64)
    result[order] = out
    return result


def _allocate_numpy(total_minor: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """:func:`allocate` in numpy, exact for any int64 totals and weights (:func:`muldiv` goes
    to Python integers where a product needs them)."""
    from engine.credit.allocation_loops import largest_remainder_units

    n_groups = total_minor.shape[0]
    weight_sum = np.zeros(n_groups, dtype=np.int64)
    np.add.at(weight_sum, group, weight)
    den = weight_sum[group]
    safe_den = np.where(den > 0, den, 1)
    base, rem = muldiv(total_minor[group], weight, safe_den)
    base = np.where(den > 0, base, 0)
    rem = np.where(den > 0, rem, 0)
    given = np.zeros(n_groups, dtype=np.int64)
    np.add.at(given, group, base)
    leftover = total_minor - given  # < number of parts in the group
    if not leftover.any():
        return base
    # One unit to each of the leftover[g] parts of group g with the largest remainders (compared
    # as rem / den, den shared within a group), ties to the earlier part: in group order.
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    first = np.flatnonzero(np.concatenate(([True], g_sorted[1:] != g_sorted[:-1])))
    bonus = np.zeros(group.shape[0], dtype=np.int64)
    largest_remainder_units(first.astype(np.int64), np.ascontiguousarray(rem[order]),
                            np.ascontiguousarray(leftover[g_sorted[first]]), bonus)  # fmt: skip
    base[order] += bonus
    return base


__all__ = ["allocate", "muldiv", "muldiv_half_even"]
