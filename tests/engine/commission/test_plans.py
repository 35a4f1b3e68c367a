"""A plan's period pay: the threshold (exact at the boundary), tiers, caps per period and as a
multiple of the target incentive (the lower binds), no target flagged, and monotone pay."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.plans import PlanSpec, plan_pay
from engine.commission.tiers import TierBasis, TierMode, compile_tiers

M, R = TierMode.MARGINAL, TierMode.RETROACTIVE
UNLOCK = compile_tiers(TierBasis.ATTAINMENT, [(D(0), D("0.5"), D("0.05"), M),
                                              (D("0.5"), D(1), D("0.10"), R),
                                              (D(1), None, D("0.15"), M)])  # fmt: skip
TARGET = 10_000_000  # 100,000.00


def test_threshold_tiers_and_caps() -> None:
    plan = PlanSpec("ae", UNLOCK, threshold=D("0.3"), cap_per_period_minor=1_500_000,
                    cap_target_incentive_multiple=D(2))  # fmt: skip
    base = np.array([2_999_999, 3_000_000, 6_000_000, 12_000_000, 30_000_000, 5_000_000])
    target = np.array([TARGET] * 5 + [0])
    incentive = np.array([1_000_000, 1_000_000, 1_000_000, 1_000_000, 500_000, 1_000_000])
    pay = plan_pay(plan, base, target, incentive)
    assert pay.attainment_ppm.tolist() == [299_999, 300_000, 600_000, 1_200_000, 3_000_000, -1]
    assert pay.below_threshold.tolist() == [True, False, False, False, False, True]
    # Tiers: 29,999.99 x 5 % = 1,499.9995 -> 1,500.00 (but below the threshold: 0); 30 %: 1,500;
    # 60 %: 6,000; 120 %: 13,000 (under both caps: 15,000 and 2 x 10,000);
    # 300 %: 10,000 + 200,000 x 15 % = 40,000, capped at min(15,000, 2 x 5,000) = 10,000.
    assert pay.tiers.pay_minor.tolist()[:5] == [150_000, 150_000, 600_000, 1_300_000, 4_000_000]
    assert pay.pay_minor.tolist() == [0, 150_000, 600_000, 1_300_000, 1_000_000, 0]
    assert pay.capped.tolist() == [False, False, False, False, True, False]
    assert pay.cap_minor.tolist()[4] == 1_000_000 and pay.cap_minor.tolist()[0] == 1_500_000
    assert pay.tiers.no_target.tolist() == [False] * 5 + [True]


def test_an_amount_threshold() -> None:
    tiers = compile_tiers(TierBasis.AMOUNT, [(D(0), None, D("0.1"), M)])
    pay = plan_pay(PlanSpec("p", tiers, threshold=D(100_000)),  # 1,000.00 in minor units
                   np.array([99_999, 100_000]), np.array([0, 0]))  # fmt: skip
    assert pay.pay_minor.tolist() == [0, 10_000]


@given(st.lists(st.integers(0, 10**11), min_size=2, max_size=40), st.integers(0, 1_000_000))
def test_pay_never_falls_as_the_base_grows_without_caps(bases: list[int], threshold: int) -> None:
    plan = PlanSpec("p", UNLOCK, threshold=D(threshold).scaleb(-6))
    base = np.array(sorted(bases), dtype=np.int64)
    pay = plan_pay(plan, base, np.full(base.size, TARGET))
    assert (np.diff(pay.pay_minor) >= 0).all()
