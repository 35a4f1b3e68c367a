"""Commission runs over the store: gather a period's credited bookings, run the plans, keep the run.

Bookings are the credits people hold, as of the run's as-of date, on deals won within the period
(the first day each deal's recorded events put it in a won stage). Each person is paid under the
first plan of the rule set that covers them, on that plan's split type, against their target (the
request's, else the rule set's ``targets`` item for ``{owner: person}`` and the period's label).

A run's results are canonical JSON (sorted keys, exact integers, fractions as text): the same
inputs give the same bytes, hashed into ``result_sha256``. Runs are stored immutably under the
caller's run key; the key again with the same inputs returns the stored run, with other inputs it
is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.commission.run import RunResult, Statement, commission_run
from engine.credit.ledger import state_history
from engine.errors import AlreadyExistsError, InvalidArgumentError, Violation
from engine.forecast.history import NO_DAY, history_from_records
from engine.frame import date_to_days
from engine.rules.compiler import CompiledPlan, CompiledRuleSet
from service.store.port import RevisionRecord
from service.store.sqlite_ledger import SqliteLedger
from service.store.sqlite_runs import SqliteRuns, StoredRun


@dataclass(frozen=True)
class RunRequest:
    rule_set: str
    period: str
    first: dt.date
    last: dt.date
    as_of: dt.date
    run_key: str
    dry_run: bool
    targets: Mapping[str, int]


@dataclass(frozen=True)
class RunOutcome:
    run: StoredRun
    statements: dict[str, Any]  # person -> statement as stored (JSON-ready)
    already_existed: bool
    dry_run: bool


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _statement_json(s: Statement, currency: str, basis: str) -> dict[str, Any]:
    return {
        "person": s.person,
        "plan": s.plan,
        "currency": currency,
        "base_minor": s.base_minor,
        "target_minor": s.target_minor,
        "attainment_ppm": s.attainment_ppm,
        "tiers": [
            {
                "tier": t.tier,
                "lower": t.lower,
                "upper": t.upper,
                "mode": t.mode.value,
                "basis": basis,
                "rate_ppm": t.rate_ppm,
                "base_in_tier": str(t.base_in_tier),
                "pay_minor": t.pay_minor,
            }
            for t in s.tiers
        ],
        "adjustments": [
            {"reason": a.reason, "amount_minor": a.amount_minor} for a in s.adjustments
        ],
        "deals": [
            {
                "deal_id": d.deal,
                "credit_minor": d.credit_minor,
                "commission_minor": d.commission_minor,
            }
            for d in s.deals
        ],
        "pay_minor": s.pay_minor,
        "flags": list(s.flags),
    }


def _plan_for(plans: tuple[CompiledPlan, ...], person: str, team: str | None) -> int:
    return next((i for i, p in enumerate(plans) if p.covers(person, team)), -1)


class CommissionRuns:
    """Runs commission over the store's credits and keeps the runs."""

    def __init__(
        self, ledger: SqliteLedger, runs: SqliteRuns, clock: Callable[[], dt.datetime]
    ) -> None:
        self.ledger = ledger
        self.runs = runs
        self.clock = clock

    def bookings(
        self, rules: CompiledRuleSet, request: RunRequest
    ) -> list[tuple[str, str, str, str, int]]:
        """Credits ``(deal, split, person, currency, minor)`` on deals won in the period."""
        end = dt.datetime.combine(request.as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        events = [e for e in self.ledger.events(request.rule_set) if e.event_time < end]
        history = history_from_records(state_history(events, rules), rules, path="stored_history")
        won = {
            history.deal_ids[d]
            for d in np.flatnonzero(
                (history.won_day != NO_DAY)
                & (history.won_day >= date_to_days(request.first))
                & (history.won_day <= date_to_days(request.last))
            ).tolist()
        }
        return [row for row in self.ledger.credit_totals(request.rule_set, end) if row[0] in won]

    def run(
        self, request: RunRequest, record: RevisionRecord, rules: CompiledRuleSet
    ) -> RunOutcome:
        problems = []
        if request.last < request.first:
            problems.append(Violation("last_date", 0, 0, "EMPTY_PERIOD", "ends before it starts"))
        if not request.period:
            problems.append(Violation("period", 0, 0, "REQUIRED", "name the period"))
        if not request.run_key and not request.dry_run:
            problems.append(Violation("run_key", 0, 0, "REQUIRED", "give a run key (or dry_run)"))
        if problems:
            raise InvalidArgumentError("cannot run commission", reason="INVALID_RUN",
                                       violations=problems)  # fmt: skip
        rows = self.bookings(rules, request)
        credit_sha = hashlib.sha256(canonical(rows).encode()).hexdigest()
        plans = rules.plans
        people = sorted({r[2] for r in rows})
        plan_index = {p: _plan_for(plans, p, rules.team_of.get(p)) for p in people}
        # Each person's credits on their plan's split type, in their plan's currency.
        mine = [r for r in rows
                if plan_index[r[2]] < 0 or r[1] == plans[plan_index[r[2]]].split]  # fmt: skip
        mixed = sorted({r[2] for r in mine
                        if plan_index[r[2]] >= 0 and r[3] != plans[plan_index[r[2]]].currency})  # fmt: skip
        if mixed:
            raise InvalidArgumentError(
                "credits in another currency than the person's plan: " + ", ".join(mixed),
                reason="CURRENCY_MIXTURE",
                violations=[Violation("plans", 0, 0, "CURRENCY_MIXTURE", p) for p in mixed],
            )
        targets: dict[str, int] = {}
        for t in rules.targets:
            values = dict(t.group)
            if t.period == request.period and set(values) == {"owner"}:
                targets[values["owner"]] = t.amount_minor
        targets.update(request.targets)
        result = commission_run(
            person=[r[2] for r in mine],
            deal=[r[0] for r in mine],
            credit_minor=np.array([r[4] for r in mine], dtype=np.int64),
            plans={p.spec.id: p.spec for p in plans},
            plan_of={p: plans[i].spec.id for p, i in plan_index.items() if i >= 0},
            target_minor=targets,
            target_incentive_minor={
                p: plans[i].target_incentive_minor or 0 for p, i in plan_index.items() if i >= 0
            },
        )
        statements = self._statements(result, plans, plan_index)
        result_text = canonical({"statements": [statements[p] for p in sorted(statements)]})
        inputs = {"rule_set": record.name, "revision": record.revision,
                  "content": record.content_hash, "period": request.period,
                  "first": request.first.isoformat(), "last": request.last.isoformat(),
                  "as_of": request.as_of.isoformat(), "credits": credit_sha,
                  "targets": sorted(request.targets.items())}  # fmt: skip
        run = StoredRun(
            run_key=request.run_key,
            rule_set=record.name,
            revision=record.revision,
            period=request.period,
            first_date=request.first.isoformat(),
            last_date=request.last.isoformat(),
            as_of_date=request.as_of.isoformat(),
            inputs_sha256=hashlib.sha256(canonical(inputs).encode()).hexdigest(),
            credit_sha256=credit_sha,
            result=result_text,
            result_sha256=hashlib.sha256(result_text.encode()).hexdigest(),
            created_at=self.clock(),
        )
        if request.dry_run:
            return RunOutcome(run, statements, False, True)
        stored, inserted = self.runs.add(run)
        if not inserted:
            if stored.inputs_sha256 != run.inputs_sha256:
                raise AlreadyExistsError(
                    f"run key {request.run_key!r} was used for a run with other inputs",
                    reason="RUN_KEY_REUSED",
                )
            return RunOutcome(stored, self.statements(stored), True, False)
        return RunOutcome(stored, statements, False, False)

    @staticmethod
    def _statements(
        result: RunResult, plans: tuple[CompiledPlan, ...], plan_index: Mapping[str, int]
    ) -> dict[str, Any]:
        out = {}
        for s in result.statements:
            i = plan_index.get(s.person, -1)
            plan = plans[i] if i >= 0 else None
            out[s.person] = _statement_json(s, plan.currency if plan else "",
                                            plan.spec.tiers.basis.value if plan else "")  # fmt: skip
        return out

    @staticmethod
    def statements(run: StoredRun) -> dict[str, Any]:
        return {s["person"]: s for s in json.loads(run.result)["statements"]}


__all__ = ["CommissionRuns", "RunOutcome", "RunRequest", "canonical"]
