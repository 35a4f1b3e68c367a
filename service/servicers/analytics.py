"""``quotient.v1.AnalyticsService``: KPIs, the funnel and stuck deals (translation only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import numpy as np

from engine.analytics.attribution import attribute_figures, factor_names, figures
from engine.analytics.kpis import KpiRow, compute_kpis, half_even_div, stuck_deals
from engine.errors import FailedPreconditionError, InvalidArgumentError, Violation
from engine.forecast.history import DealHistory, group_codes, stage_dwell_p90, stage_quantiles
from engine.frame import FieldType, date_to_days
from engine.rules.compiler import CompiledRuleSet
from quotient.v1 import analytics_pb2, analytics_pb2_grpc, forecast_pb2
from service.convert import parse_date
from service.convert_forecast import periods_from_proto
from service.histories import load_history
from service.repository import RuleSetRepository
from service.store.ledger import LedgerStore

#: Most stuck deals on one page.
MAX_PAGE = 1000


def _set(message: Any, name: str, value: int | float | None) -> None:
    if value is not None:
        setattr(message, name, value)


def funnel_stages(rules: CompiledRuleSet) -> list[str]:
    """The funnel's stages: the rule set's, in order, the lost ones left out."""
    return [s for s, lost in zip(rules.stage_ids, rules.stage_is_lost.tolist(), strict=True)
            if not lost]  # fmt: skip


def _source_costs(
    request: analytics_pb2.ComputeKpisRequest, rules: CompiledRuleSet, currency: str,
    group_by: list[str], rows: list[KpiRow],
) -> dict[tuple[tuple[str, ...], str], tuple[int, str]]:  # fmt: skip
    """Each row's lead-source cost and where it came from: the request's cost for its source, else
    the rule set's for its source and period label. FAILED_PRECONDITION when the rule set's costs
    that apply are in another currency than the deals."""
    field = request.cost_field or rules.source_cost_field
    if field not in group_by:
        return {}
    at = group_by.index(field)
    from_rules = ({(c.source, c.period): c for c in rules.source_costs}
                  if field == rules.source_cost_field else {})  # fmt: skip
    out: dict[tuple[tuple[str, ...], str], tuple[int, str]] = {}
    for r in rows:
        source = r.group[at]
        if source in request.source_cost_minor:
            out[(r.group, r.period)] = (request.source_cost_minor[source], "request")
        elif (cost := from_rules.get((source, r.period))) is not None:
            if currency and cost.currency != currency:
                raise FailedPreconditionError(
                    f"the rule set's lead_sources costs are in {cost.currency}, the deals in "
                    f"{currency}: give source_cost_minor in {currency}",
                    reason="CURRENCY_MISMATCH")  # fmt: skip
            out[(r.group, r.period)] = (cost.amount_minor, "rule_set")
    return out


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    """Implements AnalyticsService over the store's deal histories."""

    def __init__(self, repository: RuleSetRepository, ledger: LedgerStore,
                 max_batch_deals: int) -> None:  # fmt: skip
        self.repository = repository
        self.ledger = ledger
        self.max_batch_deals = max_batch_deals

    def _kpis(
        self, rule_set: str, group_by: list[str], spans: list[tuple[str, int, int]],
        activity_fields: Sequence[str] = (), customer_field: str = "",
        changes: Sequence[forecast_pb2.DealChange] = (),
    ) -> tuple[Any, CompiledRuleSet, DealHistory, list[KpiRow]]:  # fmt: skip
        """KPI rows of the store's histories (see :func:`engine.analytics.kpis.compute_kpis`)."""
        record, rules = self.repository.resolve(rule_set, None, None)
        problems = [
            Violation(f"group_by[{i}]", 0, 0, "UNKNOWN_FIELD", f"{name!r} is not a text field")
            for i, name in enumerate(group_by)
            if not (name == "team" and rules.team_of)
            and (name not in rules.schema or rules.schema[name].type is not FieldType.STRING)
        ]  # fmt: skip
        problems += [
            Violation(f"activity_fields[{i}]", 0, 0, "UNKNOWN_FIELD",
                      f"{name!r} is not a declared integer field")
            for i, name in enumerate(activity_fields)
            if name not in rules.schema or rules.schema[name].type is not FieldType.INT
        ]  # fmt: skip
        if customer_field and (customer_field not in rules.schema
                               or rules.schema[customer_field].type is not FieldType.STRING):  # fmt: skip
            problems.append(Violation("customer_field", 0, 0, "UNKNOWN_FIELD",
                                      f"{customer_field!r} is not a text field"))  # fmt: skip
        if problems:
            raise InvalidArgumentError("cannot group by these fields", reason="UNKNOWN_FIELD",
                                       violations=problems)  # fmt: skip
        history, _ = load_history(self.ledger, rule_set, rules, changes, self.max_batch_deals)
        code, groups = group_codes(history, group_by, rules.team_of)
        last_row = np.r_[history.first_row[1:], history.deal.size] - 1
        deal_group = code[last_row] if history.n_deals else np.zeros(0, np.int64)
        latest = [history.records[i] for i in last_row.tolist()] if history.n_deals else []
        activity = None
        if activity_fields:
            counts = [[int(r.get(name) or 0) for name in activity_fields] for r in latest]
            activity = np.array(counts, dtype=np.int64).reshape(-1, len(activity_fields))
        customer = None
        if customer_field:
            index: dict[str, int] = {}
            codes = [index.setdefault(str(r[customer_field]), len(index))
                     if r.get(customer_field) else -1 for r in latest]  # fmt: skip
            customer = np.array(codes, dtype=np.int64)
        rows = compute_kpis(history, deal_group, groups, spans, rules.stage_is_won,
                            rules.stage_is_lost, activity=activity, customer=customer)  # fmt: skip
        return record, rules, history, rows

    def ComputeKpis(
        self, request: analytics_pb2.ComputeKpisRequest, context: grpc.ServicerContext
    ) -> analytics_pb2.ComputeKpisResponse:
        group_by = list(request.group_by)
        periods = periods_from_proto(request)  # type: ignore[arg-type]
        spans = [(p.label, date_to_days(p.start), date_to_days(p.end)) for p in periods]
        record, rules, history, rows = self._kpis(request.rule_set, group_by, spans,
                                                  list(request.activity_fields),
                                                  request.customer_field,
                                                  changes=request.history.changes)  # fmt: skip
        cost_field = request.cost_field or rules.source_cost_field
        if request.source_cost_minor and cost_field not in group_by:
            raise InvalidArgumentError(f"source costs need {cost_field} among group_by",
                                       reason="INVALID_ARGUMENT", violations=[Violation(
                                           "group_by", 0, 0, "SOURCE_NOT_GROUPED",
                                           f"add {cost_field} to group_by")])  # fmt: skip
        if request.source_cost_minor:
            at = group_by.index(cost_field)
            known = {r.group[at] for r in rows}
            bad = [
                Violation(
                    f"source_cost_minor.{name}",
                    0,
                    0,
                    "UNKNOWN_SOURCE",
                    f"no deal has {cost_field} {name!r}",
                )
                for name in sorted(request.source_cost_minor)
                if name not in known
            ]
            bad += [Violation(f"source_cost_minor.{name}", 0, 0, "NEGATIVE", "a cost is not negative")
                    for name, cost in sorted(request.source_cost_minor.items()) if cost < 0]  # fmt: skip
            if bad:
                raise InvalidArgumentError("bad source costs", reason="INVALID_ARGUMENT",
                                           violations=bad)  # fmt: skip
        costs = _source_costs(request, rules, history.currency, group_by, rows)
        funnel = funnel_stages(rules)
        targets = {(tuple(sorted(t.group)), t.period): t.amount_minor for t in rules.targets}
        response = analytics_pb2.ComputeKpisResponse(
            rule_set=record.name, revision=record.revision, currency=history.currency,
            group_by=group_by, funnel_stages=funnel, deals_read=history.n_deals)  # fmt: skip
        for r in rows:
            out = response.rows.add(
                group=list(r.group), period=r.period, deals_created=r.deals_created,
                pipeline_created_minor=r.pipeline_created_minor, won_count=r.won_count,
                bookings_minor=r.bookings_minor, closed_count=r.closed_count,
                lost_count=r.lost_count, cycle_count=r.cycle_count,
                funnel_reached=list(r.funnel_reached))  # fmt: skip
            _set(out, "average_deal_minor", r.average_deal_minor)
            out.activities.extend(r.activities)
            for name, total in zip(request.activity_fields, r.activities, strict=True):
                step = out.activity_per_won.add(field=name)
                if r.won_count:
                    step.per_won = total / r.won_count
            out.new_business_minor = r.new_business_minor
            out.existing_business_minor = r.existing_business_minor
            out.existing_won_count = r.existing_won_count
            _set(out, "win_rate_ppm", r.win_rate_ppm)
            _set(out, "cycle_median_days", r.cycle_median_days)
            _set(out, "cycle_p90_days", r.cycle_p90_days)
            for k, conversion in enumerate(r.funnel_conversion_ppm):
                step = out.funnel_conversion.add(from_stage=funnel[k], to_stage=funnel[k + 1])
                _set(step, "conversion_ppm", conversion)
            out.cohort_bookings_minor = r.cohort_bookings_minor
            for stage, stays, median, p90 in zip(rules.stage_ids, r.dwell_stays,
                                                  r.dwell_median_days, r.dwell_p90_days,
                                                  strict=True):  # fmt: skip
                dwell = out.stage_dwell.add(stage=stage, stays=stays)
                _set(dwell, "median_days", median)
                _set(dwell, "p90_days", p90)
            if (r.group, r.period) in costs:
                cost, out.cost_from = costs[(r.group, r.period)]
                out.cost_minor = cost
                _set(out, "cost_per_won_minor", half_even_div(cost, r.won_count))
                _set(out, "return_on_spend_ppm", half_even_div(r.bookings_minor * 1_000_000, cost))
            key = (tuple(sorted(zip(group_by, r.group, strict=True))), r.period)
            target = targets.get(key)
            if target:
                out.target_minor = target
                _set(out, "attainment_ppm", half_even_div(r.bookings_minor * 1_000_000, target))
        qs = (0.1, 0.25, 0.5, 0.75, 0.9)
        count, quantiles = stage_quantiles(history, len(rules.stage_ids), qs)
        for s, stage in enumerate(rules.stage_ids):
            dwell = response.dwell.add(stage=stage, stays=int(count[s]))
            if count[s]:
                (dwell.p10_days, dwell.p25_days, dwell.median_days, dwell.p75_days,
                 dwell.p90_days) = (float(v) for v in quantiles[s])  # fmt: skip
        return response

    def AttributeChange(
        self, request: analytics_pb2.AttributeChangeRequest, context: grpc.ServicerContext
    ) -> analytics_pb2.AttributeChangeResponse:
        comparing = request.HasField("groups")
        problems: list[Violation] = []
        spans = []
        for name in ("before",) if comparing else ("before", "after"):
            p = getattr(request, name)
            first = parse_date(p.first_date, f"{name}.first_date")
            last = parse_date(p.last_date, f"{name}.last_date")
            if first is None or last is None or last < first:
                problems.append(Violation(name, 0, 0, "EMPTY_PERIOD",
                                          "give first_date and last_date, in order"))  # fmt: skip
                continue
            spans.append((p.label or f"{first}..{last}", date_to_days(first),
                          date_to_days(last) + 1))  # fmt: skip
        if len(spans) == 2 and spans[0][1:] == spans[1][1:]:
            problems.append(Violation("after", 0, 0, "SAME_PERIOD",
                                      "compare two different periods"))  # fmt: skip
        group_by = list(request.group_by)
        pair = request.groups
        if comparing:
            if request.HasField("after"):
                problems.append(Violation("after", 0, 0, "PERIOD_WITH_GROUPS",
                                          "comparing groups reads one period: give before only"))  # fmt: skip
            if not pair.field:
                problems.append(Violation("groups.field", 0, 0, "REQUIRED", "name a text field"))
            elif pair.field in group_by:
                problems.append(Violation("groups.field", 0, 0, "GROUPED_FIELD",
                                          f"{pair.field!r} is also in group_by"))  # fmt: skip
            if not pair.baseline or not pair.compared:
                problems.append(Violation("groups", 0, 0, "REQUIRED",
                                          "give the baseline and the compared value"))  # fmt: skip
            elif pair.baseline == pair.compared:
                problems.append(Violation("groups.compared", 0, 0, "SAME_GROUP",
                                          "compare two different groups"))  # fmt: skip
        if problems:
            raise InvalidArgumentError("cannot compare these", reason="INVALID_PERIODS",
                                       violations=problems)  # fmt: skip
        funnel = request.decomposition == analytics_pb2.DECOMPOSITION_FUNNEL
        activity = [request.activity_field] if request.activity_field else []
        keys = [*group_by, pair.field] if comparing else group_by
        _, rules, history, rows = self._kpis(request.rule_set, keys, spans, activity,
                                             changes=request.history.changes)  # fmt: skip
        names = factor_names(funnel_stages(rules), funnel=funnel, activity=request.activity_field)
        response = analytics_pb2.AttributeChangeResponse(
            currency=history.currency, group_by=group_by, before_period=spans[0][0],
            after_period=spans[-1][0],
            basis="created_in_period" if funnel else "won_in_period")  # fmt: skip
        sides: dict[tuple[str, ...], list[tuple[int, ...] | None]] = {}
        for r in rows:
            figs = figures(r, funnel=funnel, activity=bool(activity))
            if comparing:
                value, key = r.group[-1], r.group[:-1]
                if value not in (pair.baseline, pair.compared):
                    continue
                sides.setdefault(key, [None, None])[value == pair.compared] = figs
            else:
                sides.setdefault(r.group, []).append(figs)
        if comparing:
            seen = {r.group[-1] for r in rows}
            missing = [Violation(f"groups.{side}", 0, 0, "UNKNOWN_GROUP",
                                 f"no deal has {pair.field} {value!r}")
                       for side, value in (("baseline", pair.baseline),
                                           ("compared", pair.compared)) if value not in seen]  # fmt: skip
            if missing:
                raise InvalidArgumentError("cannot compare these groups", reason="UNKNOWN_GROUP",
                                           violations=missing)  # fmt: skip
            response.before_group = f"{pair.field}={pair.baseline}"
            response.after_group = f"{pair.field}={pair.compared}"
        width = len(next(f for v in sides.values() for f in v if f is not None))
        zero = (0,) * width
        both = {k: [f if f is not None else zero for f in v] for k, v in sides.items()}
        total = [tuple(sum(v[k][j] for v in both.values()) for j in range(width)) for k in range(2)]
        entries = [(g, v) for g, v in sorted(both.items())] if group_by else []
        entries.append((tuple("" for _ in group_by), total))
        for group, (before, after) in entries:
            a = attribute_figures(before, after, funnel=funnel, activity=bool(activity))
            row = response.rows.add(group=list(group), before_minor=a.before_minor,
                                    after_minor=a.after_minor, change_minor=a.change_minor)  # fmt: skip
            for (name, src, dst), fb, fa, c in zip(names, a.factors_before, a.factors_after,
                                                   a.contribution_minor, strict=True):  # fmt: skip
                f = row.factors.add(factor=name, before=str(fb), after=str(fa),
                                    contribution_minor=c, from_stage=src, to_stage=dst)  # fmt: skip
                if fb:
                    f.relative_change = float(fa / fb - 1)
        return response

    def ListStuckDeals(
        self, request: analytics_pb2.ListStuckDealsRequest, context: grpc.ServicerContext
    ) -> analytics_pb2.ListStuckDealsResponse:
        as_of = parse_date(request.as_of_date, "as_of_date") or self.repository.clock().date()
        _, rules = self.repository.resolve(request.rule_set, None, as_of)
        problems = [Violation(f"threshold_days.{stage}", 0, 0, "UNKNOWN_STAGE",
                              f"no stage {stage!r}")
                    for stage in request.threshold_days if stage not in rules.stage_index]  # fmt: skip
        problems += [Violation(f"threshold_days.{stage}", 0, 0, "NEGATIVE", "days are not negative")
                     for stage, days in request.threshold_days.items() if days < 0]  # fmt: skip
        size = request.page_size or 100
        if not 0 < size <= MAX_PAGE:
            problems.append(Violation("page_size", 0, 0, "INVALID_PAGE_SIZE",
                                      f"between 1 and {MAX_PAGE}"))  # fmt: skip
        start = 0
        if request.page_token:
            if not request.page_token.isdigit():
                problems.append(Violation("page_token", 0, 0, "INVALID_PAGE_TOKEN",
                                          "use a token from a previous page"))  # fmt: skip
            else:
                start = int(request.page_token)
        if problems:
            raise InvalidArgumentError("cannot list stuck deals", reason="INVALID_ARGUMENT",
                                       violations=problems)  # fmt: skip
        history, _ = load_history(self.ledger, request.rule_set, rules, request.history.changes,
                                  self.max_batch_deals)  # fmt: skip
        day = date_to_days(as_of)
        thresholds = np.round(stage_dwell_p90(history, len(rules.stage_ids), day)).astype(np.int64)
        source = np.where(thresholds >= 0, "history_p90", "").astype(object)
        from_rules = rules.stage_stuck_days >= 0
        thresholds[from_rules] = rules.stage_stuck_days[from_rules]
        source[from_rules] = "rule_set"
        for stage, days in request.threshold_days.items():
            thresholds[rules.stage_index[stage]] = days
            source[rules.stage_index[stage]] = "request"
        stuck = stuck_deals(history, day, thresholds, rules.stage_is_closed)
        page = stuck[start : start + size]
        response = analytics_pb2.ListStuckDealsResponse(total=len(stuck),
                                                        currency=history.currency)  # fmt: skip
        for s in page:
            response.deals.add(deal_id=s.deal_id, stage=rules.stage_ids[s.stage],
                               days_in_stage=s.days_in_stage, threshold_days=s.threshold_days,
                               owner=s.owner, amount_minor=s.amount_minor)  # fmt: skip
        if start + size < len(stuck):
            response.next_page_token = str(start + size)
        for s, stage in enumerate(rules.stage_ids):
            if not rules.stage_is_closed[s]:
                limit = response.thresholds.add(stage=stage, source=source[s])
                _set(limit, "days", int(thresholds[s]) if thresholds[s] >= 0 else None)
        return response


__all__ = ["AnalyticsServicer"]
