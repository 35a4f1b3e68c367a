"""Gap levers: hand-solved answers for a three-deal group, already-reached targets, infeasible
levers, and the answers checked against the outcome distribution (enough, and minimal)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.forecast.distribution import outcome_distribution
from engine.forecast.levers import FACTOR_TOLERANCE, Lever, gap_levers

# 1,000,000 at 10 %, 2,000,000 at 50 %, 500,000 won; target 3,000,000: both open deals must win.
AMOUNT = np.array([1_000_000, 2_000_000, 500_000])
PROB = np.array([100_000, 500_000, 1_000_000])
STAGE = ["initial_contact", "quote", "won"]


def find(levers: list[Lever], lever: str, confidence: float, stage: str = "") -> Lever:
    return next(x for x in levers if (x.lever, x.stage, x.confidence) == (lever, stage, confidence))


def reaches(amount: np.ndarray, prob: np.ndarray, target: int, c: float) -> bool:
    o = outcome_distribution(amount, prob, (0.5,), target_minor=target)
    return (o.p_reach_target or 0.0) >= c - 1e-9


def test_hand_solved_levers() -> None:
    levers = gap_levers(AMOUNT, PROB, STAGE, 3_000_000, visit_to_deal=Decimal("0.2"))
    # All win rates x f: quote caps at 1 from f = 2, then initial contact needs 0.5: f = 5.
    f = find(levers, "win_rate", 0.5).factor
    assert 5 <= f <= 5 * (1 + FACTOR_TOLERANCE)
    # Initial contact alone must become certain (x 10); quote alone can never reach 0.5.
    assert 10 <= find(levers, "win_rate", 0.5, "initial_contact").factor <= 10.05
    assert not find(levers, "win_rate", 0.5, "quote").feasible
    # Deal size: P(2M deal won) = .5, so 500,000 + 2,000,000 f >= 3,000,000: f = 1.25.
    size = find(levers, "deal_size", 0.5)
    assert size.feasible and 1.25 <= size.factor <= 1.25 * (1 + FACTOR_TOLERANCE)
    # At P90 a bigger deal cannot help: nothing is won with probability .45.
    assert not find(levers, "deal_size", 0.9).feasible
    # New pipeline: the smallest count of average deals (1.5M at the weighted 36.67 %).
    for c in (0.5, 0.9):
        new = find(levers, "new_pipeline", c)
        m = new.new_deals
        assert new.feasible and m > 0 and new.new_pipeline_minor == m * 1_500_000

        def with_new(k: int, c: float = c) -> bool:
            a = np.concatenate([AMOUNT, np.full(k, 1_500_000)])
            p = np.concatenate([PROB, np.full(k, 366_667)])
            return reaches(a, p, 3_000_000, c)

        assert with_new(m) and not with_new(m - 1)
        assert find(levers, "visits", c).visits == math.ceil(m / 0.2)


def test_a_reached_target_needs_no_change() -> None:
    levers = gap_levers(AMOUNT, PROB, STAGE, 500_000)
    assert all(x.feasible for x in levers)
    assert {x.factor for x in levers} == {1.0}
    assert {x.new_deals for x in levers} == {0}
    assert not any(x.lever == "visits" for x in levers)  # no conversion rate given


def test_a_group_without_open_deals() -> None:
    levers = gap_levers(np.array([500_000]), np.array([1_000_000]), ["won"], 900_000)
    assert [(x.lever, x.feasible) for x in levers] == [
        ("deal_size", False), ("new_pipeline", False), ("balanced", False),
        ("deal_size", False), ("new_pipeline", False), ("balanced", False),
    ]  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(50_000, 950_000)), min_size=1, max_size=8),
    st.floats(1.05, 2.0),
)
def test_win_rate_factor_is_enough_and_nearly_minimal(
    deals: list[tuple[int, int]], stretch: float
) -> None:
    amount = np.array([a * 100_000 for a, _ in deals])
    prob = np.array([p for _, p in deals])
    target = int(float((amount * prob).sum()) / 1e6 * stretch)
    levers = gap_levers(amount, prob, ["quote"] * len(deals), target, confidences=(0.5,))
    lever = find(levers, "win_rate", 0.5)
    if not lever.feasible:
        return

    def at(f: float) -> bool:
        return reaches(amount, np.minimum(np.rint(prob * f), 1_000_000).astype(np.int64),
                       target, 0.5)  # fmt: skip

    assert at(lever.factor)
    if lever.factor > 1:
        assert not at(lever.factor / (1 + 2 * FACTOR_TOLERANCE))


def test_the_balanced_combination_reaches_the_target_with_less_of_each() -> None:
    amount = np.array([400_000, 300_000, 200_000, 500_000])
    prob = np.array([500_000, 300_000, 600_000, 1_000_000])
    levers = {(x.lever, x.stage, x.confidence): x
              for x in gap_levers(amount, prob, ["quote", "needs", "quote", "won"], 1_100_000)}  # fmt: skip
    both = levers[("balanced", "", 0.5)]
    win, size = levers[("win_rate", "", 0.5)], levers[("deal_size", "", 0.5)]
    new = levers[("new_pipeline", "", 0.5)]
    assert both.feasible and 0 < both.fraction < 1
    assert 1 < both.factor < win.factor and 1 < both.size_factor < size.factor
    assert both.new_deals <= new.new_deals
    # The median outcome with each change made reaches about the target.
    for lever in (win, size, new, both):
        assert lever.p50_minor >= 1_100_000 * 0.98, lever


def test_a_coarse_search_gives_answers_that_hold_at_the_fine_error() -> None:
    from engine.forecast.distribution import outcome_distribution

    rng = np.random.default_rng(5)
    amount = (10 ** rng.uniform(5, 7, 150)).astype(np.int64)
    prob = rng.choice([100_000, 300_000, 500_000, 800_000], 150)
    stages = [str(p) for p in prob.tolist()]
    target = int((amount * prob).sum() / 1e6 * 1.3)
    coarse = gap_levers(amount, prob, stages, target, confidences=(0.5,), search_error=0.05)
    for x in coarse:
        if not x.feasible or x.lever not in ("win_rate", "deal_size"):
            continue
        mask = np.ones(amount.size, np.bool_) if not x.stage else np.array(stages) == x.stage
        a, p = amount.copy(), prob.copy()
        if x.lever == "win_rate":
            p[mask] = np.minimum(np.rint(prob[mask] * x.factor), 1_000_000).astype(np.int64)
        else:
            a = np.rint(amount * x.factor).astype(np.int64)
        o = outcome_distribution(a, p, (0.5,), target_minor=target)
        assert (o.p_reach_target or 0) >= 0.5 - 1e-9, x


def test_confirmed_answers_carry_their_median_and_visits_follow_the_new_pipeline() -> None:
    rng = np.random.default_rng(6)
    amount = (10 ** rng.uniform(5, 7, 120)).astype(np.int64)
    prob = rng.choice([100_000, 300_000, 500_000, 800_000], 120)
    stages = [str(p) for p in prob.tolist()]
    target = int((amount * prob).sum() / 1e6 * 1.4)
    rate = Decimal("0.3")
    coarse = gap_levers(amount, prob, stages, target, confidences=(0.5, 0.9),
                        visit_to_deal=rate, search_error=0.05)  # fmt: skip
    for c in (0.5, 0.9):
        new, visits = find(coarse, "new_pipeline", c), find(coarse, "visits", c)
        assert new.feasible and visits.feasible and new.new_deals > 0
        assert visits.new_deals == new.new_deals
        assert visits.visits == math.ceil(Decimal(new.new_deals) / rate)
        # The median each answer carries is the fine distribution's, with the new deals added.
        size = round(float(amount.mean()))
        weighted = round(float((amount * prob).sum()) / float(amount.sum()))
        a = np.concatenate([amount, np.full(new.new_deals, size, dtype=np.int64)])
        p = np.concatenate([prob, np.full(new.new_deals, weighted, dtype=np.int64)])
        fine = outcome_distribution(a, p, (0.5,), target_minor=target)
        assert new.p50_minor == visits.p50_minor == fine.quantiles_minor[0]
        assert (fine.p_reach_target or 0) >= c - 1e-9
