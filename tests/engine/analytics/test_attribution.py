"""Why bookings moved, by hand and by property: contributions add up to the change exactly."""

from __future__ import annotations

from fractions import Fraction as F

from hypothesis import given
from hypothesis import strategies as st

from engine.analytics.attribution import attribute, shapley


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
