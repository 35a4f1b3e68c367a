"""Translation between ComputeForecast messages and the engine's forecast report.

Periods, targets and distribution options are read from the request with every problem reported
at once, with its field path; the report is written back row by row (rows are groups x periods,
never deals).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.backtest import Backtest, ForecastError
from engine.forecast.distribution import Outcome
from engine.forecast.report import (
    DEFAULT_QUANTILES,
    ForecastReport,
    LeverOptions,
    Method,
    Target,
)
from engine.forecast.rollup import Period, PeriodKind, calendar_periods, check_periods
from engine.frame import days_to_date
from quotient.v1 import forecast_pb2
from service.convert import CATEGORY_PROTO, attribute_value, date_problem
from service.store.port import RevisionRecord

_KINDS = {
    forecast_pb2.PERIOD_KIND_MONTH: PeriodKind.MONTH,
    forecast_pb2.PERIOD_KIND_QUARTER: PeriodKind.QUARTER,
    forecast_pb2.PERIOD_KIND_YEAR: PeriodKind.YEAR,
}
_METHODS = {
    forecast_pb2.DISTRIBUTION_METHOD_UNSPECIFIED: Method.AUTO,
    forecast_pb2.DISTRIBUTION_METHOD_MONTE_CARLO: Method.MONTE_CARLO,
    forecast_pb2.DISTRIBUTION_METHOD_NONE: Method.NONE,
}


def _date(text: str, path: str, problems: list[Violation]) -> dt.date | None:
    day, problem = date_problem(text)
    if day is None:
        problems.append(Violation(path, 0, 0, "INVALID_DATE", problem))
    return day


def _refuse(message: str, reason: str, problems: list[Violation]) -> None:
    if problems:
        raise InvalidArgumentError(message, reason=reason, violations=problems)


def periods_from_proto(
    request: forecast_pb2.ComputeForecastRequest | forecast_pb2.BacktestForecastRequest,
) -> list[Period]:
    """The request's calendar or custom periods; empty or overlapping ones are refused."""
    problems: list[Violation] = []
    which = request.WhichOneof("periods_from")
    periods: list[Period] = []
    if which is None:
        problems.append(Violation("periods_from", 0, 0, "EMPTY_PERIODS",
                                  "give calendar or custom periods"))  # fmt: skip
    elif which == "calendar":
        cal = request.calendar
        kind = _KINDS.get(cal.kind)
        if kind is None:
            problems.append(Violation("calendar.kind", 0, 0, "INVALID_ARGUMENT",
                                      "month, quarter or year"))  # fmt: skip
        first = _date(cal.first_date, "calendar.first_date", problems)
        last = _date(cal.last_date, "calendar.last_date", problems)
        _refuse("the periods are not usable", "INVALID_PERIODS", problems)
        assert kind is not None and first is not None and last is not None
        periods = calendar_periods(kind, first, last)
    else:
        for i, p in enumerate(request.custom.periods):
            first = _date(p.first_date, f"custom.periods[{i}].first_date", problems)
            last = _date(p.last_date, f"custom.periods[{i}].last_date", problems)
            if first is not None and last is not None:
                label = p.label or f"{first}..{last}"
                periods.append(Period(label, first, last + dt.timedelta(days=1)))
        labels = [p.label for p in periods]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                problems.append(Violation(f"custom.periods[{i}].label", 0, 0, "DUPLICATE_PERIOD",
                                          f"{label!r} names two periods"))  # fmt: skip
    _refuse("the periods are not usable", "INVALID_PERIODS", problems)
    try:
        check_periods(periods)
    except InvalidArgumentError as e:  # name the request's fields
        prefix = "custom." if which == "custom" else ""
        moved = [replace(v, path=prefix + v.path) for v in e.violations]
        raise InvalidArgumentError(e.message, reason=e.reason, violations=moved) from None
    return periods


