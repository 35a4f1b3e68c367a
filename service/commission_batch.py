"""A commission run's calculation split by payee, so that a large run can be spread over a cluster.

What a person earns and is paid depends on their own lines, plan, target, balances and clawbacks
only: people are independent. A run's payees (sorted by name) are therefore cut into contiguous
groups of about equal line counts; each group is calculated by :func:`run_payees` (the plans,
:func:`~engine.commission.run.commission_run`, :func:`~engine.commission.settlement.settle`, and
the statements as stored), on a :mod:`service.batch` executor, and the groups' statements and
closing balances are put together in name order. One group is the whole run: in-process, or for a
run too small to be worth splitting, nothing is split and nothing is copied. Either way the stored
result is byte for byte the one a single calculation gives (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.commission.run import Awards, commission_run
from engine.commission.settlement import Terms, settle
from engine.partition import split_even
from engine.rules.compiler import CompiledPlan
from service.batch import Executor, InProcess, Progress

#: Credit lines per partition below which a run is not split. bench/batch.py measured about 5 us
#: of compute per line against some 4 ms per task plus 2.3 us per line to ship a partition and
#: its statements: 50,000 lines (a quarter of a second of work) is well past the crossover of
#: four or more workers, and near that of two (where shipping nearly cancels the gain).
MIN_LINES_PER_PARTITION = 50_000


@dataclass(frozen=True)
class CommissionJob:
    """What every group reads: the rule set's plans and the period's last day."""

    plans: tuple[CompiledPlan, ...]
    last_day: int

    @staticmethod
    def of(plans: Sequence[CompiledPlan], last_day: int) -> CommissionJob:
        """The job of a run, its plans without their compiled conditions: segments and SPIFFs
        are applied to the lines before the run is split, and compiled expressions are not to be
        copied to other machines."""
        bare = tuple(replace(p, segment_conditions=(), spiffs=()) for p in plans)
        return CommissionJob(bare, last_day)


@dataclass(frozen=True)
class PlanSpan:
    """Days of a period under one plan: a plan taking over inside the period cuts it. The span's
    target and target incentive are the period's prorated by its days (half to even)."""

    first_day: int
    last_day: int
    plan: int  # index into the job's plans, -1: none
    target_minor: int | None
    incentive_minor: int


#: Joins a person and a span number into the key a span is calculated under.
SPAN_MARK = "\x1f"


@dataclass(frozen=True)
class Payees:
    """Some of a run's people and everything of theirs the calculation reads (lines in the
    run's input order; awards pointing into these lines)."""

    people: tuple[str, ...]  # sorted
    plan: Mapping[str, int]  # person -> index into the job's plans (absent: no plan)
    line_person: Sequence[str]
    line_deal: Sequence[str]
    credit_minor: np.ndarray
    base_minor: np.ndarray
    segment: np.ndarray
    awards: Awards
    payees: tuple[str, ...]  # people paid even without lines (balances, draws, clawbacks)
    targets: Mapping[str, int]
    closing_in: Mapping[str, Any]  # person -> the previous run's closing entry
    clawbacks: Mapping[str, list[dict[str, Any]]]  # person -> clawback rows (as stored)
    line_span: np.ndarray | None = None  # per line: its span in the person's spans (0: the one)
    spans: Mapping[str, tuple[PlanSpan, ...]] = field(default_factory=dict)  # people with several


def draw_in_force(plan: CompiledPlan, last_day: int) -> bool:
    draw = plan.spec.draw
    return draw is not None and (draw.last_day is None or last_day <= draw.last_day)


def _terms(job: CommissionJob, plan_of: Mapping[str, int], names: Sequence[str]) -> Terms:
    """Per person: their plan's holdback and the draw in force (0 where none)."""
    n = len(names)
    rate, release, draw = (np.zeros(n, np.int64) for _ in range(3))
    recoverable = np.zeros(n, dtype=np.bool_)
    for i, person in enumerate(names):
        k = plan_of.get(person, -1)
        if k < 0:
            continue
        spec = job.plans[k].spec
        if spec.holdback is not None:
            rate[i], release[i] = spec.holdback.rate_ppm, spec.holdback.release_days
        if spec.draw is not None and draw_in_force(job.plans[k], job.last_day):
            draw[i], recoverable[i] = spec.draw.amount_minor, spec.draw.recoverable
    return Terms(rate, release, draw, recoverable)


