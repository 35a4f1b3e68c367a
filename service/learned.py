"""The learned win-rate sources a rule set may select (``win_rates.source``), for scoring.

``historical`` learns stage rates from the store's deal histories; ``model`` loads the rule set's
win-probability model from the store; ``blend`` needs both. Both are cached: stage rates per rule
set, revision and the ledger's latest event (new events invalidate them), models per version (a
stored version never changes). A source that cannot be served is a FAILED_PRECONDITION that says
what to do, never a silent fallback to configured rates.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import FailedPreconditionError, NotFoundError
from engine.forecast.deals import DealBatch
from engine.forecast.learned_rates import learned_rates, model_columns
from engine.forecast.scoring import LearnedRates
from engine.forecast.stage_rates import StageRates, stage_win_rates
from engine.forecast.win_model import TrainedModel, model_from_bytes, unseen_share
from engine.frame import date_to_days
from engine.rules.compiler import CompiledRuleSet
from service.convert_winrates import card_from_json
from service.histories import load_history
from service.store.ledger import LedgerStore
from service.store.models import ModelStore


@dataclass(frozen=True)
class Learned:
    rates: LearnedRates | None
    model_version: int
    drift: dict[str, float]


class LearnedSources:
    """Serves ``historical`` / ``model`` / ``blend`` probabilities, with caches."""

    def __init__(self, ledger: LedgerStore, models: ModelStore, max_batch_deals: int) -> None:
        self.ledger = ledger
        self.models = models
        self.max_batch_deals = max_batch_deals
        self._lock = threading.Lock()
        self._stage_rates: dict[tuple[str, str, int], StageRates] = {}
        self._models: dict[tuple[str, int], TrainedModel] = {}

    def keep_fields(self, rules: CompiledRuleSet, name: str) -> list[str]:
        """Deal fields the source reads (so small batches keep them)."""
        source = rules.document.win_rates
        if source.source == "configured":
            return []
        fields = [("owner" if f == "team" else f) for f in source.segment_by]
        if source.source in ("model", "blend"):
            fields += [f.name for f in self._model(name, rules)[1].card.features]
            fields += ["close_date", "created_date", "stage_entered_date"]
        return fields

    def _model(self, name: str, rules: CompiledRuleSet) -> tuple[int, TrainedModel]:
        wanted = rules.document.win_rates.model_version or None
        try:
            stored = self.models.get(name, wanted)
        except NotFoundError:
            raise FailedPreconditionError(
                f"rule set {name!r} selects win_rates.source "
                f"{rules.document.win_rates.source!r} but has no "
                + (f"model version {wanted}" if wanted else "trained model")
                + ": train one with WinRateService.TrainWinRateModel",
                reason="NO_MODEL",
            ) from None
        key = (name, stored.version)
        with self._lock:
            model = self._models.get(key)
        if model is None:
            model = TrainedModel(
                model_from_bytes(stored.artifact), card_from_json(stored.card_json)
            )
            with self._lock:
                self._models[key] = model
        return stored.version, model

    def _rates(self, name: str, rules: CompiledRuleSet) -> StageRates:
        key = (name, rules.content_hash, self.ledger.last_seq())
        with self._lock:
            cached = self._stage_rates.get(key)
        if cached is not None:
            return cached
        history, _ = load_history(self.ledger, name, rules, [], self.max_batch_deals)
        cfg = rules.document.win_rates
        rates = stage_win_rates(history, rules, cfg.segment_by,
                                prior_strength=float(cfg.prior_strength),
                                min_deals=cfg.min_deals)  # fmt: skip
        with self._lock:
            self._stage_rates = {k: v for k, v in self._stage_rates.items() if k[0] != name}
            self._stage_rates[key] = rates
        return rates

    def rates(self, name: str, rules: CompiledRuleSet, batch: DealBatch, as_of: dt.date) -> Learned:
        """The learned probabilities for ``batch``, the model version used (0: none) and, with a
        model, the share of unseen categories per feature."""
        source = rules.document.win_rates.source
        if source == "configured":
            return Learned(None, 0, {})
        stage_rates = self._rates(name, rules) if source in ("historical", "blend") else None
        version, model = (0, None)
        drift: dict[str, float] = {}
        day = date_to_days(as_of)
        if source in ("model", "blend"):
            version, model = self._model(name, rules)
            drift = unseen_share(model.card, model_columns(batch, model, day))
        learned = learned_rates(source, rules, batch, stage_rates=stage_rates, model=model,
                                as_of_day=day)  # fmt: skip
        return Learned(learned, version, drift)


def needed_fields(sources: LearnedSources | None, rules: CompiledRuleSet, name: str,
                  extra: Sequence[str] = ()) -> list[str]:  # fmt: skip
    """Fields to keep in a batch: ``extra`` and what the rule set's learned source reads."""
    return [*extra, *(sources.keep_fields(rules, name) if sources is not None else [])]


__all__ = ["Learned", "LearnedSources", "needed_fields"]
