"""A commission run's calculation: credited bookings in, one statement per person out.

Input is the period's credit rows, one per (person, deal): the credit each person holds on each
deal won in the period. Each person's base is the exact sum of their credits; the plan assigned to
them (by the caller's rules) turns base and target into pay (:mod:`engine.commission.plans`); the
pay is then spread over the person's deals in proportion to their credit, to the unit, by largest
remainder (ties to the earlier deal), so a statement's deal lines add up to its total exactly.

A statement explains every figure: the tier lines (the base in each tier, its rate and mode, the
pay), the adjustments that the threshold and the cap made (negative lines), the deal lines, and
flags for what could not be paid (no plan, no target). Its tier lines plus adjustments equal its
total, and so do its deal lines.

People are grouped by plan and each group is computed with array operations; nothing loops over
credit rows in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from engine.commission.plans import PlanPay, PlanSpec, plan_pay
from engine.commission.tiers import TierMode
from engine.credit.allocation import allocate
from engine.forecast.rollup import exact_group_sum


@dataclass(frozen=True)
class TierLine:
    tier: int
    lower: int  # minor units, or attainment ppm
    upper: int | None
    rate_ppm: int  # the rate applied (a retroactive tier re-rates those below it)
    mode: TierMode
    base_in_tier: Fraction  # minor units of base in the tier
    pay_minor: int


@dataclass(frozen=True)
class Adjustment:
    reason: str  # "BELOW_THRESHOLD" or "CAP"
    amount_minor: int  # negative: what the rule took off the tier pay


@dataclass(frozen=True)
class DealLine:
    deal: str
    credit_minor: int
    commission_minor: int


@dataclass(frozen=True)
class Statement:
    person: str
    plan: str  # '' without a plan
    base_minor: int
    target_minor: int | None
    attainment_ppm: int | None
    tiers: tuple[TierLine, ...]
    adjustments: tuple[Adjustment, ...]
    deals: tuple[DealLine, ...]
    pay_minor: int
    flags: tuple[str, ...]  # NO_PLAN, NO_TARGET, BELOW_THRESHOLD, CAPPED


@dataclass(frozen=True)
class RunResult:
    statements: tuple[Statement, ...]  # by person

    @property
    def total_pay_minor(self) -> int:
        return sum(s.pay_minor for s in self.statements)


def commission_run(
    person: Sequence[str],
    deal: Sequence[str],
    credit_minor: np.ndarray,
    plans: Mapping[str, PlanSpec],
    plan_of: Mapping[str, str],
    target_minor: Mapping[str, int],
    target_incentive_minor: Mapping[str, int] | None = None,
) -> RunResult:
    """Statements for every person with credit rows (see the module). ``plan_of`` maps a person to
    a plan id of ``plans`` (absent: no plan, paid nothing, flagged)."""
    credit = np.asarray(credit_minor, dtype=np.int64)
    people, person_code = np.unique(np.asarray(person, dtype=object), return_inverse=True)
    n = people.size
    order = np.argsort(person_code, kind="stable")  # deal lines grouped by person, input order kept
    base = exact_group_sum(person_code, np.maximum(credit, 0), n) - exact_group_sum(
        person_code, np.maximum(-credit, 0), n
    )
    names = [str(p) for p in people.tolist()]
    pay = np.zeros(n, dtype=np.int64)
    results: dict[int, tuple[str, PlanPay, int]] = {}
    for plan_id in sorted({plan_of[p] for p in names if plan_of.get(p) in plans}):
        who = np.array([i for i, p in enumerate(names) if plan_of.get(p) == plan_id], np.int64)
        targets = np.array([target_minor.get(names[i], 0) for i in who.tolist()], np.int64)
        incentives = np.array([(target_incentive_minor or {}).get(names[i], 0)
                               for i in who.tolist()], np.int64)  # fmt: skip
        result = plan_pay(plans[plan_id], np.maximum(base[who], 0), targets, incentives)
        pay[who] = result.pay_minor
        for row, i in enumerate(who.tolist()):
            results[i] = (plan_id, result, row)
    lines_commission = allocate(pay, person_code[order], np.maximum(credit[order], 0))
    commission = np.empty_like(lines_commission)
    commission[order] = lines_commission
    bounds = np.searchsorted(person_code[order], np.arange(n + 1))
    deals = list(deal)
    statements = []
    for i, name in enumerate(names):
        rows = order[bounds[i] : bounds[i + 1]].tolist()
        deal_lines = tuple(DealLine(deals[r], int(credit[r]), int(commission[r])) for r in rows)
        statements.append(_statement(name, int(base[i]), int(pay[i]), deal_lines,
                                     results.get(i), plans, target_minor))  # fmt: skip
    return RunResult(tuple(statements))


def _statement(
    name: str,
    base: int,
    pay: int,
    deal_lines: tuple[DealLine, ...],
    result: tuple[str, PlanPay, int] | None,
    plans: Mapping[str, PlanSpec],
    target_minor: Mapping[str, int],
) -> Statement:
    target = target_minor.get(name)
    if result is None:
        return Statement(name, "", base, target, None, (), (), deal_lines, 0, ("NO_PLAN",))
    plan_id, r, row = result
    table = plans[plan_id].tiers
    tiers = tuple(
        TierLine(
            j,
            t.lower,
            t.upper,
            int(r.tiers.rate_ppm[row, j]),
            t.mode,
            Fraction(int(r.tiers.portion_num[row, j]), r.tiers.portion_den),
            int(r.tiers.tier_pay_minor[row, j]),
        )
        for j, t in enumerate(table.tiers)
    )
    tier_total = int(r.tiers.pay_minor[row])
    adjustments: list[Adjustment] = []
    flags = []
    if r.tiers.no_target[row] or not target:
        flags.append("NO_TARGET")
    if r.below_threshold[row]:
        flags.append("BELOW_THRESHOLD")
        adjustments.append(Adjustment("BELOW_THRESHOLD", -tier_total))
    elif r.capped[row]:
        flags.append("CAPPED")
        adjustments.append(Adjustment("CAP", int(r.cap_minor[row]) - tier_total))
    attainment = int(r.attainment_ppm[row])
    return Statement(name, plan_id, base, target, attainment if attainment >= 0 else None, tiers,
                     tuple(adjustments), deal_lines, pay, tuple(flags))  # fmt: skip


__all__ = ["Adjustment", "DealLine", "RunResult", "Statement", "TierLine", "commission_run"]