def history_from_proto(changes: Sequence[forecast_pb2.DealChange]) -> list[dict[str, Any]]:
    """History rows (``engine.forecast.history``) from ``DealChange`` messages."""
    rows: list[dict[str, Any]] = []
    for c in changes:
        d = c.deal
        row: dict[str, Any] = {
            "deal_id": d.id,
            "date": c.date,
            "stage": d.stage,
            "amount_minor": d.amount_minor,
            "currency": d.currency,
            "close_date": d.close_date or None,
        }
        for name in ("owner", "region", "product_line", "customer_tier", "source", "win_prob"):
            value = getattr(d, name)
            if value:
                row[name] = value
        for name, value in d.attributes.items():
            row[name] = attribute_value(value)
        rows.append(row)
    return rows


def backtest_to_proto(
    result: Backtest, record: RevisionRecord, deals: int, changes: int
) -> forecast_pb2.BacktestForecastResponse:
    response = forecast_pb2.BacktestForecastResponse(
        rule_set=record.name,
        revision=record.revision,
        currency=result.currency,
        group_by=list(result.group_by),
        deals=deals,
        changes=changes,
    )
    for r in result.rows:
        response.periods.add(
            group=list(r.group),
            period=r.period.label,
            cutoff_date=days_to_date(r.cutoff_day).isoformat(),
            complete=r.complete,
            open_count=r.open_count,
            won_count=r.won_count,
            classic_minor=r.classic_minor,
            period_aware_minor=r.period_aware_minor,
            new_business_minor=r.new_business_minor,
            actual_minor=r.actual_minor,
        )

    def accuracy(e: ForecastError) -> forecast_pb2.ForecastAccuracy:
        out = forecast_pb2.ForecastAccuracy(
            periods=e.periods, error_minor=e.error_minor, mae_minor=e.mae_minor
        )
        if e.bias is not None:
            out.bias = e.bias
        if e.mape is not None:
            out.mape = e.mape
        return out

    for a in result.accuracy:
        response.accuracy.add(
            group=list(a.group), classic=accuracy(a.classic), period_aware=accuracy(a.period_aware)
        )
    return response


def targets_from_proto(targets: list[forecast_pb2.GroupTarget]) -> list[Target]:
    return [Target(tuple(t.group), t.period, t.target_minor) for t in targets]


def quantiles_from_proto(request: forecast_pb2.ComputeForecastRequest) -> tuple[float, ...]:
    """The quantiles asked for (default P10, P50, P90); each must be in (0, 1)."""
    problems = [
        Violation(f"quantiles[{i}]", 0, 0, "INVALID_QUANTILE", f"{q} is not in (0, 1)")
        for i, q in enumerate(request.quantiles)
        if not (0 < q < 1) or math.isnan(q)
    ]
    if not 0 <= request.max_relative_error < 1 or math.isnan(request.max_relative_error):
        problems.append(Violation("max_relative_error", 0, 0, "INVALID_ARGUMENT",
                                  "must be in [0, 1); 0 means 0.001"))  # fmt: skip
    if request.trials < 0:
        problems.append(Violation("trials", 0, 0, "INVALID_ARGUMENT", "cannot be negative"))
    _refuse("cannot compute this distribution", "INVALID_ARGUMENT", problems)
    return tuple(request.quantiles) or DEFAULT_QUANTILES


def levers_from_proto(request: forecast_pb2.ComputeForecastRequest) -> LeverOptions:
    """Whether to solve the gap levers, and the visit -> deal conversion rate if given."""
    rate = None
    if request.visit_to_deal:
        try:
            rate = Decimal(request.visit_to_deal)
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or not 0 < rate <= 1:
            raise InvalidArgumentError(
                f"visit_to_deal must be a decimal in (0, 1], got {request.visit_to_deal!r}",
                reason="INVALID_ARGUMENT",
                violations=[Violation("visit_to_deal", 0, 0, "INVALID_ARGUMENT", "in (0, 1]")],
            )
    bad = [Violation(f"lever_confidences[{i}]", 0, 0, "INVALID_ARGUMENT", "in (0, 1)")
           for i, c in enumerate(request.lever_confidences) if not 0 < c < 1 or math.isnan(c)]  # fmt: skip
    if bad:
        raise InvalidArgumentError("lever confidences are in (0, 1)", reason="INVALID_ARGUMENT",
                                   violations=bad)  # fmt: skip
    if not 0 <= request.lever_search_error < 1 or math.isnan(request.lever_search_error):
        raise InvalidArgumentError("lever_search_error is in [0, 1)", reason="INVALID_ARGUMENT",
                                   violations=[Violation("lever_search_error", 0, 0,
                                                         "INVALID_ARGUMENT", "in [0, 1)")])  # fmt: skip
    confidences = tuple(sorted(set(request.lever_confidences))) or (0.5, 0.9)
    return LeverOptions(enabled=request.solve_levers, confidences=confidences, visit_to_deal=rate,
                        search_error=request.lever_search_error or None)  # fmt: skip


