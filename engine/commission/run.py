"""A commission run's calculation: credit lines in, what each person earned in the period out.

Input is the period's lines, one per (person, deal): the credit each person holds on the deal and
the line's base (by default the credit; a plan paying on collections or margin passes the part of
the credit collected or the margin on it), optionally the segment of the person's plan the deal
falls in, and SPIFF awards per line. Per person, in order:

1. **period base**: the exact sum of the lines' bases, each counted at its segment's weight
   (default 1; a weighted sum is rounded half-even to the unit);
2. **tiers, threshold** (:mod:`engine.commission.plans`): the tier pay of the period base; below
   the threshold nothing;
3. **deal lines**: the tier pay is spread over the lines in proportion to their weighted base, to
   the unit, by largest remainder (ties to the earlier line); a line in a segment with its own
   rate is paid ``base x rate`` (half-even) instead of its share (adjustment ``SEGMENT_RATES``);
4. **period caps**: above the lower of the period cap and the target-incentive multiple, the cap
   is spread over the lines as the tier pay was, by weighted base (for a person with lines at
   their own rate: in proportion to the lines), by largest remainder (adjustment ``CAP``); then
   no line pays more than the per-deal cap (adjustment ``DEAL_CAP``);
5. **bonuses**: milestones reached by the period base (in the tiers' basis) and SPIFFs, outside
   the threshold and the caps.

A statement explains every figure: its tier lines plus adjustments equal its commission, which
equals the sum of its deal lines; commission plus bonuses is what the person earned. What is then
paid (draws, clawbacks, holdback, balances carried forward) is :mod:`engine.commission.settlement`.

People are grouped by plan and each group is computed with array operations; nothing loops over
credit lines in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat

import numpy as np

from engine.commission.plans import PlanPay, PlanSpec, plan_pay
from engine.commission.tiers import TierBasis, TierMode
from engine.credit.allocation import allocate, muldiv, muldiv_half_even
from engine.forecast.rollup import exact_group_sum
from engine.grouping import clip_runs, group_rows

_PPM = 1_000_000


@dataclass(frozen=True)
class TierLine:
    tier: int
    lower: int  # minor units, or attainment ppm
    upper: int | None
    rate_ppm: int  # the rate applied (a retroactive tier re-rates those below it)
    mode: TierMode
    base_in_tier: Fraction  # minor units of base in the tier
    pay_minor: int
    decelerator: bool  # the tier's own rate is below the one before it


@dataclass(frozen=True)
class Adjustment:
    reason: str  # BELOW_THRESHOLD, SEGMENT_RATES, CAP, DEAL_CAP
    amount_minor: int  # what the rule added to (positive) or took off (negative) the tier pay


@dataclass(frozen=True)
class DealLine:
    deal: str
    credit_minor: int
    base_minor: int
    commission_minor: int
    rule: str  # "tiers", or "segments.<id>" for a segment with its own rate
    spiff_minor: int


@dataclass(frozen=True)
class Bonus:
    kind: str  # MILESTONE or SPIFF
    id: str
    deal: str  # the deal of a SPIFF; '' for a milestone
    amount_minor: int


@dataclass(frozen=True)
class Statement:
    person: str
    plan: str  # '' without a plan
    base_minor: int  # the period base (segment weights applied)
    target_minor: int | None
    attainment_ppm: int | None
    tiers: tuple[TierLine, ...]
    adjustments: tuple[Adjustment, ...]
    deals: tuple[DealLine, ...]
    bonuses: tuple[Bonus, ...]
    commission_minor: int  # tier lines + adjustments = the deal lines' commission
    earned_minor: int  # commission + bonuses
    flags: tuple[str, ...]  # NO_PLAN, NO_TARGET, BELOW_THRESHOLD, CAPPED, DEAL_CAPPED


@dataclass(frozen=True)
class Awards:
    """SPIFF awards: the credit line (row of the run's input) each is for, its SPIFF and amount."""

    line: np.ndarray
    spiff: Sequence[str]
    amount_minor: np.ndarray


@dataclass(frozen=True)
class RunResult:
    """A run's results, column by column; statements are built per person on demand."""

    people: tuple[str, ...]
    base_minor: np.ndarray  # per person: the period base
    commission_minor: np.ndarray  # per person: the deal lines' sum
    earned_minor: np.ndarray  # per person: commission + bonuses
    line_order: np.ndarray  # credit rows grouped by person (input order within a person)
    line_bounds: np.ndarray  # person i's rows are line_order[bounds[i]:bounds[i + 1]]
    deal: Sequence[str]
    credit_minor: np.ndarray  # per credit row
    line_base_minor: np.ndarray  # per credit row
    line_commission_minor: np.ndarray  # per credit row
    line_segment: np.ndarray  # per credit row: segment index in the person's plan, -1 none
    line_spiff_minor: np.ndarray  # per credit row
    adjustments: Mapping[str, np.ndarray]  # reason -> per person
    milestone_minor: Mapping[str, np.ndarray]  # plan id -> (people of the plan, milestones)
    awards: Awards | None
    details: Mapping[int, tuple[str, PlanPay, int]]
    plans: Mapping[str, PlanSpec]
    target_minor: Mapping[str, int]

    @property
    def total_earned_minor(self) -> int:
        return int(self.earned_minor.sum())

    def index(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.people)}

    def statement(self, i: int) -> Statement:
        rows = self.line_order[self.line_bounds[i] : self.line_bounds[i + 1]].tolist()
        detail = self.details.get(i)
        plan = self.plans[detail[0]] if detail else None
        deal_lines = tuple(
            DealLine(
                self.deal[r],
                int(self.credit_minor[r]),
                int(self.line_base_minor[r]),
                int(self.line_commission_minor[r]),
                _rule(plan, int(self.line_segment[r])),
                int(self.line_spiff_minor[r]),
            )
            for r in rows
        )
        bonuses: list[Bonus] = []
        if detail is not None and plan is not None:
            marks = self.milestone_minor.get(detail[0])
            if marks is not None:
                for m, amount in zip(plan.milestones, marks[detail[2]].tolist(), strict=True):
                    if amount:
                        bonuses.append(Bonus("MILESTONE", m.id, "", int(amount)))
        if self.awards is not None and self.awards.line.size:
            mine = set(rows)
            for k in np.flatnonzero(np.isin(self.awards.line, rows)).tolist():
                r = int(self.awards.line[k])
                if r in mine:
                    bonuses.append(Bonus("SPIFF", self.awards.spiff[k], self.deal[r],
                                         int(self.awards.amount_minor[k])))  # fmt: skip
        adjustments = {reason: int(v[i]) for reason, v in self.adjustments.items()}
        return _statement(self.people[i], int(self.base_minor[i]), int(self.commission_minor[i]),
                          int(self.earned_minor[i]), deal_lines, tuple(bonuses), adjustments,
                          detail, self.plans, self.target_minor)  # fmt: skip

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(self.statement(i) for i in range(len(self.people)))


