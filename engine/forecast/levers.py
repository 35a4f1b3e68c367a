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
* ``balanced``: the win rate of every open deal, the deal size and the new pipeline together, each
  moved by the same share of its own answer (the smallest share, by bisection, that reaches the
  target).

Each answer also gives the median outcome with the change made (a plan's pay is read there).

Each answer comes from the outcome distribution (:func:`outcome_distribution`), so it accounts for
the lumpiness of a pipeline with a few large deals; a lever that cannot reach the target (a stage
whose deals would all have to be certain, say) is reported as not feasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from engine.forecast.distribution import Outcome, outcome_distribution

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
    # ``balanced``: the share ``fraction`` of each lever's own change, all at once (the win-rate
    # ``factor``, the deal ``size_factor`` and the ``new_deals``).
    fraction: float = 0.0
    size_factor: float = 1.0
    # The median outcome with the change made (what a plan would pay on); 0 when not feasible.
    p50_minor: int = 0


def _outcome(amount: np.ndarray, prob_ppm: np.ndarray, target: int, error: float) -> Outcome:
    """The median and P(outcome >= target) of the deals, within ``error``."""
    return outcome_distribution(
        amount, prob_ppm, (0.5,), target_minor=target, max_relative_error=error
    )


def _p_reach(amount: np.ndarray, prob_ppm: np.ndarray, target: int, error: float) -> float:
    return float(_outcome(amount, prob_ppm, target, error).p_reach_target or 0.0)


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
    search_error: float | None = None,
) -> list[Lever]:
    """The levers for one group: its deals' amounts, win probabilities (ppm; won deals at 1e6,
    lost at 0) and stage ids, and its target. With ``search_error`` the searches decide with
    coarser (faster) distributions, and each answer is then confirmed at ``max_relative_error``,
    raised step by step (by the factor tolerance, or one deal) until it holds there; the
    distribution that confirms an answer also gives its median."""
    amount = np.asarray(amount_minor, dtype=np.int64)
    prob = np.asarray(prob_ppm, dtype=np.int64)
    stages = np.asarray(list(stage), dtype=object)
    is_open = (prob > 0) & (prob < _PPM) & (amount > 0)
    certain = int(amount[prob == _PPM].sum())
    out: list[Lever] = []
    for c in confidences:

        def reaches(a: np.ndarray, p: np.ndarray, c: float = c) -> bool:
            error = search_error if search_error is not None else max_relative_error
            return _p_reach(a, p, target_minor, error) >= c - 1e-9

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
        alone = _new_pipeline(amount, prob, is_open, c, reaches, visit_to_deal)
        out += alone
        out.append(_balanced(amount, prob, is_open, c, reaches, out, alone))
    if search_error is not None and search_error > max_relative_error:
        out = [_confirmed(lever, amount, prob, is_open, stages, target_minor, max_relative_error)
               for lever in out]  # fmt: skip
        return [_visits_of(lever, out, visit_to_deal) for lever in out]
    return [_with_median(lever, amount, prob, is_open, stages, max_relative_error)
            for lever in out]  # fmt: skip


def _visits_of(lever: Lever, levers: Sequence[Lever], visit_to_deal: Decimal | None) -> Lever:
    """A ``visits`` answer follows its confidence's confirmed ``new_pipeline`` answer."""
    if lever.lever != "visits" or not visit_to_deal:
        return lever
    new = next(x for x in levers if x.lever == "new_pipeline" and x.confidence == lever.confidence)
    return replace(new, lever="visits", new_pipeline_minor=0,
                   visits=math.ceil(Decimal(new.new_deals) / visit_to_deal))  # fmt: skip


#: Most steps an answer found with coarse distributions is raised to hold at the fine error.
MAX_CONFIRM_STEPS = 40


def _confirmed(lever: Lever, amount: np.ndarray, prob: np.ndarray, is_open: np.ndarray,
               stages: np.ndarray, target: int, error: float) -> Lever:  # fmt: skip
    """``lever`` raised until it reaches the target at ``error`` (see :func:`gap_levers`), with
    its median once the change is made."""
    if not lever.feasible or lever.lever == "visits":  # visits follow new_pipeline (_visits_of)
        return lever

    def holds(x: Lever) -> Lever | None:
        """``x`` with its median if it reaches the target, else None."""
        if x.lever == "win_rate":
            a, p = _applied(amount, prob, is_open, x.factor, 1.0, 0, stages, x.stage)
        elif x.lever == "deal_size":
            a, p = _applied(amount, prob, is_open, 1.0, x.factor, 0)
        elif x.lever == "new_pipeline":
            a, p = _applied(amount, prob, is_open, 1.0, 1.0, x.new_deals)
        else:
            a, p = _applied(amount, prob, is_open, x.factor, x.size_factor, x.new_deals)
        o = _outcome(a, p, target, error)
        if (o.p_reach_target or 0.0) < x.confidence - 1e-9:
            return None
        return replace(x, p50_minor=int(o.quantiles_minor[0]))

    step = 1 + FACTOR_TOLERANCE
    for _ in range(MAX_CONFIRM_STEPS):
        if (held := holds(lever)) is not None:
            return held
        if lever.lever in ("win_rate", "deal_size"):
            lever = replace(lever, factor=lever.factor * step)
        elif lever.lever == "new_pipeline":
            size = lever.new_pipeline_minor // max(lever.new_deals, 1)
            lever = replace(lever, new_deals=lever.new_deals + 1,
                            new_pipeline_minor=(lever.new_deals + 1) * size)  # fmt: skip
        else:
            lever = replace(lever, factor=lever.factor * step, size_factor=lever.size_factor * step,
                            fraction=min(lever.fraction * step, 1.0))  # fmt: skip
    return holds(lever) or replace(lever, feasible=False)


