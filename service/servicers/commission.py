"""``quotient.v1.CommissionService``: run commission for a period, read runs and statements back."""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from engine.commission.compare import compare_statements
from engine.errors import InvalidArgumentError, NotFoundError, Violation
from quotient.v1 import commission_pb2, commission_pb2_grpc
from service.commission_runs import CommissionRuns, RunOutcome, RunRequest
from service.convert import parse_date
from service.repository import RuleSetRepository
from service.store.payments import Payment
from service.store.runs import StoredRun


def _run_to_proto(outcome: RunOutcome) -> commission_pb2.CommissionRun:
    run = outcome.run
    created = Timestamp()
    created.FromDatetime(run.created_at)
    statements = outcome.statements
    message = commission_pb2.CommissionRun(
        run_key=run.run_key,
        rule_set=run.rule_set,
        revision=run.revision,
        period=run.period,
        first_date=run.first_date,
        last_date=run.last_date,
        as_of_date=run.as_of_date,
        credit_sha256=run.credit_sha256,
        result_sha256=run.result_sha256,
        created_at=created,
        dry_run=outcome.dry_run,
        already_existed=outcome.already_existed,
        empty=not statements,
        total_pay_minor=sum(s["pay_minor"] for s in statements.values()),
        previous_run_key=previous_key(run),
    )
    for person in sorted(statements):
        s = statements[person]
        message.people.add(person=person, plan=s["plan"], currency=s["currency"],
                           base_minor=s["base_minor"], pay_minor=s["pay_minor"],
                           flags=s["flags"], earned_minor=s.get("earned_minor", s["pay_minor"]))  # fmt: skip
    return message


def _statement_to_proto(run_key: str, s: dict[str, Any]) -> commission_pb2.Statement:
    message = commission_pb2.Statement(
        run_key=run_key, person=s["person"], plan=s["plan"], currency=s["currency"],
        base_minor=s["base_minor"], pay_minor=s["pay_minor"], flags=s["flags"],
        plan_rule=s.get("plan_rule", ""), commission_minor=s.get("commission_minor", 0),
        earned_minor=s.get("earned_minor", 0),
    )  # fmt: skip
    if s["target_minor"] is not None:
        message.target_minor = s["target_minor"]
    if s["attainment_ppm"] is not None:
        message.attainment_ppm = s["attainment_ppm"]
    for t in s["tiers"]:
        tier = message.tiers.add(tier=t["tier"], lower=t["lower"], mode=t["mode"], basis=t["basis"],
                                 rate_ppm=t["rate_ppm"], base_in_tier=t["base_in_tier"],
                                 pay_minor=t["pay_minor"], decelerator=t.get("decelerator", False),
                                 rule=t.get("rule", ""))  # fmt: skip
        if t["upper"] is not None:
            tier.upper = t["upper"]
    for a in s["adjustments"]:
        message.adjustments.add(reason=a["reason"], amount_minor=a["amount_minor"],
                                rule=a.get("rule", ""))  # fmt: skip
    for d in s["deals"]:
        message.deals.add(deal_id=d["deal_id"], credit_minor=d["credit_minor"],
                          commission_minor=d["commission_minor"],
                          base_minor=d.get("base_minor", d["credit_minor"]),
                          spiff_minor=d.get("spiff_minor", 0), rule=d.get("rule", ""))  # fmt: skip
    for b in s.get("bonuses", []):
        message.bonuses.add(kind=b["kind"], id=b["id"], deal_id=b["deal_id"],
                            amount_minor=b["amount_minor"], rule=b["rule"])  # fmt: skip
    for c in s.get("clawbacks", []):
        message.clawbacks.add(**c)
    if "settlement" in s:
        message.settlement.CopyFrom(commission_pb2.StatementSettlement(**s["settlement"]))
    for span in s.get("spans", []):
        message.spans.add(**span)
    return message


def previous_key(run: StoredRun) -> str:
    return str(json.loads(run.result).get("previous_run_key", ""))


