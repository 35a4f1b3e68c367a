"""The compiled Monte Carlo loop against a numpy reference that builds each 32-bit uniform."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.forecast.draws import won_by_top_byte, won_ties


def reference(top: np.ndarray, low: np.ndarray, threshold: np.ndarray, amount: np.ndarray,
              ) -> np.ndarray:  # fmt: skip
    """Each draw's uniform: its byte on top, and for the k-th tie in trial-major order, the top
    24 bits of ``low[k]`` below it (other draws are decided by the byte alone, so their low
    bits do not matter); won when under the threshold."""
    u = top.astype(np.uint64) << np.uint64(24)
    tied = np.flatnonzero(top == (threshold >> 24).astype(np.uint8))
    u.reshape(-1)[tied] |= (low[: tied.size] >> np.uint32(8)).astype(np.uint64)
    won = u < threshold.astype(np.uint64)
    return (won * amount).sum(axis=1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 30), st.integers(0, 2**32 - 1),
       st.sampled_from([0, 1, 7, 255]))  # fmt: skip
def test_compiled_draws_equal_the_32_bit_comparison(trials: int, deals: int, seed: int,
                                                    few: int) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    # Few distinct bytes make ties common (the rare path), thresholds at the extremes included.
    top = rng.integers(0, few + 1, (trials, deals)).astype(np.uint8) if few else \
        np.zeros((trials, deals), np.uint8)  # fmt: skip
    threshold = rng.integers(1, 2**32 - 1, deals, dtype=np.uint64).astype(np.uint32)
    threshold[: deals // 3] = (threshold[: deals // 3] & np.uint32(0xFFFFFF)) | (
        np.uint32(rng.integers(0, few + 1)) << np.uint32(24)
    )  # some thresholds' top byte among the drawn bytes
    amount = rng.integers(0, 10**12, deals)
    low = rng.integers(0, 2**32, trials * deals, dtype=np.uint64).astype(np.uint32)
    totals = np.full(trials, 5, dtype=np.int64)  # added to, not overwritten
    ties = np.empty(trials * deals, dtype=np.int32)
    n = won_by_top_byte(top, (threshold >> 24).astype(np.uint8), amount, totals, ties)
    assert n == int((top == (threshold >> 24).astype(np.uint8)).sum())
    won_ties(ties[:n], low[:n], (threshold & 0xFFFFFF).astype(np.uint32), amount, totals)
    assert totals.tolist() == (reference(top, low, threshold, amount) + 5).tolist()
