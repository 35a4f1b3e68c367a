"""Deal scoring: win probability, weighted amount and forecast category for a batch of deals.

For each deal: the stage's configured win rate (or, when the rule set selects a learned source, the
rate learned from history or the model's probability), replaced by the first win-rate override
table that
hits it, replaced by a manual probability when the caller gives one (won and lost stages stay at 1
and 0); the weighted amount ``amount_minor x win_prob`` computed exactly in integers and rounded
half-even; the category from the per-deal override, else the ``categories`` table, else the stage
default. Every value says where it came from (stage, override row, manual) and which rows matched.
All of it is a handful of array operations per table row, whatever the number of deals; one
deal (a CRM's call, built by :func:`~engine.forecast.deals.build_deal_batch` as a row of scalars)
takes the same steps in Python scalars, where numpy's fixed cost per call would be most of the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from engine.forecast.deals import DealBatch, DealError
from engine.frame import (
    ONE_VALID,
    SMALL_BATCH,
    Column,
    FieldType,
    RowFrame,
    all_true,
    any_true,
    read_only_one,
)
from engine.money import PPM, divide_half_even, mul_ppm_half_even
from engine.rules.compiler import WIN_RATE_SCALE, CompiledRuleSet
from engine.rules.schema import CATEGORY_ORDER, Category
from engine.rules.tables import CompiledTable, RowResult, TableResult

_CLOSED = CATEGORY_ORDER.index(Category.CLOSED)
_OMITTED = CATEGORY_ORDER.index(Category.OMITTED)


class ProbSource(IntEnum):
    """Where a deal's win probability came from."""

    STAGE = 0
    OVERRIDE = 1
    MANUAL = 2
    CLOSED_STAGE = 3
    HISTORICAL = 4
    MODEL = 5


@dataclass(frozen=True)
class LearnedRates:
    """Win probabilities learned from history, per deal of a batch: ``win_ppm`` (-1 where there
    is none, so the configured stage rate stands) and where each came from (``source``, a
    :class:`ProbSource`)."""

    win_ppm: np.ndarray
    source: np.ndarray


@dataclass
class ScoreResult:
    """Scores of ``n`` deals, aligned with the batch.

    Attributes
    ----------
    valid : ndarray of bool, shape (n,)
        False for deals listed in ``errors`` (their other values are zero).
    win_prob_ppm : ndarray of int64, shape (n,)
    weighted_amount_minor : ndarray of int64, shape (n,)
        ``amount_minor x win_prob``, rounded half-even.
    category : ndarray of int8, shape (n,)
        Index into ``CATEGORY_ORDER``.
    prob_source : ndarray of int8, shape (n,)
        A :class:`ProbSource` value.
    errors : list of DealError, sorted by deal index
    """

    valid: np.ndarray
    win_prob_ppm: np.ndarray
    weighted_amount_minor: np.ndarray
    category: np.ndarray
    prob_source: np.ndarray
    errors: list[DealError]
    _tables: list[tuple[str, CompiledTable, TableResult, np.ndarray]] = field(
        default_factory=list, repr=False
    )
    #: The matched rule ids of each deal, when scored deal by deal (one deal).
    _matched: list[list[str]] | None = field(default=None, repr=False)

    def matched_rules(self, i: int) -> list[str]:
        """Return the ids of the rule rows that produced deal ``i``'s values.

        Ids read ``<section>.<table>/<row>``, e.g. ``win_rates.overrides.by_region/emea_large``.
        """
        if self._matched is not None:
            return list(self._matched[i])
        out: list[str] = []
        for prefix, table, result, applied in self._tables:
            if applied[i]:
                out.extend(f"{prefix}.{table.id}/{row}" for row in table.matched_rows(result, i))
        return out

    def matched_rules_all(self) -> list[list[str]]:
        """Return :meth:`matched_rules` for every deal at once (one pass per rule row)."""
        n = self.valid.shape[0]
        if self._matched is not None:
            return [list(m) for m in self._matched]
        if n <= SMALL_BATCH:  # a few deals: asking deal by deal beats a pass per row
            return [self.matched_rules(i) for i in range(n)]
        out: list[list[str]] = [[] for _ in range(n)]
        for prefix, table, result, applied in self._tables:
            for r, row in enumerate(table.rows):
                mask = result.row_mask(r)
                rule_id = f"{prefix}.{table.id}/{row.id}"
                for i in np.flatnonzero(mask & applied).tolist():
                    out[i].append(rule_id)
        return out

    def matched_rule_lists(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """:meth:`matched_rules` of every deal as flat arrays: ``offsets`` (int32, n + 1), then
        ``codes`` (int32) into ``rule_ids``; deal ``i``'s rules are
        ``codes[offsets[i]:offsets[i + 1]]``, in the same order as :meth:`matched_rules`."""
        n = self.valid.shape[0]
        if self._matched is not None:
            seen = sorted({r for rules in self._matched for r in rules})
            code_of = {r: c for c, r in enumerate(seen)}
            flat = [code_of[r] for rules in self._matched for r in rules]
            offsets = np.zeros(n + 1, dtype=np.int32)
            np.cumsum([len(rules) for rules in self._matched], out=offsets[1:])
            return offsets, np.array(flat, dtype=np.int32), seen
        rule_ids: list[str] = []
        deals: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        codes: list[np.ndarray] = [np.zeros(0, dtype=np.int32)]
        for prefix, table, result, applied in self._tables:
            first = len(rule_ids)
            rule_ids.extend(f"{prefix}.{table.id}/{row.id}" for row in table.rows)
            if result.winner is not None:  # single hit: one row per deal at most
                hit = np.flatnonzero(applied & (result.winner >= 0))
                deals.append(hit)
                codes.append((result.winner[hit] + first).astype(np.int32))
                continue
            for r in range(len(table.rows)):
                hit = np.flatnonzero(result.row_mask(r) & applied)
                deals.append(hit)
                codes.append(np.full(hit.size, first + r, dtype=np.int32))
        deal = np.concatenate(deals)
        code = np.concatenate(codes)
        order = np.argsort(deal, kind="stable")  # by deal; table and row order within a deal
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(deal, minlength=n), out=offsets[1:])
        return offsets, code[order], rule_ids


