"""Line and period terms of a plan, worked by hand: segment weights and rates, per-deal caps,
milestones, SPIFFs, decelerators, people paid without lines; and every statement adds up."""

from __future__ import annotations

from decimal import Decimal as D

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.lines import spiff_awards
from engine.commission.plans import Milestone, PlanSpec, Segment
from engine.commission.run import commission_run
from engine.commission.tiers import TierBasis, TierMode, compile_tiers

M, R = TierMode.MARGINAL, TierMode.RETROACTIVE
FLAT_10 = compile_tiers(TierBasis.AMOUNT, [(D(0), None, D("0.10"), M)])
UNLOCK = compile_tiers(TierBasis.ATTAINMENT, [(D(0), D("0.5"), D("0.05"), M),
                                              (D("0.5"), D(1), D("0.10"), R),
                                              (D(1), None, D("0.15"), M)])  # fmt: skip


def test_segment_weight_counts_toward_attainment_and_rate_replaces_the_tier_share() -> None:
    # Renewals count half toward attainment; services are paid a flat 2 % but count fully.
    plan = PlanSpec("ae", UNLOCK, segments=(Segment("renewal", weight_ppm=500_000),
                                            Segment("services", rate_ppm=20_000)))  # fmt: skip
    run = commission_run(
        ["a", "a", "a"], ["new", "ren", "svc"],
        np.array([6_000_000, 4_000_000, 2_000_000]),  # 60,000 / 40,000 / 20,000.00
        {"ae": plan}, {"a": "ae"}, {"a": 10_000_000},
        segment=np.array([-1, 0, 1]),
    )  # fmt: skip
    (s,) = run.statements
    # Base: 60,000 + 0.5 x 40,000 + 20,000 = 100,000 = 100 % of target: 10 % on all = 10,000.00
    assert s.base_minor == 10_000_000 and s.attainment_ppm == 1_000_000
    assert sum(t.pay_minor for t in s.tiers) == 1_000_000
    # Spread by weighted base 60,000 / 20,000 / 20,000: 6,000 / 2,000 / 2,000; services is
    # paid 2 % of 20,000 = 400 instead of 2,000.
    lines = [(d.deal, d.commission_minor, d.rule) for d in s.deals]
    assert lines == [("new", 600_000, "tiers"), ("ren", 200_000, "tiers"),
                     ("svc", 40_000, "segments.services")]  # fmt: skip
    assert [(a.reason, a.amount_minor) for a in s.adjustments] == [("SEGMENT_RATES", -160_000)]
    assert s.commission_minor == s.earned_minor == 840_000


def test_a_per_deal_cap_limits_each_line() -> None:
    plan = PlanSpec("flat", FLAT_10, cap_per_deal_minor=300_000)  # at most 3,000.00 per deal
    run = commission_run(["a", "a"], ["big", "small"], np.array([5_000_000, 1_000_000]),
                         {"flat": plan}, {"a": "flat"}, {})  # fmt: skip
    (s,) = run.statements
    assert [d.commission_minor for d in s.deals] == [300_000, 100_000]  # 5,000 capped at 3,000
    assert [(a.reason, a.amount_minor) for a in s.adjustments] == [("DEAL_CAP", -200_000)]
    assert "DEAL_CAPPED" in s.flags and s.commission_minor == 400_000


