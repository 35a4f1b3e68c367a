"""A whole forecast: roll-ups by group and period, subtotals, outcome distributions and target gaps.

This is what ``ForecastService.ComputeForecast`` and ``quotient forecast`` return, assembled from the
pure parts: :func:`~engine.forecast.rollup.rollup` sums the scored deals (once per subtotal level),
:mod:`~engine.forecast.distribution` gives each row's outcome distribution from the row's deals,
and :mod:`~engine.forecast.gap` the gap to each row's target, with :mod:`~engine.forecast.levers`
the smallest change of each lever that closes it. Loops here run over rows (groups x
periods), never over deals.

Targets are checked before anything is computed: a target must name a reported period, give one
value per group-by field (fewer for a subtotal row), and use group values that occur in the deals
(a typo must not become a silent empty row). A target whose group has no deal in its period still
gets a row, with zero sums, so the whole gap shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

import numpy as np

from engine.errors import InvalidArgumentError, RuleSetInvalidError, Violation
from engine.forecast.deals import DealBatch, with_team_column
from engine.forecast.distribution import Outcome, Sample, monte_carlo_many, outcome_distribution
from engine.forecast.gap import target_gaps
from engine.forecast.history import DealHistory
from engine.forecast.levers import Lever, gap_levers
from engine.forecast.period_aware import PeriodAwareSums, period_aware_sums
from engine.forecast.rollup import REPORTED, Period, Rollup, rollup
from engine.forecast.scoring import ScoreResult
from engine.frame import date_to_days, string_column_from_codes
from engine.fx import FxTable, convert_minor
from engine.money import CURRENCY_EXPONENTS, mul_ppm_half_even
from engine.partition import PartitionMap, local_map
from engine.rules.compiler import CompiledRuleSet, RuleTarget
from engine.rules.expression import Condition, compile_condition
from engine.rules.schema import CATEGORY_ORDER, Category

_OMITTED = CATEGORY_ORDER.index(Category.OMITTED)
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


class Method(str, Enum):
    """How outcome distributions are computed."""

    AUTO = "auto"  # exact, or normal where provably within the error budget
    MONTE_CARLO = "monte_carlo"
    NONE = "none"


@dataclass(frozen=True)
class Target:
    """A target for one group (one value per leading group-by field) and period label."""

    group: tuple[str, ...]
    period: str
    target_minor: int


@dataclass(frozen=True)
class DistributionOptions:
    """How to compute outcome distributions. ``seed``, ``partitions`` and ``map_partitions`` are
    for Monte Carlo only: every row's trials are drawn from ``seed`` (row ``i`` of the report as
    stream ``i``, see :func:`~engine.forecast.distribution.monte_carlo_many`), split into at most
    ``partitions`` partitions mapped with ``map_partitions``; the outcomes do not depend on the
    split."""

    method: Method = Method.AUTO
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    max_relative_error: float = 0.001
    trials: int = 10_000
    seed: int | None = None
    partitions: int = 1
    map_partitions: PartitionMap = local_map


@dataclass(frozen=True)
class LeverOptions:
    """Whether to solve "what fills the gap" for rows with a target, and how."""

    enabled: bool = False
    confidences: tuple[float, ...] = (0.5, 0.9)
    visit_to_deal: Decimal | None = None
    search_error: float | None = None


@dataclass(frozen=True)
class TargetGap:
    """A row's target and its gap figures (see :mod:`engine.forecast.gap`)."""

    target_minor: int
    gap_minor: int
    expected_gap_minor: int
    coverage: float
    pace_minor_per_day: float
    projected_minor: int
    days_elapsed: int
    days_left: int
    pipeline_needed_minor: int
    p_reach_target: float | None
    levers: tuple[Lever, ...] = ()


