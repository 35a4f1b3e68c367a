"""Scenario levers applied to a scored pipeline, and what a plan would pay for an outcome.

Levers act on open deals only (closed deals are history):

* **win rate**: each open deal's win probability times a factor (all stages, or one stage),
  capped at 1; exact in parts per million, half-even;
* **deal size**: each open deal's amount times a factor, half-even to the minor unit (win rates
  stay as scored: a rule that reads the amount is not re-run);
* **new pipeline**: new open deals (count, amount, stage, owner) added before scoring, so they
  are scored by the rule set like any other (see the planning servicer).

A plan's cost for an outcome is what :func:`engine.commission.plans.plan_pay` pays on it as the
period base against the person's target (tiers, threshold, caps), the same calculation as a dry
commission run's tier pay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from engine.commission.plans import PlanSpec, plan_pay
from engine.credit.allocation import muldiv_half_even
from engine.errors import InvalidArgumentError, Violation

_PPM = 1_000_000


@dataclass(frozen=True)
class WinRateLever:
    factor: Fraction
    stage: str = ""  # "": every stage
    path: str = ""  # where the lever stands in the caller's request, for errors


@dataclass(frozen=True)
class DealSizeLever:
    factor: Fraction


#: Largest numerator or denominator of a factor (its terms are int64 array values).
MAX_TERM = 2**62


def _ratio(factor: Fraction, path: str) -> tuple[int, int]:
    if max(abs(factor.numerator), factor.denominator) >= MAX_TERM:
        raise InvalidArgumentError("bad levers", reason="INVALID_LEVER", violations=[
            Violation(f"{path}.factor", 0, 0, "TOO_PRECISE",
                      "a factor this precise or this large is not supported")])  # fmt: skip
    return factor.numerator, factor.denominator


def apply_win_rates(
    prob_ppm: np.ndarray,
    stage: np.ndarray,
    is_open: np.ndarray,
    levers: Sequence[WinRateLever],
    stage_index: Mapping[str, int],
) -> np.ndarray:
    """Open deals' probabilities times each lever's factor (in order), capped at 1."""
    out = np.asarray(prob_ppm, dtype=np.int64).copy()
    problems = []
    for i, lever in enumerate(levers):
        where = lever.path or f"levers[{i}].win_rate"
        if lever.factor < 0:
            problems.append(Violation(f"{where}.factor", 0, 0, "NEGATIVE",
                                      "a factor is not negative"))  # fmt: skip
            continue
        hit = np.asarray(is_open, dtype=np.bool_).copy()
        if lever.stage:
            code = stage_index.get(lever.stage)
            if code is None:
                problems.append(Violation(f"{where}.stage", 0, 0, "UNKNOWN_STAGE",
                                          f"no stage {lever.stage!r}"))  # fmt: skip
                continue
            hit &= np.asarray(stage) == code
        num, den = _ratio(lever.factor, where)
        scaled = muldiv_half_even(out, np.full(out.size, num, np.int64), den)
        out = np.where(hit, np.minimum(scaled, _PPM), out)
    if problems:
        raise InvalidArgumentError("bad levers", reason="INVALID_LEVER", violations=problems)
    return out


def apply_deal_size(amount_minor: np.ndarray, is_open: np.ndarray, lever: DealSizeLever,
                    path: str = "deal_size") -> np.ndarray:  # fmt: skip
    """Open deals' amounts times the factor, half-even."""
    if lever.factor < 0:
        raise InvalidArgumentError("bad levers", reason="INVALID_LEVER", violations=[
            Violation(f"{path}.factor", 0, 0, "NEGATIVE", "a factor is not negative")])  # fmt: skip
    amount = np.asarray(amount_minor, dtype=np.int64)
    num, den = _ratio(lever.factor, path)
    scaled = muldiv_half_even(amount, np.full(amount.size, num, np.int64), den)
    return np.where(np.asarray(is_open, dtype=np.bool_), scaled, amount)


def plan_cost_minor(plan: PlanSpec, outcome_minor: int, target_minor: int,
                    target_incentive_minor: int = 0) -> int:  # fmt: skip
    """What ``plan`` pays on ``outcome_minor`` as the period base (tiers, threshold, caps)."""
    paid = plan_pay(plan, np.array([max(outcome_minor, 0)], np.int64),
                    np.array([target_minor], np.int64),
                    np.array([target_incentive_minor], np.int64))  # fmt: skip
    return int(paid.pay_minor[0])


__all__ = ["DealSizeLever", "WinRateLever", "apply_deal_size", "apply_win_rates",
           "plan_cost_minor"]  # fmt: skip
