"""Outcome distributions: hand-computed cases, point masses, the dominant-deal case that defeats a
normal approximation, the normal path where Berry-Esseen allows it, and properties: the mean is the
weighted amount, quantiles are monotone, raising a probability never lowers a quantile, Monte Carlo
agrees within its sampling band."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.forecast.distribution import monte_carlo, outcome_distribution

I64 = np.int64


def test_two_deals_by_hand() -> None:
    out = outcome_distribution(np.array([100, 300]), np.array([500_000, 500_000]),
                               (0.1, 0.25, 0.5, 0.9), target_minor=300)  # fmt: skip
    # outcomes 0, 100, 300, 400 with 1/4 each
    assert out.method == "exact" and out.error_bound_minor == 0
    assert out.quantiles_minor == (0, 0, 100, 400)
    assert out.mean_minor == 200
    assert out.p_reach_target == pytest.approx(0.5)


def test_certain_and_impossible_deals_are_a_point_mass() -> None:
    out = outcome_distribution(np.array([100, 300, 50]), np.array([1_000_000, 0, 1_000_000]),
                               target_minor=150)  # fmt: skip
    assert out.quantiles_minor == (150, 150, 150) and out.certain_minor == 150
    assert out.p_reach_target == 1.0


def test_a_dominant_deal_keeps_the_exact_method() -> None:
    rng = np.random.default_rng(7)
    small = rng.integers(1_000_000, 3_000_000, 39)
    amounts = np.append(small, int(small.sum() * 61 / 39))  # one deal is 61 % of the value
    probs = rng.integers(100_000, 900_000, 40)
    out = outcome_distribution(amounts, probs)
    assert out.method == "exact"
    assert out.error_bound_minor <= 0.001 * amounts.sum()
    mc = monte_carlo(amounts, probs, rng=np.random.default_rng(1), seed=1, trials=40_000)
    for exact, sampled in zip(out.quantiles_minor, mc.quantiles_minor, strict=True):
        assert abs(exact - sampled) <= 0.02 * amounts.sum()
    assert mc.seed == 1 and mc.trials == 40_000


def test_many_similar_deals_take_the_normal_path_within_its_bound() -> None:
    rng = np.random.default_rng(3)
    amounts = rng.integers(900_000, 1_100_000, 20_000)
    probs = rng.integers(200_000, 800_000, 20_000)
    out = outcome_distribution(amounts, probs, target_minor=int(amounts.sum() * 0.5))
    assert out.method == "normal"
    assert out.error_bound_minor <= 0.001 * amounts.sum()
    exact = outcome_distribution(amounts, probs, max_relative_error=1e-9)  # forces buckets
    assert exact.method == "exact"
    for a, b in zip(out.quantiles_minor, exact.quantiles_minor, strict=True):
        assert abs(a - b) <= out.error_bound_minor + exact.error_bound_minor


def test_bad_quantiles_are_refused() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        outcome_distribution(np.array([1]), np.array([1]), (0.5, 1.0))
    assert [v.path for v in err.value.violations] == ["quantiles[1]"]


deals = st.lists(st.tuples(st.integers(1, 500), st.integers(0, 1_000_000)), min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(deals)
def test_mean_is_the_weighted_amount_and_quantiles_are_monotone(
    pairs: list[tuple[int, int]],
) -> None:
    a = np.array([x for x, _ in pairs], dtype=I64)
    p = np.array([y for _, y in pairs], dtype=I64)
    out = outcome_distribution(a, p, (0.05, 0.1, 0.5, 0.9, 0.95))
    assert out.mean_minor == pytest.approx(float((a * p).sum()) / 1e6)
    assert list(out.quantiles_minor) == sorted(out.quantiles_minor)
    assert out.error_bound_minor == 0  # small sums: every bucket is one unit


@settings(max_examples=80, deadline=None)
@given(deals, st.data())
def test_raising_a_probability_never_lowers_a_quantile(
    pairs: list[tuple[int, int]], data: st.DataObject
) -> None:
    a = np.array([x for x, _ in pairs], dtype=I64)
    p = np.array([y for _, y in pairs], dtype=I64)
    i = data.draw(st.integers(0, len(pairs) - 1))
    higher = p.copy()
    higher[i] = data.draw(st.integers(int(p[i]), 1_000_000))
    qs = (0.1, 0.3, 0.5, 0.7, 0.9)
    before = outcome_distribution(a, p, qs).quantiles_minor
    after = outcome_distribution(a, higher, qs).quantiles_minor
    assert all(x <= y for x, y in zip(before, after, strict=True))