@dataclass(frozen=True)
class ForecastRow:
    """One group and period. ``group`` has one value per group-by field; only the first
    ``level`` apply (the rest are '' in a subtotal row)."""

    group: tuple[str, ...]
    level: int
    period: Period
    deal_count: int
    open_count: int
    won_count: int
    pipeline_minor: int
    weighted_minor: int
    closed_won_minor: int
    category_minor: dict[Category, int]
    cumulative_minor: dict[Category, int]
    outcome: Outcome | None
    target: TargetGap | None
    period_aware_minor: int | None = None  # closed-won + open deals x P(won in period) + new
    new_business_minor: int | None = None


@dataclass(frozen=True)
class PeriodAwareInputs:
    """What the period-aware forecast learns from: the rule set (its ``timing`` section) and the
    deal histories."""

    rules: CompiledRuleSet
    history: DealHistory


@dataclass(frozen=True)
class ForecastReport:
    """Every row of a forecast, with what was left out of it and why."""

    group_by: tuple[str, ...]
    currency: str
    rows: list[ForecastRow]
    deals_read: int
    deals_unscored: int
    deals_outside_periods: int
    deals_omitted: int
    seed: int | None
    trials: int


def in_reporting_currency(
    batch: DealBatch, scores: ScoreResult, fx: FxTable, on: dt.date
) -> tuple[DealBatch, ScoreResult]:
    """The batch with every scored deal's amount converted to the FX table's reporting currency
    at the rates in force ``on``, and weighted amounts recomputed from the converted amounts
    (both rounded half-even). FX_RATE_MISSING names any currency without a rate."""
    frame = batch.frame
    currency = frame["currency"]
    amount = frame["amount_minor"].values.astype(np.int64)
    rows = np.flatnonzero(scores.valid)
    converted = np.zeros_like(amount)
    converted[rows] = convert_minor(
        amount[rows], currency.values[rows], currency.dictionary, fx, on
    )
    frame = frame.with_columns(
        {
            "amount_minor": replace(frame["amount_minor"], values=converted),
            "currency": string_column_from_codes(np.zeros(frame.n_rows, np.int64), [fx.reporting]),
        }
    )
    weighted = np.where(scores.valid, mul_ppm_half_even(converted, scores.win_prob_ppm), 0)
    return replace(batch, frame=frame), replace(scores, weighted_amount_minor=weighted)


def compile_filter(rules: CompiledRuleSet, text: str, path: str) -> Condition | None:
    """A deal filter: a condition over the rule set's fields, SQL-style as in rule sets; None for
    empty text. A filter that does not compile is INVALID_FILTER with its violations under ``path``.
    """
    if not text.strip():
        return None
    try:
        return compile_condition(text, rules.schema, path=path)
    except RuleSetInvalidError as e:
        raise InvalidArgumentError(
            f"the filter {text!r} is not a valid condition",
            reason="INVALID_FILTER",
            violations=e.violations,
        ) from None


def select_deals(batch: DealBatch, condition: Condition | None) -> DealBatch:
    """The deals of ``batch`` for which ``condition`` holds. Deals that could not be read are
    kept, so that they are reported, never silently dropped."""
    if condition is None:
        return batch
    keep = condition.evaluate(batch.frame) | ~batch.valid
    return batch.take(np.flatnonzero(keep))


def _refuse(problems: list[Violation]) -> None:
    if problems:
        raise InvalidArgumentError(
            "these targets do not fit the forecast", reason="INVALID_TARGET", violations=problems
        )


