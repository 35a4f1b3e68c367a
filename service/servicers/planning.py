"""``quotient.v1.PlanningService``: targets decomposed down a hierarchy (translation only)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import grpc
import numpy as np

from engine.credit.allocation import muldiv_half_even
from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DEAL_COLUMNS, DealBatch, DealInput, deal_input_from_records
from engine.forecast.history import NO_DAY
from engine.forecast.scoring import ScoreResult
from engine.frame import Column, FieldType, date_to_days
from engine.planning.decompose import LevelMethod, PlanNode, decompose
from engine.planning.scenario import (
    DealSizeLever,
    WinRateLever,
    apply_deal_size,
    apply_win_rates,
    plan_cost_minor,
)
from engine.rules.compiler import CompiledPlan, CompiledRuleSet
from quotient.v1 import forecast_pb2, planning_pb2, planning_pb2_grpc
from service.commission_inputs import load_deals
from service.commission_runs import plan_for
from service.convert import parse_date
from service.repository import RuleSetRepository
from service.servicers.forecast import ForecastServicer
from service.store.ledger import LedgerStore


def _fraction(text: str, path: str, problems: list[Violation]) -> Fraction | None:
    if not text:
        return None
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
        return Fraction(value)
    except InvalidOperation:
        problems.append(Violation(path, 0, 0, "INVALID_DECIMAL", f"{text!r} is not a number"))
        return None


def _text(value: Fraction | None) -> str:
    return "" if value is None else str(value)


class PlanningServicer(planning_pb2_grpc.PlanningServiceServicer):
    """Implements PlanningService over the engine's decomposition and the forecast."""

    def __init__(
        self, repository: RuleSetRepository, ledger: LedgerStore, forecasts: ForecastServicer
    ) -> None:
        self.repository = repository
        self.ledger = ledger
        self.forecasts = forecasts

    def _history(self, request: planning_pb2.DecomposeTargetRequest) -> dict[str, int]:
        """Credit per person on deals won in the request's history window (the store's ledger)."""
        first = parse_date(request.history_first_date, "history_first_date")
        last = parse_date(request.history_last_date, "history_last_date")
        if first is None or last is None or not request.rule_set:
            missing = [name for name, v in (("rule_set", request.rule_set),
                                            ("history_first_date", first),
                                            ("history_last_date", last)) if not v]  # fmt: skip
            raise InvalidArgumentError(
                "history from the store needs a rule set and both dates",
                reason="INVALID_HISTORY",
                violations=[Violation(m, 0, 0, "REQUIRED", "give it") for m in missing],
            )
        if last < first:
            raise InvalidArgumentError("the history window ends before it starts",
                                       reason="EMPTY_PERIOD", violations=[Violation(
                                           "history_last_date", 0, 0, "EMPTY_PERIOD",
                                           "before history_first_date")])  # fmt: skip
        _, rules = self.repository.resolve(request.rule_set, None, last)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
        deals = load_deals(self.ledger, rules, request.rule_set, end)
        won = deals.won_day
        inside = (won != NO_DAY) & (won >= date_to_days(first)) & (won <= date_to_days(last))
        won_ids = {deals.ids[i] for i in np.flatnonzero(inside).tolist()}
        split = rules.splits.types[rules.splits.default_type].id if rules.splits else "revenue"
        out: dict[str, int] = {}
        for deal, split_id, person, currency, minor in self.ledger.credit_totals(
            request.rule_set, end
        ):
            if deal in won_ids and split_id == split and currency == request.currency:
                out[person] = out.get(person, 0) + minor
        return out

    def DecomposeTarget(
        self, request: planning_pb2.DecomposeTargetRequest, context: grpc.ServicerContext
    ) -> planning_pb2.DecomposeTargetResponse:
        problems: list[Violation] = []
        history = self._history(request) if request.history_first_date else {}
        nodes = []
        parents = {n.parent for n in request.nodes}
        for i, n in enumerate(request.nodes):
            own = n.history_minor if n.HasField("history_minor") else None
            if own is None and n.id not in parents and history:
                own = history.get(n.id, 0)
            nodes.append(PlanNode(
                n.id, n.parent or None, history_minor=own,
                pipeline_minor=n.pipeline_minor if n.HasField("pipeline_minor") else None,
                custom=_fraction(n.custom, f"nodes[{i}].custom", problems),
                floor_minor=n.floor_minor if n.HasField("floor_minor") else None,
                ceiling_minor=n.ceiling_minor if n.HasField("ceiling_minor") else None,
                manual_minor=n.manual_minor if n.HasField("manual_minor") else None,
            ))  # fmt: skip
        levels = []
        for i, level in enumerate(request.levels):
            blend = {}
            for name, text in sorted(level.blend.items()):
                w = _fraction(text, f"levels[{i}].blend.{name}", problems)
                if w is not None:
                    blend[name] = w
            levels.append(LevelMethod(level.method or "even", blend))
        phases = []
        for i, phase in enumerate(request.seasonality):
            w = _fraction(phase.weight, f"seasonality[{i}].weight", problems)
            phases.append((phase.period, w if w is not None else Fraction(0)))
        if problems:
            raise InvalidArgumentError("the plan has bad values", reason="INVALID_PLAN",
                                       violations=problems)  # fmt: skip
        result = decompose(nodes, request.target_minor, levels, phases)
        response = planning_pb2.DecomposeTargetResponse(currency=request.currency,
                                                        periods=list(result.periods))  # fmt: skip
        for n in result.nodes:
            share_ppm = round(n.share * 1_000_000)  # round(): half to even on a Fraction
            response.nodes.add(
                id=n.id, parent=n.parent or "", level=n.level, target_minor=n.target_minor,
                weight=str(n.weight), share=str(n.share), share_ppm=share_ppm, bound=n.bound,
                metric=_text(n.metric), target_per_metric=_text(n.target_per_metric),
                sibling_spread=_text(n.sibling_spread), phased_minor=list(n.phased_minor),
            )  # fmt: skip
        return response

    def _base(self, forecast: forecast_pb2.ComputeForecastRequest,
              quantiles: Sequence[float] = (0.5,)) -> forecast_pb2.ComputeForecastRequest:  # fmt: skip
        """The baseline request: a Monte Carlo seed drawn once (every side draws the same
        numbers), and the quantiles the costs and comparisons read."""
        base = forecast_pb2.ComputeForecastRequest()
        base.CopyFrom(forecast)
        if base.method == forecast_pb2.DISTRIBUTION_METHOD_MONTE_CARLO and not base.seed:
            base.seed = secrets.randbits(63)
        if base.quantiles:
            base.quantiles.extend(q for q in quantiles if q not in base.quantiles)
        return base

    def _scenario(
        self,
        base: forecast_pb2.ComputeForecastRequest,
        levers: Sequence[planning_pb2.ScenarioLever],
    ) -> forecast_pb2.ComputeForecastResponse:
        """The forecast of ``base`` under ``levers``."""
        lv = _levers(levers)
        as_of = parse_date(base.as_of_date, "as_of_date") or self.repository.clock().date()

        def change(deals: DealInput, rules: CompiledRuleSet) -> DealInput:
            closed = {s for s, c in zip(rules.stage_ids, rules.stage_is_closed.tolist(),
                                        strict=True) if c}  # fmt: skip
            extra = [dict(r) for r in lv.new]
            for c in lv.copies:
                extra += _copied_deals(deals, closed, c)
            deals = _with_new_deals(deals, extra) if extra else deals
            return _sooner(deals, closed, lv.cycle, as_of) if lv.cycle is not None else deals

        def rescore(batch: DealBatch, scores: ScoreResult) -> tuple[DealBatch, ScoreResult]:
            rules = self.repository.resolve(base.rule_set, base.revision or None,
                                            parse_date(base.as_of_date, "as_of_date"))[1]  # fmt: skip
            stage = batch.stage_idx.astype(np.int64)
            is_open = scores.valid & ~rules.stage_is_closed[stage]
            prob = apply_win_rates(scores.win_prob_ppm, stage, is_open, lv.wins, rules.stage_index)
            amount = batch.frame["amount_minor"].values.astype(np.int64)
            for i, lever in lv.sizes:
                amount = apply_deal_size(amount, is_open, lever, f"levers[{i}].deal_size")
            weighted = muldiv_half_even(amount, prob, 1_000_000)
            frame = batch.frame.with_columns({"amount_minor": Column(FieldType.INT, amount)})
            return replace(batch, frame=frame), replace(
                scores, win_prob_ppm=prob, weighted_amount_minor=np.where(scores.valid, weighted, 0)
            )

        scenario = base
        if lv.targets:
            scenario = forecast_pb2.ComputeForecastRequest()
            scenario.CopyFrom(base)
            for t in lv.targets:
                kept = [x for x in scenario.targets
                        if (list(x.group), x.period) != (list(t.group), t.period)]  # fmt: skip
                del scenario.targets[:]
                scenario.targets.extend(kept)
                scenario.targets.add(group=list(t.group), period=t.period,
                                     target_minor=t.target_minor)  # fmt: skip
        return self.forecasts.forecast(scenario, change, rescore)

    def _rules(self, base: forecast_pb2.ComputeForecastRequest) -> tuple[CompiledRuleSet, dt.date]:
        as_of = parse_date(base.as_of_date, "as_of_date") or self.repository.clock().date()
        return self.repository.resolve(base.rule_set, base.revision or None, as_of)[1], as_of

    def SimulateScenario(
        self, request: planning_pb2.SimulateScenarioRequest, context: grpc.ServicerContext
    ) -> planning_pb2.SimulateScenarioResponse:
        base = self._base(request.forecast)
        _levers(request.levers)  # bad levers are refused before any forecast
        baseline = self.forecasts.forecast(base)
        scenario = self._scenario(base, request.levers)
        response = planning_pb2.SimulateScenarioResponse(name=request.name, baseline=baseline,
                                                         scenario=scenario, seed=base.seed)  # fmt: skip
        rules, as_of = self._rules(base)
        response.costs.extend(_costs(rules, baseline, scenario, as_of))
        return response

    def CompareScenarios(
        self, request: planning_pb2.CompareScenariosRequest, context: grpc.ServicerContext
    ) -> planning_pb2.CompareScenariosResponse:
        names = ["baseline", *(s.name for s in request.scenarios)]
        problems = [Violation(f"scenarios[{i}].name", 0, 0, "DUPLICATE_NAME",
                              f"{s.name!r} is used twice (or is 'baseline')")
                    for i, s in enumerate(request.scenarios)
                    if not s.name or names.count(s.name) > 1]  # fmt: skip
        if not request.scenarios:
            problems.append(Violation("scenarios", 0, 0, "REQUIRED", "give at least one scenario"))
        if problems:
            raise InvalidArgumentError("cannot compare these scenarios", reason="INVALID_SCENARIOS",
                                       violations=problems)  # fmt: skip
        base = self._base(request.forecast, (0.1, 0.5, 0.9))
        for i, s in enumerate(request.scenarios):
            with _under(f"scenarios[{i}]"):
                _levers(s.levers)  # bad levers are refused before any forecast
        baseline = self.forecasts.forecast(base)
        sides = [baseline]
        for i, s in enumerate(request.scenarios):
            with _under(f"scenarios[{i}]"):
                sides.append(self._scenario(base, s.levers))
        rules, as_of = self._rules(base)
        costs = [{(tuple(c.group), c.level, c.period): c.scenario_cost_minor
                  for c in _costs(rules, baseline, side, as_of)} for side in sides]  # fmt: skip
        response = planning_pb2.CompareScenariosResponse(
            currency=baseline.currency, group_by=list(baseline.group_by), scenarios=names,
            seed=base.seed)  # fmt: skip
        by_side = [{(tuple(g.group), g.level, g.period): g for g in side.groups} for side in sides]
        for g in baseline.groups:
            key = (tuple(g.group), g.level, g.period)
            row = response.rows.add(group=list(g.group), level=g.level, period=g.period)
            for name, side, cost in zip(names, by_side, costs, strict=True):
                figures = row.figures.add(scenario=name)
                found = side.get(key)
                if found is None:
                    continue
                quantiles = {q.quantile: q.amount_minor for q in found.distribution.quantiles}
                figures.mean_minor = found.distribution.mean_minor
                figures.p10_minor = quantiles.get(0.1, 0)
                figures.p50_minor = quantiles.get(0.5, 0)
                figures.p90_minor = quantiles.get(0.9, 0)
                if found.HasField("target"):
                    figures.p_reach_target = found.target.p_reach_target
                figures.commission_minor = cost.get(key, 0)
                if figures.p50_minor > 0:
                    figures.cost_of_sales = figures.commission_minor / figures.p50_minor
        return response

    def SolveGap(
        self, request: planning_pb2.SolveGapRequest, context: grpc.ServicerContext
    ) -> planning_pb2.SolveGapResponse:
        confidence = request.confidence or 0.5
        if not 0 < confidence < 1:
            raise InvalidArgumentError("a confidence is in (0, 1)", reason="INVALID_ARGUMENT",
                                       violations=[Violation("confidence", 0, 0,
                                                             "INVALID_ARGUMENT", "in (0, 1)")])  # fmt: skip
        base = self._base(request.forecast)
        base.solve_levers = True
        del base.lever_confidences[:]
        base.lever_confidences.append(confidence)
        if not base.lever_search_error:
            base.lever_search_error = GAP_SEARCH_ERROR
        forecast = self.forecasts.forecast(base)
        response = planning_pb2.SolveGapResponse(forecast=forecast, confidence=confidence)
        if "owner" not in forecast.group_by:
            return response
        rules, as_of = self._rules(base)
        at, width = list(forecast.group_by).index("owner"), len(forecast.group_by)
        for g in forecast.groups:
            if g.level != width or not g.HasField("target") or not g.target.levers:
                continue
            k = plan_for(rules, g.group[at], as_of)
            plan = rules.plans[k] if k >= 0 else None

            def cost(
                outcome: int, plan: CompiledPlan | None = plan, target: int = g.target.target_minor
            ) -> int:
                if plan is None:
                    return 0
                return plan_cost_minor(plan.spec, outcome, target, plan.target_incentive_minor or 0)

            before = cost(_p50(g))
            for lever in g.target.levers:
                response.costs.add(group=list(g.group), period=g.period, lever=lever.lever,
                                   stage=lever.stage, feasible=lever.feasible,
                                   p50_minor=lever.p50_minor,
                                   commission_minor=cost(lever.p50_minor) if lever.feasible else 0,
                                   commission_before_minor=before)  # fmt: skip
        return response


