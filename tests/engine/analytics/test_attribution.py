"""Why bookings moved, by hand and by property: contributions add up to the change exactly."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

from hypothesis import given
from hypothesis import strategies as st

from engine.analytics.attribution import attribute, attribute_factors, funnel_factors, shapley


def test_one_factor_moving_takes_all_of_the_change() -> None:
    # 10 closed, 5 won, 500.00 booked -> 10 closed, 4 won at the same average: only the win rate
    a = attribute((10, 5, 50_000), (10, 4, 40_000))
    assert a.change_minor == -10_000 and a.contribution_minor == (0, -10_000, 0)


def test_shapley_by_hand() -> None:
    # Two factors 2 x 3 -> 4 x 6: (4-2)(3+6)/2 = 9 and (6-3)(2+4)/2 = 9; 24 - 6 = 18.
    assert shapley([F(2), F(3)], [F(4), F(6)]) == [F(9), F(9)]


def test_nothing_won_on_one_side() -> None:
    a = attribute((8, 0, 0), (10, 2, 30_000))
    assert sum(a.contribution_minor) == 30_000
    b = attribute((0, 0, 0), (0, 0, 0))
    assert b.contribution_minor == (0, 0, 0)


def test_bookings_without_volume() -> None:
    # A deal won in the period but closed (or visited) in another: 300.00 booked, no volume.
    a = attribute((0, 1, 30_000), (5, 2, 50_000))
    assert sum(a.contribution_minor) == 20_000


# Volumes need not cover the wins (visits, or deals closed in another period).
side = st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 10**10)).map(
    lambda t: (t[0], t[1], t[2] if t[1] else 0)
)


@given(side, side)
def test_contributions_add_up_to_the_change_exactly(
    before: tuple[int, int, int], after: tuple[int, int, int]
) -> None:
    a = attribute(before, after)
    assert sum(a.contribution_minor) == after[2] - before[2]


def shapley_by_orders(before: list[F], after: list[F]) -> list[F]:
    """The definition: each factor's marginal effect averaged over every order of change."""
    k = len(before)
    shares = [F(0)] * k
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        current = list(before)
        value = math.prod(current, start=F(1))
        for i in order:
            current[i] = after[i]
            moved = math.prod(current, start=F(1))
            shares[i] += moved - value
            value = moved
    return [s / len(orders) for s in shares]


fraction = st.fractions(min_value=0, max_value=1000, max_denominator=50)


@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.lists(fraction, min_size=k, max_size=k), st.lists(fraction, min_size=k, max_size=k)
        )
    )
)
def test_closed_form_equals_the_average_over_orders(sides: tuple[list[F], list[F]]) -> None:
    before, after = sides
    shares = shapley(before, after)
    assert shares == shapley_by_orders(before, after)
    assert sum(shares) == math.prod(after, start=F(1)) - math.prod(before, start=F(1))


def test_funnel_factors_by_hand() -> None:
    # 20 deals entered, 10 reached the second stage, 4 won, booking 1,000.00.
    assert funnel_factors([20, 10, 4], 100_000) == (F(20), F(1, 2), F(2, 5), F(25_000))
    # With 80 visits in front: visits x entering / visits x ...
    assert funnel_factors([20, 10, 4], 100_000, activity=80)[:2] == (F(80), F(1, 4))
    # Nothing reached the last stage: its average deal cannot be measured.
    assert funnel_factors([3, 0], 0)[-1] is None


funnel = st.lists(st.integers(0, 300), min_size=1, max_size=7).map(
    lambda xs: sorted(xs, reverse=True)
)


@given(funnel, funnel, st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_long_funnel_still_adds_up_exactly(
    before: list[int], after: list[int], b_minor: int, a_minor: int
) -> None:
    k = min(len(before), len(after))
    before, after = before[:k], after[:k]
    b_minor = b_minor if before[-1] else 0
    a_minor = a_minor if after[-1] else 0
    fb, fa = funnel_factors(before, b_minor), funnel_factors(after, a_minor)
    if all(f is not None for f in fb):
        assert math.prod(fb, start=F(1)) == b_minor  # the product is the bookings
    a = attribute_factors(fb, fa, b_minor, a_minor)
    assert sum(a.contribution_minor) == a_minor - b_minor
    assert len(a.contribution_minor) == k + 1
