"""``quotient.v1.CreditService``: credit splits of deal batches."""

from __future__ import annotations

import grpc

from engine.credit.splits import split_credits
from engine.errors import ResourceExhaustedError
from engine.forecast.deals import build_deal_batch
from engine.forecast.scoring import score_deals
from quotient.v1 import credit_pb2, credit_pb2_grpc
from service.convert import deals_from_proto, parse_date
from service.convert_credit import credits_to_proto, team_from_proto
from service.repository import RuleSetRepository


class CreditServicer(credit_pb2_grpc.CreditServiceServicer):
    """Implements CreditService over a :class:`RuleSetRepository`."""

    def __init__(self, repository: RuleSetRepository, max_batch_deals: int) -> None:
        self.repository = repository
        self.max_batch_deals = max_batch_deals

    def SplitCredits(
        self, request: credit_pb2.SplitCreditsRequest, context: grpc.ServicerContext
    ) -> credit_pb2.SplitCreditsResponse:
        n = len(request.deals)
        if n > self.max_batch_deals:
            raise ResourceExhaustedError(
                f"{n} deals in one batch; the limit is {self.max_batch_deals}",
                reason="BATCH_TOO_LARGE",
            )
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        deals = deals_from_proto(request.deals)
        batch = build_deal_batch(deals, rules)
        scores = score_deals(rules, batch)
        result = split_credits(rules, batch, scores, team_from_proto(request.deals))
        return credits_to_proto(rules, batch, scores, result, deals.currency, record)


__all__ = ["CreditServicer"]
