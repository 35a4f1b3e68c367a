"""Line bases for collections (pro rata for partial payments, cumulative rounding) and margin."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.lines import collected_base_minor, margin_base_minor


def test_a_partial_payment_pays_its_share_of_each_credit() -> None:
    # A 100,000.00 deal split 70/30; 33,333.33 paid in March, the rest in April.
    credit = np.array([7_000_000, 3_000_000])
    amount = np.full(2, 10_000_000)
    march = collected_base_minor(credit, amount, np.zeros(2, np.int64), np.full(2, 3_333_333))
    # 70,000 x 33,333.33 / 100,000 = 23,333.331 -> 23,333.33; 30 % -> 9,999.999 -> 10,000.00
    assert march.tolist() == [2_333_333, 1_000_000]
    april = collected_base_minor(credit, amount, np.full(2, 3_333_333), np.full(2, 10_000_000))
    assert april.tolist() == [4_666_667, 2_000_000]
    assert (march + april).tolist() == credit.tolist()  # paid in full: exactly the credit


def test_margin_is_the_credit_times_the_margin_ratio() -> None:
    # 35 % margin on 12,345.67 = 4,320.9845 -> 4,320.98 (half-even)
    assert margin_base_minor(np.array([1_234_567]), np.array([350_000])).tolist() == [432_098]


@given(st.integers(0, 10**10), st.integers(1, 10**10),
       st.lists(st.integers(0, 10**9), min_size=1, max_size=6))  # fmt: skip
def test_collected_parts_add_up_to_the_share_paid(
    credit: int, amount: int, payments: list[int]
) -> None:
    paid = np.cumsum([0, *payments])
    parts = [collected_base_minor(np.array([credit]), np.array([amount]), np.array([a]),
                                  np.array([b]))[0] for a, b in itertools.pairwise(paid)]  # fmt: skip
    whole = collected_base_minor(np.array([credit]), np.array([amount]), np.array([0]),
                                 np.array([paid[-1]]))[0]  # fmt: skip
    assert sum(parts) == whole and all(p >= 0 for p in parts)
    if paid[-1] >= amount:
        assert whole == credit