def check_targets(
    targets: Sequence[Target],
    batch: DealBatch,
    group_by: Sequence[str],
    periods: Sequence[Period],
    levels: Sequence[int],
) -> None:
    """Refuse targets for unknown periods, groups or group values, duplicates and negatives."""
    labels = {p.label for p in periods}
    seen: set[tuple[tuple[str, ...], str]] = set()
    problems = []
    for i, t in enumerate(targets):
        where = f"targets[{i}]"
        if len(t.group) not in levels:
            problems.append(Violation(f"{where}.group", 0, 0, "TARGET_GROUP_ARITY",
                                      f"{len(t.group)} values; this forecast's rows have "
                                      + " or ".join(map(str, sorted(levels)))))  # fmt: skip
        else:
            for j, value in enumerate(t.group):
                column = batch.frame[group_by[j]]
                if value and value not in column.dictionary:
                    problems.append(Violation(f"{where}.group[{j}]", 0, 0, "UNKNOWN_GROUP",
                                              f"no deal has {group_by[j]} {value!r}"))  # fmt: skip
        if t.period not in labels:
            problems.append(Violation(f"{where}.period", 0, 0, "UNKNOWN_PERIOD",
                                      f"{t.period!r} is not one of the forecast's periods"))  # fmt: skip
        if t.target_minor < 0:
            problems.append(Violation(f"{where}.target_minor", 0, 0, "NEGATIVE_TARGET",
                                      "a target cannot be negative"))  # fmt: skip
        key = (t.group, t.period)
        if key in seen:
            problems.append(Violation(where, 0, 0, "DUPLICATE_TARGET",
                                      "another target has this group and period"))  # fmt: skip
        seen.add(key)
    _refuse(problems)


@dataclass(frozen=True)
class _Pending:
    row: ForecastRow
    target: int | None
    deals: np.ndarray


def _level_rows(
    level: int,
    width: int,
    r: Rollup,
    periods: Sequence[Period],
    targets: dict[tuple[tuple[str, ...], str], int],
) -> list[_Pending]:
    """The rows of one level, plus empty rows for targets without deals, each with its target
    and the positions of its deals."""
    by_label = {p.label: p for p in periods}
    members = np.flatnonzero(r.row_of_deal >= 0)
    members = members[np.argsort(r.row_of_deal[members], kind="stable")]
    bounds = np.searchsorted(r.row_of_deal[members], np.arange(len(r.keys) + 1))
    out = []
    pad = ("",) * (width - level)
    for i, key in enumerate(r.keys):
        group, label = tuple(key[:-1]), key[-1]
        target = targets.pop((group, label), None)
        deals = members[bounds[i] : bounds[i + 1]]
        row = ForecastRow(
            group=group + pad,
            level=level,
            period=by_label[label],
            deal_count=int(r.deal_count[i]),
            open_count=int(r.open_count[i]),
            won_count=int(r.won_count[i]),
            pipeline_minor=int(r.pipeline_minor[i]),
            weighted_minor=int(r.weighted_minor[i]),
            closed_won_minor=int(r.closed_won_minor[i]),
            category_minor={c: int(r.category_minor[c][i]) for c in REPORTED},
            cumulative_minor={c: int(r.cumulative_minor[c][i]) for c in REPORTED},
            outcome=None,  # computed once every target is known (see _with_outcomes)
            target=None,
        )
        out.append(_Pending(row, target, deals))
    for (group, label), target in list(targets.items()):
        if len(group) != level:
            continue
        del targets[(group, label)]
        out.append(_empty_row(group + pad, level, by_label[label], target))
    return out


def _empty_row(group: tuple[str, ...], level: int, period: Period, target: int | None) -> _Pending:
    """A row for a group and period without deals (it has a target, or expects bookings)."""
    zero: dict[Category, int] = dict.fromkeys(REPORTED, 0)
    empty = np.zeros(0, dtype=np.int64)
    row = ForecastRow(group, level, period, 0, 0, 0, 0, 0, 0, zero, dict(zero), None, None)
    return _Pending(row, target, empty)


