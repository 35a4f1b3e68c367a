"""Why bookings moved: the change between two periods (or groups) split into its factors.

Bookings are a product of factors: closed deals x win rate x average deal size (= closed x
won / closed x bookings / won), or, with activity counts, visits x conversion x average deal
size (visits x won / visits x bookings / won). Per stage, the funnel product explains the
bookings of the deals created in a period: deals entering the funnel x each stage-to-stage
conversion x average deal size (entering x reached_2 / reached_1 x ... x bookings / reached_last),
with activity counts in front when given (visits x entering / visits x ...).

The change from ``before`` to ``after`` is split by Shapley values: each factor's contribution
is its marginal effect averaged over every order in which the factors can change. For a product
the average has a closed form (:func:`shapley`, a polynomial in the other factors, O(k^3) exact
fraction operations for k factors, not k! orders), so a funnel of many stages costs little. The
contributions sum exactly to the change (and after rounding to the minor unit by largest
remainder, still exactly), whatever the values, zeros included (where a log decomposition breaks
down). A factor that cannot be measured (no deal closed, nothing won) is held at the other side's
value, or at zero when both lack it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from engine.analytics.kpis import KpiRow

FACTORS = ("closed_deals", "win_rate", "average_deal")


@dataclass(frozen=True)
class Attribution:
    before_minor: int
    after_minor: int
    factors_before: tuple[Fraction, ...]
    factors_after: tuple[Fraction, ...]
    contribution_minor: tuple[int, ...]  # per factor; sums to after - before exactly

    @property
    def change_minor(self) -> int:
        return self.after_minor - self.before_minor


def _ratio(num: int, den: int) -> Fraction | None:
    return Fraction(num, den) if den else None


def factors(volume: int, won: int, bookings_minor: int) -> tuple[Fraction | None, ...]:
    """(volume, conversion, average deal) of a period: the volume is closed deals (the
    conversion is then the win rate) or activities such as visits; None where a factor cannot be
    measured."""
    return (Fraction(volume), _ratio(won, volume), _ratio(bookings_minor, won))


def funnel_factors(
    reached: Sequence[int], bookings_minor: int, activity: int | None = None
) -> tuple[Fraction | None, ...]:
    """The funnel product's factors: ``reached[k]`` deals reached funnel stage k (deals created
    in the period; non-increasing), ``bookings_minor`` what those deals booked. Without
    ``activity``: (entering, each conversion k -> k+1, average deal); with it: (activity,
    entering / activity, each conversion, average deal)."""
    head: list[Fraction | None] = []
    if activity is not None:
        head = [Fraction(activity), _ratio(reached[0] if reached else 0, activity)]
    elif reached:
        head = [Fraction(reached[0])]
    else:
        head = [Fraction(0)]
    steps = [_ratio(reached[k + 1], reached[k]) for k in range(len(reached) - 1)]
    last = reached[-1] if reached else 0
    return (*head, *steps, _ratio(bookings_minor, last))


def shapley(before: Sequence[Fraction], after: Sequence[Fraction]) -> list[Fraction]:
    """Each factor's exact Shapley share of ``prod(after) - prod(before)``.

    For factor i, averaging over the orders of change is averaging over the set S of the other
    factors already changed, weighted |S|! (k-|S|-1)! / k!: the share is ``(a_i - b_i)`` times
    ``sum_S w(|S|) prod_{j in S} a_j prod_{j not in S} b_j``. Grouping the sets by size, that sum
    is the weighted coefficients of ``prod_{j != i} (b_j + a_j t)``, built one factor at a time."""
    k = len(before)
    weight = [Fraction(math.factorial(s) * math.factorial(k - s - 1), math.factorial(k))
              for s in range(k)]  # fmt: skip
    shares = []
    for i in range(k):
        poly = [Fraction(1)]  # coefficients by the number of changed factors
        for j in range(k):
            if j == i:
                continue
            b, a = before[j], after[j]
            poly = [
                (poly[s] * b if s < len(poly) else Fraction(0))
                + (poly[s - 1] * a if s else Fraction(0))
                for s in range(len(poly) + 1)
            ]
        shares.append((after[i] - before[i]) * sum(
            (c * w for c, w in zip(poly, weight, strict=True)), Fraction(0)))  # fmt: skip
    return shares


def _round_exact(shares: list[Fraction], total: int) -> list[int]:
    """Shares rounded to units so they add up to ``total`` (largest remainder, ties to the
    earlier factor)."""
    floors = [math.floor(s) for s in shares]
    left = total - sum(floors)  # in [0, len(shares)) as the shares add up to ``total``
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def attribute_factors(
    before: Sequence[Fraction | None],
    after: Sequence[Fraction | None],
    before_minor: int,
    after_minor: int,
) -> Attribution:
    """Split ``after_minor - before_minor`` among factors whose product is each side's bookings
    (None: not measurable on that side, held at the other side's value or zero)."""
    filled_b = tuple(b if b is not None else (a if a is not None else Fraction(0))
                     for b, a in zip(before, after, strict=True))  # fmt: skip
    filled_a = tuple(a if a is not None else (b if b is not None else Fraction(0))
                     for b, a in zip(before, after, strict=True))  # fmt: skip
    # A side's product is its bookings whenever every factor is measured (or it booked
    # nothing). A side that booked without volume (a deal won in the period but closed, or
    # visited, in another) leaves a rest: the average deal, the last factor, carries it, so the
    # shares still add up to the change exactly.
    shares = shapley(filled_b, filled_a)
    change = after_minor - before_minor
    shares[-1] += Fraction(change) - sum(shares, Fraction(0))
    return Attribution(before_minor, after_minor, filled_b, filled_a,
                       tuple(_round_exact(shares, change)))  # fmt: skip


def attribute(before: tuple[int, int, int], after: tuple[int, int, int]) -> Attribution:
    """Split the change of bookings between two ``(volume, won, bookings_minor)`` figures."""
    return attribute_factors(factors(*before), factors(*after), before[2], after[2])


def figures(row: KpiRow, *, funnel: bool, activity: bool) -> tuple[int, ...]:
    """The counts a KPI row's bookings are decomposed from; figures of several rows add up
    (element by element) to the figures of their union. Deals: (volume, won, bookings), the
    volume being closed deals or the first activity kind. Funnel: (first activity kind if
    ``activity``, deals reaching each funnel stage..., what those deals booked)."""
    if funnel:
        head = (row.activities[0],) if activity else ()
        return (*head, *row.funnel_reached, row.cohort_bookings_minor)
    volume = row.activities[0] if activity else row.closed_count
    won = row.won_count if activity else row.closed_count - row.lost_count
    return (volume, won, row.bookings_minor)


def attribute_figures(
    before: Sequence[int], after: Sequence[int], *, funnel: bool, activity: bool
) -> Attribution:
    """Split the change between two sides' :func:`figures` into their factors."""
    if not funnel:
        return attribute(tuple(before), tuple(after))  # type: ignore[arg-type]
    skip = 1 if activity else 0

    def of(side: Sequence[int]) -> tuple[Fraction | None, ...]:
        return funnel_factors(side[skip:-1], side[-1], side[0] if activity else None)

    return attribute_factors(of(before), of(after), before[-1], after[-1])


def factor_names(
    funnel_stages: Sequence[str], *, funnel: bool, activity: str = ""
) -> list[tuple[str, str, str]]:
    """Each factor's (name, from stage, to stage), in the order of :func:`attribute_figures`."""
    if not funnel:
        names = (activity, "conversion", "average_deal") if activity else FACTORS
        return [(n, "", "") for n in names]
    head = (
        [(activity, "", ""), ("conversion", "", "")] if activity else [("deals_entering", "", "")]
    )
    steps = [(f"{a}->{b}", a, b) for a, b in itertools.pairwise(funnel_stages)]
    return [*head, *steps, ("average_deal", "", "")]


__all__ = ["FACTORS", "Attribution", "attribute", "attribute_factors", "attribute_figures",
           "factor_names", "factors", "figures", "funnel_factors", "shapley"]  # fmt: skip
