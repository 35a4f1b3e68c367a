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
    """A run's results, column by column; statements are built per person on demand."""

    people: tuple[str, ...]
    base_minor: np.ndarray
    pay_minor: np.ndarray
    line_order: np.ndarray  # credit rows grouped by person (input order within a person)
    line_bounds: np.ndarray  # person i's rows are line_order[bounds[i]:bounds[i + 1]]
    deal: Sequence[str]
    credit_minor: np.ndarray
    commission_minor: np.ndarray  # per credit row
    details: Mapping[int, tuple[str, PlanPay, int]]
    plans: Mapping[str, PlanSpec]
    target_minor: Mapping[str, int]

    @property
    def total_pay_minor(self) -> int:
        return int(self.pay_minor.sum())

    def statement(self, i: int) -> Statement:
        rows = self.line_order[self.line_bounds[i] : self.line_bounds[i + 1]].tolist()
        deal_lines = tuple(
            DealLine(self.deal[r], int(self.credit_minor[r]), int(self.commission_minor[r]))
            for r in rows
        )
        return _statement(self.people[i], int(self.base_minor[i]), int(self.pay_minor[i]),
                          deal_lines, self.details.get(i), self.plans, self.target_minor)  # fmt: skip

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(self.statement(i) for i in range(len(self.people)))


def _codes(
    values: Sequence[str] | tuple[np.ndarray, Sequence[str]],
) -> tuple[np.ndarray, list[str]]:
    """Codes into a sorted dictionary of names (a coded column is re-sorted by name)."""
    if isinstance(values, tuple):
        codes, names = values
        rank = np.argsort(np.asarray(names, dtype=object), kind="stable")
        position = np.empty(len(names), dtype=np.int64)
        position[rank] = np.arange(len(names))
        return position[np.asarray(codes, dtype=np.int64)], [names[i] for i in rank.tolist()]
    index: dict[str, int] = {}
    raw = np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int64)
    return _codes((raw, list(index)))


def commission_run(
    person: Sequence[str] | tuple[np.ndarray, Sequence[str]],
    deal: Sequence[str],
    credit_minor: np.ndarray,
    plans: Mapping[str, PlanSpec],
    plan_of: Mapping[str, str],
    target_minor: Mapping[str, int],
    target_incentive_minor: Mapping[str, int] | None = None,
) -> RunResult:
    """The run's results for every person with credit rows (see the module). ``person`` is a
    name per row, or codes into a list of names; ``plan_of`` maps a person to a plan id of
    ``plans`` (absent: no plan, paid nothing, flagged)."""
    credit = np.asarray(credit_minor, dtype=np.int64)
    person_code, names = _codes(person)
    used = np.bincount(person_code, minlength=len(names)) > 0
    if not used.all():  # keep only people with rows
        keep = np.flatnonzero(used)
        remap = np.full(len(names), -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        person_code, names = remap[person_code], [names[i] for i in keep.tolist()]
    n = len(names)
    # Rows grouped by person, input order kept; small codes sort by radix, in one pass.
    narrow = np.int16 if n < 2**15 else np.int32 if n < 2**31 else np.int64
    order = np.argsort(person_code.astype(narrow), kind="stable")
    base = exact_group_sum(person_code, np.maximum(credit, 0), n) - exact_group_sum(
        person_code, np.maximum(-credit, 0), n
    )
    pay = np.zeros(n, dtype=np.int64)
    details: dict[int, tuple[str, PlanPay, int]] = {}
    assigned = np.array([plan_of.get(p, "") for p in names], dtype=object)
    for plan_id in sorted({p for p in assigned.tolist() if p in plans}):
        who = np.flatnonzero(assigned == plan_id)
        targets = np.array([target_minor.get(names[i], 0) for i in who.tolist()], np.int64)
        incentives = np.array([(target_incentive_minor or {}).get(names[i], 0)
                               for i in who.tolist()], np.int64)  # fmt: skip
        result = plan_pay(plans[plan_id], np.maximum(base[who], 0), targets, incentives)
        pay[who] = result.pay_minor
        for row, i in enumerate(who.tolist()):
            details[i] = (plan_id, result, row)
    grouped = person_code[order]
    starts = np.searchsorted(grouped, np.arange(n))
    lines_commission = allocate(pay, grouped, np.maximum(credit[order], 0), starts=starts)
    commission = np.empty_like(lines_commission)
    commission[order] = lines_commission
    return RunResult(
        people=tuple(names),
        base_minor=base,
        pay_minor=pay,
        line_order=order,
        line_bounds=np.r_[starts, order.size],
        deal=deal,
        credit_minor=credit,
        commission_minor=commission,
        details=details,
        plans=plans,
        target_minor=target_minor,
    )


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
