"""Deal scoring: win probability, weighted amount and forecast category for a batch of deals.

For each deal: the stage's configured win rate, replaced by the first win-rate override table that
hits it, replaced by a manual probability when the caller gives one (won and lost stages stay at 1
and 0); the weighted amount ``amount_minor x win_prob`` computed exactly in integers and rounded
half-even; the category from the per-deal override, else the ``categories`` table, else the stage
default. Every value says where it came from (stage, override row, manual) and which rows matched.
All of it is a handful of array operations per table row, whatever the number of deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from engine.forecast.deals import DealBatch, DealError
from engine.frame import Column, FieldType
from engine.money import mul_ppm_half_even
from engine.rules.compiler import WIN_RATE_SCALE, CompiledRuleSet
from engine.rules.schema import CATEGORY_ORDER, Category
from engine.rules.tables import CompiledTable, TableResult

_CLOSED = CATEGORY_ORDER.index(Category.CLOSED)
_OMITTED = CATEGORY_ORDER.index(Category.OMITTED)


class ProbSource(IntEnum):
    """Where a deal's win probability came from."""

    STAGE = 0
    OVERRIDE = 1
    MANUAL = 2
    CLOSED_STAGE = 3


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

    def matched_rules(self, i: int) -> list[str]:
        """Return the ids of the rule rows that produced deal ``i``'s values.

        Ids read ``<section>.<table>/<row>``, e.g. ``win_rates.overrides.by_region/emea_large``.
        """
        out: list[str] = []
        for prefix, table, result, applied in self._tables:
            if applied[i]:
                out.extend(f"{prefix}.{table.id}/{row}" for row in table.matched_rows(result, i))
        return out

    def matched_rules_all(self) -> list[list[str]]:
        """Return :meth:`matched_rules` for every deal at once (one pass per rule row)."""
        out: list[list[str]] = [[] for _ in range(self.valid.shape[0])]
        for prefix, table, result, applied in self._tables:
            for row, mask in zip(table.rows, result.row_masks, strict=True):
                rule_id = f"{prefix}.{table.id}/{row.id}"
                for i in np.flatnonzero(mask & applied).tolist():
                    out[i].append(rule_id)
        return out


def score_deals(rules: CompiledRuleSet, batch: DealBatch) -> ScoreResult:
    """Score every valid deal of ``batch`` under ``rules``; see the module docstring."""
    n = batch.n_deals
    errors = list(batch.errors)
    valid = batch.valid.copy()
    stage = batch.stage_idx
    rate = rules.stage_rate_ppm[stage]
    source = np.zeros(n, dtype=np.int8)
    won = rules.stage_is_won[stage]
    closed = won | rules.stage_is_lost[stage]
    source[closed] = ProbSource.CLOSED_STAGE
    manual = (batch.manual_win_ppm >= 0) & ~closed
    tables: list[tuple[str, CompiledTable, TableResult, np.ndarray]] = []

    def record_errors(result: TableResult, affected: np.ndarray) -> None:
        for rows, reason, message in result.errors:
            for i in rows[affected[rows] & valid[rows]]:
                errors.append(DealError(int(i), "", reason, message))
                valid[i] = False

    undecided = valid & ~closed & ~manual
    for table in rules.overrides:
        if not undecided.any():
            break
        result = table.evaluate(batch.frame)
        record_errors(result, undecided)
        apply = result.hit & undecided & valid
        rate = np.where(apply, result.values["win_rate"], rate)
        source[apply] = ProbSource.OVERRIDE
        tables.append(("win_rates.overrides", table, result, apply))
        undecided &= ~apply
    rate = np.where(manual, batch.manual_win_ppm, rate)
    source[manual] = ProbSource.MANUAL

    category = rules.stage_category[stage].astype(np.int8)
    open_valid = valid & ~closed
    if rules.categories is not None and open_valid.any():
        frame = batch.frame.with_columns(
            {"win_prob": Column(FieldType.DECIMAL, rate, scale=WIN_RATE_SCALE)}
        )
        result = rules.categories.evaluate(frame)
        record_errors(result, open_valid)
        apply = result.hit & open_valid & valid
        category = np.where(apply, result.values["category"], category).astype(np.int8)
        tables.append(("categories", rules.categories, result, apply))
    override = batch.category_override
    wants = (override >= 0) & valid
    bad = wants & (
        ((override == _CLOSED) & ~won) | (won & (override != _CLOSED) & (override != _OMITTED))
    )
    for i in np.flatnonzero(bad):
        errors.append(
            DealError(
                int(i),
                "category",
                "CATEGORY_NOT_ALLOWED",
                "only won deals may be in category closed, and a won deal may only be "
                f"closed or omitted (got {CATEGORY_ORDER[override[i]].value})",
            )
        )
        valid[i] = False
    wants &= valid
    category = np.where(wants, override, category).astype(np.int8)

    rate = np.where(valid, rate, 0)
    amount_minor = batch.frame["amount_minor"].values
    weighted = mul_ppm_half_even(amount_minor, rate)
    errors.sort(key=lambda e: e.index)
    return ScoreResult(
        valid=valid,
        win_prob_ppm=rate,
        weighted_amount_minor=np.where(valid, weighted, 0),
        category=np.where(valid, category, 0).astype(np.int8),
        prob_source=np.where(valid, source, 0).astype(np.int8),
        errors=errors,
        _tables=tables,
    )


__all__ = ["ProbSource", "ScoreResult", "score_deals"]
