"""What fills the gap: for each lever alone, the smallest change that reaches a target with a given
confidence (P50: at least even odds; P90: nine chances in ten).

The outcome of a group is closed-won plus each open deal won or not (its win probability). Levers:

* ``win_rate``: every open deal's win probability raised by the same factor (capped at 1);
  ``win_rate`` with a ``stage``: only that stage's deals. Found by bisection on the factor.
* ``deal_size``: every open deal's amount raised by the same factor. The open part of the outcome
  scales with it, so the factor is closed-form: (target - certain) / the open outcome's quantile.
* ``new_pipeline``: more deals like the group's open ones (its average open amount, at its
  amount-weighted win rate); the smallest number of them, by doubling then bisection.
* ``visits``: the same new deals expressed as visits, given the visit -> deal conversion rate.

Each answer comes from the outcome distribution (:func:`outcome_distribution`), so it accounts for
the lumpiness of a pipeline with a few large deals; a lever that cannot reach the target (a stage
whose deals would all have to be certain, say) is reported as not feasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from engine.forecast.distribution import outcome_distribution

_PPM = 1_000_000
#: Relative precision of the factors found by bisection.
FACTOR_TOLERANCE = 0.005
#: Most new deals the new-pipeline lever considers.
MAX_NEW_DEALS = 100_000


@dataclass(frozen=True)
class Lever:
    """One lever's answer at one confidence.

    ``factor`` is the multiplier the lever needs (1.25: +25 %; 1 when the target is already
    reached); for ``new_pipeline`` and ``visits``, ``new_deals``, ``new_pipeline_minor`` and
    ``visits`` say how much is needed. ``feasible`` is False when no change of this lever alone
    reaches the target.
    """

    lever: str
    stage: str
    confidence: float
    feasible: bool
    factor: float = 1.0
    new_deals: int = 0
    new_pipeline_minor: int = 0
    visits: int = 0


def _p_reach(amount: np.ndarray, prob_ppm: np.ndarray, target: int, error: float) -> float:
    o = outcome_distribution(
        amount, prob_ppm, (0.5,), target_minor=target, max_relative_error=error
    )
    return float(o.p_reach_target or 0.0)


def _bisect_factor(reaches: Callable[[float], bool], high: float) -> float | None:
    """The smallest factor in [1, high] for which ``reaches(factor)`` holds, or None."""
    if reaches(1.0):
        return 1.0
    if not reaches(high):
        return None
    low = 1.0
    while high - low > FACTOR_TOLERANCE * low:
        mid = (low + high) / 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return high


def gap_levers(
    amount_minor: np.ndarray,
    prob_ppm: np.ndarray,
    stage: Sequence[str],
    target_minor: int,
    *,
    confidences: Sequence[float] = (0.5, 0.9),
    visit_to_deal: Decimal | None = None,
    max_relative_error: float = 0.001,
) -> list[Lever]:
    """The levers for one group: its deals' amounts, win probabilities (ppm; won deals at 1e6,
    lost at 0) and stage ids, and its target."""
    amount = np.asarray(amount_minor, dtype=np.int64)
    prob = np.asarray(prob_ppm, dtype=np.int64)
    stages = np.asarray(list(stage), dtype=object)
    is_open = (prob > 0) & (prob < _PPM) & (amount > 0)
    certain = int(amount[prob == _PPM].sum())
    out: list[Lever] = []
    for c in confidences:

        def reaches(a: np.ndarray, p: np.ndarray, c: float = c) -> bool:
            return _p_reach(a, p, target_minor, max_relative_error) >= c - 1e-9

        # Win rate, all open deals and then stage by stage.
        groups: list[tuple[str, np.ndarray]] = [("", is_open)]
        groups += [(s, is_open & (stages == s)) for s in sorted(set(stages[is_open].tolist()))]
        for name, mask in groups:
            if not mask.any():
                continue
            high = _PPM / float(prob[mask].min())

            def scaled(f: float, mask: np.ndarray = mask) -> bool:
                p = prob.copy()
                p[mask] = np.minimum(np.rint(prob[mask] * f), _PPM).astype(np.int64)
                return reaches(amount, p)

            factor = _bisect_factor(scaled, high)
            out.append(Lever("win_rate", name, c, factor is not None, factor or 0.0))
        # Deal size: the open part scales, so the factor is closed-form.
        open_only = np.where(is_open, prob, 0)
        o = outcome_distribution(amount, open_only, (1 - c,), max_relative_error=max_relative_error)
        open_q = o.quantiles_minor[0]
        if reaches(amount, prob):
            out.append(Lever("deal_size", "", c, True, 1.0))
        elif open_q > 0:
            factor = (target_minor - certain) / open_q
            # The quantile is bucketed: confirm, nudging up within the tolerance if needed.
            f = _bisect_factor(lambda f: reaches(_scale(amount, is_open, f), prob), factor * 1.05)
            out.append(Lever("deal_size", "", c, f is not None, f or 0.0))
        else:
            out.append(Lever("deal_size", "", c, False, 0.0))
        out += _new_pipeline(amount, prob, is_open, c, reaches, visit_to_deal)
    return out


def _scale(amount: np.ndarray, mask: np.ndarray, f: float) -> np.ndarray:
    a = amount.copy()
    a[mask] = np.rint(amount[mask] * f).astype(np.int64)
    return a


def _new_pipeline(
    amount: np.ndarray,
    prob: np.ndarray,
    is_open: np.ndarray,
    c: float,
    reaches: Callable[[np.ndarray, np.ndarray], bool],
    visit_to_deal: Decimal | None,
) -> list[Lever]:
    """More deals like the open ones: the smallest count that reaches the target."""
    if not is_open.any():
        return [Lever("new_pipeline", "", c, False)]
    a = amount[is_open]
    size = round(float(a.mean()))
    rate = round(float((a * prob[is_open]).sum()) / float(a.sum()))

    def with_new(m: int) -> bool:
        extra_a = np.full(m, size, dtype=np.int64)
        extra_p = np.full(m, rate, dtype=np.int64)
        return bool(reaches(np.concatenate([amount, extra_a]), np.concatenate([prob, extra_p])))

    if with_new(0):
        return [Lever("new_pipeline", "", c, True)] + (
            [Lever("visits", "", c, True)] if visit_to_deal else []
        )
    low, high = 0, 1
    while not with_new(high):
        low, high = high, high * 2
        if high > MAX_NEW_DEALS:
            return [Lever("new_pipeline", "", c, False)]
    while high - low > 1:
        mid = (low + high) // 2
        if with_new(mid):
            high = mid
        else:
            low = mid
    levers = [Lever("new_pipeline", "", c, True, new_deals=high, new_pipeline_minor=high * size)]
    if visit_to_deal:
        visits = math.ceil(Decimal(high) / visit_to_deal)
        levers.append(Lever("visits", "", c, True, new_deals=high, visits=visits))
    return levers


__all__ = ["FACTOR_TOLERANCE", "MAX_NEW_DEALS", "Lever", "gap_levers"]