#: The gap solver searches with distributions within 3 % (then confirms each answer at the
#: request's error): about five times faster, answers within about 1 % of the finest search.
GAP_SEARCH_ERROR = 0.03


@contextmanager
def _under(prefix: str) -> Iterator[None]:
    """Bad input inside the block is reported with ``prefix`` before each field path."""
    try:
        yield
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(exc.message, reason=exc.reason, violations=[
            replace(v, path=f"{prefix}.{v.path}") for v in exc.violations]) from None  # fmt: skip


def _decimal_fraction(text: str, path: str) -> Fraction:
    problems: list[Violation] = []
    value = _fraction(text, path, problems)
    if value is None:
        problems = problems or [Violation(path, 0, 0, "REQUIRED", "give a factor, e.g. 1.2")]
        raise InvalidArgumentError("bad levers", reason="INVALID_LEVER", violations=problems)
    return value


@dataclass(frozen=True)
class _Copies:
    """New deals copied from a group's open deals: ``hires`` people at ``share`` of an average
    person's pipeline (renamed "new hire k"), or a fixed ``share`` of deals (visits x
    conversion; owners kept)."""

    field: str
    value: str
    index: int
    share: Fraction
    hires: int = 0


@dataclass
class _Levers:
    wins: list[WinRateLever] = dc_field(default_factory=list)
    sizes: list[tuple[int, DealSizeLever]] = dc_field(default_factory=list)
    new: list[dict[str, Any]] = dc_field(default_factory=list)
    copies: list[_Copies] = dc_field(default_factory=list)
    cycle: Fraction | None = None
    targets: list[planning_pb2.TargetLever] = dc_field(default_factory=list)


