"""Outcome distributions: hand-computed cases, point masses, the dominant-deal case that defeats a
normal approximation, the normal path where Berry-Esseen allows it, and properties: the mean is the
weighted amount, quantiles are monotone, raising a probability never lowers a quantile, Monte Carlo
agrees within its sampling band; the grouped exact method against deal-by-deal products, and its
reported error bound against the unbucketed distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.forecast import distribution as D
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
    mc = monte_carlo(amounts, probs, seed=1, trials=40_000)
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


# --------------------------------------------------------------------------------------------
# The exact method's pieces against plain references, and its error bound against the exact sum.


def product_of_two_point_polys(k: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The reference: one polynomial (1 - p) + p z^k per deal, multiplied one by one."""
    pmf = np.ones(1)
    for ki, pi in zip(k.tolist(), p.tolist(), strict=True):
        poly = np.zeros(ki + 1)
        poly[0] += 1 - pi
        poly[ki] += pi
        pmf = np.convolve(pmf, poly)
    return pmf


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.floats(0, 1)), min_size=1, max_size=80))
def test_grouped_lattice_equals_deal_by_deal_product(pairs: list[tuple[int, float]]) -> None:
    k = np.array([x for x, _ in pairs], dtype=I64)
    p = np.array([y for _, y in pairs])
    got = D._lattice_pmf(k, p)
    want = product_of_two_point_polys(k, p)
    n = max(len(got), len(want))
    assert np.allclose(np.pad(got, (0, n - len(got))), np.pad(want, (0, n - len(want))),
                       rtol=0, atol=1e-12)  # fmt: skip
    # its mean is the weighted count
    assert float((np.arange(len(got)) * got).sum()) == pytest.approx(float((k * p).sum()))


def test_count_distributions_of_large_groups() -> None:
    rng = np.random.default_rng(4)
    sizes = np.array([1, 3, 64, 65, 500, 2])  # powers of two and not, level after level
    p = rng.random(int(sizes.sum()))
    got = D._count_pmfs(p, sizes)
    start = 0
    for size, pmf in zip(sizes.tolist(), got, strict=True):
        want = product_of_two_point_polys(np.ones(size, dtype=I64), p[start : start + size])
        assert np.allclose(pmf, want, rtol=0, atol=1e-12)
        start += size


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 999_999)), min_size=1,
                max_size=30), st.sampled_from([0.002, 0.01, 0.05]))  # fmt: skip
def test_the_error_bound_holds_against_the_unbucketed_sum(
    pairs: list[tuple[int, int]], relative: float
) -> None:
    a = np.array([x for x, _ in pairs], dtype=I64)
    p = np.array([y for _, y in pairs], dtype=I64)
    qs = (0.05, 0.1, 0.5, 0.9, 0.95)
    rough = outcome_distribution(a, p, qs, max_relative_error=relative, method="exact")
    exact = outcome_distribution(a, p, qs, max_relative_error=1e-12, method="exact")
    assert exact.error_bound_minor == 0 and not (a % exact.bucket_minor).any()
    assert rough.error_bound_minor <= relative * a.sum() + 0.5 or rough.bucket_minor == 1
    for r, x in zip(rough.quantiles_minor, exact.quantiles_minor, strict=True):
        assert abs(r - x) <= rough.error_bound_minor


def test_many_deals_use_the_tail_bound_and_keep_it() -> None:
    rng = np.random.default_rng(8)
    a = rng.integers(1, 1_000, 1_500)
    p = rng.integers(50_000, 950_000, 1_500)
    rough = outcome_distribution(a, p, (0.1, 0.5, 0.9), method="exact")
    exact = outcome_distribution(a, p, (0.1, 0.5, 0.9), max_relative_error=1e-12, method="exact")
    assert rough.bucket_minor > 2 * 0.001 * a.sum() / a.size  # coarser than n b / 2 allows
    assert rough.error_bound_minor <= 0.001 * a.sum()
    for r, x in zip(rough.quantiles_minor, exact.quantiles_minor, strict=True):
        assert abs(r - x) <= rough.error_bound_minor


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**12), st.sampled_from([0, 1_000_000])), min_size=1,
                max_size=20))  # fmt: skip
def test_certain_outcomes_are_a_point_mass(pairs: list[tuple[int, int]]) -> None:
    a = np.array([x for x, _ in pairs], dtype=I64)
    p = np.array([y for _, y in pairs], dtype=I64)
    won = int(sum(x for x, y in pairs if y))
    for method in ("auto", "exact"):
        out = outcome_distribution(a, p, (0.01, 0.5, 0.99), target_minor=won, method=method)
        assert out.quantiles_minor == (won, won, won) and out.error_bound_minor == 0
        assert out.p_reach_target == 1.0
    mc = monte_carlo(a, p, (0.01, 0.5, 0.99), seed=0, trials=50)
    assert mc.quantiles_minor == (won, won, won) and mc.confidence_minor == ((won, won),) * 3


