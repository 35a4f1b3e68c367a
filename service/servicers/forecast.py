"""``quotient.v1.ForecastService``: deal scoring (one batch per request or per stream message) and
forecasts over deals given in the request or held in the store."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import grpc

from engine.credit.ledger import deal_record
from engine.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    ResourceExhaustedError,
    Violation,
)
from engine.forecast.backtest import backtest
from engine.forecast.deals import (
    DealBatch,
    DealColumns,
    DealInput,
    build_deal_batch,
    build_deal_batch_columns,
    deal_input_from_columns,
    deal_input_from_records,
)
from engine.forecast.report import (
    DistributionOptions,
    Method,
    PeriodAwareInputs,
    compile_filter,
    forecast_report,
    select_deals,
)
from engine.forecast.scoring import ScoreResult, score_deals
from engine.frame import date_to_days
from engine.partition import local_map
from engine.rules.compiler import CompiledRuleSet
from quotient.v1 import forecast_pb2, forecast_pb2_grpc, types_pb2
from service.batch import Executor, InProcess, log_progress, partition_map, thread_map
from service.convert import deals_from_proto, parse_date, scores_to_proto
from service.convert_arrow import deal_columns_from_arrow, read_table, scores_to_arrow
from service.convert_forecast import (
    backtest_to_proto,
    levers_from_proto,
    method_from_proto,
    periods_from_proto,
    quantiles_from_proto,
    report_to_proto,
    targets_from_proto,
)
from service.deadlines import check_deadline, checked_map
from service.histories import load_history
from service.learned import Learned, LearnedSources, needed_fields
from service.repository import RuleSetRepository
from service.servicers.limits import check_batch_size, deal_columns_table
from service.store.ledger import LedgerStore

#: Monte Carlo work one request may ask for: trials x deals.
MAX_MONTE_CARLO_DRAWS = 500_000_000
#: On a cluster: Monte Carlo draws (trials x deals, every subtotal level) per partition, at least
#: (some 0.05 s of compute; bench/batch.py puts the crossover near 3,000,000 draws, a partition's
#: results being small).
MIN_DRAWS_PER_PARTITION = 20_000_000
#: In-process: Monte Carlo draws per thread, at least (some 5 ms of compute).
MIN_DRAWS_PER_THREAD = 4_000_000
#: On a cluster: a backtest is spread one period per task from this many (history deals x
#: periods) on; below it, it runs here.
MIN_BACKTEST_WORK = 20_000
#: Unscored deals listed in a forecast response.
MAX_UNSCORED_LISTED = 100


def hierarchy_levels(rules: CompiledRuleSet, group_by: Sequence[str]) -> list[str]:
    """The rule set's hierarchy levels, for a request that asks to roll up along them."""
    problems = []
    if group_by:
        problems.append(Violation("group_by", 0, 0, "INVALID_ARGUMENT",
                                  "give group_by or hierarchy, not both"))  # fmt: skip
    hierarchy = rules.document.hierarchy
    if hierarchy is None:
        problems.append(Violation("hierarchy", 0, 0, "NO_HIERARCHY",
                                  f"rule set {rules.name!r} declares no hierarchy"))  # fmt: skip
    if problems:
        raise InvalidArgumentError("cannot roll up along a hierarchy", reason=problems[0].reason,
                                   violations=problems)  # fmt: skip
    assert hierarchy is not None
    return list(hierarchy.levels)