def score_deals(
    rules: CompiledRuleSet, batch: DealBatch, learned: LearnedRates | None = None
) -> ScoreResult:
    """Score every valid deal of ``batch`` under ``rules``; see the module docstring.

    ``learned`` (the rule set's ``win_rates.source`` when it is not ``configured``) replaces the
    configured stage rate of open deals where it has a value; override rows and manual
    probabilities still come after it.
    """
    if isinstance(batch.frame, RowFrame):
        return _score_one(rules, batch, learned)
    errors = list(batch.errors)
    valid = batch.valid.copy()
    stage = batch.stage_idx
    rate = rules.stage_rate_ppm[stage]
    won = rules.stage_is_won[stage]
    closed = rules.stage_is_closed[stage]
    source = closed.astype(np.int8) * np.int8(ProbSource.CLOSED_STAGE)
    if learned is not None:
        use = (learned.win_ppm >= 0) & ~closed
        np.putmask(rate, use, learned.win_ppm)
        np.putmask(source, use, learned.source.astype(np.int8))
    any_manual = any_true(batch.manual_win_ppm >= 0)
    manual = (batch.manual_win_ppm >= 0) & ~closed if any_manual else None
    tables: list[tuple[str, CompiledTable, TableResult, np.ndarray]] = []

    def record_errors(result: TableResult, affected: np.ndarray) -> None:
        for rows, reason, message in result.errors:
            for i in rows[affected[rows] & valid[rows]]:
                errors.append(DealError(int(i), "", reason, message))
                valid[i] = False

    undecided = valid & ~closed
    if manual is not None:
        undecided &= ~manual
    for table in rules.overrides:
        if not any_true(undecided):
            break
        result = table.evaluate(batch.frame)
        record_errors(result, undecided)
        apply = result.hit & undecided & valid
        np.putmask(rate, apply, result.values["win_rate"])
        np.putmask(source, apply, np.int8(ProbSource.OVERRIDE))
        tables.append(("win_rates.overrides", table, result, apply))
        undecided &= ~apply
    if manual is not None:
        np.putmask(rate, manual, batch.manual_win_ppm)
        np.putmask(source, manual, np.int8(ProbSource.MANUAL))

    category = rules.stage_category[stage]
    open_valid = valid & ~closed
    if rules.categories is not None and any_true(open_valid):
        frame = batch.frame.with_columns(
            {"win_prob": Column(FieldType.DECIMAL, rate, scale=WIN_RATE_SCALE)}
        )
        result = rules.categories.evaluate(frame)
        record_errors(result, open_valid)
        apply = result.hit & open_valid & valid
        np.copyto(category, result.values["category"], casting="unsafe", where=apply)
        tables.append(("categories", rules.categories, result, apply))
    override = batch.category_override
    wants = (override >= 0) & valid
    if not any_true(wants):
        return _result(valid, rate, category, source, batch, errors, tables)
    bad = wants & (
        ((override == _CLOSED) & ~won) | (won & (override != _CLOSED) & (override != _OMITTED))
    )
    for i in np.flatnonzero(bad).tolist():
        errors.append(_category_not_allowed(i, int(override[i])))
        valid[i] = False
    wants &= valid
    np.putmask(category, wants, override)
    return _result(valid, rate, category, source, batch, errors, tables)