def _with_outcomes(
    rows: list[_Pending], amount: np.ndarray, prob_ppm: np.ndarray, options: DistributionOptions
) -> list[_Pending]:
    """Each row's outcome distribution, with its target: one computation per row, or for Monte
    Carlo one partitioned computation of every row (row ``i`` drawn as stream ``i``)."""
    if options.method is Method.NONE:
        return rows
    outcomes: list[Outcome]
    if options.method is Method.MONTE_CARLO:
        if options.seed is None:
            raise ValueError("Monte Carlo needs a seed")
        samples = [Sample(amount[p.deals], prob_ppm[p.deals], p.target) for p in rows]
        outcomes = monte_carlo_many(samples, options.quantiles, seed=options.seed,
                                    trials=options.trials, partitions=options.partitions,
                                    map_partitions=options.map_partitions)  # fmt: skip
    else:
        outcomes = [outcome_distribution(amount[p.deals], prob_ppm[p.deals], options.quantiles,
                                         target_minor=p.target,
                                         max_relative_error=options.max_relative_error)
                    for p in rows]  # fmt: skip
    return [
        _Pending(replace(p.row, outcome=o), p.target, p.deals)
        for p, o in zip(rows, outcomes, strict=True)
    ]


def _rule_target_minor(t: RuleTarget, currency: str, fx: FxTable | None, on: dt.date) -> int:
    """A rule-set target in the forecast's currency (converted by the FX table if it differs)."""
    if not currency or t.currency == currency:
        return t.amount_minor
    if fx is None or fx.reporting != currency:
        raise InvalidArgumentError(
            f"the rule set's targets are in {t.currency}, the forecast in {currency}",
            reason="CURRENCY_MIXTURE",
            violations=[Violation("targets.currency", 0, 0, "CURRENCY_MIXTURE", t.currency)],
        )
    code = np.zeros(1, dtype=np.int64)
    return int(convert_minor(np.array([t.amount_minor]), code, [t.currency], fx, on,
                             path="targets.currency")[0])  # fmt: skip


def _with_rule_targets(
    level_rows: list[_Pending],
    level: int,
    group_by: Sequence[str],
    periods: Sequence[Period],
    rule_targets: Sequence[RuleTarget],
    minor_of: Callable[[RuleTarget], int],
) -> list[_Pending]:
    """Attach the rule set's targets to the rows of a level that have none from the request.

    A target applies at the level whose deepest field it names (the company's, naming none, at
    level 0), to every row whose values match it; a target naming exactly the level's fields gets
    a row even without deals.
    """
    fields = list(group_by[:level])
    labels = {p.label: p for p in periods}
    out = list(level_rows)
    for t in rule_targets:
        keys = {k for k, _ in t.group}
        applies = not keys if level == 0 else fields[-1] in keys and keys <= set(fields)
        if not applies or t.period not in labels:
            continue
        values = dict(t.group)
        matched = False
        for i, p in enumerate(out):
            row = p.row
            if row.period.label != t.period or any(row.group[fields.index(k)] != v
                                                   for k, v in values.items()):  # fmt: skip
                continue
            matched = True
            if p.target is None:
                out[i] = _Pending(row, minor_of(t), p.deals)
        if not matched and keys == set(fields):
            group = tuple(values[f] for f in fields) + ("",) * (len(group_by) - level)
            out.append(_empty_row(group, level, labels[t.period], minor_of(t)))
    return out


def _with_period_aware(
    level_rows: list[_Pending],
    level: int,
    width: int,
    periods: Sequence[Period],
    sums: PeriodAwareSums,
) -> list[_Pending]:
    """Fill in the period-aware figures of a level's rows, adding rows for groups that expect
    bookings in a period where none of their deals is due to close."""
    by_label = {p.label: p for p in periods}
    index = {(p.row.group[:level], p.row.period.label): i for i, p in enumerate(level_rows)}
    out = list(level_rows)
    for key in sorted(set(sums.open_minor) | set(sums.new_minor)):
        if key not in index and key[1] in by_label:
            index[key] = len(out)
            pad = ("",) * (width - level)
            out.append(_empty_row(key[0] + pad, level, by_label[key[1]], None))
    for key, i in index.items():
        new = round(sums.new_minor.get(key, 0.0))
        ahead = round(sums.open_minor.get(key, 0.0)) + new
        p = out[i]
        row = replace(p.row, period_aware_minor=p.row.closed_won_minor + ahead,
                      new_business_minor=new)  # fmt: skip
        out[i] = _Pending(row, p.target, p.deals)
    return out


