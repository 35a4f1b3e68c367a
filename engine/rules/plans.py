"""The rule set's ``plans`` and ``people`` sections compiled: who each plan is for and when, and its
engine form (:class:`engine.commission.plans.PlanSpec`) with amounts in minor units.

Checked at publish time, with a path for every problem: a known base (a margin plan names a
declared decimal field), split type, teams and currency; tiers without gaps or overlaps; a cap not
below the pay at the threshold; segment and SPIFF conditions that type-check against the deal
fields; effective dates in order; too-precise amounts and rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from engine.commission.plans import Clawback, Draw, Holdback, Milestone, PlanSpec, Segment
from engine.commission.tiers import TierBasis, TierMode, compile_tiers, tier_pay
from engine.errors import InvalidArgumentError, RuleSetInvalidError, Violation
from engine.frame import FieldType, date_to_days
from engine.money import CURRENCY_EXPONENTS
from engine.rules.expression import Condition, FieldSpec, compile_condition
from engine.rules.schema import Person, Plan
from engine.rules.source import SourceDocument, join_path
from engine.rules.splits import CompiledSplits

_PPM = 1_000_000


@dataclass(frozen=True)
class CompiledPlan:
    """A plan ready to run: its engine form, who it is for and when, the split type and base it
    pays on, its currency, and the conditions of its segments and SPIFFs."""

    spec: PlanSpec
    people: frozenset[str]
    teams: frozenset[str]
    roles: frozenset[str]
    regions: frozenset[str]
    split: str
    currency: str
    target_incentive_minor: int | None
    base: str = "bookings"
    margin_field: str | None = None
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    segment_conditions: tuple[Condition, ...] = ()
    spiffs: tuple[tuple[str, int, Condition], ...] = ()  # (id, minor units per deal, condition)
    path: str = ""

    def covers(self, person: str, team: str | None, role: str | None = None,
               region: str | None = None) -> bool:  # fmt: skip
        """Whether the plan is for ``person`` (by name, team, role or region)."""
        if not (self.people or self.teams or self.roles or self.regions):
            return True
        return (
            person in self.people
            or (team is not None and team in self.teams)
            or (role is not None and role in self.roles)
            or (region is not None and region in self.regions)
        )

    def in_force(self, day: dt.date) -> bool:
        """Whether the plan is in force on ``day``."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_until is None or day <= self.effective_until
        )


def _minor(value: Decimal, minor: int, path: str, doc: SourceDocument,
           out: list[Violation]) -> int:  # fmt: skip
    exact = value * minor
    if exact != exact.to_integral_value():
        out.append(doc.violation(path, "TOO_PRECISE", f"{value} has more places than the currency"))
    return int(exact)


def _ppm(value: Decimal, path: str, doc: SourceDocument, out: list[Violation]) -> int:
    exact = value.scaleb(6)
    if exact != exact.to_integral_value():
        out.append(doc.violation(path, "TOO_PRECISE", f"{value} has more than 6 places"))
    return int(exact)


def _condition(text: str, schema: Mapping[str, FieldSpec] | None, path: str,
               out: list[Violation]) -> Condition | None:  # fmt: skip
    if schema is None:  # the fields section is broken: reported there
        return None
    try:
        return compile_condition(text, schema, path=path)
    except RuleSetInvalidError as exc:
        out.extend(exc.violations)
        return None


def compile_people(items: Sequence[tuple[int, Person]], doc: SourceDocument,
                   out: list[Violation]) -> dict[str, Person]:  # fmt: skip
    """The ``people`` section by id; an id listed twice is refused."""
    people: dict[str, Person] = {}
    for i, person in items:
        if person.id in people:
            out.append(doc.violation(f"people[{i}].id", "DUPLICATE_ID",
                                     f"{person.id!r} is listed twice"))  # fmt: skip
        people.setdefault(person.id, person)
    return people