def _group_lever(field: str, value: str, where: str, problems: list[Violation]) -> None:
    if field not in _TEXT_FIELDS or not value:
        problems.append(Violation(f"{where}.field", 0, 0, "UNKNOWN_FIELD",
                                  f"one of {', '.join(_TEXT_FIELDS)}, with a value"))  # fmt: skip


def _levers(levers: Sequence[planning_pb2.ScenarioLever]) -> _Levers:
    """The request's levers by kind, checked (paths name each lever)."""
    out = _Levers()
    problems: list[Violation] = []
    for i, lever in enumerate(levers):
        kind = lever.WhichOneof("lever")
        where = f"levers[{i}].{kind}"
        if kind == "win_rate":
            out.wins.append(WinRateLever(_decimal_fraction(lever.win_rate.factor,
                                                           f"{where}.factor"),
                                         lever.win_rate.stage, where))  # fmt: skip
        elif kind == "deal_size":
            out.sizes.append((i, DealSizeLever(_decimal_fraction(lever.deal_size.factor,
                                                                 f"{where}.factor"))))  # fmt: skip
        elif kind == "new_pipeline":
            p = lever.new_pipeline
            before = len(problems)
            if not 0 < p.count <= 100_000:
                problems.append(Violation(f"{where}.count", 0, 0, "INVALID_COUNT",
                                          "between 1 and 100,000 new deals"))  # fmt: skip
            if p.amount_minor <= 0:
                problems.append(Violation(f"{where}.amount_minor", 0, 0, "INVALID_AMOUNT",
                                          "a positive amount"))  # fmt: skip
            if not p.owner or not p.stage or not p.currency:
                problems.append(Violation(where, 0, 0, "REQUIRED", "owner, stage and currency"))
            for k in range(p.count if len(problems) == before else 0):
                out.new.append({"id": f"scenario-{i}-{k}", "amount_minor": p.amount_minor,
                                "currency": p.currency, "stage": p.stage, "owner": p.owner,
                                "region": p.region or None, "close_date": p.close_date or None})  # fmt: skip
        elif kind == "headcount":
            h = lever.headcount
            ramp = _fraction(h.ramp or "1", f"{where}.ramp", problems)
            if ramp is not None and not 0 <= ramp <= 1:
                problems.append(Violation(f"{where}.ramp", 0, 0, "INVALID_RAMP", "in [0, 1]"))
            if not 0 < h.hires <= 1000:
                problems.append(Violation(f"{where}.hires", 0, 0, "INVALID_COUNT",
                                          "between 1 and 1,000 hires"))  # fmt: skip
            _group_lever(h.field, h.value, where, problems)
            if ramp is not None:
                out.copies.append(_Copies(h.field, h.value, i, ramp, max(h.hires, 0)))
        elif kind == "visits":
            v = lever.visits
            rate = _fraction(v.conversion, f"{where}.conversion", problems)
            if rate is None or not 0 < rate <= 1:
                problems.append(Violation(f"{where}.conversion", 0, 0, "INVALID_RATE",
                                          "a visit -> deal rate in (0, 1]"))  # fmt: skip
            if not 0 < v.visits <= 1_000_000:
                problems.append(Violation(f"{where}.visits", 0, 0, "INVALID_COUNT",
                                          "between 1 and 1,000,000 visits"))  # fmt: skip
            _group_lever(v.field, v.value, where, problems)
            if rate is not None:
                out.copies.append(_Copies(v.field, v.value, i, v.visits * rate))
        elif kind == "cycle_time":
            factor = _decimal_fraction(lever.cycle_time.factor, f"{where}.factor")
            if factor <= 0:
                problems.append(Violation(f"{where}.factor", 0, 0, "INVALID_FACTOR",
                                          "a positive factor (0.8: cycles 20 % shorter)"))  # fmt: skip
            out.cycle = factor if out.cycle is None else out.cycle * factor
        elif kind == "target":
            if lever.target.target_minor < 0 or not lever.target.period:
                problems.append(Violation(where, 0, 0, "INVALID_TARGET",
                                          "a period and a target not below 0"))  # fmt: skip
            out.targets.append(lever.target)
        else:
            problems.append(Violation(f"levers[{i}]", 0, 0, "UNKNOWN_LEVER",
                                      "win_rate, deal_size, new_pipeline, headcount, visits, "
                                      "cycle_time or target"))  # fmt: skip
    if problems:
        raise InvalidArgumentError("bad levers", reason="INVALID_LEVER", violations=problems)
    return out


