"""Commission runs over the store: gather a period's lines, run the plans, settle, keep the run.

Each person is paid under the first plan of the rule set in force that covers them (by name,
team, role or region), on that plan's split type, against their target (the request's, else the
rule set's ``targets`` item for ``{owner: person}`` and the period's label). Where another plan
takes over inside the period (:func:`plan_spans`), the period is cut into spans, each paid as a
period of its own on the lines dated within it, against the target and target incentive prorated
by its days; the person's statement joins the spans and is settled once.
A plan's lines (:mod:`engine.commission.lines`) are, per deal and person:

* ``bookings``: the credit on deals won within the period (the first day each deal's recorded
  events put it in a won stage);
* ``collections``: the part of the credit paid in the period, pro rata, on won deals;
* ``margin``: the credit on deals won within the period times the deal's margin field.

Segments and SPIFFs read the deals' fields as of the as-of day. The run before this one (see
:mod:`service.commission_inputs`) opens the balances (negative balances carried forward, draws to
recover, the holdback reserve); deals cancelled or refunded within the period give back what the
earlier runs paid on them (:mod:`engine.commission.settlement`).

A run's results are canonical JSON (sorted keys, exact integers, fractions as text): the same
inputs give the same bytes, hashed into ``result_sha256``. Runs are stored immutably under the
caller's run key; the key again with the same inputs returns the stored run, with other inputs it
is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from engine.commission.lines import collected_base_minor, margin_base_minor, spiff_awards
from engine.commission.run import Awards, Statement
from engine.commission.settlement import Opening, Reserve, Settlement, clawback_minor
from engine.errors import AlreadyExistsError, InvalidArgumentError, Violation
from engine.forecast.history import NO_DAY
from engine.frame import date_to_days, days_to_date
from engine.money import divide_half_even
from engine.rules.compiler import CompiledPlan, CompiledRuleSet
from service.batch import Executor, InProcess, Progress, log_progress
from service.commission_batch import CommissionJob, Payees, PlanSpan, draw_in_force, run_all
from service.commission_inputs import (
    Deals,
    load_deals,
    paid_by_deal,
    paid_to_date,
    previous_run,
)
from service.deadlines import check_deadline
from service.store.ledger import LedgerStore
from service.store.payments import Payment, PaymentStore
from service.store.port import RevisionRecord
from service.store.runs import RunStore, StoredRun

_PPM = 1_000_000


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
    previous_run_key: str = ""


@dataclass(frozen=True)
class RunOutcome:
    run: StoredRun
    statements: dict[str, Any]  # person -> statement as stored (JSON-ready)
    already_existed: bool
    dry_run: bool


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plan_for(rules: CompiledRuleSet, person: str, day: dt.date) -> int:
    """The index of the first plan in force on ``day`` that covers ``person`` (-1: none)."""
    decl = rules.people.get(person)
    role, region = (decl.role, decl.region) if decl is not None else (None, None)
    team = rules.team_of.get(person)
    return next(
        (i for i, p in enumerate(rules.plans)
         if p.in_force(day) and p.covers(person, team, role, region)),
        -1,
    )  # fmt: skip


def plan_spans(
    rules: CompiledRuleSet, person: str, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date, int]]:
    """The period's days cut where the plan covering ``person`` changes (a plan's
    ``effective_from`` or the day after its ``effective_until`` inside the period): ``(first
    day, last day, plan index or -1)`` per span, in order; one span when nothing changes."""
    one = dt.timedelta(days=1)
    edges = {d for p in rules.plans
             for d in (p.effective_from, p.effective_until + one if p.effective_until else None)
             if d is not None and first < d <= last}  # fmt: skip
    cuts = sorted(edges)
    out: list[tuple[dt.date, dt.date, int]] = []
    for start, end in zip([first, *cuts], [*(c - one for c in cuts), last], strict=True):
        k = plan_for(rules, person, start)
        if out and out[-1][2] == k:
            out[-1] = (out[-1][0], end, k)
        else:
            out.append((start, end, k))
    return out


@dataclass
class _Lines:
    """The run's credit lines, column by column."""

    person: list[str]
    deal: list[str]
    deal_index: list[int]
    credit: list[int]
    base: list[int]
    plan: list[int]  # index into the rule set's plans, -1: none
    span: list[int]  # the line's span among its person's (0 without a plan switch)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.array(self.deal_index, np.int64), np.array(self.credit, np.int64),
                np.array(self.base, np.int64))  # fmt: skip


