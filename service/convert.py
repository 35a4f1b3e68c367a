"""Translation between protobuf messages and the domain core's columns and records.

Nothing here decides anything: it moves values between the wire and ``engine`` types, column by
column so that a batch of ten thousand deals is a few list comprehensions, not ten thousand calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch, DealInput
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.money import ppm_to_decimal
from engine.rules.schema import CATEGORY_ORDER
from quotient.v1 import forecast_pb2, rulesets_pb2, types_pb2
from service.store.port import RevisionRecord

# Proto enum value of each category code (CATEGORY_ORDER index) and back.
_CATEGORY_TO_PROTO = [types_pb2.Category.Value(f"CATEGORY_{c.name}") for c in CATEGORY_ORDER]
#: Category -> proto enum value.
CATEGORY_PROTO = dict(zip(CATEGORY_ORDER, _CATEGORY_TO_PROTO, strict=True))
CATEGORY_NAMES = {v: c.value for v, c in zip(_CATEGORY_TO_PROTO, CATEGORY_ORDER, strict=True)}
_SOURCE_TO_PROTO = {
    ProbSource.STAGE: forecast_pb2.WIN_PROB_SOURCE_STAGE,
    ProbSource.OVERRIDE: forecast_pb2.WIN_PROB_SOURCE_OVERRIDE,
    ProbSource.MANUAL: forecast_pb2.WIN_PROB_SOURCE_MANUAL,
    ProbSource.CLOSED_STAGE: forecast_pb2.WIN_PROB_SOURCE_CLOSED_STAGE,
    ProbSource.HISTORICAL: forecast_pb2.WIN_PROB_SOURCE_HISTORICAL,
    ProbSource.MODEL: forecast_pb2.WIN_PROB_SOURCE_MODEL,
}


#: The last date a request may name: a year short of the calendar's end, so that the period
#: holding any date (a year at most) and the day after it exist.
LAST_DATE = dt.date(9998, 12, 31)


def date_problem(text: str) -> tuple[dt.date | None, str]:
    """A YYYY-MM-DD request value as a date, or None and why it is refused."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None, f"expected a date as YYYY-MM-DD, got {text!r}"
    if day > LAST_DATE:
        return None, f"{day} is after {LAST_DATE}, the last date a request may name"
    return day, ""


def parse_date(text: str, field: str) -> dt.date | None:
    """Parse an optional YYYY-MM-DD request field; INVALID_ARGUMENT naming the field if malformed
    or after :data:`LAST_DATE`."""
    if not text:
        return None
    day, problem = date_problem(text)
    if day is None:
        raise InvalidArgumentError(
            f"{field}: {problem}",
            reason="INVALID_DATE",
            violations=[Violation(field, reason="INVALID_DATE", message=problem)],
        )
    return day


def parse_time(value: Timestamp, field: str) -> dt.datetime:
    """A Timestamp request field as an aware UTC time (to the microsecond); INVALID_ARGUMENT
    naming the field when it is not a valid Timestamp (seconds outside years 1-9999, nanos
    outside [0, 10^9))."""
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{field}: {exc}",
            reason="INVALID_TIMESTAMP",
            violations=[Violation(field, reason="INVALID_TIMESTAMP", message=str(exc))],
        ) from None


def attribute_value(value: types_pb2.AttributeValue) -> Any:
    """The Python value of an ``AttributeValue`` (None when unset)."""
    kind = value.WhichOneof("kind")
    return None if kind is None else getattr(value, kind)


def deals_from_proto(deals: Sequence[types_pb2.Deal]) -> DealInput:
    """Turn repeated ``Deal`` messages into a :class:`DealInput` (column lists), in one pass."""
    n = len(deals)
    if n == 1:  # a CRM's call: each column made whole
        return _one_deal_from_proto(deals[0])
    ids: list[str] = []
    amount: list[Any] = []
    currency: list[str] = []
    stage: list[str] = []
    win_prob: list[Any] = []
    category: list[str | None] = []
    close_date: list[Any] = []
    created_date: list[Any] = []
    stage_entered_date: list[Any] = []
    owner: list[str | None] = []
    region: list[str | None] = []
    product_line: list[str | None] = []
    customer_tier: list[str | None] = []
    source: list[str | None] = []
    attributes: dict[str, list[Any]] = {}
    for i, d in enumerate(deals):
        ids.append(d.id)
        amount.append(d.amount_minor)
        currency.append(d.currency)
        stage.append(d.stage)
        win_prob.append(d.win_prob or None)
        category.append(CATEGORY_NAMES.get(d.category))
        close_date.append(d.close_date or None)
        created_date.append(d.created_date or None)
        stage_entered_date.append(d.stage_entered_date or None)
        owner.append(d.owner)
        region.append(d.region)
        product_line.append(d.product_line)
        customer_tier.append(d.customer_tier)
        source.append(d.source)
        if d.attributes:
            for key, value in d.attributes.items():
                column = attributes.get(key)
                if column is None:
                    column = attributes[key] = [None] * n
                column[i] = attribute_value(value)
    return DealInput(
        id=ids,
        amount_minor=amount,
        currency=currency,
        stage=stage,
        win_prob=win_prob,
        category=category,
        close_date=close_date,
        created_date=created_date,
        stage_entered_date=stage_entered_date,
        owner=owner,
        region=region,
        product_line=product_line,
        customer_tier=customer_tier,
        source=source,
        attributes=attributes,
    )


