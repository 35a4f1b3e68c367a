"""``quotient.v1.CreditService``: credit splits of deal batches."""

from __future__ import annotations

import grpc

from engine.credit.splits import split_credits
from engine.forecast.deals import build_deal_batch, build_deal_batch_columns
from engine.forecast.scoring import score_deals
from quotient.v1 import credit_pb2, credit_pb2_grpc
from service.convert import deals_from_proto, parse_date, parse_time
from service.convert_arrow import deal_columns_from_arrow
from service.convert_credit import (
    add_lines,
    credits_to_proto,
    events_from_proto,
    team_from_proto,
)
from service.convert_credit_arrow import credits_to_arrow, team_from_arrow
from service.credit_ledger import CreditLedger, RecordResult, totals
from service.repository import RuleSetRepository
from service.servicers.limits import check_batch_size, deal_columns_table


class CreditServicer(credit_pb2_grpc.CreditServiceServicer):
    """Implements CreditService over a :class:`RuleSetRepository`."""

    def __init__(
        self, repository: RuleSetRepository, ledger: CreditLedger, max_batch_deals: int
    ) -> None:
        self.repository = repository
        self.ledger = ledger
        self.max_batch_deals = max_batch_deals

    def SplitCredits(
        self, request: credit_pb2.SplitCreditsRequest, context: grpc.ServicerContext
    ) -> credit_pb2.SplitCreditsResponse:
        if request.deal_columns:
            return self._split_columns(request)
        check_batch_size(len(request.deals), self.max_batch_deals, "deals")
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        deals = deals_from_proto(request.deals)
        batch = build_deal_batch(deals, rules)
        scores = score_deals(rules, batch)
        result = split_credits(rules, batch, scores, team_from_proto(request.deals))
        return credits_to_proto(rules, batch, scores, result, deals.currency, record)

    def _split_columns(
        self, request: credit_pb2.SplitCreditsRequest
    ) -> credit_pb2.SplitCreditsResponse:
        """SplitCredits for deals sent as Arrow columns: the credits go back as columns."""
        table = deal_columns_table(request, self.max_batch_deals)
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        team = team_from_arrow(table, rules)
        batch = build_deal_batch_columns(deal_columns_from_arrow(table), rules)
        scores = score_deals(rules, batch)
        result = split_credits(rules, batch, scores, team)
        deals, parts = credits_to_arrow(table, rules, batch, scores, result)
        return credit_pb2.SplitCreditsResponse(
            rule_set=record.name, revision=record.revision, failed_count=len(result.errors),
            deal_columns=deals, part_columns=parts,
        )  # fmt: skip

    def RecordDealEvents(
        self, request: credit_pb2.RecordDealEventsRequest, context: grpc.ServicerContext
    ) -> credit_pb2.RecordDealEventsResponse:
        check_batch_size(len(request.events), self.max_batch_deals, "events")
        response = credit_pb2.RecordDealEventsResponse()
        with_lines = not request.omit_lines

        def respond(result: RecordResult) -> None:  # while the batch is being committed
            response.recorded_count = result.recorded
            response.duplicate_count = result.duplicates
            if with_lines:
                add_lines(result.lines, response.lines)

        self.ledger.record(
            request.rule_set, events_from_proto(request.events), while_committing=respond
        )
        return response

    def GetCredits(
        self, request: credit_pb2.GetCreditsRequest, context: grpc.ServicerContext
    ) -> credit_pb2.GetCreditsResponse:
        as_of = parse_time(request.as_of, "as_of") if request.HasField("as_of") else None
        rows = self.ledger.lines(deal_id=request.deal_id, person=request.person, as_of=as_of)
        response = credit_pb2.GetCreditsResponse()
        for (deal_id, split, person, currency), (c, w) in sorted(totals(rows).items()):
            if (c, w) != (0, 0):
                response.totals.add(
                    deal_id=deal_id,
                    split=split,
                    person=person,
                    currency=currency,
                    credit_minor=c,
                    weighted_credit_minor=w,
                )
        if request.include_lines:
            add_lines(rows, response.lines)
        return response


__all__ = ["CreditServicer"]
