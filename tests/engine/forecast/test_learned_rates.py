"""Learned probabilities for a batch: historical stage rates by segment (unknown segments take the
global rate), the model's probability from frame columns, and the blend's choice per deal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.history import history_from_records
from engine.forecast.learned_rates import learned_rates, model_beats_stage_rates
from engine.forecast.scoring import ProbSource, score_deals
from engine.forecast.stage_rates import stage_win_rates
from engine.forecast.win_model import Feature, predict, train_model
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def hist_row(deal: str, date: str, stage: str, region: str) -> dict[str, Any]:
    return {"deal_id": deal, "date": date, "stage": stage, "amount_minor": 100,
            "currency": "CNY", "region": region}  # fmt: skip


def history() -> Any:
    rows = []
    for i in range(40):
        region = "North" if i % 2 else "South"
        outcome = "won" if i % 4 in (1, 2) else "lost"
        rows += [hist_row(f"d{i}", "2026-01-02", "quote", region),
                 hist_row(f"d{i}", "2026-02-02", outcome, region)]  # fmt: skip
    return history_from_records(rows, RULES)


def batch(regions: list[str], stages: list[str]) -> Any:
    records = [{"id": f"x{i}", "amount_minor": 1000, "currency": "CNY", "stage": s, "region": r}
               for i, (r, s) in enumerate(zip(regions, stages, strict=True))]  # fmt: skip
    return build_deal_batch(deal_input_from_records(records), RULES, keep_fields=["region"])


def model() -> Any:
    rng = np.random.default_rng(0)
    n = 600
    region = rng.choice(["North", "South"], n)
    won = rng.random(n) < np.where(region == "North", 0.7, 0.2)
    return train_model({"region": list(region)}, won, [Feature("region", "categorical")],
                       seed=0, now=NOW)  # fmt: skip


def test_historical_rates_by_segment() -> None:
    rates = stage_win_rates(history(), RULES, ["region"], min_deals=1, prior_strength=1)
    b = batch(["North", "Atlantis", "South"], ["quote", "quote", "won"])
    learned = learned_rates("historical", RULES, b, stage_rates=rates)
    north = rates.segments.index(("North",))
    quote = rates.stage_ids.index("quote")
    assert learned.win_ppm.tolist() == [round(rates.rate[north, quote] * 1e6),
                                        round(rates.rate[0, quote] * 1e6), -1]  # fmt: skip
    scores = score_deals(RULES, b, learned)
    assert scores.prob_source.tolist() == [ProbSource.HISTORICAL, ProbSource.HISTORICAL,
                                           ProbSource.CLOSED_STAGE]  # fmt: skip


def test_the_model_and_the_blend_per_deal() -> None:
    m = model()
    assert model_beats_stage_rates(m)  # no stage-rate baseline to lose to
    rates = stage_win_rates(history(), RULES, ["region"], min_deals=1)
    b = batch(["North", "Atlantis"], ["quote", "quote"])
    modelled = learned_rates("model", RULES, b, model=m)
    want = predict(m, {"region": ["North", "Atlantis"]})
    assert modelled.win_ppm.tolist() == [round(p * 1e6) for p in want]
    assert modelled.win_ppm[0] > 500_000  # North wins 70 %
    blended = learned_rates("blend", RULES, b, stage_rates=rates, model=m)
    assert blended.source.tolist() == [ProbSource.MODEL, ProbSource.HISTORICAL]
    assert blended.win_ppm[0] == modelled.win_ppm[0]
    with pytest.raises(ValueError):
        learned_rates("model", RULES, b)
