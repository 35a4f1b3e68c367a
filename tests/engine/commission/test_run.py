"""A commission run's statements: bases from credit rows, plans by person, deal lines that share
the pay by credit to the unit, adjustments that explain the threshold and the cap, flags for who
could not be paid; every statement's lines add up to its total."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.plans import PlanSpec
from engine.commission.run import commission_run
from engine.commission.tiers import TierBasis, TierMode, compile_tiers

M, R = TierMode.MARGINAL, TierMode.RETROACTIVE
UNLOCK = compile_tiers(TierBasis.ATTAINMENT, [(D(0), D("0.5"), D("0.05"), M),
                                              (D("0.5"), D(1), D("0.10"), R),
                                              (D(1), None, D("0.15"), M)])  # fmt: skip
FLAT = compile_tiers(TierBasis.AMOUNT, [(D(0), None, D("0.02"), M)])
PLANS = {
    "ae": PlanSpec("ae", UNLOCK, threshold=D("0.3"), cap_per_period_minor=1_500_000),
    "flat": PlanSpec("flat", FLAT),
}


def test_statements_by_hand() -> None:
    run = commission_run(
        person=["li.wei", "li.wei", "zhang.min", "wang.fang", "li.wei", "chen.jie"],
        deal=["d1", "d2", "d1", "d3", "d4", "d5"],
        credit_minor=np.array([7_000_000, 3_000_000, 3_000_000, 1_000_000, 2_000_000, 500_000]),
        plans=PLANS,
        plan_of={"li.wei": "ae", "zhang.min": "ae", "wang.fang": "flat"},
        target_minor={"li.wei": 10_000_000, "zhang.min": 20_000_000},
    )
    by = {s.person: s for s in run.statements}
    li = by["li.wei"]  # 120,000 of 100,000: 100,000 x 10 % + 20,000 x 15 % = 13,000.00
    assert (li.plan, li.base_minor, li.attainment_ppm, li.earned_minor) == ("ae", 12_000_000,
                                                                         1_200_000, 1_300_000)  # fmt: skip
    assert [t.pay_minor for t in li.tiers] == [500_000, 500_000, 300_000]
    assert [t.rate_ppm for t in li.tiers] == [100_000, 100_000, 150_000]  # 50 % unlocked
    assert li.tiers[2].base_in_tier == Fraction(2_000_000)
    # 13,000 over credits 70,000 / 30,000 / 20,000 (7/12, 3/12, 2/12): 7,583.33 .. to the cent
    assert [(d.deal, d.commission_minor) for d in li.deals] == [
        ("d1", 758_333), ("d2", 325_000), ("d4", 216_667)]  # fmt: skip
    zhang = by["zhang.min"]  # 30,000 of 200,000 = 15 %: under the 30 % threshold
    assert (zhang.earned_minor, zhang.flags) == (0, ("BELOW_THRESHOLD",))
    assert [(a.reason, a.amount_minor) for a in zhang.adjustments] == [
        ("BELOW_THRESHOLD", -150_000)
    ]
    wang = by["wang.fang"]  # flat 2 % of 10,000.00, no target needed
    assert (wang.earned_minor, wang.flags) == (20_000, ("NO_TARGET",))
    chen = by["chen.jie"]
    assert (chen.plan, chen.earned_minor, chen.flags) == ("", 0, ("NO_PLAN",))
    assert run.total_earned_minor == 1_300_000 + 20_000


def test_a_cap_shows_as_an_adjustment() -> None:
    run = commission_run(["a"], ["d"], np.array([40_000_000]), PLANS, {"a": "ae"},
                         {"a": 10_000_000})  # fmt: skip
    (s,) = run.statements
    # 400 %: 10,000 + 300,000 x 15 % = 55,000, capped at 15,000
    assert sum(t.pay_minor for t in s.tiers) == 5_500_000
    assert [(a.reason, a.amount_minor) for a in s.adjustments] == [("CAP", -4_000_000)]
    assert s.earned_minor == 1_500_000 and s.flags == ("CAPPED",)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 10**10)),
                min_size=1, max_size=30))  # fmt: skip
def test_every_statement_adds_up(rows: list[tuple[str, int]]) -> None:
    run = commission_run([p for p, _ in rows], [f"d{i}" for i in range(len(rows))],
                         np.array([c for _, c in rows], dtype=np.int64), PLANS,
                         {"a": "ae", "b": "flat"}, {"a": 10_000_000})  # fmt: skip
    for s in run.statements:
        assert sum(d.commission_minor for d in s.deals) == s.commission_minor
        assert sum(d.credit_minor for d in s.deals) == s.base_minor
        if s.plan:
            lines = sum(t.pay_minor for t in s.tiers) + sum(a.amount_minor for a in s.adjustments)
            assert lines == s.commission_minor