def _rule(plan: PlanSpec | None, segment: int) -> str:
    if plan is None:
        return ""
    if segment >= 0 and plan.segments[segment].rate_ppm is not None:
        return f"segments.{plan.segments[segment].id}"
    return "tiers"


def _codes(
    values: Sequence[str] | tuple[np.ndarray, Sequence[str]],
) -> tuple[np.ndarray, list[str]]:
    """Codes into a sorted dictionary of names (a coded column is re-sorted by name)."""
    if isinstance(values, tuple):
        codes, names = values
        if list(names) == sorted(names):  # already sorted (a sorted list sorts in one pass)
            return np.asarray(codes, dtype=np.int64), list(names)
        rank = np.argsort(np.asarray(names, dtype=object), kind="stable")
        position = np.empty(len(names), dtype=np.int64)
        position[rank] = np.arange(len(names))
        return position[np.asarray(codes, dtype=np.int64)], [names[i] for i in rank.tolist()]
    index: dict[str, int] = {}
    raw = np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int64)
    return _codes((raw, list(index)))


def _half_even_div(num: np.ndarray, den: int) -> np.ndarray:
    """``num / den`` rounded half to even, element-wise on int64 (``den > 0``)."""
    q, r = np.divmod(num, den)
    up = (2 * r > den) | ((2 * r == den) & (q % 2 == 1))
    return q + up


