"""A plan's pay for a period, for many people at once: threshold, tiers, caps.

The period's credited base of each person (bookings: credited won amounts, in minor units) and
their target give the attainment (base / target; no target, no attainment: flagged, never a
division by zero). Then, in order:

1. **threshold**: below it (in the tier table's basis: an amount, or an attainment) nothing is
   paid;
2. **tiers** (:mod:`engine.commission.tiers`): the pay of the base;
3. **caps**: the pay is limited to ``cap_per_period_minor`` and to ``cap_target_incentive_multiple``
   times the person's target incentive (on-target variable pay), whichever is lower.

A plan also carries what acts on single lines and on the period's settlement: per-segment rates
and weights, a per-deal cap, milestone bonuses (:mod:`engine.commission.run`), and draws,
clawbacks and a holdback reserve (:mod:`engine.commission.settlement`).

Every step is an array operation over people. Results keep what each step did (the tier lines
before the cap, the cap that bit) so a statement can explain every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from engine.commission.tiers import TierBasis, TierPay, TierTable, tier_pay
from engine.credit.allocation import muldiv

_PPM = 1_000_000


@dataclass(frozen=True)
class Segment:
    """Deals of a segment (product line, customer tier...): their base counts ``weight_ppm`` /
    10^6 toward the period base, and with ``rate_ppm`` they are paid that flat rate on their base
    instead of their share of the tier pay."""

    id: str
    weight_ppm: int = _PPM
    rate_ppm: int | None = None


@dataclass(frozen=True)
class Milestone:
    """A bonus paid once in a period whose base reaches ``at`` (in the tiers' basis: minor units
    of the base, or attainment in ppm)."""

    id: str
    at: int
    bonus_minor: int


@dataclass(frozen=True)
class Draw:
    """A floor on each period's pay (while ``last_day``, in days since the epoch, is not passed);
    a recoverable draw's top-ups are paid back from later pay above the floor."""

    amount_minor: int
    recoverable: bool
    last_day: int | None = None


@dataclass(frozen=True)
class Clawback:
    """A won deal cancelled within ``window_days`` of its win gives back the commission paid on
    it: all of it, or (``pro_rata``) the share of the window it did not last."""

    window_days: int
    pro_rata: bool = False


@dataclass(frozen=True)
class Holdback:
    """``rate_ppm`` of each period's earnings is held in a reserve that clawbacks draw on first;
    each amount held is released ``release_days`` after the end of its period."""

    rate_ppm: int
    release_days: int


@dataclass(frozen=True)
class PlanSpec:
    """A compiled plan: its tiers and limits (amounts in minor units, ratios as decimals)."""

    id: str
    tiers: TierTable
    threshold: Decimal = Decimal(0)  # in the tiers' basis: minor units or attainment ratio
    cap_per_period_minor: int | None = None
    cap_target_incentive_multiple: Decimal | None = None
    cap_per_deal_minor: int | None = None
    segments: tuple[Segment, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    draw: Draw | None = None
    clawback: Clawback | None = None
    holdback: Holdback | None = None


@dataclass(frozen=True)
class PlanPay:
    """Per person: attainment (ppm, -1 without a target), the tier pay before limits, what the
    threshold and the caps did, and the pay."""

    attainment_ppm: np.ndarray
    tiers: TierPay
    below_threshold: np.ndarray
    cap_minor: np.ndarray  # the binding cap, -1 where none applies
    capped: np.ndarray
    pay_minor: np.ndarray


def plan_pay(
    plan: PlanSpec,
    base_minor: np.ndarray,
    target_minor: np.ndarray,
    target_incentive_minor: np.ndarray | None = None,
) -> PlanPay:
    """The period's pay of each person under ``plan`` (see the module)."""
    base = np.asarray(base_minor, dtype=np.int64)
    target = np.asarray(target_minor, dtype=np.int64)
    n = base.shape[0]
    has_target = target > 0
    # Attainment in ppm, floor (it only selects thresholds and is reported; pay uses exact bounds).
    attainment = np.where(has_target, base * _PPM // np.maximum(target, 1), -1)
    tiers = tier_pay(plan.tiers, base, target)
    if plan.tiers.basis is TierBasis.ATTAINMENT:
        threshold_ppm = int(plan.threshold.scaleb(6))
        # base / target >= threshold, exactly: base x 10^6 >= threshold_ppm x target.
        small = n == 0 or (
            int(np.abs(base).max()) < 2**62 // _PPM
            and int(np.abs(target).max()) * threshold_ppm < 2**62
        )
        kind = np.int64 if small else object  # Python integers only past int64
        below = ~has_target | (base.astype(kind) * _PPM < threshold_ppm * target.astype(kind))
    else:
        below = base < int(plan.threshold)
    below = np.asarray(below, dtype=np.bool_) & (plan.threshold > 0)
    pay = np.where(below, 0, tiers.pay_minor)
    cap = np.full(n, -1, dtype=np.int64)
    if plan.cap_per_period_minor is not None:
        cap = np.full(n, plan.cap_per_period_minor, dtype=np.int64)
    if plan.cap_target_incentive_multiple is not None and target_incentive_minor is not None:
        incentive = np.asarray(target_incentive_minor, dtype=np.int64)
        multiple_ppm = int(plan.cap_target_incentive_multiple.scaleb(6))
        multiple = np.full(n, multiple_ppm, dtype=np.int64)
        exact = muldiv(np.maximum(incentive, 0), multiple, _PPM)[0]  # floor
        by_incentive = np.where(incentive > 0, exact, -1).astype(np.int64)
        cap = np.where((cap < 0) | ((by_incentive >= 0) & (by_incentive < cap)), by_incentive, cap)
    capped = (cap >= 0) & (pay > cap)
    pay = np.where(capped, cap, pay)
    return PlanPay(
        attainment_ppm=attainment,
        tiers=tiers,
        below_threshold=below,
        cap_minor=cap,
        capped=capped,
        pay_minor=pay.astype(np.int64),
    )


__all__ = [
    "Clawback",
    "Draw",
    "Holdback",
    "Milestone",
    "PlanPay",
    "PlanSpec",
    "Segment",
    "plan_pay",
]