def _with_gaps(
    rows: list[_Pending],
    as_of: dt.date,
    batch: DealBatch,
    prob_ppm: np.ndarray,
    levers: LeverOptions,
    max_relative_error: float,
) -> list[ForecastRow]:
    """Attach :class:`TargetGap` to the rows that have a target (one vectorised call), with the
    gap levers when asked."""
    out = [p.row for p in rows]
    picked = [p for p in rows if p.target is not None]
    if not picked:
        return out

    def col(values: Sequence[int | float | None], dtype: type = np.int64) -> np.ndarray:
        return np.asarray(values, dtype=dtype)

    expected = [p.row.outcome.mean_minor if p.row.outcome
                else p.row.closed_won_minor + p.row.weighted_minor for p in picked]  # fmt: skip
    gaps = target_gaps(
        col([p.target for p in picked]),
        col([p.row.closed_won_minor for p in picked]),
        col([p.row.pipeline_minor for p in picked]),
        col([p.row.weighted_minor for p in picked]),
        col(expected, np.float64),
        col([date_to_days(p.row.period.start) for p in picked]),
        col([date_to_days(p.row.period.end) for p in picked]),
        date_to_days(as_of),
    )
    amount = batch.frame["amount_minor"].values.astype(np.int64)
    stage = batch.frame["stage"] if levers.enabled else None
    j = 0
    for i, p in enumerate(rows):
        if p.target is None:
            continue
        solved: tuple[Lever, ...] = ()
        if stage is not None:
            names = [stage.dictionary[int(k)] for k in stage.values[p.deals].tolist()]
            solved = tuple(gap_levers(amount[p.deals], prob_ppm[p.deals], names, p.target,
                                      confidences=levers.confidences,
                                      visit_to_deal=levers.visit_to_deal,
                                      max_relative_error=max_relative_error,
                                      search_error=levers.search_error))  # fmt: skip
        out[i] = replace(
            p.row,
            target=TargetGap(
                target_minor=p.target,
                gap_minor=int(gaps.gap_minor[j]),
                expected_gap_minor=int(gaps.expected_gap_minor[j]),
                coverage=float(gaps.coverage[j]),
                pace_minor_per_day=float(gaps.pace_minor_per_day[j]),
                projected_minor=int(gaps.projected_minor[j]),
                days_elapsed=int(gaps.days_elapsed[j]),
                days_left=int(gaps.days_left[j]),
                pipeline_needed_minor=int(gaps.pipeline_needed_minor[j]),
                p_reach_target=p.row.outcome.p_reach_target if p.row.outcome else None,
                levers=solved,
            ),
        )
        j += 1
    return out


def _history_factor(history: str, reporting: str, fx: FxTable | None, on: dt.date) -> float:
    """What one minor unit of the history's currency is worth in the reporting currency's."""
    if not history or not reporting or history == reporting:
        return 1.0
    rate = fx.rate_ppm(history, on) if fx is not None else None
    if rate is None:
        reason = "FX_RATE_MISSING" if fx is not None else "CURRENCY_MIXTURE"
        raise InvalidArgumentError(
            f"the history is in {history}, the forecast in {reporting}: "
            + ("no FX rate" if fx is not None else "an FX table in the rule set is needed"),
            reason=reason,
            violations=[Violation("history.currency", 0, 0, reason, history)],
        )
    shift = CURRENCY_EXPONENTS.get(reporting, 2) - CURRENCY_EXPONENTS.get(history, 2)
    return rate / 1_000_000 * 10.0**shift


