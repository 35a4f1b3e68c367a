"""``quotient.v1.ForecastService``: deal scoring, one batch per request or per stream message."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from engine.forecast.deals import build_deal_batch
from engine.forecast.scoring import score_deals
from quotient.v1 import forecast_pb2, forecast_pb2_grpc
from service.convert import deals_from_proto, parse_date, scores_to_proto
from service.repository import RuleSetRepository
from service.servicers.limits import check_batch_size


class ForecastServicer(forecast_pb2_grpc.ForecastServiceServicer):
    """Implements ForecastService over a :class:`RuleSetRepository`."""

    def __init__(self, repository: RuleSetRepository, max_batch_deals: int) -> None:
        self.repository = repository
        self.max_batch_deals = max_batch_deals

    def _score(self, request: forecast_pb2.ScoreDealsRequest) -> forecast_pb2.ScoreDealsResponse:
        check_batch_size(
            len(request.deals),
            self.max_batch_deals,
            "deals",
            "split the batch or use StreamScoreDeals",
        )
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        deals = deals_from_proto(request.deals)
        batch = build_deal_batch(deals, rules)
        result = score_deals(rules, batch)
        return scores_to_proto(batch, result, deals.currency, record)

    def ScoreDeals(
        self, request: forecast_pb2.ScoreDealsRequest, context: grpc.ServicerContext
    ) -> forecast_pb2.ScoreDealsResponse:
        return self._score(request)

    def StreamScoreDeals(
        self,
        request_iterator: Iterator[forecast_pb2.ScoreDealsRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[forecast_pb2.ScoreDealsResponse]:
        for request in request_iterator:
            yield self._score(request)


__all__ = ["ForecastServicer"]