def compile_plans(
    items: Sequence[tuple[int, Plan]],
    splits: CompiledSplits | None,
    team_of: Mapping[str, str],
    people: Mapping[str, Person],
    schema: Mapping[str, FieldSpec] | None,
    doc: SourceDocument,
    out: list[Violation],
) -> tuple[CompiledPlan, ...]:
    """Plans, each checked on its own (see the module)."""
    compiled: list[CompiledPlan] = []
    ids: dict[str, int] = {}
    split_ids = {t.id for t in splits.types} if splits is not None else set()
    default_split = splits.types[splits.default_type].id if splits is not None else "revenue"
    teams = set(team_of.values())
    roles = {p.role for p in people.values() if p.role}
    regions = {p.region for p in people.values() if p.region}
    for i, plan in items:
        p = join_path("plans", i)
        if plan.id in ids:
            message = f"plan id {plan.id!r} is already used by plans[{ids[plan.id]}]"
            out.append(doc.violation(join_path(p, "id"), "DUPLICATE_ID", message))
        ids.setdefault(plan.id, i)
        split = plan.split or default_split
        if splits is not None and split not in split_ids:
            out.append(doc.violation(join_path(p, "split"), "UNKNOWN_SPLIT",
                                     f"no split type {split!r}"))  # fmt: skip
        for key, known, where in (("teams", teams, "hierarchy.teams"), ("roles", roles, "people"),
                                  ("regions", regions, "people")):  # fmt: skip
            for j, value in enumerate(getattr(plan.assign, key)):
                if value not in known:
                    out.append(doc.violation(f"{p}.assign.{key}[{j}]", f"UNKNOWN_{key[:-1].upper()}",
                                             f"no {key[:-1]} {value!r} in {where}"))  # fmt: skip
        if plan.base == "margin":
            field = plan.margin_field
            if field is None:
                out.append(doc.violation(join_path(p, "margin_field"), "REQUIRED",
                                         "a margin plan names the field holding the margin"))  # fmt: skip
            elif schema is not None and (field not in schema
                                         or schema[field].type is not FieldType.DECIMAL):  # fmt: skip
                out.append(doc.violation(join_path(p, "margin_field"), "UNKNOWN_FIELD",
                                         f"{field!r} is not a declared decimal field"))  # fmt: skip
        elif plan.margin_field is not None:
            out.append(doc.violation(join_path(p, "margin_field"), "NOT_APPLICABLE",
                                     "margin_field is for plans with base margin"))  # fmt: skip
        if (plan.effective_from and plan.effective_until
                and plan.effective_until < plan.effective_from):  # fmt: skip
            out.append(doc.violation(join_path(p, "effective_until"), "EMPTY_PERIOD",
                                     "the plan ends before it starts"))  # fmt: skip
        segment_conditions = [
            _condition(s.when, schema, f"{p}.segments[{j}].when", out)
            for j, s in enumerate(plan.segments)
        ]
        spiff_conditions = [
            _condition(s.when, schema, f"{p}.spiffs[{j}].when", out)
            for j, s in enumerate(plan.spiffs)
        ]
        for key in ("segments", "spiffs", "milestones"):
            seen: set[str] = set()
            for j, item in enumerate(getattr(plan, key)):
                if item.id in seen:
                    out.append(doc.violation(f"{p}.{key}[{j}].id", "DUPLICATE_ID",
                                             f"{item.id!r} is used twice"))  # fmt: skip
                seen.add(item.id)
        exponent = CURRENCY_EXPONENTS.get(plan.currency)
        if exponent is None:
            out.append(doc.violation(join_path(p, "currency"), "UNKNOWN_CURRENCY",
                                     f"{plan.currency!r} is not an ISO 4217 currency"))  # fmt: skip
            continue
        basis = TierBasis(plan.tiers.basis)
        try:
            table = compile_tiers(
                basis,
                [(r.lower, r.upper, r.rate, TierMode(r.mode)) for r in plan.tiers.rows],
                exponent=exponent,
                path=f"{p}.tiers.rows",
            )
        except InvalidArgumentError as e:
            out.extend(replace(v, line=0) for v in e.violations)
            continue
        minor = 10**exponent
        threshold = plan.threshold if basis is TierBasis.ATTAINMENT else plan.threshold * minor
        cap = plan.cap
        per_period = per_deal = None
        if cap is not None and cap.per_period is not None:
            per_period = _minor(cap.per_period, minor, f"{p}.cap.per_period", doc, out)
            if basis is TierBasis.AMOUNT and plan.threshold > 0:
                at = tier_pay(table, np.array([int(threshold)])).pay_minor[0]
                if per_period < at:
                    out.append(doc.violation(f"{p}.cap.per_period", "CAP_BELOW_THRESHOLD",
                                             "the cap is below the pay at the threshold"))  # fmt: skip
        if cap is not None and cap.per_deal is not None:
            per_deal = _minor(cap.per_deal, minor, f"{p}.cap.per_deal", doc, out)

        segments = tuple(
            Segment(s.id, _ppm(s.weight, f"{p}.segments[{j}].weight", doc, out),
                    None if s.rate is None else _ppm(s.rate, f"{p}.segments[{j}].rate", doc, out))
            for j, s in enumerate(plan.segments)
        )  # fmt: skip
        milestones = tuple(
            Milestone(m.id, _ppm(m.at, f"{p}.milestones[{j}].at", doc, out)
                      if basis is TierBasis.ATTAINMENT
                      else _minor(m.at, minor, f"{p}.milestones[{j}].at", doc, out),
                      _minor(m.bonus, minor, f"{p}.milestones[{j}].bonus", doc, out))
            for j, m in enumerate(plan.milestones)
        )  # fmt: skip
        draw = None
        if plan.draw is not None:
            until = plan.draw.until
            draw = Draw(_minor(plan.draw.amount, minor, f"{p}.draw.amount", doc, out),
                        plan.draw.recoverable, None if until is None else date_to_days(until))  # fmt: skip
        clawback = None
        if plan.clawback is not None:
            clawback = Clawback(plan.clawback.window_days, plan.clawback.mode == "pro_rata")
        holdback = None
        if plan.holdback is not None:
            holdback = Holdback(_ppm(plan.holdback.rate, f"{p}.holdback.rate", doc, out),
                                plan.holdback.release_days)  # fmt: skip
        spec = PlanSpec(
            plan.id,
            table,
            threshold=threshold,
            cap_per_period_minor=per_period,
            cap_target_incentive_multiple=cap.target_incentive_multiple if cap else None,
            cap_per_deal_minor=per_deal,
            segments=segments,
            milestones=milestones,
            draw=draw,
            clawback=clawback,
            holdback=holdback,
        )
        incentive = plan.target_incentive
        spiff_minor = [_minor(s.amount, minor, f"{p}.spiffs[{j}].amount", doc, out)
                       for j, s in enumerate(plan.spiffs)]  # fmt: skip
        spiffs = tuple(
            (s.id, amount, c)
            for s, amount, c in zip(plan.spiffs, spiff_minor, spiff_conditions, strict=True)
            if c is not None
        )
        compiled.append(CompiledPlan(
            spec, frozenset(plan.assign.people), frozenset(plan.assign.teams),
            frozenset(plan.assign.roles), frozenset(plan.assign.regions), split, plan.currency,
            None if incentive is None else _minor(incentive, minor, f"{p}.target_incentive", doc,
                                                  out),
            base=plan.base, margin_field=plan.margin_field, effective_from=plan.effective_from,
            effective_until=plan.effective_until,
            segment_conditions=tuple(c for c in segment_conditions if c is not None),
            spiffs=spiffs, path=p,
        ))  # fmt: skip
    return tuple(compiled)


__all__ = ["CompiledPlan", "compile_people", "compile_plans"]