def _score_one(
    rules: CompiledRuleSet, batch: DealBatch, learned: LearnedRates | None
) -> ScoreResult:
    """:func:`score_deals` for one deal held as a row: the same steps in Python scalars."""
    assert isinstance(batch.frame, RowFrame)
    row = batch.frame.one
    errors = list(batch.errors)
    valid = bool(batch.valid[0])
    stage = int(batch.stage_idx[0])
    rate = int(rules.stage_rate_ppm[stage])
    closed = bool(rules.stage_is_closed[stage])
    source = int(ProbSource.CLOSED_STAGE) if closed else int(ProbSource.STAGE)
    if learned is not None and not closed and learned.win_ppm[0] >= 0:
        rate, source = int(learned.win_ppm[0]), int(learned.source[0])
    manual_ppm = int(batch.manual_win_ppm[0])
    manual = manual_ppm >= 0 and not closed
    tables: list[tuple[str, CompiledTable, RowResult]] = []

    def record_errors(result: RowResult) -> bool:
        """Whether the deal is still valid after the table's errors (only the first counts)."""
        if result.errors:
            reason, message = result.errors[0]
            errors.append(DealError(0, "", reason, message))
            return False
        return True

    if valid and not closed and not manual:
        for table in rules.overrides:
            result = table.evaluate_row(row)
            valid = record_errors(result)
            if not valid:
                break
            if result.hit:
                rate, source = result.values["win_rate"], int(ProbSource.OVERRIDE)
                tables.append(("win_rates.overrides", table, result))
                break
    if manual:
        rate, source = manual_ppm, int(ProbSource.MANUAL)

    category = int(rules.stage_category[stage])
    if rules.categories is not None and valid and not closed:
        result = rules.categories.evaluate_row(
            row.with_value("win_prob", FieldType.DECIMAL, WIN_RATE_SCALE, rate)
        )
        valid = record_errors(result)
        if valid and result.hit:
            category = result.values["category"]
            tables.append(("categories", rules.categories, result))
    override = int(batch.category_override[0])
    if override >= 0 and valid:
        won = bool(rules.stage_is_won[stage])
        if (override == _CLOSED and not won) or (won and override not in (_CLOSED, _OMITTED)):
            errors.append(_category_not_allowed(0, override))
            valid = False
        else:
            category = override
    if not valid:
        rate = category = source = 0
        tables = []
    weighted = divide_half_even(row.values["amount_minor"] * rate, PPM)
    matched = [
        f"{prefix}.{table.id}/{table.rows[r].id}"
        for prefix, table, result in tables
        for r in result.matched
    ]
    errors.sort(key=lambda e: e.index)
    return ScoreResult(
        valid=ONE_VALID[valid],
        win_prob_ppm=_one_rate(rate),
        weighted_amount_minor=np.array([weighted], dtype=np.int64),
        category=_ONE_CATEGORY[category],
        prob_source=_ONE_SOURCE[source],
        errors=errors,
        _matched=[matched],
    )


#: One-deal results' arrays that take few values, made once (see ``read_only_one``).
_ONE_CATEGORY = tuple(read_only_one(c, np.int8) for c in range(len(CATEGORY_ORDER)))
_ONE_SOURCE = tuple(read_only_one(s, np.int8) for s in range(len(ProbSource)))
_ONE_RATES: dict[int, np.ndarray] = {}


def _one_rate(rate_ppm: int) -> np.ndarray:
    """``rate_ppm`` as a shared one-element array: a rule set has a few rates; manual ones vary,
    so the table is emptied when it grows past a few thousand."""
    array = _ONE_RATES.get(rate_ppm)
    if array is None:
        if len(_ONE_RATES) >= 4096:
            _ONE_RATES.clear()
        array = _ONE_RATES[rate_ppm] = read_only_one(rate_ppm, np.int64)
    return array


def _category_not_allowed(i: int, override: int) -> DealError:
    return DealError(
        i,
        "category",
        "CATEGORY_NOT_ALLOWED",
        "only won deals may be in category closed, and a won deal may only be "
        f"closed or omitted (got {CATEGORY_ORDER[override].value})",
    )


def _result(
    valid: np.ndarray,
    rate: np.ndarray,
    category: np.ndarray,
    source: np.ndarray,
    batch: DealBatch,
    errors: list[DealError],
    tables: list[tuple[str, CompiledTable, TableResult, np.ndarray]],
) -> ScoreResult:
    """Weigh the amounts and zero every output of an invalid deal."""
    if not all_true(valid):
        invalid = ~valid
        for arr in (rate, category, source):
            np.putmask(arr, invalid, 0)
    weighted = mul_ppm_half_even(batch.frame["amount_minor"].values, rate)
    errors.sort(key=lambda e: e.index)
    return ScoreResult(
        valid=valid,
        win_prob_ppm=rate,
        weighted_amount_minor=weighted,
        category=category,
        prob_source=source,
        errors=errors,
        _tables=tables,
    )


__all__ = ["LearnedRates", "ProbSource", "ScoreResult", "score_deals"]
