"""``quotient.v1.PlanningService``: targets decomposed down a hierarchy (translation only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import grpc
import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.history import NO_DAY
from engine.frame import date_to_days
from engine.planning.decompose import LevelMethod, PlanNode, decompose
from quotient.v1 import planning_pb2, planning_pb2_grpc
from service.commission_inputs import load_deals
from service.convert import parse_date
from service.repository import RuleSetRepository
from service.store.sqlite_ledger import SqliteLedger


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
    """Implements PlanningService over the engine's decomposition."""

    def __init__(self, repository: RuleSetRepository, ledger: SqliteLedger) -> None:
        self.repository = repository
        self.ledger = ledger

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


__all__ = ["PlanningServicer"]
