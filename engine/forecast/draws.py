"""Monte Carlo's inner loop, compiled: what the open deals won in each trial, from random bytes.

Why this exists: a Monte Carlo over 100,000 deals and 10,000 trials makes 10^9 won-or-lost
draws, and in numpy each draw costs a 32-bit random number plus a comparison, a bit-packing and
a table lookup, each a pass over memory. Compiled (numba, no Python objects, the GIL released),
a draw costs one random byte and a comparison added into its trial's total, and only one draw
in 256, whose byte equals its threshold's top byte, needs more random bits.

A deal with threshold ``t`` (won when a uniform 32-bit integer ``u`` is below ``t``) is decided
by ``u``'s top byte first: won below ``t >> 24``, lost above it, and on a tie by 24 more bits
against ``t``'s low 24 bits. That is the same comparison of the same uniform 32-bit integer, so
each deal is won with probability exactly ``t / 2**32``. The totals are exact int64 sums.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def won_by_top_byte(
    top: np.ndarray, t_top: np.ndarray, amount: np.ndarray, totals: np.ndarray, ties: np.ndarray
) -> int:  # pragma: no cover (compiled; its Python text never runs)
    """For each trial ``i`` (row of ``top``, random bytes by deal): add to ``totals[i]`` the
    amounts of the deals whose byte is under their threshold's top byte, and write the flat
    positions (``i x deals + j``) of the ties into ``ties``, in order; return how many."""
    trials, deals = top.shape
    n = 0
    for i in range(trials):
        won = 0
        tied = 0
        for j in range(deals):
            x = top[i, j]
            t = t_top[j]
            won += amount[j] * (x < t)
            tied += x == t
        totals[i] += won
        if tied:
            for j in range(deals):
                if top[i, j] == t_top[j]:
                    ties[n] = i * deals + j
                    n += 1
    return n


@numba.njit(nogil=True, cache=True)
def won_ties(
    ties: np.ndarray, low: np.ndarray, t_low: np.ndarray, amount: np.ndarray, totals: np.ndarray
) -> None:  # pragma: no cover (compiled)
    """Decide the ties: tie ``k`` (flat position ``ties[k]``) is won when the top 24 bits of the
    random ``low[k]`` are under its deal's threshold's low 24 bits."""
    deals = amount.shape[0]
    for k in range(ties.shape[0]):
        i = ties[k] // deals
        j = ties[k] - i * deals
        if (low[k] >> 8) < t_low[j]:
            totals[i] += amount[j]


__all__ = ["won_by_top_byte", "won_ties"]
