"""Exact money arithmetic: integer products rounded half-even, checked against Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.money import (
    currency_exponent,
    decimal_to_ppm,
    format_minor,
    minor_to_decimal,
    mul_ppm_half_even,
    ppm_to_decimal,
)


def reference(amount: int, ppm: int) -> int:
    return int((Decimal(amount) * ppm / 1_000_000).to_integral_value(rounding=ROUND_HALF_EVEN))


def test_the_example_is_exact() -> None:
    amounts = np.array([100_000_000, 100_000_000], dtype=np.int64)
    assert mul_ppm_half_even(amounts, np.array([100_000, 1_000_000])).tolist() == [
        10_000_000,
        100_000_000,
    ]


def test_half_even_ties() -> None:
    # 5 x 0.5 = 2.5 -> 2; 15 x 0.5 = 7.5 -> 8; 3 x 0.5 = 1.5 -> 2
    out = mul_ppm_half_even(np.array([5, 15, 3]), np.array([500_000] * 3))
    assert out.tolist() == [2, 8, 2]
    # The same ties on the vectorised path (more than a handful of amounts).
    out = mul_ppm_half_even(np.array([5, 15, 3] * 20), np.array([500_000] * 60))
    assert out.tolist() == [2, 8, 2] * 20


@given(
    # Up to 40 amounts: a few take the Python path, more the vectorised one.
    st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=1_000_000),
)
def test_matches_decimal_for_every_int64_amount(amounts: list[int], ppm: int) -> None:
    out = mul_ppm_half_even(np.array(amounts, dtype=np.int64), np.full(len(amounts), ppm))
    assert out.tolist() == [reference(a, ppm) for a in amounts]


def test_currency_exponents() -> None:
    assert currency_exponent("USD") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KWD") == 3
    with pytest.raises(InvalidArgumentError) as err:
        currency_exponent("XXQ")
    assert err.value.reason == "UNKNOWN_CURRENCY"


def test_formatting_and_conversions() -> None:
    assert format_minor(100_000_000, "CNY") == "1,000,000.00 CNY"
    assert format_minor(1234, "JPY") == "1,234 JPY"
    assert minor_to_decimal(5, "KWD") == Decimal("0.005")
    assert ppm_to_decimal(100_000) == Decimal("0.1")
    assert str(ppm_to_decimal(1_000_000)) == "1"
    assert decimal_to_ppm(Decimal("0.123456")) == 123_456
    with pytest.raises(ValueError):
        decimal_to_ppm(Decimal("0.1234567"))