def _segment_terms(
    plans: Mapping[str, PlanSpec], plan_code: np.ndarray, plan_ids: list[str], segment: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: its weight (ppm) and its own rate (ppm, -1: paid from the tiers)."""
    weights, rates, offset = [_PPM], [-1], []
    for pid in plan_ids:
        offset.append(len(weights))
        for s in plans[pid].segments:
            weights.append(s.weight_ppm)
            rates.append(-1 if s.rate_ppm is None else s.rate_ppm)
    offsets = np.array([*offset, 0], dtype=np.int64)  # plan code -1 (no plan): index 0 below
    count = np.array([*(len(plans[p].segments) for p in plan_ids), 0], np.int64)
    if (segment >= count[plan_code]).any():
        raise ValueError("a line names a segment its person's plan does not have")
    index = np.where((segment >= 0) & (plan_code >= 0), offsets[plan_code] + segment, 0)
    return np.array(weights, np.int64)[index], np.array(rates, np.int64)[index]


def commission_run(
    person: Sequence[str] | tuple[np.ndarray, Sequence[str]],
    deal: Sequence[str],
    credit_minor: np.ndarray,
    plans: Mapping[str, PlanSpec],
    plan_of: Mapping[str, str],
    target_minor: Mapping[str, int],
    target_incentive_minor: Mapping[str, int] | None = None,
    *,
    base_minor: np.ndarray | None = None,
    segment: np.ndarray | None = None,
    awards: Awards | None = None,
    payees: Sequence[str] = (),
) -> RunResult:
    """What every person earned in the period (see the module). ``person`` is a name per line,
    or codes into a list of names; ``plan_of`` maps a person to a plan id of ``plans`` (absent:
    no plan, paid nothing, flagged); ``base_minor`` is each line's base (default: its credit);
    ``segment`` each line's segment index in its person's plan (-1: none); ``payees`` people to
    include even without lines (a draw or a balance may pay them)."""
    credit = np.asarray(credit_minor, dtype=np.int64)
    line_base = credit if base_minor is None else np.asarray(base_minor, dtype=np.int64)
    person_code, names = _codes(person)
    used = np.bincount(person_code, minlength=len(names)) > 0
    if not used.all():  # keep only people with rows
        keep = np.flatnonzero(used)
        remap = np.full(len(names), -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        person_code, names = remap[person_code], [names[i] for i in keep.tolist()]
    extra = sorted(set(payees) - set(names))
    if extra:  # people without lines: merged into the sorted names, codes shifted
        merged = sorted(names + extra)
        position = np.searchsorted(np.asarray(merged, dtype=object), np.asarray(names, object))
        person_code = position.astype(np.int64)[person_code] if names else person_code
        names = merged
    n = len(names)
    assigned = set(map(plan_of.get, names))
    plan_ids = sorted(p for p in assigned if p is not None and p in plans)
    code_of = dict.fromkeys(assigned, -1) | {p: i for i, p in enumerate(plan_ids)}
    plan_code = np.fromiter(map(code_of.__getitem__, map(plan_of.get, names)), np.int64, n)
    weight_ppm: np.ndarray | None = None
    rate_ppm: np.ndarray | None = None
    if any(plans[p].segments for p in plan_ids):
        line_plan = plan_code[person_code]
        seg = np.where(line_plan >= 0, np.asarray(segment, dtype=np.int64), -1) if (
            segment is not None) else np.full(credit.size, -1, np.int64)  # fmt: skip
        weight_ppm, rate_ppm = _segment_terms(plans, line_plan, plan_ids, seg)
    else:
        seg = np.full(credit.size, -1, np.int64)
    negative = bool(line_base.size) and int(line_base.min()) < 0
    positive = np.maximum(line_base, 0) if negative else line_base
    base = None
    if weight_ppm is None:
        weighted = positive
        if negative:
            base = exact_group_sum(person_code, positive, n) - exact_group_sum(
                person_code, np.maximum(-line_base, 0), n
            )
    else:
        weighted = positive * weight_ppm  # ppm of a minor unit
        signed = line_base * weight_ppm
        base_ppm = exact_group_sum(person_code, np.maximum(signed, 0), n) - exact_group_sum(
            person_code, np.maximum(-signed, 0), n
        )
        base = _half_even_div(base_ppm, _PPM)
    # Rows grouped by person, input order kept (a counting sort), the weights carried along.
    order, bounds, grouped_weight = group_rows(person_code, n, weighted)
    starts, counts = bounds[:-1], np.diff(bounds)
    grouped = np.repeat(np.arange(n, dtype=np.int64), counts)
    if base is None:  # bases not negative, unweighted: run sums, which cannot overflow here
        widest = int(counts.max()) if n else 0
        if widest and int(weighted.max()) < (2**63 - 1) // widest:
            base = _group_sum(grouped_weight, starts, counts)
        else:
            base = exact_group_sum(person_code, positive, n)
    tier_total = np.zeros(n, dtype=np.int64)
    cap = np.full(n, -1, dtype=np.int64)
    deal_cap = np.full(n, -1, dtype=np.int64)
    below = np.zeros(n, dtype=np.bool_)
    details: dict[int, tuple[str, PlanPay, int]] = {}
    milestones: dict[str, np.ndarray] = {}
    milestone_total = np.zeros(n, dtype=np.int64)
    incentives_of = target_incentive_minor or {}
    for code, plan_id in enumerate(plan_ids):
        spec = plans[plan_id]
        who = np.flatnonzero(plan_code == code)
        people_of = [names[i] for i in who.tolist()]
        targets = np.fromiter(map(target_minor.get, people_of, repeat(0)), np.int64, who.size)
        incentives = np.fromiter(map(incentives_of.get, people_of, repeat(0)), np.int64, who.size)
        result = plan_pay(spec, np.maximum(base[who], 0), targets, incentives)
        below[who] = result.below_threshold
        tier_total[who] = np.where(result.below_threshold, 0, result.tiers.pay_minor)
        cap[who] = result.cap_minor
        if spec.cap_per_deal_minor is not None:
            deal_cap[who] = spec.cap_per_deal_minor
        if spec.milestones:
            marks = _milestones(spec, np.maximum(base[who], 0), targets)
            milestones[plan_id] = marks
            milestone_total[who] = marks.sum(axis=1)
        for row, i in enumerate(who.tolist()):
            details[i] = (plan_id, result, row)
    # Deal lines: the tier pay by weighted base, over people with lines. Without lines at their
    # own rate, a person's capped pay is known before the spread: the cap is spread at once.
    adjustments: dict[str, np.ndarray] = {}  # BELOW_THRESHOLD is read from the plan's pay
    own = None
    has_own = np.zeros(n, dtype=np.bool_)
    if rate_ppm is not None:
        own = rate_ppm[order] >= 0
        has_own = _group_sum(own.astype(np.int64), starts, counts) > 0
    early_cap = (cap >= 0) & (tier_total > cap) & ~has_own
    lines = _spread(np.where(early_cap, cap, tier_total), grouped, grouped_weight, starts, counts)
    cap_adjust = np.where(early_cap, cap - tier_total, 0)
    if own is not None and rate_ppm is not None:
        flat = muldiv_half_even(positive[order], np.maximum(rate_ppm[order], 0), _PPM)
        delta = np.where(own, flat - lines, 0)
        lines = lines + delta
        adjustments["SEGMENT_RATES"] = _group_sum(delta, starts, counts)
        before_cap = _group_sum(lines, starts, counts)
        capped = has_own & (cap >= 0) & (before_cap > cap)
        cap_adjust = cap_adjust + np.where(capped, cap - before_cap, 0)
        if capped.any():
            # Spread again in proportion to the lines (some are at their own rate).
            hit = capped[grouped]
            sub_people = np.flatnonzero(capped)
            remap = np.full(n, -1, np.int64)
            remap[sub_people] = np.arange(sub_people.size)
            sub_group = remap[grouped[hit]]
            sub_starts = np.searchsorted(sub_group, np.arange(sub_people.size))
            lines[hit] = allocate(cap[sub_people], sub_group, lines[hit], starts=sub_starts)
    adjustments["CAP"] = cap_adjust
    if (deal_cap >= 0).any():
        adjustments["DEAL_CAP"] = clip_runs(lines, bounds, deal_cap)
    commission = _group_sum(lines, starts, counts)
    line_commission = np.empty_like(lines)
    line_commission[order] = lines
    line_spiff = np.zeros(credit.size, dtype=np.int64)
    spiffs = np.zeros(n, dtype=np.int64)
    if awards is not None and awards.line.size:
        np.add.at(line_spiff, awards.line, np.asarray(awards.amount_minor, dtype=np.int64))
        np.add.at(spiffs, person_code[awards.line], np.asarray(awards.amount_minor, np.int64))
    earned = commission + milestone_total + spiffs
    return RunResult(
        people=tuple(names),
        base_minor=base,
        commission_minor=commission,
        earned_minor=earned,
        line_order=order,
        line_bounds=bounds,
        deal=deal,
        credit_minor=credit,
        line_base_minor=line_base,
        line_commission_minor=line_commission,
        line_segment=seg,
        line_spiff_minor=line_spiff,
        adjustments={k: v for k, v in adjustments.items() if k == "BELOW_THRESHOLD" or v.any()},
        milestone_minor=milestones,
        awards=awards,
        details=details,
        plans=plans,
        target_minor=target_minor,
    )


def _group_sum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums of consecutive runs (``counts`` long, from ``starts``; empty runs sum to 0)."""
    out = np.zeros(starts.size, dtype=np.int64)
    full = counts > 0
    if values.size and full.any():
        out[full] = np.add.reduceat(values, starts[full])
    return out


def _spread(
    total: np.ndarray, grouped: np.ndarray, weight: np.ndarray, starts: np.ndarray,
    counts: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """:func:`allocate` over the people with lines (people without lines are paid no tier pay:
    their base is 0)."""
    if counts.size and (counts > 0).all():
        return allocate(total, grouped, weight, starts=starts)
    with_lines = np.flatnonzero(counts > 0)
    remap = np.full(counts.size, -1, np.int64)
    remap[with_lines] = np.arange(with_lines.size)
    group = remap[grouped]
    return allocate(total[with_lines], group, weight, starts=starts[with_lines])


def _milestones(spec: PlanSpec, base: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(people, milestones): the bonus of each milestone the period base reached, else 0."""
    out = np.zeros((base.size, len(spec.milestones)), dtype=np.int64)
    for j, m in enumerate(spec.milestones):
        if spec.tiers.basis is TierBasis.ATTAINMENT:
            # base / target >= at / 10^6, exactly; no target: never reached.
            q, _ = muldiv(base, np.full(base.size, _PPM, np.int64), np.maximum(target, 1))
            reached = (target > 0) & (q >= m.at)
        else:
            reached = base >= m.at
        out[:, j] = np.where(reached, m.bonus_minor, 0)
    return out


def _statement(
    name: str,
    base: int,
    commission: int,
    earned: int,
    deal_lines: tuple[DealLine, ...],
    bonuses: tuple[Bonus, ...],
    adjusted: Mapping[str, int],
    result: tuple[str, PlanPay, int] | None,
    plans: Mapping[str, PlanSpec],
    target_minor: Mapping[str, int],
) -> Statement:
    target = target_minor.get(name)
    if result is None:
        return Statement(name, "", base, target, None, (), (), deal_lines, bonuses, commission,
                         earned, ("NO_PLAN",))  # fmt: skip
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
            j > 0 and t.rate_ppm < table.tiers[j - 1].rate_ppm,
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
    for reason, flag in (("SEGMENT_RATES", ""), ("CAP", "CAPPED"), ("DEAL_CAP", "DEAL_CAPPED")):
        amount = adjusted.get(reason, 0)
        if amount:
            adjustments.append(Adjustment(reason, amount))
            if flag:
                flags.append(flag)
    attainment = int(r.attainment_ppm[row])
    return Statement(name, plan_id, base, target, attainment if attainment >= 0 else None, tiers,
                     tuple(adjustments), deal_lines, bonuses, commission, earned,
                     tuple(flags))  # fmt: skip


__all__ = [
    "Adjustment",
    "Awards",
    "Bonus",
    "DealLine",
    "RunResult",
    "Statement",
    "TierLine",
    "commission_run",
]
