"""Learned win probabilities for a batch of deals: from stage rates learned on history, from the
win-probability model, or a blend of the two, as :class:`~engine.forecast.scoring.LearnedRates`
for :func:`~engine.forecast.scoring.score_deals`.

* **historical**: each open deal gets its segment's learned rate for its stage (a segment the
  history does not know gets the global rate).
* **model**: the model's probability from the deal's fields as the frame holds them (text columns
  translate once per distinct value; a feature the deals do not carry is missing, which the
  booster handles). ``days_to_close``, ``age_days`` and ``days_in_stage`` are counted from the
  as-of day to the deal's close, created and stage-entered dates.
* **blend**: the model where every categorical value of the deal was seen in its training (the
  model knows deals like it), the historical rate elsewhere; and the historical rate everywhere
  when the model did not beat the stage rates on its held-out deals (its card says so).

All of it is a few array operations per feature or segment field, never a loop over deals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.forecast.deals import DealBatch, group_keys, with_team_column
from engine.forecast.scoring import LearnedRates, ProbSource
from engine.forecast.stage_rates import StageRates
from engine.forecast.win_model import TrainedModel, predict
from engine.frame import FieldType
from engine.rules.compiler import CompiledRuleSet

_PPM = 1_000_000


def historical_ppm(rates: StageRates, rules: CompiledRuleSet, batch: DealBatch) -> np.ndarray:
    """Each deal's learned stage rate in ppm (-1 for closed stages and unreadable deals)."""
    n = batch.n_deals
    segment = np.zeros(n, dtype=np.int64)
    if "team" in rates.segment_by and "team" not in batch.frame:
        batch = with_team_column(batch, rules.team_of)
    if rates.segment_by:
        index = {key: i for i, key in enumerate(rates.segments)}
        code, keys = group_keys(batch, rates.segment_by)
        segment = np.array([index.get(k, 0) for k in keys], dtype=np.int64)[code]
    position = np.full(len(rules.stage_ids), -1, dtype=np.int64)
    open_idx = [rules.stage_index[s] for s in rates.stage_ids]
    position[open_idx] = np.arange(len(open_idx))
    pos = position[batch.stage_idx]
    rate = rates.rate[segment, np.clip(pos, 0, None)]
    ppm = np.rint(rate * _PPM).astype(np.int64)
    return np.where((pos >= 0) & batch.valid, ppm, -1)


def model_columns(batch: DealBatch, model: TrainedModel, as_of_day: int) -> dict[str, Any]:
    """The model's features from a batch's frame: text columns as codes, numbers as floats."""
    out: dict[str, Any] = {}
    n = batch.n_deals
    # Day counts the model reads, from the date field they count from (forward or back).
    spans = {"days_to_close": ("close_date", 1.0), "age_days": ("created_date", -1.0),
             "days_in_stage": ("stage_entered_date", -1.0)}  # fmt: skip
    for f in model.card.features:
        if f.name in spans and spans[f.name][0] in batch.frame:
            name, sign = spans[f.name]
            col = batch.frame[name]
            days = sign * (col.values.astype(np.float64) - as_of_day)
            out[f.name] = np.where(col.null, np.nan, days) if col.null is not None else days
        elif f.name in batch.frame:
            col = batch.frame[f.name]
            if col.type is FieldType.STRING:
                out[f.name] = (col.codes(), list(col.dictionary))
            else:
                number = col.values.astype(np.float64)
                if col.type is FieldType.DECIMAL:
                    number = number / 10.0**col.scale
                out[f.name] = np.where(col.null, np.nan, number) if col.null is not None else number
        elif f.kind == "categorical":
            out[f.name] = (np.full(n, -1, dtype=np.int64), [])
        else:
            out[f.name] = np.full(n, np.nan)
    return out


def known_to_model(model: TrainedModel, columns: dict[str, Any]) -> np.ndarray:
    """True for deals whose categorical values were all seen in the model's training."""
    n = len(next(iter(columns.values()))[0]) if columns else 0
    known = np.ones(n, dtype=np.bool_)
    for f in model.card.features:
        if f.kind != "categorical":
            continue
        codes, dictionary = columns[f.name]
        seen = set(model.card.categories.get(f.name, ()))
        ok = np.array([d in seen for d in dictionary] + [False])
        known &= ok[np.where(codes < 0, len(dictionary), codes)]
    return known


def model_beats_stage_rates(model: TrainedModel) -> bool:
    """Whether the model's held-out log loss beats every stage-rate baseline in its card."""
    stage = [m for name, m in model.card.baselines.items() if "stage" in name]
    return all(model.card.model.log_loss <= m.log_loss for m in stage)


def learned_rates(
    source: str,
    rules: CompiledRuleSet,
    batch: DealBatch,
    *,
    stage_rates: StageRates | None = None,
    model: TrainedModel | None = None,
    as_of_day: int = 0,
) -> LearnedRates:
    """The learned probabilities of ``source`` (historical, model or blend) for ``batch``."""
    n = batch.n_deals
    open_ = batch.valid & ~rules.stage_is_closed[batch.stage_idx]
    hist = np.full(n, -1, dtype=np.int64)
    if stage_rates is not None:
        hist = historical_ppm(stage_rates, rules, batch)
    if source == "historical":
        return LearnedRates(hist, np.full(n, ProbSource.HISTORICAL, dtype=np.int8))
    if model is None:
        raise ValueError(f"source {source!r} needs a model")
    columns = model_columns(batch, model, as_of_day)
    p = predict(model, columns)
    model_ppm = np.where(open_, np.rint(p * _PPM).astype(np.int64), -1)
    if source == "model":
        return LearnedRates(model_ppm, np.full(n, ProbSource.MODEL, dtype=np.int8))
    use_model = known_to_model(model, columns) & model_beats_stage_rates(model)
    win = np.where(use_model, model_ppm, hist)
    src = np.where(use_model, ProbSource.MODEL, ProbSource.HISTORICAL).astype(np.int8)
    return LearnedRates(win, src)


__all__ = [
    "historical_ppm",
    "known_to_model",
    "learned_rates",
    "model_beats_stage_rates",
    "model_columns",
]
