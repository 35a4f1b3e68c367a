"""Scenario levers on a scored pipeline: open deals only, exact, capped; and a plan's cost."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.plans import PlanSpec
from engine.commission.tiers import TierBasis, TierMode, compile_tiers
from engine.errors import InvalidArgumentError
from engine.planning.scenario import (
    DealSizeLever,
    WinRateLever,
    apply_deal_size,
    apply_win_rates,
    plan_cost_minor,
)

STAGES = {"quote": 2, "won": 4}


def test_win_rates_move_open_deals_of_the_stage_and_cap_at_one() -> None:
    prob = np.array([500_000, 500_000, 800_000, 1_000_000])
    stage = np.array([2, 1, 2, 4])
    is_open = np.array([True, True, True, False])
    out = apply_win_rates(prob, stage, is_open, [WinRateLever(F(3, 2), "quote")], STAGES)
    assert out.tolist() == [750_000, 500_000, 1_000_000, 1_000_000]  # 1.2 capped at 1
    every = apply_win_rates(prob, stage, is_open, [WinRateLever(F(1, 3))], STAGES)
    assert every.tolist() == [166_667, 166_667, 266_667, 1_000_000]  # half-even, closed kept


def test_deal_size_is_half_even_on_open_deals() -> None:
    out = apply_deal_size(np.array([105, 115, 200]), np.array([True, True, False]),
                          DealSizeLever(F(1, 10)))  # fmt: skip
    assert out.tolist() == [10, 12, 200]  # 10.5 -> 10, 11.5 -> 12, closed unchanged


@given(st.lists(st.tuples(st.integers(0, 1_000_000), st.booleans()), min_size=1, max_size=20),
       st.fractions(min_value=1, max_value=5, max_denominator=10**9))  # fmt: skip
def test_a_higher_win_rate_never_lowers_a_probability(deals: list[tuple[int, bool]],
                                                      factor: F) -> None:  # fmt: skip
    prob = np.array([p for p, _ in deals])
    is_open = np.array([o for _, o in deals])
    out = apply_win_rates(prob, np.zeros(len(deals), np.int64), is_open, [WinRateLever(factor)],
                          STAGES)  # fmt: skip
    assert (out >= prob).all() and (out <= 1_000_000).all()
    assert (out[~is_open] == prob[~is_open]).all()


def test_plan_cost() -> None:
    tiers = compile_tiers(TierBasis.AMOUNT, [(D(0), None, D("0.1"), TierMode.MARGINAL)])
    assert plan_cost_minor(PlanSpec("p", tiers, cap_per_period_minor=500), 6_000, 0) == 500
    assert plan_cost_minor(PlanSpec("p", tiers), -5, 0) == 0


def test_a_factor_too_precise_is_refused_with_its_path() -> None:
    factor = Fraction(11529215046068469242, 4611686018427387905)
    with pytest.raises(InvalidArgumentError) as exc:
        apply_win_rates(np.array([500_000]), np.array([2]), np.array([True]),
                        [WinRateLever(factor, path="levers[3].win_rate")], STAGES)  # fmt: skip
    assert [(v.path, v.reason) for v in exc.value.violations] == [
        ("levers[3].win_rate.factor", "TOO_PRECISE")]  # fmt: skip