def _applied(amount: np.ndarray, prob: np.ndarray, is_open: np.ndarray, win: float, size: float,
             new_deals: int, stages: np.ndarray | None = None,
             stage: str = "") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The deals with a win-rate factor (all open deals, or one stage's), a size factor and
    ``new_deals`` deals like the open ones."""
    mask = is_open if not stage or stages is None else is_open & (stages == stage)
    p = prob.copy()
    p[mask] = np.minimum(np.rint(prob[mask] * win), _PPM).astype(np.int64)
    a = _scale(amount, is_open, size) if size != 1.0 else amount
    if new_deals and is_open.any():
        open_a = amount[is_open]
        extra_size = round(float(open_a.mean()) * size)
        rate = round(float((open_a * prob[is_open]).sum()) / float(open_a.sum()))
        a = np.concatenate([a, np.full(new_deals, extra_size, dtype=np.int64)])
        p = np.concatenate([p, np.full(new_deals, min(round(rate * win), _PPM), dtype=np.int64)])
    return a, p


def _balanced(amount: np.ndarray, prob: np.ndarray, is_open: np.ndarray, c: float,
              reaches: Callable[[np.ndarray, np.ndarray], bool], solved: Sequence[Lever],
              alone: Sequence[Lever]) -> Lever:  # fmt: skip
    """Every lever moved by the same share of its own answer; the smallest share that reaches
    the target."""
    win = next((lv for lv in solved if lv.lever == "win_rate" and not lv.stage
                and lv.confidence == c and lv.feasible), None)  # fmt: skip
    size = next((lv for lv in solved if lv.lever == "deal_size" and lv.confidence == c
                 and lv.feasible), None)  # fmt: skip
    new = next((lv for lv in alone if lv.lever == "new_pipeline" and lv.feasible), None)
    if win is None and size is None and new is None:
        return Lever("balanced", "", c, False)

    def at(t: float) -> tuple[float, float, int]:
        return (1 + t * ((win.factor if win else 1.0) - 1),
                1 + t * ((size.factor if size else 1.0) - 1),
                math.ceil(t * (new.new_deals if new else 0)))  # fmt: skip

    def ok(t: float) -> bool:
        w, s, n = at(t)
        return reaches(*_applied(amount, prob, is_open, w, s, n))

    if not ok(1.0):  # pragma: no cover (each lever alone reaches the target at 1)
        return Lever("balanced", "", c, False)
    low, high = 0.0, 1.0
    if ok(0.0):
        high = 0.0
    while high - low > FACTOR_TOLERANCE:
        mid = (low + high) / 2
        if ok(mid):
            high = mid
        else:
            low = mid
    w, s, n = at(high)
    return Lever("balanced", "", c, True, factor=w, new_deals=n,
                 new_pipeline_minor=n * round(float(amount[is_open].mean()) * s)
                 if is_open.any() else 0, fraction=high, size_factor=s)  # fmt: skip


def _with_median(lever: Lever, amount: np.ndarray, prob: np.ndarray, is_open: np.ndarray,
                 stages: np.ndarray, error: float) -> Lever:  # fmt: skip
    """``lever`` with the median outcome once its change is made."""
    if not lever.feasible:
        return lever
    if lever.lever == "win_rate":
        a, p = _applied(amount, prob, is_open, lever.factor, 1.0, 0, stages, lever.stage)
    elif lever.lever == "deal_size":
        a, p = _applied(amount, prob, is_open, 1.0, lever.factor, 0)
    elif lever.lever in ("new_pipeline", "visits"):
        a, p = _applied(amount, prob, is_open, 1.0, 1.0, lever.new_deals)
    else:
        a, p = _applied(amount, prob, is_open, lever.factor, lever.size_factor, lever.new_deals)
    o = outcome_distribution(a, p, (0.5,), max_relative_error=error)
    return replace(lever, p50_minor=int(o.quantiles_minor[0]))


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


__all__ = ["FACTOR_TOLERANCE", "MAX_CONFIRM_STEPS", "MAX_NEW_DEALS", "Lever", "gap_levers"]
