"""``quotient.v1.WinRateService``: train and report win-probability models, learn stage win rates.

Training reads its deals from the request stream (settings in the first message, deals in any)
or from the store's deal histories, trains in-process (:func:`engine.forecast.win_model.train_model`)
and stores the skops bytes and the card as the rule set's next model version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import grpc
import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.stage_rates import stage_flow, stage_win_rates
from engine.forecast.win_model import (
    HISTORY_FEATURES,
    Feature,
    history_samples,
    model_to_bytes,
    train_model,
)
from engine.frame import FieldType
from quotient.v1 import types_pb2, winrates_pb2, winrates_pb2_grpc
from service.convert import parse_date
from service.convert_winrates import (
    card_from_json,
    card_to_json,
    card_to_proto,
    closed_deal_columns,
    features_from_proto,
    stage_rates_to_proto,
)
from service.deadlines import check_deadline
from service.histories import load_history
from service.repository import RuleSetRepository
from service.servicers.limits import check_batch_size
from service.store.ledger import LedgerStore
from service.store.models import ModelStore

#: Text fields the store's histories offer as features by default.
_HISTORY_TEXT = ("owner", "region", "product_line", "customer_tier", "source")
#: Deals one training stream may carry, per deal the batch limit allows.
TRAINING_BATCHES = 20


class WinRateServicer(winrates_pb2_grpc.WinRateServiceServicer):
    """Implements WinRateService over the rule sets, the deal histories and the model store."""

    def __init__(
        self,
        repository: RuleSetRepository,
        ledger: LedgerStore,
        models: ModelStore,
        clock: Callable[[], dt.datetime],
        max_batch_deals: int,
    ) -> None:
        self.repository = repository
        self.ledger = ledger
        self.models = models
        self.clock = clock
        self.max_batch_deals = max_batch_deals

    def TrainWinRateModel(
        self,
        request_iterator: Iterator[winrates_pb2.TrainWinRateModelRequest],
        context: grpc.ServicerContext,
    ) -> winrates_pb2.TrainWinRateModelResponse:
        first: winrates_pb2.TrainWinRateModelRequest | None = None
        deals: list[types_pb2.Deal] = []
        for message in request_iterator:
            first = first or message
            deals.extend(message.deals)
            check_batch_size(len(deals), self.max_batch_deals * TRAINING_BATCHES, "deals",
                             "train from the store's histories instead")  # fmt: skip
        if first is None:
            raise InvalidArgumentError("the request stream was empty", reason="EMPTY_REQUEST")
        if not 0 <= first.test_size < 1:
            raise InvalidArgumentError(
                "test_size must be in [0, 1); 0 means 0.2",
                reason="INVALID_ARGUMENT",
                violations=[Violation("test_size", 0, 0, "INVALID_ARGUMENT", "in [0, 1)")],
            )
        _, rules = self.repository.resolve(first.rule_set, None, None)
        if first.from_store:
            history, _ = load_history(self.ledger, first.rule_set, rules, [],
                                      self.max_batch_deals)  # fmt: skip
            declared = [
                n for n in rules.document.fields if rules.schema[n].type is not FieldType.DATE
            ]
            columns, won = history_samples(history, rules, [*_HISTORY_TEXT, *declared])
            defaults = [*HISTORY_FEATURES, Feature("amount", "numeric")]
            defaults += [Feature(n, "categorical") for n in _HISTORY_TEXT if any(columns[n])]
            for n in declared:  # declared attributes the histories carry
                if any(v is not None for v in columns[n]):
                    numeric = rules.schema[n].type in (FieldType.INT, FieldType.DECIMAL)
                    kind = "numeric" if numeric else "categorical"
                    if kind == "numeric":
                        columns[n] = np.array([np.nan if v is None else float(v)
                                               for v in columns[n]])  # fmt: skip
                    defaults.append(Feature(n, kind))  # type: ignore[arg-type]
            # The configured stage rates, scored on the same held-out deals as the model.
            stage = np.array([rules.stage_index[s] for s in columns["stage"]], dtype=np.int64)
            baselines = {"configured_stage_rates": rules.stage_rate_ppm[stage] / 1_000_000}
            groups, rate_by = columns["deal_id"], "stage"
        else:
            columns, won, defaults = closed_deal_columns(deals, rules)
            baselines, groups, rate_by = {}, None, None
        features = features_from_proto(first.features) or defaults
        check_deadline("while the training data was read")
        now = self.clock()
        trained = train_model(columns, won, features, seed=int(first.seed), now=now,
                              test_size=first.test_size or 0.2, baselines=baselines,
                              groups=groups, rate_by=rate_by)  # fmt: skip
        check_deadline("during training")
        version = self.models.add(first.rule_set, card_to_json(trained.card),
                                  trained.card.data_sha256, model_to_bytes(trained.pipeline),
                                  now)  # fmt: skip
        return winrates_pb2.TrainWinRateModelResponse(
            rule_set=first.rule_set,
            version=version,
            report=card_to_proto(trained.card, first.rule_set, version),
        )

    def GetModelReport(
        self, request: winrates_pb2.GetModelReportRequest, context: grpc.ServicerContext
    ) -> winrates_pb2.ModelReport:
        stored = self.models.get(request.rule_set, request.version or None)
        return card_to_proto(card_from_json(stored.card_json), stored.rule_set, stored.version)

    def GetStageWinRates(
        self, request: winrates_pb2.GetStageWinRatesRequest, context: grpc.ServicerContext
    ) -> winrates_pb2.GetStageWinRatesResponse:
        record, rules = self.repository.resolve(request.rule_set, request.revision or None,
                                                parse_date("", "as_of_date"))  # fmt: skip
        history, _ = load_history(self.ledger, request.rule_set, rules, request.history.changes,
                                  self.max_batch_deals)  # fmt: skip
        problems = [
            Violation(f"segment_by[{i}]", 0, 0, "UNKNOWN_FIELD", f"{name!r} is not a text field")
            for i, name in enumerate(request.segment_by)
            if not (name == "team" and rules.team_of)
            and (name not in rules.schema or rules.schema[name].type is not FieldType.STRING)
        ]
        if problems:
            raise InvalidArgumentError("cannot segment by these fields", reason="INVALID_SEGMENTS",
                                       violations=problems)  # fmt: skip
        if request.prior_strength < 0 or request.min_deals < 0:
            raise InvalidArgumentError(
                "prior_strength and min_deals cannot be negative",
                reason="INVALID_ARGUMENT",
                violations=[Violation("prior_strength", 0, 0, "INVALID_ARGUMENT", ">= 0")],
            )
        rates = stage_win_rates(history, rules, list(request.segment_by),
                                prior_strength=request.prior_strength or 20.0,
                                min_deals=request.min_deals or 30)  # fmt: skip
        response = winrates_pb2.GetStageWinRatesResponse(
            rule_set=record.name, revision=record.revision
        )
        stage_rates_to_proto(rates, stage_flow(history, rules), response)
        return response


__all__ = ["WinRateServicer"]
