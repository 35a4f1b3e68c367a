"""Why bookings moved: the change between two periods (or groups) split into its factors.

Bookings are a product of factors: closed deals x win rate x average deal size (= closed x
won / closed x bookings / won), or, with activity counts, visits x conversion x average deal
size (visits x won / visits x bookings / won). The change from ``before`` to ``after`` is split by Shapley
values: each factor's contribution is its marginal effect averaged over every order in which the
factors can change, computed exactly with fractions. The contributions sum exactly to the change
(and after rounding to the minor unit by largest remainder, still exactly), whatever the values,
zeros included (where a log decomposition breaks down). A factor that cannot be measured (no
deal closed, nothing won) is held at the other side's value, or at zero when both lack it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

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


def factors(volume: int, won: int, bookings_minor: int) -> tuple[Fraction | None, ...]:
    """(volume, conversion, average deal) of a period: the volume is closed deals (the
    conversion is then the win rate) or activities such as visits; None where a factor cannot be
    measured."""
    rate = Fraction(won, volume) if volume else None
    size = Fraction(bookings_minor, won) if won else None
    return (Fraction(volume), rate, size)


def shapley(before: Sequence[Fraction], after: Sequence[Fraction]) -> list[Fraction]:
    """Each factor's exact Shapley share of ``prod(after) - prod(before)``."""
    k = len(before)
    shares = [Fraction(0)] * k
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        current = list(before)
        value = math.prod(current, start=Fraction(1))
        for i in order:
            current[i] = after[i]
            moved = math.prod(current, start=Fraction(1))
            shares[i] += moved - value
            value = moved
    return [s / len(orders) for s in shares]


def _round_exact(shares: list[Fraction], total: int) -> list[int]:
    """Shares rounded to units so they add up to ``total`` (largest remainder, ties to the
    earlier factor)."""
    floors = [math.floor(s) for s in shares]
    left = total - sum(floors)  # in [0, len(shares)) as the shares add up to ``total``
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def attribute(before: tuple[int, int, int], after: tuple[int, int, int]) -> Attribution:
    """Split the change of bookings between two ``(volume, won, bookings_minor)`` figures."""
    fb, fa = factors(*before), factors(*after)
    filled_b = tuple(b if b is not None else (a if a is not None else Fraction(0))
                     for b, a in zip(fb, fa, strict=True))  # fmt: skip
    filled_a = tuple(a if a is not None else (b if b is not None else Fraction(0))
                     for b, a in zip(fb, fa, strict=True))  # fmt: skip
    # A side's product is its bookings whenever it has volume and wins (or booked nothing). A
    # side that booked without volume (a deal won in the period but closed, or visited, in
    # another) leaves a rest: the average deal, the last factor, carries it, so the shares
    # still add up to the change exactly.
    shares = shapley(filled_b, filled_a)
    shares[-1] += Fraction(after[2] - before[2]) - sum(shares, Fraction(0))
    return Attribution(before[2], after[2], filled_b, filled_a,
                       tuple(_round_exact(shares, after[2] - before[2])))  # fmt: skip


__all__ = ["FACTORS", "Attribution", "attribute", "factors", "shapley"]