def _statement_json(
    s: Statement, plan: CompiledPlan | None, settled: Settlement, i: int,
    clawbacks: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    """A person's statement as stored: every figure with the plan rule that produced it."""
    path = plan.path if plan else ""
    basis = plan.spec.tiers.basis.value if plan else ""
    adjustment_rule = {
        "BELOW_THRESHOLD": "threshold",
        "SEGMENT_RATES": "segments",
        "CAP": "cap",
        "DEAL_CAP": "cap.per_deal",
    }

    def figure(name: str) -> int:
        return int(getattr(settled, name)[i])

    return {
        "person": s.person,
        "plan": s.plan,
        "plan_rule": path,
        "currency": plan.currency if plan else "",
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
                "decelerator": t.decelerator,
                "rule": f"{path}.tiers.rows[{t.tier}]",
            }
            for t in s.tiers
        ],
        "adjustments": [
            {
                "reason": a.reason,
                "amount_minor": a.amount_minor,
                "rule": f"{path}.{adjustment_rule[a.reason]}",
            }
            for a in s.adjustments
        ],
        "deals": [
            {
                "deal_id": d.deal,
                "credit_minor": d.credit_minor,
                "base_minor": d.base_minor,
                "commission_minor": d.commission_minor,
                "spiff_minor": d.spiff_minor,
                "rule": f"{path}.{d.rule}" if path else "",
            }
            for d in s.deals
        ],
        "bonuses": [
            {
                "kind": b.kind,
                "id": b.id,
                "deal_id": b.deal,
                "amount_minor": b.amount_minor,
                "rule": f"{path}.{'milestones' if b.kind == 'MILESTONE' else 'spiffs'}.{b.id}",
            }
            for b in s.bonuses
        ],
        "commission_minor": s.commission_minor,
        "earned_minor": s.earned_minor,
        "clawbacks": clawbacks,
        "settlement": {
            "clawback_minor": figure("clawback_minor"),
            "clawback_from_reserve_minor": figure("clawback_from_reserve_minor"),
            "clawback_from_pay_minor": figure("clawback_from_pay_minor"),
            "withheld_minor": figure("withheld_minor"),
            "released_minor": figure("released_minor"),
            "carry_in_minor": figure("carry_in_minor"),
            "carry_out_minor": figure("carry_out_minor"),
            "draw_top_up_minor": figure("draw_top_up_minor"),
            "draw_recovered_minor": figure("draw_recovered_minor"),
            "draw_balance_minor": int(settled.closing.draw_balance_minor[i]),
        },
        "pay_minor": figure("pay_minor"),
        "flags": list(s.flags)
        + [
            flag
            for flag, on in (
                ("CLAWBACK", bool(clawbacks)),
                ("NEGATIVE_BALANCE", figure("carry_out_minor") < 0),
                ("DRAW", figure("draw_top_up_minor") > 0),
            )
            if on
        ],
    }


def _switched_json(
    person: str, parts: list[dict[str, Any]], spans: Sequence[PlanSpan], target: int | None
) -> dict[str, Any]:
    """The statement of a person whose plan changed inside the period, from the statements of
    its spans (each calculated as a period of its own): the lines, tiers, adjustments and
    bonuses of every span (each line's rule names its plan), their sums, and the spans; the
    plan named is the one in force at the period's end, the settlement is the person's."""
    last = parts[-1]
    base = sum(p["base_minor"] for p in parts)
    merged = dict(last)
    merged.update(
        person=person,
        currency=next((p["currency"] for p in reversed(parts) if p["currency"]), ""),
        base_minor=base,
        target_minor=target,
        attainment_ppm=base * _PPM // target if target and target > 0 else None,  # floor
        tiers=[t for p in parts for t in p["tiers"]],
        adjustments=[a for p in parts for a in p["adjustments"]],
        deals=[d for p in parts for d in p["deals"]],
        bonuses=[b for p in parts for b in p["bonuses"]],
        commission_minor=sum(p["commission_minor"] for p in parts),
        earned_minor=sum(p["earned_minor"] for p in parts),
        flags=[*dict.fromkeys(f for p in parts for f in p["flags"]), "PLAN_SWITCH"],
        spans=[
            {
                "first_date": days_to_date(span.first_day).isoformat(),
                "last_date": days_to_date(span.last_day).isoformat(),
                "plan": p["plan"],
                "plan_rule": p["plan_rule"],
                "target_minor": p["target_minor"],
                "attainment_ppm": p["attainment_ppm"],
                "base_minor": p["base_minor"],
                "commission_minor": p["commission_minor"],
                "earned_minor": p["earned_minor"],
                "flags": [f for f in p["flags"] if f not in _PERSON_FLAGS],
            }
            for p, span in zip(parts, spans, strict=True)
        ],
    )
    return merged