_TEXT_FIELDS = ("region", "owner", "product_line", "customer_tier", "source")


def _copied_deals(deals: DealInput, closed: set[str], c: _Copies) -> list[dict[str, Any]]:
    """The deals a headcount or visits lever brings: copies of the group's open deals, in
    order."""
    values = getattr(deals, c.field)
    rows = [i for i in range(len(deals))
            if i < len(values) and values[i] == c.value and deals.stage[i] not in closed]  # fmt: skip
    owners = {deals.owner[i] for i in rows if i < len(deals.owner) and deals.owner[i]}
    if not rows or (c.hires and not owners):
        return []
    share = c.hires * c.share * Fraction(len(rows), len(owners)) if c.hires else c.share
    out = []
    for k in range(round(share)):  # half to even
        i = rows[k % len(rows)]
        record = {name: getattr(deals, name)[i] if i < len(getattr(deals, name)) else None
                  for name in DEAL_COLUMNS}  # fmt: skip
        record.update({"id": f"scenario-{c.index}-{k}", "win_prob": None, "category": None})
        if c.hires:
            record["owner"] = f"new hire {k % c.hires + 1}"
        out.append(record)
    return out


def _sooner(deals: DealInput, closed: set[str], factor: Fraction, as_of: dt.date) -> DealInput:
    """Open deals' close dates moved to as-of + (close - as-of) x factor (nearest day, half to
    even); dates already past stay."""
    dates = []
    for i, value in enumerate(deals.close_date):
        day = value
        if isinstance(value, str) and value:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                day = value  # reported as the bad date it is when the batch is built
        if isinstance(day, dt.date) and day > as_of and deals.stage[i] not in closed:
            day = as_of + dt.timedelta(days=round((day - as_of).days * factor))
        dates.append(day)
    return replace(deals, close_date=dates)


