"""Decimal text to scaled integers, exactly and in bulk.

Bulk callers send decimal attributes (a discount, a margin) as text, one value per deal, and most
values are distinct, so parsing them one ``Decimal`` at a time costs microseconds per deal. This
parses a whole column of text held the Arrow way (one byte buffer, offsets into it) in one compiled
pass. It accepts only the plain form ``[+|-]digits[.digits]`` (or ``.digits``) with no more
significant places than the scale (trailing zeros past it are fine, as ``Decimal`` allows) and at
most 18 digits once scaled; any other text - exponents, spaces, NaN, too many places, 19 digits or
more - is marked not parsed, and the
caller checks those values the slow, exact way, so nothing is ever rounded or accepted wrongly.
"""

from __future__ import annotations

import numba
import numpy as np

#: 10**0 .. 10**18, all that int64 holds.
_POW10 = 10 ** np.arange(19, dtype=np.int64)


@numba.njit(nogil=True, cache=True)
def _parse(
    data: np.ndarray, offsets: np.ndarray, null: np.ndarray, scale: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = offsets.shape[0] - 1
    values = np.zeros(n, dtype=np.int64)
    parsed = np.ones(n, dtype=np.bool_)
    for i in range(n):
        if null[i]:
            continue
        start, end = offsets[i], offsets[i + 1]
        negative = False
        if start < end and (data[start] == 43 or data[start] == 45):  # '+', '-'
            negative = data[start] == 45
            start += 1
        value = np.int64(0)
        digits = 0
        places = -1  # -1: no point seen yet
        ok = start < end
        for j in range(start, end):
            c = data[j]
            if c == 46:  # '.'
                if places >= 0:
                    ok = False
                    break
                places = 0
                continue
            d = np.int64(c) - 48
            if d < 0 or d > 9:
                ok = False
                break
            digits += 1
            if places >= 0:
                places += 1
                if places > scale:  # past the scale: only zeros may follow
                    if d != 0:
                        ok = False
                        break
                    continue
            value = value * 10 + d  # 18 digits at most (checked below): no overflow
        kept = 0 if places < 0 else min(places, scale)
        if not ok or digits == 0 or digits - max(places, 0) + scale > 18:
            parsed[i] = False  # not plain, or it might not fit: the caller checks it
            continue
        value *= _POW10[scale - kept]
        values[i] = -value if negative else value
    return values, parsed


def parse_scaled(
    data: np.ndarray, offsets: np.ndarray, null: np.ndarray | None, scale: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parse text ``i`` (bytes ``data[offsets[i]:offsets[i + 1]]``) as an exact decimal scaled by
    ``10**scale``.

    Returns ``values`` (int64; 0 where null or not parsed) and ``parsed`` (bool; True where null
    too). ``null`` marks values not given (None: none is).
    """
    n = offsets.shape[0] - 1
    if null is None:
        null = np.zeros(n, dtype=np.bool_)
    data = data if data.size else np.zeros(1, dtype=np.uint8)
    return _parse(data, offsets.astype(np.int64, copy=False), null, int(scale))


__all__ = ["parse_scaled"]
