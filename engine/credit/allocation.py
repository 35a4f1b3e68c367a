"""Exact integer arithmetic for splitting money: products, quotients and largest-remainder shares.

Credit splits multiply amounts in minor units by exact ratios and must add up to the cent. int64
holds every amount, but ``amount x ratio`` can exceed it (a 10,000,000.00 deal times a ratio kept to
ten places is already past 2**63). :func:`muldiv` computes ``a x b / d`` exactly in int64 where the
product fits and with Python integers, row by row, only where it does not, so ordinary deals stay on
the vectorised path and huge ones are still exact.

:func:`allocate` then divides a total among weighted parts by the largest-remainder method: each part
gets the floor of its exact share, and the minor units left over go one each to the parts with the
largest remainders; ties go to the part listed first. The parts of a group always add up to the
group's total exactly.
"""

from __future__ import annotations

import numpy as np

#: Products whose estimated magnitude is below this stay in int64 (2**62 leaves room for error).
_SAFE_PRODUCT = float(2**62)


def muldiv(a: np.ndarray, b: np.ndarray, d: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Return the floor quotient and remainder of ``a x b / d``, exactly, element-wise.

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
    estimate = np.abs(a.astype(np.float64)) * np.abs(b.astype(np.float64))
    big = estimate >= _SAFE_PRODUCT
    if not big.any():
        q, r = np.divmod(a * b, den)
        return q.astype(np.int64, copy=False), r.astype(np.int64, copy=False)
    q = np.empty(a.shape, dtype=np.int64)
    r = np.empty(a.shape, dtype=np.int64)
    small = ~big
    q[small], r[small] = np.divmod(a[small] * b[small], den[small])
    exact = [
        divmod(int(x) * int(y), int(z)) for x, y, z in zip(a[big], b[big], den[big], strict=True)
    ]
    if any(abs(qq) >= 2**63 for qq, _ in exact):
        raise OverflowError("a credit does not fit in 64-bit minor units")
    q[big] = np.array([qq for qq, _ in exact], dtype=np.int64)
    r[big] = np.array([rr for _, rr in exact], dtype=np.int64)
    return q, r


def muldiv_half_even(a: np.ndarray, b: np.ndarray, d: np.ndarray | int) -> np.ndarray:
    """Return ``a x b / d`` rounded half to even, exactly (see :func:`muldiv`)."""
    q, r = muldiv(a, b, d)
    den = np.broadcast_to(np.asarray(d, dtype=np.int64), q.shape)
    twice = 2 * r  # r < d <= 2**62 in practice; d is a scale or an amount
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    return q + up


def allocate(total_minor: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Split each group's total among its parts in proportion to their weights, to the unit.

    Parameters
    ----------
    total_minor : ndarray of int64, shape (n_groups,)
        Non-negative totals.
    group : ndarray of int64, shape (n_parts,)
        The group of each part; parts of one group keep their relative order for the tie-break.
    weight : ndarray of int64, shape (n_parts,)
        Non-negative weights; every group with a non-zero total has a positive weight sum.

    Returns
    -------
    ndarray of int64, shape (n_parts,)
        ``floor(total x weight / sum(weight))`` plus one unit for the parts with the largest
        remainders, as many as the group's total needs; ties go to the earlier part. The parts of
        each group sum to its total exactly.
    """
    n_groups = total_minor.shape[0]
    weight = np.asarray(weight, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
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
    # Remainders are compared as fractions rem / den; within a group den is shared, so rem orders
    # them. Order: by group, then largest remainder, then position (stable tie-break).
    position = np.arange(group.shape[0])
    order = np.lexsort((position, -rem, group))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(n_groups))
    rank = np.arange(order.shape[0]) - starts[sorted_group]
    bonus = np.zeros_like(base)
    bonus[order] = (rank < leftover[sorted_group]).astype(np.int64)
    return base + bonus


__all__ = ["allocate", "muldiv", "muldiv_half_even"]