def run_payees(job: CommissionJob, part: Payees) -> tuple[dict[str, Any], dict[str, Any]]:
    """The statements (person -> statement as stored) and closing balances of a group of
    people: the function a run maps over its groups. A person whose plan changes inside the
    period is calculated span by span (each under its own key) and settled once."""
    # Imported here: commission_runs imports this module (and its workers import nothing more).
    from service.commission_runs import _closing, _opening, _statement_json, _switched_json

    plans = job.plans
    spans = part.spans
    plan_of = {p: plans[k].spec.id for p, k in part.plan.items() if p not in spans}
    targets = {p: t for p, t in part.targets.items() if p not in spans}
    incentives = {p: plans[k].target_incentive_minor or 0 for p, k in part.plan.items()
                  if p not in spans}  # fmt: skip
    line_person: Sequence[str] = part.line_person
    payees = list(part.payees)
    if spans:
        span_of = part.line_span.tolist() if part.line_span is not None else [0] * len(line_person)
        line_person = [f"{p}{SPAN_MARK}{s}" if p in spans else p
                       for p, s in zip(line_person, span_of, strict=True)]  # fmt: skip
        payees = [p for p in payees if p not in spans]
        for person, cuts in spans.items():
            for s, span in enumerate(cuts):
                key = f"{person}{SPAN_MARK}{s}"
                payees.append(key)
                if span.plan >= 0:
                    plan_of[key] = plans[span.plan].spec.id
                    incentives[key] = span.incentive_minor
                if span.target_minor is not None:
                    targets[key] = span.target_minor
    result = commission_run(
        person=line_person,
        deal=part.line_deal,
        credit_minor=part.credit_minor,
        plans={p.spec.id: p.spec for p in plans},
        plan_of=plan_of,
        target_minor=targets,
        target_incentive_minor=incentives,
        base_minor=part.base_minor,
        segment=part.segment,
        awards=part.awards,
        payees=payees,
    )
    # One person per key, except the span keys of people whose plan changed: summed per person.
    owner = [k.split(SPAN_MARK, 1)[0] for k in result.people]
    names = tuple(sorted(set(owner)))
    earned = result.earned_minor
    if spans:
        index = {p: i for i, p in enumerate(names)}
        earned = np.zeros(len(names), dtype=np.int64)
        np.add.at(earned, np.array([index[o] for o in owner], dtype=np.int64),
                  result.earned_minor)  # fmt: skip
    where = result.index()
    position = {p: i for i, p in enumerate(names)}
    claw = np.zeros(len(names), dtype=np.int64)
    for person, rows in part.clawbacks.items():
        claw[position[person]] += sum(r["amount_minor"] for r in rows)
    settled = settle(earned, claw, _terms(job, part.plan, names),
                     _opening(names, part.closing_in), job.last_day)  # fmt: skip
    statements = {}
    for i, person in enumerate(names):
        claws = part.clawbacks.get(person, [])
        if person in spans:
            parts = [_statement_json(result.statement(where[f"{person}{SPAN_MARK}{j}"]),
                                     plans[c.plan] if c.plan >= 0 else None, settled, i, claws)
                     for j, c in enumerate(spans[person])]  # fmt: skip
            statements[person] = _switched_json(person, parts, spans[person],
                                                part.targets.get(person))  # fmt: skip
            continue
        k = part.plan.get(person, -1)
        statements[person] = _statement_json(result.statement(where[person]),
                                             plans[k] if k >= 0 else None, settled, i,
                                             claws)  # fmt: skip
    return statements, _closing(names, settled)


def split_payees(everyone: Payees, parts: int) -> list[Payees]:
    """``everyone`` cut into at most ``parts`` groups of consecutive names, of about equal
    numbers of lines (each person counts one more, for their statement)."""
    people = everyone.people
    if parts <= 1 or len(people) <= 1:
        return [everyone]
    index = {p: i for i, p in enumerate(people)}
    line_of = np.array([index[p] for p in everyone.line_person], dtype=np.int64)
    costs = (np.bincount(line_of, minlength=len(people)) + 1).tolist()
    group_of_person = np.empty(len(people), dtype=np.int64)
    ranges = split_even(costs, parts)
    for g, r in enumerate(ranges):
        group_of_person[r.start : r.stop] = g
    group_of_line = group_of_person[line_of]
    awards = everyone.awards
    out = []
    for g, r in enumerate(ranges):
        names = people[r.start : r.stop]
        mine = set(names)
        rows = np.flatnonzero(group_of_line == g)
        local = np.full(line_of.size, -1, dtype=np.int64)
        local[rows] = np.arange(rows.size)
        keep = np.flatnonzero(group_of_line[awards.line] == g) if awards.line.size else awards.line
        row_list = rows.tolist()
        out.append(Payees(
            people=names,
            plan={p: k for p, k in everyone.plan.items() if p in mine},
            line_person=[everyone.line_person[i] for i in row_list],
            line_deal=[everyone.line_deal[i] for i in row_list],
            credit_minor=everyone.credit_minor[rows],
            base_minor=everyone.base_minor[rows],
            segment=everyone.segment[rows],
            awards=Awards(local[awards.line[keep]], [awards.spiff[i] for i in keep.tolist()],
                          awards.amount_minor[keep]),
            payees=tuple(p for p in everyone.payees if p in mine),
            targets={p: v for p, v in everyone.targets.items() if p in mine},
            closing_in={p: v for p, v in everyone.closing_in.items() if p in mine},
            clawbacks={p: v for p, v in everyone.clawbacks.items() if p in mine},
            line_span=None if everyone.line_span is None else everyone.line_span[rows],
            spans={p: v for p, v in everyone.spans.items() if p in mine},
        ))  # fmt: skip
    return out


def run_all(
    executor: Executor,
    job: CommissionJob,
    everyone: Payees,
    *,
    parts: int | None = None,
    progress: Progress | None = None,
    label: str = "commission",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every person's statement and closing balances, the groups mapped on ``executor``
    (``parts`` groups, or as many as the executor gives a run of this many lines)."""
    if parts is None:
        parts = executor.partitions(len(everyone.line_person), MIN_LINES_PER_PARTITION)
    groups = split_payees(everyone, parts)
    if len(groups) == 1:  # a whole run is calculated here: shipping it would only add cost
        executor = InProcess()
    statements: dict[str, Any] = {}
    closing: dict[str, Any] = {}
    for s, c in executor.map_partitions(run_payees, groups, shared=job, progress=progress,
                                        label=label):  # fmt: skip
        statements.update(s)
        closing.update(c)
    return statements, closing


__all__ = [
    "MIN_LINES_PER_PARTITION",
    "SPAN_MARK",
    "CommissionJob",
    "Payees",
    "PlanSpan",
    "draw_in_force",
    "run_all",
    "run_payees",
    "split_payees",
]