def test_monte_carlo_brackets_the_exact_quantiles() -> None:
    rng = np.random.default_rng(12)
    a = rng.integers(1, 20_000, 60)
    p = rng.integers(0, 1_000_001, 60)
    qs = (0.05, 0.25, 0.5, 0.75, 0.95)
    exact = outcome_distribution(a, p, qs, max_relative_error=1e-12, method="exact")
    assert exact.error_bound_minor == 0
    inside = 0
    for seed in range(4):
        mc = monte_carlo(a, p, qs, seed=seed, trials=20_000)
        assert mc.mean_minor == pytest.approx(exact.mean_minor, rel=0.01)
        for x, (lo, hi) in zip(exact.quantiles_minor, mc.confidence_minor, strict=True):
            inside += lo <= x <= hi
    assert inside >= 19  # 99 % intervals: 20 checks, at most one miss allowed


def test_monte_carlo_is_replayable_and_partitioning_does_not_change_the_draws() -> None:
    a, p = np.array([5, 7, 11, 13]), np.array([100_000, 500_000, 900_000, 1])
    one = monte_carlo(a, p, seed=3, trials=999)
    again = monte_carlo(a, p, seed=3, trials=999)
    assert (
        one.quantiles_minor == again.quantiles_minor
        and one.confidence_minor == again.confidence_minor
    )
    rng = np.random.default_rng(4)
    amounts = rng.integers(1, 1_000_000, 300)
    probs = rng.integers(0, 1_000_001, 300)
    trials = 4 * D.TRIAL_BLOCK + 321  # a short last block
    whole = D.sample_trial_blocks(D.TrialBlocks(amounts, D._thresholds(probs), 11, 0, 0, 5, trials))
    assert whole.shape == (trials,)
    for cut in (1, 3, 4):  # any grouping of the blocks draws the same trials
        head = D.sample_trial_blocks(D.TrialBlocks(amounts, D._thresholds(probs), 11, 0, 0, cut,
                                                   trials))  # fmt: skip
        tail = D.sample_trial_blocks(D.TrialBlocks(amounts, D._thresholds(probs), 11, 0, cut, 5,
                                                   trials))  # fmt: skip
        assert np.array_equal(np.concatenate([head, tail]), whole)
    ref = monte_carlo(amounts, probs, seed=11, trials=trials, target_minor=int(amounts.sum() // 3))
    for parts in (2, 5, 7, 100):
        out = monte_carlo(amounts, probs, seed=11, trials=trials, partitions=parts,
                          target_minor=int(amounts.sum() // 3))  # fmt: skip
        assert (out.quantiles_minor, out.confidence_minor, out.mean_minor, out.p_reach_target) == (
            ref.quantiles_minor, ref.confidence_minor, ref.mean_minor, ref.p_reach_target)  # fmt: skip
    # Another seed, or the same seed as another stream, draws other trials.
    other = D.sample_trial_blocks(D.TrialBlocks(amounts, D._thresholds(probs), 12, 0, 0, 5, trials))
    stream = D.sample_trial_blocks(
        D.TrialBlocks(amounts, D._thresholds(probs), 11, 1, 0, 5, trials)
    )
    assert not np.array_equal(other, whole) and not np.array_equal(stream, whole)


def test_monte_carlo_many_samples_each_outcome_as_its_own_stream() -> None:
    rng = np.random.default_rng(5)
    samples = [D.Sample(rng.integers(1, 10**6, n), rng.integers(0, 10**6 + 1, n), 10**7)
               for n in (0, 3, 200, 40)]  # fmt: skip
    together = D.monte_carlo_many(samples, seed=8, trials=2_500, partitions=4)
    for i, s in enumerate(samples):
        alone = D.monte_carlo_many([D.Sample(np.zeros(0, I64), np.zeros(0, I64))] * i + [s],
                                   seed=8, trials=2_500)[i]  # fmt: skip
        assert together[i].quantiles_minor == alone.quantiles_minor
        assert together[i].p_reach_target == alone.p_reach_target
    assert together[0].quantiles_minor == (0, 0, 0)  # no deals: nothing drawn, nothing won
    with pytest.raises(InvalidArgumentError):
        D.monte_carlo_many(samples, seed=-1)


def test_unknown_method_and_no_trials_are_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        outcome_distribution(np.array([1]), np.array([1]), method="normal")
    with pytest.raises(InvalidArgumentError):
        monte_carlo(np.array([1]), np.array([1]), seed=0, trials=0)


def test_round_amounts_are_exact_on_their_common_divisor() -> None:
    # 1,000,000 at 10 % and 2,000,000 at 50 %: outcomes 0 (.45), 1M (.05), 2M (.45), 3M (.05).
    o = outcome_distribution(np.array([1_000_000, 2_000_000]), np.array([100_000, 500_000]),
                             (0.05, 0.45, 0.5, 0.96), target_minor=2_500_000)  # fmt: skip
    assert (o.bucket_minor, o.error_bound_minor) == (1_000_000, 0.0)
    assert o.quantiles_minor == (0, 0, 1_000_000, 3_000_000)
    assert o.p_reach_target == pytest.approx(0.05)