def _with_new_deals(deals: DealInput, records: list[dict[str, Any]]) -> DealInput:
    """``deals`` with ``records`` appended (attributes padded with None). A new deal without a
    region takes the one most of its owner's deals have, so it rolls up where they do."""
    regions: dict[str, dict[str, int]] = {}
    for owner, region in zip(deals.owner, deals.region, strict=False):
        if owner and region:
            counts = regions.setdefault(owner, {})
            counts[region] = counts.get(region, 0) + 1
    for r in records:
        if not r.get("region") and regions.get(r["owner"]):
            counts = regions[r["owner"]]
            r["region"] = max(sorted(counts), key=lambda k: counts[k])
    extra = deal_input_from_records(records)
    n, m = len(deals), len(extra)
    columns: dict[str, Any] = {}
    for name in DEAL_COLUMNS:
        mine, theirs = list(getattr(deals, name)), list(getattr(extra, name))
        columns[name] = (mine + [None] * (n - len(mine))) + (theirs + [None] * (m - len(theirs)))
    attributes = {k: list(v) + [None] * m for k, v in deals.attributes.items()}
    return DealInput(**columns, attributes=attributes)


def _p50(group: forecast_pb2.ForecastGroup) -> int:
    return next((q.amount_minor for q in group.distribution.quantiles if q.quantile == 0.5), 0)


