"""Translation for WinRateService: closed deals to feature columns, model cards to JSON and to
``ModelReport``, learned stage rates to messages."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.stage_rates import StageFlow, StageRates
from engine.forecast.win_model import Feature, Metrics, ModelCard, ReliabilityBin
from engine.money import CURRENCY_EXPONENTS
from engine.rules.compiler import CompiledRuleSet
from quotient.v1 import types_pb2, winrates_pb2
from service.convert import attribute_value

_TEXT_FIELDS = ("owner", "region", "product_line", "customer_tier", "source")
_KINDS = {
    winrates_pb2.FEATURE_KIND_CATEGORICAL: "categorical",
    winrates_pb2.FEATURE_KIND_NUMERIC: "numeric",
}
MAX_LISTED = 100


def closed_deal_columns(
    deals: Sequence[types_pb2.Deal], rules: CompiledRuleSet
) -> tuple[dict[str, Any], np.ndarray, list[Feature]]:
    """Feature columns and outcomes of closed deals, and the features they offer by default
    (every text field and attribute present, and ``amount`` in major units).

    INVALID_ARGUMENT names each deal whose stage is unknown or not closed, or whose attribute
    types disagree with earlier deals.
    """
    problems: list[Violation] = []
    won = np.zeros(len(deals), dtype=np.bool_)
    columns: dict[str, list[Any]] = {name: [] for name in _TEXT_FIELDS}
    columns["amount"] = []
    kinds: dict[str, str] = {}
    for i, d in enumerate(deals):
        stage = rules.stage_index.get(d.stage)
        if stage is None:
            problems.append(Violation(f"deals[{i}].stage", 0, 0, "UNKNOWN_STAGE", d.stage))
        elif not rules.stage_is_closed[stage]:
            problems.append(Violation(f"deals[{i}].stage", 0, 0, "NOT_CLOSED",
                                      f"{d.stage!r} is open: only closed deals train"))  # fmt: skip
        else:
            won[i] = bool(rules.stage_is_won[stage])
        for name in _TEXT_FIELDS:
            columns[name].append(getattr(d, name) or None)
        exponent = CURRENCY_EXPONENTS.get(d.currency, 2)
        columns["amount"].append(d.amount_minor / 10**exponent)
        for name, value in d.attributes.items():
            v = attribute_value(value)
            kind = "numeric" if value.WhichOneof("kind") in ("int_value", "decimal_value") else (
                "categorical")  # fmt: skip
            if kinds.setdefault(name, kind) != kind:
                problems.append(Violation(f"deals[{i}].attributes.{name}", 0, 0, "TYPE_MISMATCH",
                                          f"{name} is {kinds[name]} in earlier deals"))  # fmt: skip
                continue
            columns.setdefault(name, [None] * i)
            columns[name].append(float(v) if kind == "numeric" else str(v))
        for name in kinds:
            if len(columns[name]) < i + 1:
                columns[name].append(None)
    if problems:
        raise InvalidArgumentError(
            f"{len(problems)} deal(s) cannot train a model", reason="INVALID_DEALS",
            violations=problems[:MAX_LISTED],
        )  # fmt: skip
    defaults = [Feature(n, "categorical") for n in _TEXT_FIELDS if any(columns[n])]
    defaults.append(Feature("amount", "numeric"))
    defaults += [Feature(n, k) for n, k in sorted(kinds.items())]  # type: ignore[arg-type]
    out: dict[str, Any] = {k: v for k, v in columns.items()}
    for name, kind in kinds.items():
        if kind == "numeric":
            out[name] = np.array([np.nan if v is None else v for v in columns[name]], dtype=float)
    out["amount"] = np.array(columns["amount"], dtype=np.float64)
    return out, won, defaults


def features_from_proto(features: Sequence[winrates_pb2.ModelFeature]) -> list[Feature]:
    problems = [
        Violation(f"features[{i}].kind", 0, 0, "INVALID_ARGUMENT", "categorical or numeric")
        for i, f in enumerate(features)
        if f.kind not in _KINDS
    ]
    if problems:
        raise InvalidArgumentError("features need a kind", reason="INVALID_FEATURES",
                                   violations=problems)  # fmt: skip
    return [Feature(f.name, _KINDS[f.kind]) for f in features]  # type: ignore[arg-type]


def _metrics_json(m: Metrics) -> dict[str, Any]:
    return {"deals": m.deals, "roc_auc": m.roc_auc, "brier": m.brier, "log_loss": m.log_loss}


def card_to_json(card: ModelCard) -> str:
    return json.dumps(
        {
            "trained_at": card.trained_at.isoformat(),
            "data_sha256": card.data_sha256,
            "features": [[f.name, f.kind] for f in card.features],
            "train_deals": card.train_deals,
            "test_deals": card.test_deals,
            "seed": card.seed,
            "model": _metrics_json(card.model),
            "baselines": {k: _metrics_json(v) for k, v in card.baselines.items()},
            "reliability": [
                [b.low, b.high, b.deals, b.mean_predicted, b.observed] for b in card.reliability
            ],
            "warnings": list(card.warnings),
            "categories": {k: list(v) for k, v in card.categories.items()},
            "booster": card.booster,
        },
        sort_keys=True,
    )


def card_from_json(text: str) -> ModelCard:
    d = json.loads(text)

    def metrics(m: dict[str, Any]) -> Metrics:
        return Metrics(m["deals"], m["roc_auc"], m["brier"], m["log_loss"])

    return ModelCard(
        trained_at=dt.datetime.fromisoformat(d["trained_at"]),
        data_sha256=d["data_sha256"],
        features=tuple(Feature(n, k) for n, k in d["features"]),
        train_deals=d["train_deals"],
        test_deals=d["test_deals"],
        seed=d["seed"],
        model=metrics(d["model"]),
        baselines={k: metrics(v) for k, v in d["baselines"].items()},
        reliability=tuple(ReliabilityBin(*b) for b in d["reliability"]),
        warnings=tuple(d["warnings"]),
        categories={k: tuple(v) for k, v in d["categories"].items()},
        booster=d.get("booster", "strong"),
    )


def _metrics_proto(m: Metrics) -> winrates_pb2.ProbabilityMetrics:
    out = winrates_pb2.ProbabilityMetrics(deals=m.deals, brier=m.brier, log_loss=m.log_loss)
    if m.roc_auc is not None:
        out.roc_auc = m.roc_auc
    return out


def card_to_proto(card: ModelCard, rule_set: str, version: int) -> winrates_pb2.ModelReport:
    trained = Timestamp()
    trained.FromDatetime(card.trained_at)
    kinds = {v: k for k, v in _KINDS.items()}
    report = winrates_pb2.ModelReport(
        rule_set=rule_set,
        version=version,
        trained_at=trained,
        data_sha256=card.data_sha256,
        features=[
            winrates_pb2.ModelFeature(name=f.name, kind=kinds[f.kind]) for f in card.features
        ],
        train_deals=card.train_deals,
        test_deals=card.test_deals,
        seed=card.seed,
        model=_metrics_proto(card.model),
        baselines=[
            winrates_pb2.NamedMetrics(name=k, metrics=_metrics_proto(v))
            for k, v in card.baselines.items()
        ],
        warnings=list(card.warnings),
        booster=card.booster,
    )
    for b in card.reliability:
        bin_ = report.reliability.add(low=b.low, high=b.high, deals=b.deals)
        if b.mean_predicted is not None:
            bin_.mean_predicted = b.mean_predicted
        if b.observed is not None:
            bin_.observed = b.observed
    return report


def _decimal(x: float) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal("0.000001"), ROUND_HALF_EVEN))


def stage_rates_to_proto(
    rates: StageRates, flow: StageFlow, response: winrates_pb2.GetStageWinRatesResponse
) -> None:
    response.closed_deals = rates.closed_deals
    for g, segment in enumerate(rates.segments):
        for s, stage in enumerate(rates.stage_ids):
            response.rates.add(
                stage=stage,
                segment=list(segment),
                deals=int(rates.deals[g, s]),
                won=int(rates.won[g, s]),
                win_rate=_decimal(rates.rate[g, s]),
                low=_decimal(rates.low[g, s]),
                high=_decimal(rates.high[g, s]),
                source=str(rates.source[g, s]),
            )
    for s, stage in enumerate(flow.stage_ids):
        f = response.flow.add(
            stage=stage,
            completed_stays=int(flow.stays[s]),
            entered=int(flow.entered[s]),
            advanced=int(flow.advanced[s]),
        )
        if not math.isnan(flow.dwell_median_days[s]):
            f.dwell_median_days = float(flow.dwell_median_days[s])
            f.dwell_p90_days = float(flow.dwell_p90_days[s])
        if not math.isnan(flow.conversion[s]):
            f.conversion = float(flow.conversion[s])


__all__ = [
    "card_from_json",
    "card_to_json",
    "card_to_proto",
    "closed_deal_columns",
    "features_from_proto",
    "stage_rates_to_proto",
]
