"""Tiered rates: the pay of a period's base, exactly, for many people at once.

A tier table is a list of half-open intervals ``[lower, upper)`` that starts at 0 and runs to
infinity without gaps or overlaps, each with a rate (an exact decimal, at most six places) and a
mode:

* ``marginal``: the part of the base inside the tier is paid at the tier's rate;
* ``retroactive``: once the base reaches the tier, everything below the tier's upper bound that
  is not in a higher marginal tier, from 0 up, is paid at this tier's rate.

So all-marginal tables pay each slice at its own rate, all-retroactive ones pay the whole base at
the reached tier's rate, and a mix expresses "below 50 % pay half rate, crossing 50 % unlocks the
full rate retroactively, above 100 % accelerate marginally". Bounds are in the base's minor units
(``basis: amount``) or in attainment, parts per million of the person's target (``basis:
attainment``); a person without a target has no attainment and is paid nothing by an attainment
table (the statement flags it).

Pay is computed exactly (int64 with an exact product-and-divide when every scaled base and bound
fits, Python integers in numpy object arrays beyond), rounded once per person, half to even, and
split across the tiers by largest remainder (ties to the lower tier) so a statement's tier lines
add up to the person's pay exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

import numpy as np

from engine.credit.allocation import muldiv
from engine.errors import InvalidArgumentError, Violation

_PPM = 1_000_000


class TierMode(str, Enum):
    MARGINAL = "marginal"
    RETROACTIVE = "retroactive"


class TierBasis(str, Enum):
    AMOUNT = "amount"  # bounds in minor units of the base
    ATTAINMENT = "attainment"  # bounds in ppm of the target


@dataclass(frozen=True)
class Tier:
    lower: int  # minor units, or ppm of the target
    upper: int | None  # None: no upper bound
    rate_ppm: int
    mode: TierMode


@dataclass(frozen=True)
class TierTable:
    basis: TierBasis
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class TierPay:
    """Per person (rows) and tier (columns): the base in the tier (exact, as a fraction of minor
    units: ``portion_num / portion_den``), the rate applied, and the pay in minor units (the
    columns add up to ``pay_minor`` exactly). ``no_target`` marks people an attainment table could
    not pay."""

    pay_minor: np.ndarray
    tier_pay_minor: np.ndarray
    portion_num: np.ndarray
    portion_den: int
    rate_ppm: np.ndarray
    reached: np.ndarray  # index of the highest tier reached
    no_target: np.ndarray


def _scaled(value: Decimal, scale: int, path: str, problems: list[Violation]) -> int:
    exact = value.scaleb(scale)
    if exact != exact.to_integral_value():
        problems.append(Violation(path, 0, 0, "TOO_PRECISE", f"{value} has too many places"))
    return int(exact)


def compile_tiers(
    basis: TierBasis,
    tiers: Sequence[tuple[Decimal, Decimal | None, Decimal, TierMode]],
    *,
    exponent: int = 2,
    path: str = "tiers",
) -> TierTable:
    """Check and compile ``(lower, upper, rate, mode)`` tiers: bounds in major units of the base
    (``amount``, with the currency's ``exponent``) or as attainment ratios (1 = 100 %), rates as
    decimals. INVALID_ARGUMENT names every gap, overlap, empty or unbounded-in-the-middle tier,
    negative rate and too-precise value."""
    problems: list[Violation] = []
    scale = exponent if basis is TierBasis.AMOUNT else 6
    out: list[Tier] = []
    expect = 0
    for i, (lower, upper, rate, mode) in enumerate(tiers):
        p = f"{path}[{i}]"
        lo = _scaled(lower, scale, f"{p}.lower", problems)
        hi = None if upper is None else _scaled(upper, scale, f"{p}.upper", problems)
        if rate < 0:
            problems.append(Violation(f"{p}.rate", 0, 0, "NEGATIVE_RATE", f"rate {rate} < 0"))
        rate_ppm = _scaled(rate, 6, f"{p}.rate", problems)
        if lo > expect:
            problems.append(Violation(f"{p}.lower", 0, 0, "TIER_GAP",
                                      f"nothing covers [{expect}, {lo}) before this tier"))  # fmt: skip
        elif lo < expect:
            problems.append(Violation(f"{p}.lower", 0, 0, "TIER_OVERLAP",
                                      "this tier starts inside the one before it"))  # fmt: skip
        if hi is not None and hi <= lo:
            problems.append(Violation(f"{p}.upper", 0, 0, "EMPTY_TIER", "upper must exceed lower"))
        if hi is None and i != len(tiers) - 1:
            problems.append(Violation(f"{p}.upper", 0, 0, "UNBOUNDED_TIER",
                                      "only the last tier may run to infinity"))  # fmt: skip
        out.append(Tier(lo, hi, rate_ppm, mode))
        expect = hi if hi is not None else expect
    if not tiers:
        problems.append(Violation(path, 0, 0, "NO_TIERS", "give at least one tier"))
    elif out[-1].upper is not None:
        problems.append(Violation(f"{path}[{len(tiers) - 1}].upper", 0, 0, "TIER_GAP",
                                  "the last tier must run to infinity (no upper bound)"))  # fmt: skip
    if problems:
        raise InvalidArgumentError("the tiers do not fit together", reason="INVALID_TIERS",
                                   violations=problems)  # fmt: skip
    return TierTable(basis, tuple(out))


def tier_pay(
    table: TierTable, base_minor: np.ndarray, target_minor: np.ndarray | None = None
) -> TierPay:
    """The pay of each person's base under ``table`` (see the module)."""
    base_int = np.asarray(base_minor)
    n, k = base_int.shape[0], len(table.tiers)
    no_target = np.zeros(n, dtype=np.bool_)
    target = np.zeros(n, dtype=np.int64)
    if table.basis is TierBasis.ATTAINMENT:
        if target_minor is None:
            raise ValueError("an attainment table needs targets")
        target = np.asarray(target_minor)
        no_target = np.asarray(target <= 0, dtype=np.bool_)
        # Work in millionths of a minor unit: bounds are ppm x target, the base x 10^6.
        scale = _PPM
    else:
        scale = 1
    # Exact in int64 when every scaled base and bound fits (the usual case); else Python integers.
    widest = max(max(t.lower, t.upper or 0) for t in table.tiers) if k else 0
    fits = n == 0 or (
        base_int.dtype.kind in "iu"
        and target.dtype.kind in "iu"
        and abs(int(base_int.max())) * scale < 2**62
        and abs(int(base_int.min())) * scale < 2**62
        and (scale == 1 or abs(int(np.abs(target).max())) * widest < 2**62)
    )
    kind = np.int64 if fits else object
    base = base_int.astype(kind)
    if table.basis is TierBasis.ATTAINMENT:
        tgt = target.astype(kind)
        bounds_of = [np.where(no_target, 0, tgt * t.lower) for t in table.tiers]
        upper_of = [None if t.upper is None else np.where(no_target, 0, tgt * t.upper)
                    for t in table.tiers]  # fmt: skip
        scaled = np.where(no_target, 0, base * scale)
    else:
        bounds_of = [np.full(n, t.lower, dtype=kind) for t in table.tiers]
        upper_of = [None if t.upper is None else np.full(n, t.upper, dtype=kind)
                    for t in table.tiers]  # fmt: skip
        scaled = base
    portion = np.zeros((n, k), dtype=kind)
    for j in range(k):
        over = np.maximum(scaled - bounds_of[j], 0)
        portion[:, j] = (
            over if upper_of[j] is None else np.minimum(over, upper_of[j] - bounds_of[j])
        )
    reached = np.zeros(n, dtype=np.int64)
    for j in range(k):
        reached = np.where((scaled >= bounds_of[j]) & (scaled > 0) | (j == 0), j, reached)
    # The highest retroactive tier reached re-rates everything from 0 up to its upper bound.
    rate = np.tile(np.array([t.rate_ppm for t in table.tiers], dtype=np.int64), (n, 1))
    retro = [j for j, t in enumerate(table.tiers) if t.mode is TierMode.RETROACTIVE]
    for j in retro:  # in increasing order: a higher one overrides a lower one
        hit = reached >= j
        for below in range(j + 1):
            rate[:, below] = np.where(hit, table.tiers[j].rate_ppm, rate[:, below])
    # Each tier's pay, portion x rate / den (minor x scale x 10^6 over den), as floor + rest.
    den = scale * _PPM
    floor = np.zeros((n, k), dtype=kind)
    rest = np.zeros((n, k), dtype=kind)
    for j in range(k):
        if fits:
            floor[:, j], rest[:, j] = muldiv(portion[:, j], rate[:, j], den)
        else:
            exact = portion[:, j] * rate[:, j].astype(object)
            floor[:, j] = exact // den
            rest[:, j] = exact - floor[:, j] * den
    # The person's pay: the floors, the rests' whole units, and the rests' remainder rounded
    # half to even (each rest is below den, so their sum fits).
    rest_sum = rest.sum(axis=1)  # (n, 0) sums to zeros
    floor_sum = floor.sum(axis=1)
    carried = rest_sum // den
    left = rest_sum - carried * den
    pay = floor_sum + carried
    pay = pay + np.asarray((2 * left > den) | ((2 * left == den) & (pay % 2 == 1)), np.bool_)
    short = pay - floor_sum
    tier_pay_minor = floor.copy()
    # Largest remainder, ties to the lower tier: a tier's rank is the number of tiers ahead of
    # it (a larger remainder, or an equal one lower down); the ``short`` first get one unit.
    rank = np.zeros((n, k), dtype=np.int64)
    for j in range(k):
        for other in range(k):
            if other != j:
                ahead = (rest[:, other] > rest[:, j]) | (
                    (rest[:, other] == rest[:, j]) & (other < j)
                )
                rank[:, j] += ahead.astype(np.int64)
    tier_pay_minor = tier_pay_minor + (rank < short[:, None].astype(np.int64))
    pay = np.where(no_target, 0, pay)
    tier_pay_minor = np.where(no_target[:, None], 0, tier_pay_minor)
    return TierPay(
        pay_minor=pay.astype(np.int64),
        tier_pay_minor=tier_pay_minor.astype(np.int64),
        portion_num=portion,
        portion_den=scale,
        rate_ppm=rate.astype(np.int64),
        reached=reached,
        no_target=no_target,
    )


__all__ = ["Tier", "TierBasis", "TierMode", "TierPay", "TierTable", "compile_tiers", "tier_pay"]
