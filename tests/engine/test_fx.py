"""Currency conversion by a dated FX table: exact half-even rounding across exponents, the rate in
force on the day, and a missing rate named rather than taken as 1."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.fx import FxTable, convert_minor

TABLE = FxTable(
    "CNY",
    {
        "USD": [(dt.date(2026, 1, 1), 7_123_456), (dt.date(2026, 3, 1), 7_200_000)],
        "JPY": [(dt.date(2026, 1, 1), 47_500)],  # 0.0475 CNY per yen
    },
)
NAMES = ("CNY", "USD", "JPY")


def test_rates_by_date() -> None:
    assert TABLE.rate_ppm("USD", dt.date(2025, 12, 31)) is None
    assert TABLE.rate_ppm("USD", dt.date(2026, 1, 1)) == 7_123_456
    assert TABLE.rate_ppm("USD", dt.date(2026, 2, 28)) == 7_123_456
    assert TABLE.rate_ppm("USD", dt.date(2026, 3, 1)) == 7_200_000
    assert TABLE.rate_ppm("CNY", dt.date(2000, 1, 1)) == 1_000_000


def test_conversion_across_exponents() -> None:
    got = convert_minor(np.array([100, 150, 1_000_001]), np.array([1, 0, 2]), NAMES, TABLE,
                        dt.date(2026, 2, 1))  # fmt: skip
    # 1.00 USD = 7.123456 CNY -> 712 fen; 150 fen stays; 1,000,001 yen x 0.0475 = 47,500.0475 CNY
    assert got.tolist() == [712, 150, 4_750_005]


@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=20))
def test_conversion_is_the_exact_half_even_product(amounts: list[int]) -> None:
    got = convert_minor(np.array(amounts), np.ones(len(amounts), dtype=np.int64), NAMES, TABLE,
                        dt.date(2026, 1, 5))  # fmt: skip
    want = [int((Decimal(a) * Decimal("7.123456")).quantize(Decimal(1), ROUND_HALF_EVEN))
            for a in amounts]  # fmt: skip
    assert got.tolist() == want


def test_a_missing_rate_is_named() -> None:
    with pytest.raises(InvalidArgumentError) as e:
        convert_minor(np.array([1, 2]), np.array([1, 3]), (*NAMES, "EUR"), TABLE,
                      dt.date(2025, 6, 1))  # fmt: skip
    assert e.value.reason == "FX_RATE_MISSING"
    assert sorted(v.message.split(":")[0] for v in e.value.violations) == ["EUR", "USD"]