#: Flags of the person's settlement, not of a span's calculation.
_PERSON_FLAGS = {"CLAWBACK", "NEGATIVE_BALANCE", "DRAW"}


def _opening(names: tuple[str, ...], closing: Mapping[str, Any]) -> Opening:
    """Balances brought in from the previous run's closing section."""
    n = len(names)
    carry = np.array([closing.get(p, {}).get("carry_minor", 0) for p in names], np.int64)
    balance = np.array([closing.get(p, {}).get("draw_balance_minor", 0) for p in names], np.int64)
    who, due, amount = [], [], []
    for i, p in enumerate(names):
        for day, minor in closing.get(p, {}).get("reserve", []):
            who.append(i)
            due.append(date_to_days(dt.date.fromisoformat(day)))
            amount.append(minor)
    reserve = Reserve(np.array(who, np.int64), np.array(due, np.int64), np.array(amount, np.int64))
    return Opening(carry, balance, reserve) if n else Opening.zero(0)


def _closing(names: tuple[str, ...], settled: Settlement) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    c = settled.closing
    for i, p in enumerate(names):
        entry: dict[str, Any] = {}
        if c.carry_minor[i]:
            entry["carry_minor"] = int(c.carry_minor[i])
        if c.draw_balance_minor[i]:
            entry["draw_balance_minor"] = int(c.draw_balance_minor[i])
        rows = np.flatnonzero(c.reserve.person == i)
        if rows.size:
            rows = rows[np.argsort(c.reserve.due_day[rows], kind="stable")]
            entry["reserve"] = [[days_to_date(int(c.reserve.due_day[r])).isoformat(),
                                 int(c.reserve.amount_minor[r])] for r in rows.tolist()]  # fmt: skip
        if entry:
            out[p] = entry
    return out