def forecast_report(
    batch: DealBatch,
    scores: ScoreResult,
    group_by: Sequence[str],
    periods: Sequence[Period],
    *,
    as_of: dt.date,
    subtotals: bool = False,
    targets: Sequence[Target] = (),
    options: DistributionOptions | None = None,
    levers: LeverOptions | None = None,
    period_aware: PeriodAwareInputs | None = None,
    fx: FxTable | None = None,
    team_of: Mapping[str, str] | None = None,
    rule_targets: Sequence[RuleTarget] = (),
) -> ForecastReport:
    """Roll up scored deals by ``group_by`` and ``periods`` (and every prefix of ``group_by`` with
    ``subtotals``), with outcome distributions and, where targets are given, the gap to them;
    with ``period_aware``, also what each row should book in its period (see
    :mod:`engine.forecast.period_aware`). With an ``fx`` table every amount is first converted
    to its reporting currency at the rates in force on ``as_of``; with ``team_of`` (owner ->
    team) deals can be grouped by ``team``. ``rule_targets`` (the rule set's) apply where the
    request gives no target (see :func:`_with_rule_targets`).

    Raises INVALID_ARGUMENT for unknown or non-text group-by fields, unusable periods, a currency
    mixture, and targets that do not fit (see :func:`check_targets`).
    """
    options = options or DistributionOptions()
    if fx is not None:
        batch, scores = in_reporting_currency(batch, scores, fx, as_of)
    if team_of:
        batch = with_team_column(batch, team_of)
    width = len(group_by)
    levels = list(range(width, -1, -1)) if subtotals else [width]
    detail = rollup(batch, scores, group_by, periods)
    check_targets(targets, batch, group_by, periods, levels)
    wanted = {(t.group, t.period): t.target_minor for t in targets}
    amount = batch.frame["amount_minor"].values.astype(np.int64)
    prob_ppm = scores.win_prob_ppm.astype(np.int64)
    reporting = fx.reporting if fx is not None else detail.currency

    def minor_of(t: RuleTarget) -> int:
        return _rule_target_minor(t, reporting, fx, as_of)

    history_factor = 1.0
    if period_aware is not None:
        history_factor = _history_factor(period_aware.history.currency, detail.currency, fx, as_of)
    rows: list[_Pending] = []
    for level in levels:
        r = detail if level == width else rollup(batch, scores, group_by[:level], periods)
        level_rows = _level_rows(level, width, r, periods, wanted)
        if rule_targets:
            level_rows = _with_rule_targets(level_rows, level, group_by, periods, rule_targets,
                                            minor_of)  # fmt: skip
        if period_aware is not None:
            sums = period_aware_sums(batch, scores, period_aware.rules, period_aware.history,
                                     group_by[:level], periods, date_to_days(as_of),
                                     new_business_factor=history_factor)  # fmt: skip
            level_rows = _with_period_aware(level_rows, level, width, periods, sums)
        level_rows.sort(key=lambda x: (x.row.group, x.row.period.start))
        rows += level_rows
    rows = _with_outcomes(rows, amount, prob_ppm, options)
    omitted = scores.valid & (scores.category == _OMITTED)
    outside = scores.valid & ~omitted & (detail.row_of_deal < 0)
    mc = options.method is Method.MONTE_CARLO
    return ForecastReport(
        group_by=tuple(group_by),
        currency=detail.currency,
        rows=_with_gaps(
            rows, as_of, batch, prob_ppm, levers or LeverOptions(), options.max_relative_error
        ),
        deals_read=batch.n_deals,
        deals_unscored=int((~scores.valid).sum()),
        deals_outside_periods=int(outside.sum()),
        deals_omitted=int(omitted.sum()),
        seed=options.seed if mc else None,
        trials=options.trials if mc else 0,
    )


__all__ = [
    "DEFAULT_QUANTILES",
    "DistributionOptions",
    "ForecastReport",
    "ForecastRow",
    "LeverOptions",
    "Method",
    "PeriodAwareInputs",
    "Target",
    "TargetGap",
    "check_targets",
    "compile_filter",
    "forecast_report",
    "in_reporting_currency",
    "select_deals",
    "with_team_column",
]