class CommissionServicer(commission_pb2_grpc.CommissionServiceServicer):
    """Implements CommissionService over the rule sets and :class:`CommissionRuns`."""

    def __init__(self, repository: RuleSetRepository, runs: CommissionRuns) -> None:
        self.repository = repository
        self.runs = runs

    def RunCommission(
        self, request: commission_pb2.RunCommissionRequest, context: grpc.ServicerContext
    ) -> commission_pb2.CommissionRun:
        first = parse_date(request.first_date, "first_date")
        last = parse_date(request.last_date, "last_date")
        if first is None or last is None:
            missing = [f for f, v in (("first_date", first), ("last_date", last)) if v is None]
            raise InvalidArgumentError(
                "a run needs the period's first and last dates",
                reason="INVALID_RUN",
                violations=[Violation(f, 0, 0, "REQUIRED", "YYYY-MM-DD") for f in missing],
            )
        as_of = parse_date(request.as_of_date, "as_of_date") or self.repository.clock().date()
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        targets = {t.person: t.target_minor for t in request.targets}
        outcome = self.runs.run(
            RunRequest(
                request.rule_set,
                request.period,
                first,
                last,
                as_of,
                request.run_key,
                request.dry_run,
                targets,
                request.previous_run_key,
            ),
            record,
            rules,
        )
        return _run_to_proto(outcome)

    def GetCommissionRun(
        self, request: commission_pb2.GetCommissionRunRequest, context: grpc.ServicerContext
    ) -> commission_pb2.CommissionRun:
        run = self.runs.runs.get(request.run_key)
        return _run_to_proto(RunOutcome(run, self.runs.statements(run), True, False))

    def GetStatement(
        self, request: commission_pb2.GetStatementRequest, context: grpc.ServicerContext
    ) -> commission_pb2.Statement:
        run = self.runs.runs.get(request.run_key)
        statements = self.runs.statements(run)
        if request.person not in statements:
            raise NotFoundError(
                f"run {request.run_key!r} has no statement for {request.person!r}",
                reason="STATEMENT_NOT_FOUND",
            )
        return _statement_to_proto(run.run_key, statements[request.person])

    def CompareRuns(
        self, request: commission_pb2.CompareRunsRequest, context: grpc.ServicerContext
    ) -> commission_pb2.RunComparison:
        before = self.runs.runs.get(request.before_run_key)
        after = self.runs.runs.get(request.after_run_key)
        old, new = self.runs.statements(before), self.runs.statements(after)
        reasons = [
            reason
            for reason, differs in (
                ("REVISION_CHANGED", (before.rule_set, before.revision)
                 != (after.rule_set, after.revision)),
                ("PERIOD_CHANGED", (before.period, before.first_date, before.last_date)
                 != (after.period, after.first_date, after.last_date)),
                ("AS_OF_CHANGED", before.as_of_date != after.as_of_date),
                ("CREDITS_CHANGED", before.credit_sha256 != after.credit_sha256),
            )
            if differs
        ]  # fmt: skip
        response = commission_pb2.RunComparison(
            before_run_key=before.run_key,
            after_run_key=after.run_key,
            run_reasons=reasons,
            total_pay_before_minor=sum(s["pay_minor"] for s in old.values()),
            total_pay_after_minor=sum(s["pay_minor"] for s in new.values()),
        )
        for change in compare_statements(old, new):
            a, b = change.before or {}, change.after or {}
            person = response.people.add(
                person=change.person, plan_before=a.get("plan", ""), plan_after=b.get("plan", ""),
                base_before_minor=a.get("base_minor", 0), base_after_minor=b.get("base_minor", 0),
                pay_before_minor=a.get("pay_minor", 0), pay_after_minor=b.get("pay_minor", 0),
                reasons=list(change.reasons),
            )  # fmt: skip
            if a.get("target_minor") is not None:
                person.target_before_minor = a["target_minor"]
            if b.get("target_minor") is not None:
                person.target_after_minor = b["target_minor"]
            for d in change.deals:
                person.deals.add(deal_id=d.deal_id, credit_before_minor=d.credit_before_minor,
                                 credit_after_minor=d.credit_after_minor,
                                 commission_before_minor=d.commission_before_minor,
                                 commission_after_minor=d.commission_after_minor)  # fmt: skip
        return response

    def RecordPayments(
        self, request: commission_pb2.RecordPaymentsRequest, context: grpc.ServicerContext
    ) -> commission_pb2.RecordPaymentsResponse:
        payments = []
        for i, p in enumerate(request.payments):
            day = parse_date(p.paid_date, f"payments[{i}].paid_date")
            if day is None:
                raise InvalidArgumentError(
                    "every payment needs its date", reason="INVALID_PAYMENTS",
                    violations=[Violation(f"payments[{i}].paid_date", 0, 0, "REQUIRED",
                                          "YYYY-MM-DD")],
                )  # fmt: skip
            kind = {commission_pb2.PAYMENT_KIND_PAYMENT: "PAYMENT",
                    commission_pb2.PAYMENT_KIND_REFUND: "REFUND"}.get(p.kind, "")  # fmt: skip
            payments.append(Payment(p.payment_id, p.deal_id, day, p.amount_minor, p.currency,
                                    kind))  # fmt: skip
        recorded, duplicates = self.runs.record_payments(request.rule_set, payments)
        return commission_pb2.RecordPaymentsResponse(
            recorded_count=recorded, duplicate_count=duplicates
        )


__all__ = ["CommissionServicer"]