def _one_deal_from_proto(d: types_pb2.Deal) -> DealInput:
    """:func:`deals_from_proto` of one deal."""
    return DealInput(
        id=[d.id],
        amount_minor=[d.amount_minor],
        currency=[d.currency],
        stage=[d.stage],
        win_prob=[d.win_prob or None],
        category=[CATEGORY_NAMES.get(d.category)],
        close_date=[d.close_date or None],
        created_date=[d.created_date or None],
        stage_entered_date=[d.stage_entered_date or None],
        owner=[d.owner],
        region=[d.region],
        product_line=[d.product_line],
        customer_tier=[d.customer_tier],
        source=[d.source],
        attributes={k: [attribute_value(v)] for k, v in d.attributes.items()}
        if d.attributes
        else {},
    )


#: Win probabilities as text, by ppm: a rule set's few rates are written again on every call.
_PROB_TEXT: dict[int, str] = {}


def _prob_text(ppm: int) -> str:
    text = _PROB_TEXT.get(ppm)
    if text is None:
        if len(_PROB_TEXT) >= 4096:  # manual probabilities vary: the table is emptied when full
            _PROB_TEXT.clear()
        text = _PROB_TEXT[ppm] = str(ppm_to_decimal(ppm))
    return text


def scores_to_proto(
    batch: DealBatch,
    result: ScoreResult,
    currencies: Sequence[str],
    record: RevisionRecord,
    model_version: int = 0,
) -> forecast_pb2.ScoreDealsResponse:
    """Build the response for a scored batch, one ``DealScore`` per deal in request order."""
    response = forecast_pb2.ScoreDealsResponse(
        rule_set=record.name, revision=record.revision, failed_count=len(result.errors)
    )
    problems = {e.index: e for e in result.errors}
    matched = result.matched_rules_all()
    ppm = result.win_prob_ppm.tolist()
    weighted = result.weighted_amount_minor.tolist()
    category = result.category.tolist()
    source = result.prob_source.tolist()
    add = response.scores.add
    for i, deal_id in enumerate(batch.ids):
        problem = problems.get(i)
        if problem is not None:
            add(
                index=i,
                deal_id=deal_id,
                rule_set=record.name,
                revision=record.revision,
                problem=types_pb2.DealProblem(
                    reason=problem.reason, field=problem.field, message=problem.message
                ),
            )
            continue
        p = ppm[i]
        add(
            index=i,
            deal_id=deal_id,
            win_prob=_prob_text(p),
            win_prob_ppm=p,
            weighted_amount_minor=weighted[i],
            currency=currencies[i],
            category=_CATEGORY_TO_PROTO[category[i]],
            win_prob_source=_SOURCE_TO_PROTO[source[i]],
            matched_rules=matched[i],
            rule_set=record.name,
            revision=record.revision,
            model_version=model_version if source[i] == ProbSource.MODEL else 0,
        )
    return response


def revision_to_proto(
    record: RevisionRecord, with_content: bool = True
) -> rulesets_pb2.RuleSetRevision:
    """Build a ``RuleSetRevision`` message (the content only when asked)."""
    created = Timestamp()
    created.FromDatetime(record.created_at)
    return rulesets_pb2.RuleSetRevision(
        name=record.name,
        revision=record.revision,
        effective_from=record.effective_from.isoformat(),
        create_time=created,
        content_hash=record.content_hash,
        compiler_version=record.compiler_version,
        content=record.content if with_content else "",
    )


__all__ = [
    "CATEGORY_NAMES",
    "LAST_DATE",
    "attribute_value",
    "date_problem",
    "deals_from_proto",
    "parse_date",
    "parse_time",
    "revision_to_proto",
    "scores_to_proto",
]