class CommissionRuns:
    """Runs commission over the store's credits and payments and keeps the runs."""

    def __init__(
        self,
        ledger: LedgerStore,
        runs: RunStore,
        clock: Callable[[], dt.datetime],
        payments: PaymentStore | None = None,
        batch: Executor | None = None,
    ) -> None:
        self.ledger = ledger
        self.runs = runs
        self.clock = clock
        self.payments = payments if payments is not None else PaymentStore(ledger.db)
        #: Where the calculation runs (split by payee on a cluster; see service.commission_batch).
        self.batch = batch if batch is not None else InProcess()

    def record_payments(self, rule_set: str, payments: list[Payment]) -> tuple[int, int]:
        """Check and record payments and refunds: ``(recorded, duplicates)``."""
        problems = []
        if not rule_set:
            problems.append(Violation("rule_set", 0, 0, "REQUIRED", "name the rule set"))
        seen: set[str] = set()
        for i, p in enumerate(payments):
            where = f"payments[{i}]"
            if not p.payment_id:
                problems.append(Violation(f"{where}.payment_id", 0, 0, "REQUIRED", "give an id"))
            elif p.payment_id in seen:
                problems.append(Violation(f"{where}.payment_id", 0, 0, "DUPLICATE_ID",
                                          "the id is used twice in the batch"))  # fmt: skip
            seen.add(p.payment_id)
            if not p.deal_id:
                problems.append(Violation(f"{where}.deal_id", 0, 0, "REQUIRED", "name the deal"))
            if p.amount_minor <= 0:
                problems.append(Violation(f"{where}.amount_minor", 0, 0, "INVALID_AMOUNT",
                                          "positive (a refund: the amount given back)"))  # fmt: skip
            if p.kind not in ("PAYMENT", "REFUND"):
                problems.append(Violation(f"{where}.kind", 0, 0, "INVALID_KIND",
                                          "PAYMENT or REFUND"))  # fmt: skip
            if len(p.currency) != 3:
                problems.append(Violation(f"{where}.currency", 0, 0, "INVALID_CURRENCY",
                                          "an ISO 4217 code"))  # fmt: skip
        if problems:
            raise InvalidArgumentError("cannot record the payments", reason="INVALID_PAYMENTS",
                                       violations=problems)  # fmt: skip
        return self.payments.add(rule_set, payments, self.clock())

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
        end = dt.datetime.combine(request.as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        deals = load_deals(self.ledger, rules, request.rule_set, end)
        check_deadline("while the deals were read")
        credits = self.ledger.credit_totals(request.rule_set, end)
        payments = self.payments.through(request.rule_set, request.as_of)
        previous = previous_run(self.runs, request.rule_set, request.first,
                                request.previous_run_key)  # fmt: skip
        closing_in: Mapping[str, Any] = (
            json.loads(previous.result).get("closing", {}) if previous else {}
        )
        data_sha = hashlib.sha256(canonical(
            [credits, [[p.payment_id, *p.payload()] for p in payments]]).encode()).hexdigest()  # fmt: skip
        first_day, last_day = date_to_days(request.first), date_to_days(request.last)
        plan_cache: dict[str, int] = {}
        span_cache: dict[str, list[tuple[dt.date, dt.date, int]]] = {}

        def plan_index(person: str) -> int:
            if person not in plan_cache:
                plan_cache[person] = plan_for(rules, person, request.last)
            return plan_cache[person]

        def spans_of(person: str) -> list[tuple[dt.date, dt.date, int]]:
            if person not in span_cache:
                span_cache[person] = plan_spans(rules, person, request.first, request.last)
            return span_cache[person]

        lines, mixed = self._lines(rules, request, deals, credits, payments, spans_of)
        if mixed:
            raise InvalidArgumentError(
                "credits in another currency than the person's plan: " + ", ".join(mixed),
                reason="CURRENCY_MIXTURE",
                violations=[Violation("plans", 0, 0, "CURRENCY_MIXTURE", p) for p in mixed],
            )
        deal_index, credit, base = lines.arrays()
        line_plan = np.array(lines.plan, np.int64)
        segment, awards = self._segments_and_spiffs(rules, deals, line_plan, deal_index, credit,
                                                    first_day, last_day)  # fmt: skip
        claw_rows = self._clawbacks(rules, request, deals, payments, previous, plan_index)
        payees = set(closing_in) | {r["person"] for r in claw_rows}
        for person in set(rules.people) | {p for plan in rules.plans for p in plan.people}:
            k = plan_index(person)
            if k >= 0 and draw_in_force(rules.plans[k], last_day):
                payees.add(person)
        targets: dict[str, int] = {}
        for t in rules.targets:
            values = dict(t.group)
            if t.period == request.period and set(values) == {"owner"}:
                targets[values["owner"]] = t.amount_minor
        targets.update(request.targets)
        everyone = sorted(set(lines.person) | payees)
        claws_of: dict[str, list[dict[str, Any]]] = {}
        for row in claw_rows:
            claws_of.setdefault(row.pop("person"), []).append(row)
        plan_of = {p: plan_index(p) for p in everyone if plan_index(p) >= 0}
        period_days = (request.last - request.first).days + 1
        switched = {
            p: tuple(
                PlanSpan(date_to_days(a), date_to_days(b), k,
                         None if targets.get(p) is None
                         else divide_half_even(targets[p] * ((b - a).days + 1), period_days),
                         divide_half_even((rules.plans[k].target_incentive_minor or 0)
                                          * ((b - a).days + 1), period_days) if k >= 0 else 0)
                for a, b, k in spans_of(p))
            for p in everyone if len(spans_of(p)) > 1
        }  # fmt: skip
        statements, closing = run_all(
            self.batch,
            CommissionJob.of(rules.plans, last_day),
            Payees(tuple(everyone), plan_of, lines.person, lines.deal, credit, base, segment,
                   awards, tuple(sorted(payees)), targets,
                   {p: closing_in[p] for p in everyone if p in closing_in}, claws_of,
                   np.array(lines.span, np.int64), switched),
            progress=self._progress(request),
        )  # fmt: skip
        check_deadline("while the run was calculated")
        result_text = canonical({
            "statements": [statements[p] for p in sorted(statements)],
            "closing": closing,
            "previous_run_key": previous.run_key if previous else "",
        })  # fmt: skip
        inputs = {"rule_set": record.name, "revision": record.revision,
                  "content": record.content_hash, "period": request.period,
                  "first": request.first.isoformat(), "last": request.last.isoformat(),
                  "as_of": request.as_of.isoformat(), "credits": data_sha,
                  "targets": sorted(request.targets.items()),
                  "previous": [previous.run_key, previous.result_sha256] if previous else []}  # fmt: skip
        run = StoredRun(
            run_key=request.run_key,
            rule_set=record.name,
            revision=record.revision,
            period=request.period,
            first_date=request.first.isoformat(),
            last_date=request.last.isoformat(),
            as_of_date=request.as_of.isoformat(),
            inputs_sha256=hashlib.sha256(canonical(inputs).encode()).hexdigest(),
            credit_sha256=data_sha,
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

    def _progress(self, request: RunRequest) -> Progress:
        """Logs a large run's progress, and stops it once the caller's deadline has passed."""
        log = log_progress(f"commission run {request.run_key or '(dry run)'} {request.period}")

        def report(done: int, total: int) -> None:
            log(done, total)
            check_deadline("while the run was calculated")

        return report

    @staticmethod
    def _lines(
        rules: CompiledRuleSet, request: RunRequest, deals: Deals,
        credits: list[tuple[str, str, str, str, int]], payments: list[Payment],
        spans_of: Callable[[str], list[tuple[dt.date, dt.date, int]]],
    ) -> tuple[_Lines, list[str]]:  # fmt: skip
        """Each person's lines, span by span, on the span's plan's split type and base (a
        booking in the span of its won day, cash in the span it was paid in), and the people
        whose credits are in another currency than their plan."""
        won = deals.won_day
        cash: dict[tuple[dt.date, dt.date], tuple[np.ndarray, np.ndarray]] = {}
        lines = _Lines([], [], [], [], [], [], [])
        kinds: list[str] = []
        paid_before: list[int] = []
        paid_through: list[int] = []
        mixed: set[str] = set()
        in_days: dict[str, list[tuple[dt.date, dt.date, int, int, int]]] = {}
        for deal, split, person, currency, minor in credits:
            i = deals.index.get(deal)
            if i is None:
                continue
            if person not in in_days:
                in_days[person] = [(a, b, date_to_days(a), date_to_days(b), k)
                                   for a, b, k in spans_of(person)]  # fmt: skip
            for s, (a, b, a_day, b_day, k) in enumerate(in_days[person]):
                plan = rules.plans[k] if k >= 0 else None
                if plan is not None and split != plan.split:
                    continue
                kind = plan.base if plan is not None else "bookings"
                early = late = 0
                if kind == "collections":
                    if (a, b) not in cash:
                        cash[(a, b)] = paid_to_date(payments, deals.index, a, b)
                    before, through = cash[(a, b)]
                    early, late = int(before[i]), int(through[i])
                    if not (late > early and won[i] != NO_DAY and won[i] <= b_day):
                        continue
                elif not (won[i] != NO_DAY and a_day <= won[i] <= b_day):
                    continue
                if plan is not None and currency != plan.currency:
                    mixed.add(person)
                lines.person.append(person)
                lines.deal.append(deal)
                lines.deal_index.append(i)
                lines.credit.append(minor)
                lines.base.append(minor)
                lines.plan.append(k)
                lines.span.append(s)
                paid_before.append(early)
                paid_through.append(late)
                kinds.append(kind if plan is None else f"{kind}:{plan.margin_field or ''}")
        deal_index, credit, base = lines.arrays()
        kind_of = np.array(kinds, dtype=object)
        is_collection = np.array([k.startswith("collections") for k in kinds], np.bool_)
        if is_collection.any():
            d = deal_index[is_collection]
            base[is_collection] = collected_base_minor(
                credit[is_collection], deals.amount_minor[d],
                np.array(paid_before, np.int64)[is_collection],
                np.array(paid_through, np.int64)[is_collection],
            )  # fmt: skip
        for field in sorted({k.split(":", 1)[1] for k in kinds if k.startswith("margin:")}):
            rows = kind_of == f"margin:{field}"
            ratio = np.array(
                [_ppm(deals.records[i].get(field)) for i in deal_index[rows]], np.int64
            )
            base[rows] = margin_base_minor(credit[rows], ratio)
        lines.base = base.tolist()
        return lines, sorted(mixed)

    @staticmethod
    def _segments_and_spiffs(
        rules: CompiledRuleSet, deals: Deals, line_plan: np.ndarray, deal_index: np.ndarray,
        credit: np.ndarray, first_day: int, last_day: int,
    ) -> tuple[np.ndarray, Awards]:  # fmt: skip
        """Each line's segment in its plan (the first whose condition its deal meets), and the
        SPIFFs of deals won in the period."""
        segment = np.full(line_plan.size, -1, dtype=np.int64)
        frame = deals.batch.frame
        won = deals.won_day
        won_in = (won != NO_DAY) & (won >= first_day) & (won <= last_day)
        spiffs: list[tuple[str, int, np.ndarray]] = []
        for k, plan in enumerate(rules.plans):
            mine = line_plan == k
            if not mine.any():
                continue
            for j, condition in reversed(list(enumerate(plan.segment_conditions))):
                hit = condition.evaluate(frame)[deal_index] & mine
                segment[hit] = j  # the first matching segment is written last
            for spiff_id, amount, condition in plan.spiffs:
                hit = condition.evaluate(frame)[deal_index] & mine & won_in[deal_index]
                spiffs.append((spiff_id, amount, hit))
        amounts = deals.amount_minor[deal_index] if deal_index.size else np.zeros(0, np.int64)
        return segment, spiff_awards(credit, amounts, spiffs)

    def _clawbacks(
        self, rules: CompiledRuleSet, request: RunRequest, deals: Deals, payments: list[Payment],
        previous: StoredRun | None, plan_index: Callable[[str], int],
    ) -> list[dict[str, Any]]:  # fmt: skip
        """A row per (person, deal) whose commission comes back in this period."""
        first_day, last_day = date_to_days(request.first), date_to_days(request.last)
        won, cancel = deals.won_day, deals.cancel_day
        cancelled = (won != NO_DAY) & (cancel >= first_day) & (cancel <= last_day)
        refunded: dict[int, int] = {}
        refund_day: dict[int, int] = {}
        for p in payments:
            i = deals.index.get(p.deal_id)
            day = date_to_days(p.paid_date)
            in_period = first_day <= day <= last_day
            if (
                p.kind == "REFUND"
                and i is not None
                and in_period
                and won[i] != NO_DAY
                and not cancelled[i]
            ):
                refunded[i] = refunded.get(i, 0) + p.amount_minor
                refund_day[i] = max(refund_day.get(i, day), day)
        hit = set(np.flatnonzero(cancelled).tolist()) | set(refunded)
        if not hit or previous is None:
            return []
        since = days_to_date(int(min(won[i] for i in hit)))
        paid = paid_by_deal(self.runs, previous, {deals.ids[i] for i in hit}, since)
        rows = []
        for (person, deal), minor in sorted(paid.items()):
            k = plan_index(person)
            terms = rules.plans[k].spec.clawback if k >= 0 else None
            if minor <= 0 or terms is None:
                continue
            i = deals.index[deal]
            rows.append((person, deal, i, minor, terms.window_days, terms.pro_rata,
                         rules.plans[k].path))  # fmt: skip
        if not rows:
            return []
        index = np.array([r[2] for r in rows], np.int64)
        event = np.array([cancel[i] if cancelled[i] else refund_day[i] for i in index.tolist()],
                         np.int64)  # fmt: skip
        back = clawback_minor(
            np.array([r[3] for r in rows], np.int64), won[index], event,
            np.array([r[4] for r in rows], np.int64), np.array([r[5] for r in rows]),
            np.array([0 if cancelled[i] else refunded[i] for i in index.tolist()], np.int64),
            deals.amount_minor[index],
        )  # fmt: skip
        out = []
        for r, amount, day in zip(rows, back.tolist(), event.tolist(), strict=True):
            if amount:
                out.append({
                    "person": r[0], "deal_id": r[1],
                    "reason": "CANCELLED" if cancelled[r[2]] else "REFUNDED",
                    "won_date": days_to_date(int(won[r[2]])).isoformat(),
                    "event_date": days_to_date(day).isoformat(),
                    "paid_minor": r[3], "amount_minor": amount, "rule": f"{r[6]}.clawback",
                })  # fmt: skip
        return out

    @staticmethod
    def statements(run: StoredRun) -> dict[str, Any]:
        return {s["person"]: s for s in json.loads(run.result)["statements"]}


def _ppm(value: Any) -> int:
    """A margin ratio (decimal text or number) in ppm, rounded half to even; none: 0."""
    if value is None or value == "":
        return 0
    return int((Decimal(str(value)) * _PPM).to_integral_value(rounding=ROUND_HALF_EVEN))


__all__ = ["CommissionRuns", "RunOutcome", "RunRequest", "canonical", "plan_for"]
