"""Translation between ``quotient.v1`` credit messages and the credit engine's columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from engine.credit.ledger import DealEvent, EventKind, LedgerLine
from engine.credit.splits import Basis, PartSource, SplitResult, TeamInput
from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ScoreResult
from engine.money import ppm_to_decimal
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import SplitKind
from engine.rules.splits import units_to_ratio
from quotient.v1 import credit_pb2, types_pb2
from service.convert import CATEGORY_NAMES, attribute_value
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


_EVENT_KINDS = {
    credit_pb2.DEAL_EVENT_KIND_CREATED: EventKind.CREATED,
    credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED: EventKind.STAGE_CHANGED,
    credit_pb2.DEAL_EVENT_KIND_AMOUNT_CHANGED: EventKind.AMOUNT_CHANGED,
    credit_pb2.DEAL_EVENT_KIND_PARTICIPANTS_CHANGED: EventKind.PARTICIPANTS_CHANGED,
    credit_pb2.DEAL_EVENT_KIND_WON: EventKind.WON,
    credit_pb2.DEAL_EVENT_KIND_LOST: EventKind.LOST,
    credit_pb2.DEAL_EVENT_KIND_REOPENED: EventKind.REOPENED,
    credit_pb2.DEAL_EVENT_KIND_CANCELLED: EventKind.CANCELLED,
}


def _team(deal: types_pb2.Deal) -> list[dict[str, Any]]:
    out = []
    for m in deal.team:
        member: dict[str, Any] = {"person": m.person}
        if m.role:
            member["role"] = m.role
        if m.split:
            member["split"] = m.split
        ratio = m.ratio
        if ratio:  # the usual share, read without asking which one is set
            member["ratio"] = ratio
        else:
            share = m.WhichOneof("share")
            if share == "ratio":  # set, but empty
                member["ratio"] = ratio
            elif share == "amount_minor":
                member["amount_minor"] = m.amount_minor
        out.append(member)
    return out


def _changes(kind: EventKind, deal: types_pb2.Deal) -> dict[str, Any]:
    """The deal fields an event of ``kind`` sets, as plain JSON-able values."""
    if kind is EventKind.CREATED:
        record: dict[str, Any] = {
            "amount_minor": deal.amount_minor,
            "currency": deal.currency,
            "stage": deal.stage,
        }
        for name in ("win_prob", "close_date", "owner", "region", "product_line",
                     "customer_tier", "source"):  # fmt: skip
            value = getattr(deal, name)
            if value:
                record[name] = value
        if deal.category:
            record["category"] = CATEGORY_NAMES[deal.category]
        if deal.attributes:
            record["attributes"] = {k: attribute_value(v) for k, v in deal.attributes.items()}
        record["team"] = _team(deal)
        return record
    if kind in (EventKind.STAGE_CHANGED, EventKind.REOPENED):
        return {"stage": deal.stage}
    if kind is EventKind.AMOUNT_CHANGED:
        out: dict[str, Any] = {"amount_minor": deal.amount_minor}
        if deal.currency:
            out["currency"] = deal.currency
        return out
    if kind is EventKind.PARTICIPANTS_CHANGED:
        return {"team": _team(deal)}
    return {}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The seconds of a valid Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_FIRST_SECOND, _LAST_SECOND = -62_135_596_800, 253_402_300_799


def events_from_proto(events: Sequence[credit_pb2.DealEvent]) -> list[DealEvent]:
    """Turn ``DealEvent`` messages into engine events; an unknown kind or a missing time is an
    INVALID_ARGUMENT naming the event."""
    out = []
    problems: list[Violation] = []
    for i, e in enumerate(events):
        kind = _EVENT_KINDS.get(e.kind)
        if kind is None:
            problems.append(
                Violation(f"events[{i}].kind", 0, 0, "MISSING_FIELD", "kind is required")
            )
            continue
        if not e.HasField("event_time"):
            problems.append(
                Violation(
                    f"events[{i}].event_time", 0, 0, "MISSING_FIELD", "event_time is required"
                )
            )
            continue
        ts = e.event_time
        seconds, nanos = ts.seconds, ts.nanos
        if _FIRST_SECOND <= seconds <= _LAST_SECOND and 0 <= nanos < 1_000_000_000:
            # Timestamp.ToDatetime(tzinfo=UTC), without its checks and time-zone conversion
            # (timedelta's arguments by position: days, seconds, microseconds; twice as quick)
            when = _EPOCH + dt.timedelta(0, seconds, nanos // 1000)
        else:
            try:
                when = ts.ToDatetime(tzinfo=dt.UTC)  # raises, naming the field out of range
            except ValueError as exc:  # seconds outside years 1-9999, nanos outside [0, 10^9)
                problems.append(
                    Violation(f"events[{i}].event_time", 0, 0, "INVALID_TIMESTAMP", str(exc))
                )
                continue
        out.append(DealEvent(e.event_id, e.deal_id, when, kind, _changes(kind, e.deal)))
    if problems:
        raise InvalidArgumentError(
            f"{len(problems)} event(s) are malformed; nothing was stored",
            reason="EVENTS_INVALID",
            violations=problems,
        )
    return out


def add_lines(lines: Iterable[LedgerLine], out: Any) -> None:
    """Append ledger lines to a repeated ``LedgerLine`` field (``response.lines``), each built
    in place, its time to the microsecond (integer arithmetic only)."""
    add = out.add
    when = None
    seconds = nanos = 0
    for line in lines:
        message = add(
            line_id=getattr(line, "line_id", 0),
            deal_id=line.deal_id,
            event_id=line.event_id,
            split=line.split,
            person=line.person,
            credit_delta_minor=line.credit_delta_minor,
            weighted_credit_delta_minor=line.weighted_delta_minor,
            currency=line.currency,
            correction=line.correction,
            rule_set=line.rule_set,
            revision=line.revision,
        )
        if line.event_time is not when:  # the lines of one event follow each other
            when = line.event_time
            delta = when - _EPOCH
            seconds = delta.days * 86_400 + delta.seconds
            nanos = delta.microseconds * 1000
        stamp = message.event_time
        stamp.seconds = seconds
        stamp.nanos = nanos


__all__ = [
    "add_lines",
    "credits_to_proto",
    "events_from_proto",
    "team_from_proto",
]