def _costs(rules: CompiledRuleSet, baseline: forecast_pb2.ComputeForecastResponse,
           scenario: forecast_pb2.ComputeForecastResponse,
           as_of: dt.date) -> list[planning_pb2.GroupCost]:  # fmt: skip
    """Commission on each person's P50 outcome under their plan, summed per group and period."""
    if "owner" not in baseline.group_by:
        return []
    at = list(baseline.group_by).index("owner")
    width = len(baseline.group_by)
    targets = {(dict(t.group).get("owner"), t.period): t.amount_minor
               for t in rules.targets if set(dict(t.group)) == {"owner"}}  # fmt: skip
    people: dict[tuple[tuple[str, ...], str], list[int]] = {}
    for side, response in enumerate((baseline, scenario)):
        for g in response.groups:
            if g.level != width:
                continue
            owner = g.group[at]
            key = (tuple(g.group), g.period)
            k = plan_for(rules, owner, as_of)
            row = people.setdefault(key, [0, 0, 0, 0, 0 if k >= 0 else 1])
            row[side] = _p50(g)
            if k >= 0:
                plan = rules.plans[k]
                row[2 + side] = plan_cost_minor(plan.spec, _p50(g),
                                                targets.get((owner, g.period), 0),
                                                plan.target_incentive_minor or 0)  # fmt: skip
    out = []
    for g in baseline.groups:
        prefix = tuple(g.group[: g.level])
        rows = [v for (group, period), v in people.items()
                if period == g.period and group[: g.level] == prefix]  # fmt: skip
        if not rows:
            continue
        total = [sum(r[j] for r in rows) for j in range(5)]
        out.append(planning_pb2.GroupCost(
            group=list(g.group), level=g.level, period=g.period,
            baseline_p50_minor=total[0], scenario_p50_minor=total[1],
            baseline_cost_minor=total[2], scenario_cost_minor=total[3],
            people_without_plan=total[4]))  # fmt: skip
    return out


__all__ = ["PlanningServicer"]
