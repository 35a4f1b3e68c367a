"""Translation between ``quotient.v1`` credit messages and the credit engine's columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.credit.splits import Basis, PartSource, SplitResult, TeamInput
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ScoreResult
from engine.money import ppm_to_decimal
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import SplitKind
from engine.rules.splits import units_to_ratio
from quotient.v1 import credit_pb2, types_pb2
from service.store.port import RevisionRecord

_KIND = {
    SplitKind.FULL: credit_pb2.SPLIT_KIND_FULL,
    SplitKind.OVERAGE: credit_pb2.SPLIT_KIND_OVERAGE,
}
_BASIS = {
    Basis.RATIO: credit_pb2.CREDIT_BASIS_RATIO,
    Basis.AMOUNT: credit_pb2.CREDIT_BASIS_AMOUNT,
    Basis.REMAINDER: credit_pb2.CREDIT_BASIS_REMAINDER,
}
_SOURCE = {
    PartSource.TEAM: credit_pb2.CREDIT_SOURCE_TEAM,
    PartSource.POLICY: credit_pb2.CREDIT_SOURCE_POLICY,
    PartSource.OWNER_DEFAULT: credit_pb2.CREDIT_SOURCE_OWNER_DEFAULT,
    PartSource.REMAINDER: credit_pb2.CREDIT_SOURCE_REMAINDER,
}


def team_from_proto(deals: Sequence[types_pb2.Deal]) -> TeamInput:
    """Flatten every deal's ``team`` into team rows (``deal`` is the deal's request index)."""
    deal: list[int] = []
    person: list[str] = []
    role: list[str | None] = []
    split: list[str | None] = []
    ratio: list[Any] = []
    amount: list[Any] = []
    for i, d in enumerate(deals):
        for member in d.team:
            share = member.WhichOneof("share")
            deal.append(i)
            person.append(member.person)
            role.append(member.role or None)
            split.append(member.split or None)
            ratio.append(member.ratio if share == "ratio" else None)
            amount.append(member.amount_minor if share == "amount_minor" else None)
    return TeamInput(deal, person, role, split, ratio, amount)


def credits_to_proto(
    rules: CompiledRuleSet,
    batch: DealBatch,
    scores: ScoreResult,
    result: SplitResult,
    currencies: Sequence[str],
    record: RevisionRecord,
) -> credit_pb2.SplitCreditsResponse:
    """Build the response: one ``DealCredits`` per deal in request order, parts in result order."""
    types = rules.splits.types
    response = credit_pb2.SplitCreditsResponse(
        rule_set=record.name, revision=record.revision, failed_count=len(result.errors)
    )
    problems = {e.index: e for e in result.errors}
    amount = batch.frame["amount_minor"].values.tolist()
    weighted = scores.weighted_amount_minor.tolist()
    ppm = scores.win_prob_ppm.tolist()
    out = [
        response.deals.add(index=i, deal_id=deal_id, currency=currencies[i])
        for i, deal_id in enumerate(batch.ids)
    ]
    for i, message in enumerate(out):
        problem = problems.get(i)
        if problem is not None:
            message.problem.CopyFrom(
                types_pb2.DealProblem(
                    reason=problem.reason, field=problem.field, message=problem.message
                )
            )
        else:
            message.amount_minor = amount[i]
            message.weighted_amount_minor = weighted[i]
            message.win_prob = str(ppm_to_decimal(ppm[i]))
    columns = zip(
        result.deal.tolist(),
        result.split.tolist(),
        result.person,
        result.role,
        result.basis.tolist(),
        result.source.tolist(),
        result.ratio_units.tolist(),
        result.fixed_minor.tolist(),
        result.credit_minor.tolist(),
        result.weighted_credit_minor.tolist(),
        result.policy,
        strict=True,
    )
    for d, s, person, role, basis, source, units, fixed, credit, wcredit, policy in columns:
        out[d].parts.add(
            person=person,
            role=role,
            split=types[s].id,
            kind=_KIND[types[s].kind],
            basis=_BASIS[Basis(basis)],
            ratio=str(units_to_ratio(units)) if basis == Basis.RATIO else "",
            fixed_amount_minor=fixed,
            credit_minor=credit,
            weighted_credit_minor=wcredit,
            source=_SOURCE[PartSource(source)],
            policy=policy,
        )
    return response


__all__ = ["credits_to_proto", "team_from_proto"]
