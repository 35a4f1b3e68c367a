"""Tiered rates: the issue's worked examples by hand (marginal, retroactive, the 50 %-unlock over
attainment), exact tier lines that add up, bad tables refused with paths, monotone pay, and any
table's pay equal to a per-person reference in fractions, for bases from cents to past int64."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.commission.tiers import TierBasis, TierMode, TierTable, compile_tiers, tier_pay
from engine.errors import InvalidArgumentError

M, R = TierMode.MARGINAL, TierMode.RETROACTIVE


def table(mode: TierMode) -> object:
    return compile_tiers(TierBasis.AMOUNT, [(D(0), D(10_000), D("0.01"), mode),
                                            (D(10_000), D(50_000), D("0.02"), mode),
                                            (D(50_000), None, D("0.03"), mode)])  # fmt: skip


def test_the_worked_examples_over_the_base() -> None:
    base = np.array([6_000_000, 0, 1_000_000, 999_999])  # 60,000.00 / 0 / 10,000.00 / 9,999.99
    marginal = tier_pay(table(M), base)  # type: ignore[arg-type]
    assert marginal.pay_minor.tolist() == [120_000, 0, 10_000, 10_000]  # 100 + 800 + 300 = 1,200
    assert marginal.tier_pay_minor[0].tolist() == [10_000, 80_000, 30_000]
    retro = tier_pay(table(R), base)  # type: ignore[arg-type]
    assert retro.pay_minor.tolist() == [180_000, 0, 20_000, 10_000]  # 3 % of 60,000 = 1,800
    assert retro.tier_pay_minor[0].tolist() == [30_000, 120_000, 30_000]
    assert retro.reached.tolist() == [2, 0, 1, 0]


def test_the_fifty_percent_unlock_over_attainment() -> None:
    # Below 50 % half rate; crossing 50 % unlocks the full rate retroactively; above 100 % 1.5x.
    t = compile_tiers(TierBasis.ATTAINMENT, [(D(0), D("0.5"), D("0.05"), M),
                                             (D("0.5"), D(1), D("0.10"), R),
                                             (D(1), None, D("0.15"), M)])  # fmt: skip
    target = np.array([10_000_000, 10_000_000, 10_000_000, 0])  # 100,000.00; none for the last
    base = np.array([4_000_000, 6_000_000, 12_000_000, 5_000_000])
    pay = tier_pay(t, base, target)
    # 40 %: 40,000 x 5 % = 2,000; 60 %: 60,000 x 10 % = 6,000;
    # 120 %: 100,000 x 10 % + 20,000 x 15 % = 13,000; no target: nothing (flagged).
    assert pay.pay_minor.tolist() == [200_000, 600_000, 1_300_000, 0]
    assert pay.no_target.tolist() == [False, False, False, True]
    assert pay.tier_pay_minor[2].tolist() == [500_000, 500_000, 300_000]


def test_tier_lines_add_up_to_the_rounded_pay() -> None:
    t = compile_tiers(TierBasis.AMOUNT, [(D(0), D("0.03"), D("0.333333"), M),
                                         (D("0.03"), None, D("0.166667"), M)])  # fmt: skip
    pay = tier_pay(t, np.array([1, 2, 3, 5, 7, 101]))
    assert (pay.tier_pay_minor.sum(axis=1) == pay.pay_minor).all()
    # 7 minor units: 3 x 0.333333 + 4 x 0.166667 = 1.666667 -> 2 (half-even of the exact sum)
    assert pay.pay_minor[4] == 2


def test_bad_tables_name_every_problem() -> None:
    with pytest.raises(InvalidArgumentError) as e:
        compile_tiers(TierBasis.AMOUNT, [(D(0), D(100), D("0.01"), M),
                                         (D(150), D(200), D("-0.01"), M),
                                         (D(190), None, D("0.0000001"), M),
                                         (D(300), D(250), D("0.01"), M)], path="plans[0].tiers")  # fmt: skip
    got = {(v.path, v.reason) for v in e.value.violations}
    assert got == {
        ("plans[0].tiers[1].lower", "TIER_GAP"),
        ("plans[0].tiers[1].rate", "NEGATIVE_RATE"),
        ("plans[0].tiers[2].lower", "TIER_OVERLAP"),
        ("plans[0].tiers[2].rate", "TOO_PRECISE"),
        ("plans[0].tiers[2].upper", "UNBOUNDED_TIER"),
        ("plans[0].tiers[3].lower", "TIER_GAP"),
        ("plans[0].tiers[3].upper", "EMPTY_TIER"),
        ("plans[0].tiers[3].upper", "TIER_GAP"),
    }
    with pytest.raises(InvalidArgumentError):
        compile_tiers(TierBasis.AMOUNT, [])


rates = st.lists(st.integers(0, 200_000), min_size=1, max_size=4)


@given(rates, st.lists(st.booleans(), min_size=4, max_size=4),
       st.lists(st.integers(0, 10**12), min_size=2, max_size=30))  # fmt: skip
def test_pay_is_monotone_in_the_base_without_decelerators(
    steps: list[int], retro: list[bool], bases: list[int]
) -> None:
    increasing = np.cumsum(steps).tolist()  # rates never fall: no decelerator
    bounds = [0, 10_000, 50_000, 200_000][: len(increasing)]
    spec = []
    for i, (lo, r) in enumerate(zip(bounds, increasing, strict=True)):
        hi = D(bounds[i + 1]) if i + 1 < len(bounds) else None
        spec.append((D(lo), hi, D(r).scaleb(-6), R if retro[i] else M))
    t = compile_tiers(TierBasis.AMOUNT, spec, exponent=0)
    base = np.array(sorted(bases), dtype=np.int64)
    pay = tier_pay(t, base)
    assert (np.diff(pay.pay_minor) >= 0).all()
    assert (pay.tier_pay_minor.sum(axis=1) == pay.pay_minor).all()


def reference_pay(t: TierTable, base: int, target: int) -> int:
    """One person's pay, tier by tier in fractions, rounded half to even."""
    if t.basis is TierBasis.ATTAINMENT:
        if target <= 0:
            return 0
        at = [Fraction(target * x.lower, 10**6) for x in t.tiers]
        up = [None if x.upper is None else Fraction(target * x.upper, 10**6) for x in t.tiers]
    else:
        at = [Fraction(x.lower) for x in t.tiers]
        up = [None if x.upper is None else Fraction(x.upper) for x in t.tiers]
    reached = max([j for j in range(len(at)) if base > 0 and base >= at[j]], default=0)
    rates = [x.rate_ppm for x in t.tiers]
    for j, x in enumerate(t.tiers):
        if x.mode is R and reached >= j:
            rates[: j + 1] = [x.rate_ppm] * (j + 1)
    total = Fraction(0)
    for j in range(len(at)):
        inside = max(base - at[j], Fraction(0))
        if up[j] is not None:
            inside = min(inside, up[j] - at[j])
        total += inside * Fraction(rates[j], 10**6)
    return round(total)  # a Fraction rounds half to even