def test_milestones_and_spiffs_are_bonuses_outside_the_commission() -> None:
    plan = PlanSpec("ae", UNLOCK, milestones=(Milestone("half", 500_000, 100_000),
                                              Milestone("club", 1_000_000, 500_000)))  # fmt: skip
    credit = np.array([3_000_000, 7_000_000, 3_000_000])
    # One SPIFF of 900.00 per cloud deal; deal d1 (amount 100,000.00) is split 30/70.
    awards = spiff_awards(
        credit,
        np.array([10_000_000, 10_000_000, 3_000_000]),
        [("cloud", 90_000, np.array([True, True, False]))],
    )
    run = commission_run(["a", "b", "b"], ["d1", "d1", "d2"], credit, {"ae": plan},
                         {"a": "ae", "b": "ae"}, {"a": 10_000_000, "b": 10_000_000},
                         awards=awards)  # fmt: skip
    a, b = run.statements
    # a: 30 % of target: 5 % of 30,000 = 1,500; no milestone; 30 % of the SPIFF = 270.00
    assert (a.commission_minor, a.earned_minor) == (150_000, 150_000 + 27_000)
    assert [(x.kind, x.id, x.deal, x.amount_minor) for x in a.bonuses] == [
        ("SPIFF", "cloud", "d1", 27_000)]  # fmt: skip
    # b: 100 %: 10,000 commission; both milestones (1,000 + 5,000); 70 % of 900 = 630
    assert b.commission_minor == 1_000_000
    assert [(x.kind, x.id, x.amount_minor) for x in b.bonuses] == [
        ("MILESTONE", "half", 100_000), ("MILESTONE", "club", 500_000),
        ("SPIFF", "cloud", 63_000)]  # fmt: skip
    assert b.earned_minor == 1_000_000 + 600_000 + 63_000
    assert [d.spiff_minor for d in b.deals] == [63_000, 0]


def test_a_decelerator_tier_is_marked() -> None:
    tiers = compile_tiers(TierBasis.AMOUNT, [(D(0), D(1000), D("0.10"), M),
                                             (D(1000), None, D("0.05"), M)])  # fmt: skip
    run = commission_run(["a"], ["d"], np.array([200_000]), {"p": PlanSpec("p", tiers)},
                         {"a": "p"}, {})  # fmt: skip
    (s,) = run.statements
    assert [t.decelerator for t in s.tiers] == [False, True]
    assert s.commission_minor == 10_000 + 5_000  # 100.00 + 50.00


def test_payees_without_lines_get_an_empty_statement() -> None:
    run = commission_run(["a"], ["d"], np.array([100_000]), {"p": PlanSpec("p", FLAT_10)},
                         {"a": "p", "z": "p"}, {}, payees=["z", "a"])  # fmt: skip
    assert run.people == ("a", "z")
    z = run.statement(1)
    assert (z.plan, z.deals, z.earned_minor) == ("p", (), 0)
    assert run.statement(0).earned_minor == 10_000


PLANS = {
    "seg": PlanSpec("seg", UNLOCK, cap_per_period_minor=2_000_000, cap_per_deal_minor=500_000,
                    segments=(Segment("w", weight_ppm=1_500_000), Segment("r", rate_ppm=30_000)),
                    milestones=(Milestone("m", 800_000, 50_000),)),
    "flat": PlanSpec("flat", FLAT_10),
}  # fmt: skip


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 10**9),
                          st.integers(-1, 1)), min_size=1, max_size=40))  # fmt: skip
def test_every_statement_adds_up_with_every_term(rows: list[tuple[str, int, int]]) -> None:
    run = commission_run([p for p, _, _ in rows], [f"d{i}" for i in range(len(rows))],
                         np.array([c for _, c, _ in rows], dtype=np.int64), PLANS,
                         {"a": "seg", "b": "flat"}, {"a": 10_000_000},
                         segment=np.array([s if p == "a" else -1 for p, _, s in rows]))  # fmt: skip
    for s in run.statements:
        assert sum(d.commission_minor for d in s.deals) == s.commission_minor
        assert s.commission_minor + sum(b.amount_minor for b in s.bonuses) == s.earned_minor
        if s.plan:
            tiers = sum(t.pay_minor for t in s.tiers) + sum(a.amount_minor for a in s.adjustments)
            assert tiers == s.commission_minor
        if s.plan == "seg":
            assert all(d.commission_minor <= 500_000 for d in s.deals)
            assert s.commission_minor <= 2_000_000
    assert run.total_earned_minor == sum(s.earned_minor for s in run.statements)