def method_from_proto(value: int) -> Method:
    method = _METHODS.get(value)
    if method is None:
        raise InvalidArgumentError(
            f"unknown distribution method {value}",
            reason="INVALID_ARGUMENT",
            violations=[Violation("method", 0, 0, "INVALID_ARGUMENT", f"unknown value {value}")],
        )
    return method


def _outcome_to_proto(o: Outcome) -> forecast_pb2.OutcomeDistribution:
    return forecast_pb2.OutcomeDistribution(
        method=o.method,
        quantiles=[
            forecast_pb2.QuantileValue(quantile=q, amount_minor=v)
            for q, v in zip(o.quantiles, o.quantiles_minor, strict=True)
        ],
        mean_minor=o.mean_minor,
        error_bound_minor=0.0 if math.isnan(o.error_bound_minor) else o.error_bound_minor,
        bucket_minor=o.bucket_minor,
    )


def report_to_proto(
    report: ForecastReport, record: RevisionRecord
) -> forecast_pb2.ComputeForecastResponse:
    """The response for a computed report (the unscored deals are added by the caller)."""
    response = forecast_pb2.ComputeForecastResponse(
        rule_set=record.name,
        revision=record.revision,
        currency=report.currency,
        group_by=list(report.group_by),
        seed=report.seed or 0,
        trials=report.trials,
        deals_read=report.deals_read,
        deals_unscored=report.deals_unscored,
        deals_outside_periods=report.deals_outside_periods,
        deals_omitted=report.deals_omitted,
    )
    for row in report.rows:
        g = response.groups.add(
            group=list(row.group),
            level=row.level,
            period=row.period.label,
            deal_count=row.deal_count,
            open_count=row.open_count,
            won_count=row.won_count,
            pipeline_minor=row.pipeline_minor,
            weighted_minor=row.weighted_minor,
            closed_won_minor=row.closed_won_minor,
            period_aware_minor=row.period_aware_minor or 0,
            new_business_minor=row.new_business_minor or 0,
            categories=[
                forecast_pb2.CategoryAmount(
                    category=CATEGORY_PROTO[c],
                    amount_minor=amount,
                    cumulative_minor=row.cumulative_minor[c],
                )
                for c, amount in row.category_minor.items()
            ],
        )
        if row.outcome is not None:
            g.distribution.CopyFrom(_outcome_to_proto(row.outcome))
        t = row.target
        if t is not None:
            g.target.CopyFrom(
                forecast_pb2.TargetGap(
                    target_minor=t.target_minor,
                    gap_minor=t.gap_minor,
                    expected_gap_minor=t.expected_gap_minor,
                    coverage=t.coverage,
                    pace_minor_per_day=t.pace_minor_per_day,
                    projected_minor=t.projected_minor,
                    days_elapsed=t.days_elapsed,
                    days_left=t.days_left,
                    pipeline_needed_minor=t.pipeline_needed_minor,
                    p_reach_target=t.p_reach_target or 0.0,
                    levers=[
                        forecast_pb2.GapLever(
                            lever=x.lever,
                            stage=x.stage,
                            confidence=x.confidence,
                            feasible=x.feasible,
                            factor=x.factor,
                            new_deals=x.new_deals,
                            new_pipeline_minor=x.new_pipeline_minor,
                            visits=x.visits,
                            fraction=x.fraction,
                            size_factor=x.size_factor,
                            p50_minor=x.p50_minor,
                        )
                        for x in t.levers
                    ],
                )
            )
    return response


__all__ = [
    "backtest_to_proto",
    "history_from_proto",
    "levers_from_proto",
    "method_from_proto",
    "periods_from_proto",
    "quantiles_from_proto",
    "report_to_proto",
    "targets_from_proto",
]