_BASES = st.one_of(
    st.integers(0, 9), st.integers(0, 10**6), st.integers(0, 2**40), st.integers(0, 2**62)
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(list(TierBasis)),
    # Rates of halves and quarters with small bases give exact ties (to even).
    st.lists(st.tuples(st.integers(1, 3_000),
                       st.integers(0, 300_000) | st.sampled_from([500_000, 250_000, 125_000]),
                       st.booleans()),
             min_size=1, max_size=4),
    st.lists(st.tuples(_BASES, st.integers(-5, 2**50)), min_size=1, max_size=20),
)  # fmt: skip
def test_any_table_pays_what_the_fractions_say(
    basis: TierBasis, shape: list[tuple[int, int, bool]], people: list[tuple[int, int]]
) -> None:
    # Bounds: in whole units (amount) or attainment percent steps; rates in ppm, either mode.
    lows = np.cumsum([0] + [w for w, _, _ in shape[:-1]]).tolist()
    unit = D(1) if basis is TierBasis.AMOUNT else D("0.01")
    spec = [(D(lo) * unit, D(lows[i + 1]) * unit if i + 1 < len(lows) else None,
             D(rate).scaleb(-6), R if retro else M)
            for i, (lo, (_, rate, retro)) in enumerate(zip(lows, shape, strict=True))]  # fmt: skip
    t = compile_tiers(basis, spec, exponent=0)
    base = np.array([b for b, _ in people], dtype=np.int64)
    target = np.array([g for _, g in people], dtype=np.int64)
    pay = tier_pay(t, base, target)
    want = [reference_pay(t, b, g) for b, g in people]
    assert pay.pay_minor.tolist() == want
    assert pay.tier_pay_minor.sum(axis=1).tolist() == want