class ForecastServicer(forecast_pb2_grpc.ForecastServiceServicer):
    """Implements ForecastService over a :class:`RuleSetRepository`."""

    def __init__(
        self,
        repository: RuleSetRepository,
        max_batch_deals: int,
        ledger: LedgerStore | None = None,
        learned: LearnedSources | None = None,
        batch: Executor | None = None,
        threads: int = 1,
    ) -> None:
        self.repository = repository
        self.max_batch_deals = max_batch_deals
        self.ledger = ledger
        self.learned = learned
        #: Where Monte Carlo trials and backtest periods run (see service.batch).
        self.batch = batch if batch is not None else InProcess()
        #: Threads a Monte Carlo uses in-process (the pool is made on first use).
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _thread_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="monte-carlo")
            return self._pool

    def _score(self, request: forecast_pb2.ScoreDealsRequest) -> forecast_pb2.ScoreDealsResponse:
        if request.deal_columns:
            return self._score_columns(request)
        check_batch_size(
            len(request.deals),
            self.max_batch_deals,
            "deals",
            "split the batch or use StreamScoreDeals",
        )
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        deals = deals_from_proto(request.deals)
        if rules.document.win_rates.source == "configured":  # the hot path
            batch = build_deal_batch(deals, rules)
            return scores_to_proto(batch, score_deals(rules, batch), deals.currency, record)
        batch = build_deal_batch(
            deals, rules, keep_fields=needed_fields(self.learned, rules, record.name)
        )
        learned = self._learned(record.name, rules, batch, as_of)
        result = score_deals(rules, batch, learned.rates)
        response = scores_to_proto(batch, result, deals.currency, record, learned.model_version)
        for feature, share in sorted(learned.drift.items()):
            response.drift.add(feature=feature, unseen_share=share)
        return response

    def _score_columns(
        self, request: forecast_pb2.ScoreDealsRequest
    ) -> forecast_pb2.ScoreDealsResponse:
        """ScoreDeals for deals sent as Arrow columns: the scores go back as columns."""
        table = deal_columns_table(
            request, self.max_batch_deals, "split the batch or use StreamScoreDeals"
        )
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        deals = deal_columns_from_arrow(table)
        response = forecast_pb2.ScoreDealsResponse(rule_set=record.name, revision=record.revision)
        if rules.document.win_rates.source == "configured":  # the hot path
            batch = build_deal_batch_columns(deals, rules)
            result = score_deals(rules, batch)
            model_version = 0
        else:
            batch = build_deal_batch_columns(
                deals, rules, keep_fields=needed_fields(self.learned, rules, record.name)
            )
            learned = self._learned(record.name, rules, batch, as_of)
            result = score_deals(rules, batch, learned.rates)
            model_version = learned.model_version
            for feature, share in sorted(learned.drift.items()):
                response.drift.add(feature=feature, unseen_share=share)
        response.failed_count = len(result.errors)
        response.score_columns = scores_to_arrow(table, batch, result, model_version)
        return response

    def _learned(
        self, name: str, rules: CompiledRuleSet, batch: DealBatch, as_of: dt.date | None
    ) -> Learned:
        if self.learned is None:
            raise FailedPreconditionError(
                f"rule set {name!r} selects a learned win-rate source, which this server does "
                "not serve", reason="NO_LEARNED_SOURCE",
            )  # fmt: skip
        return self.learned.rates(name, rules, batch, as_of or self.repository.clock().date())

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

    def _deals(self, request: forecast_pb2.ComputeForecastRequest) -> DealInput | DealColumns:
        if request.WhichOneof("deals_from") == "deal_columns":
            hint = "roll up stored deals, or split the forecast by period"
            limit = partial(check_batch_size, limit=self.max_batch_deals, what="deal_columns",
                            hint=hint)  # fmt: skip
            return deal_columns_from_arrow(read_table(request.deal_columns, limit))
        if request.WhichOneof("deals_from") == "stored":
            if self.ledger is None:
                raise ResourceExhaustedError("this server keeps no deals", reason="NO_DEAL_STORE")
            states = self.ledger.deal_states(request.rule_set)
            return deal_input_from_records(
                [deal_record(s) for s in states if not s.get("cancelled")]
            )
        check_batch_size(len(request.deals.deals), self.max_batch_deals, "deals",
                         "roll up stored deals, or split the forecast by period")  # fmt: skip
        return deals_from_proto(request.deals.deals)

    def ComputeForecast(
        self, request: forecast_pb2.ComputeForecastRequest, context: grpc.ServicerContext
    ) -> forecast_pb2.ComputeForecastResponse:
        return self.forecast(request)

    def forecast(
        self,
        request: forecast_pb2.ComputeForecastRequest,
        change: Callable[[DealInput, CompiledRuleSet], DealInput] | None = None,
        rescore: Callable[[DealBatch, ScoreResult], tuple[DealBatch, ScoreResult]] | None = None,
    ) -> forecast_pb2.ComputeForecastResponse:
        """ComputeForecast, with optional scenario hooks: ``change`` edits the deals before they
        are checked (new pipeline), ``rescore`` edits the scored batch (win rates, deal sizes)."""
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        as_of = as_of or self.repository.clock().date()
        periods = periods_from_proto(request)
        quantiles = quantiles_from_proto(request)
        method = method_from_proto(request.method)
        levers = levers_from_proto(request)
        condition = compile_filter(rules, request.stored.filter, "stored.filter")
        group_by, subtotals = list(request.group_by), request.subtotals
        if request.hierarchy:
            group_by, subtotals = hierarchy_levels(rules, group_by), True
        keep = [*group_by, "stage", "owner", *(condition.fields if condition else ())]
        keep = needed_fields(self.learned, rules, record.name, keep)
        deals = self._deals(request)
        if change is not None:
            plain = deals if isinstance(deals, DealInput) else deal_input_from_columns(deals)
            deals = change(plain, rules)
        built = (
            build_deal_batch(deals, rules, keep_fields=keep)
            if isinstance(deals, DealInput)
            else build_deal_batch_columns(deals, rules, keep_fields=keep)
        )
        batch = select_deals(built, condition)
        trials = request.trials or 10_000
        seed = None
        if method is Method.MONTE_CARLO:
            if trials * max(batch.n_deals, 1) > MAX_MONTE_CARLO_DRAWS:
                raise ResourceExhaustedError(
                    f"{trials} trials over {batch.n_deals} deals is more than "
                    f"{MAX_MONTE_CARLO_DRAWS:,} draws: use fewer trials or the exact method",
                    reason="MONTE_CARLO_TOO_LARGE",
                )
            seed = request.seed or secrets.randbits(63)
        draws = trials * batch.n_deals * (len(group_by) + 1 if subtotals else 1)
        parts = self.batch.partitions(draws, MIN_DRAWS_PER_PARTITION) if seed is not None else 1
        trials_map = local_map
        if parts > 1:
            trials_map = partition_map(self.batch, log_progress("Monte Carlo"), "monte-carlo")
        elif seed is not None and self.threads > 1 and draws >= 2 * MIN_DRAWS_PER_THREAD:
            parts = min(self.threads, draws // MIN_DRAWS_PER_THREAD)
            trials_map = thread_map(self._thread_pool())
        options = DistributionOptions(
            method=method,
            quantiles=quantiles,
            max_relative_error=request.max_relative_error or 0.001,
            trials=trials,
            seed=seed,
            partitions=parts,
            map_partitions=trials_map,
        )
        learned = None
        if rules.document.win_rates.source != "configured":
            learned = self._learned(record.name, rules, batch, as_of).rates
        scores = score_deals(rules, batch, learned)
        if rescore is not None:
            batch, scores = rescore(batch, scores)
        check_deadline("while the deals were read and scored")
        period_aware = None
        if request.period_aware:
            history, _ = load_history(
                self.ledger, request.rule_set, rules, request.history.changes, self.max_batch_deals
            )
            period_aware = PeriodAwareInputs(rules, history)
        report = forecast_report(batch, scores, group_by, periods, as_of=as_of,
                                 subtotals=subtotals,
                                 targets=targets_from_proto(list(request.targets)),
                                 options=options, levers=levers,
                                 period_aware=period_aware, fx=rules.fx,
                                 team_of=rules.team_of, rule_targets=rules.targets)  # fmt: skip
        response = report_to_proto(report, record)
        for e in scores.errors[:MAX_UNSCORED_LISTED]:
            response.unscored.add(
                index=e.index,
                deal_id=batch.ids[e.index],
                problem=types_pb2.DealProblem(reason=e.reason, field=e.field, message=e.message),
            )
        return response

    def BacktestForecast(
        self, request: forecast_pb2.BacktestForecastRequest, context: grpc.ServicerContext
    ) -> forecast_pb2.BacktestForecastResponse:
        as_of = parse_date(request.as_of_date, "as_of_date")
        record, rules = self.repository.resolve(request.rule_set, request.revision or None, as_of)
        periods = periods_from_proto(request)
        history, changes = load_history(
            self.ledger, request.rule_set, rules, request.history.changes, self.max_batch_deals
        )
        check_deadline("while the histories were read")
        parts = self.batch.partitions(history.n_deals * len(periods), MIN_BACKTEST_WORK)
        periods_map = (partition_map(self.batch, log_progress("backtest"), "backtest")
                       if parts > 1 else checked_map("during the backtest"))  # fmt: skip
        result = backtest(history, rules, periods, list(request.group_by),
                          lead_days=request.lead_days,
                          known_through=date_to_days(as_of) if as_of else None,
                          map_partitions=periods_map)  # fmt: skip
        check_deadline("during the backtest")
        return backtest_to_proto(result, record, history.n_deals, changes)


__all__ = ["ForecastServicer"]
