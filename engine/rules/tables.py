"""Decision tables, compiled once and evaluated over columns.

A table has inputs, rows with human ids, outputs, and a hit policy (first, priority, unique,
collect-sum, collect-max). Each row's cells and ``when`` become one compiled condition; evaluating
the table computes every row's match mask with numpy and combines the masks by the hit policy, so a
table over a million deals costs a few array operations per row. Every result records which rows
produced it. Rows that overlap under ``unique`` are reported at publish time where the cells are
simple enough to prove it, and otherwise per deal at evaluation, naming both rows.

One deal is evaluated row by row in Python scalars (:meth:`CompiledTable.evaluate_row`), with the
same answers and errors as over a frame of that one deal; a first-hit table stops at the row that
hits when no later row could raise an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from engine.errors import EvaluationError, RuleSetInvalidError, Violation
from engine.frame import FieldType, Frame, Row, to_scaled
from engine.rules.cells import CellSet, cell_set, cell_to_sql
from engine.rules.expression import Condition, FieldSpec, compile_condition
from engine.rules.expression_nodes import SkipCheck
from engine.rules.schema import DecisionTable, HitPolicy
from engine.rules.source import SourceDocument, join_path


@dataclass(frozen=True)
class OutputSpec:
    """What a table output may hold: an exact decimal (with bounds) or one of a set of choices."""

    type: FieldType
    scale: int = 0
    choices: tuple[str, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None

    def encode(self, value: object) -> int:
        """Return the column encoding of a literal output (scaled int or choice index).

        Raises ``ValueError`` with a message for people when the value is not allowed.
        """
        if self.choices:
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}; got {value!r}")
            return self.choices.index(value)
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            raise ValueError(f"must be a number; got {value!r}")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"must be a number; got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"must be a finite number; got {value!r}")
        if self.min_value is not None and number < self.min_value:
            raise ValueError(f"must be at least {self.min_value}; got {value}")
        if self.max_value is not None and number > self.max_value:
            raise ValueError(f"must be at most {self.max_value}; got {value}")
        return to_scaled(number, self.scale)


@dataclass(frozen=True)
class CompiledRow:
    """One row: its id, its compiled condition (``None`` matches every deal) and encoded outputs."""

    id: str
    condition: Condition | None
    outputs: Mapping[str, int]
    priority: int = 0


@dataclass
class TableResult:
    """The outcome of one table over ``n`` deals.

    Attributes
    ----------
    hit : ndarray of bool, shape (n,)
        Deals for which the table produced outputs.
    values : dict of name -> ndarray of int64, shape (n,)
        Encoded outputs (scaled decimals or choice codes); meaningful where ``hit``.
    masks : list of ndarray of bool, shape (n,), one per row, or None
        Collect policies: the deals each row matched.
    winner : ndarray of int16, shape (n,), or None
        Single-hit policies: the index of the winning row (-1: no hit).
    errors : list of (rows, reason, message)
        Deals that could not be evaluated (integer indices), with a stable reason.
    """

    hit: np.ndarray
    values: dict[str, np.ndarray]
    masks: list[np.ndarray] | None = None
    winner: np.ndarray | None = None
    errors: list[tuple[np.ndarray, str, str]] = field(default_factory=list)

    def row_mask(self, r: int) -> np.ndarray:
        """Deals for which row ``r`` is reported as matched (single-hit policies: only the winning
        row; collect policies: every matching row). Computed on demand: explanations only."""
        if self.winner is not None:
            return self.winner == r
        assert self.masks is not None
        return self.masks[r]

    def row_matched(self, r: int, i: int) -> bool:
        """Whether row ``r`` is reported as matched for deal ``i``."""
        if self.winner is not None:
            return bool(self.winner[i] == r)
        assert self.masks is not None
        return bool(self.masks[r][i])


@dataclass
class RowResult:
    """The outcome of one table for one deal: :class:`TableResult` for a single row, as scalars.

    Attributes
    ----------
    hit : bool
    values : dict of name -> int
        Encoded outputs; 0 where nothing hit.
    matched : tuple of int
        The rows reported as matched (single-hit policies: the winner; collect: every match).
    errors : list of (reason, message)
    """

    hit: bool
    values: dict[str, int]
    matched: tuple[int, ...]
    errors: list[tuple[str, str]]


def evaluate_masked(
    cond: Condition, frame: Frame, errors: list[tuple[np.ndarray, str, str]]
) -> np.ndarray:
    """Evaluate ``cond``; rows it cannot evaluate are recorded in ``errors`` and do not match."""
    try:
        return cond.evaluate(frame)
    except EvaluationError as exc:
        bad = getattr(exc, "rows", None)
        if bad is None:
            raise
        ok = np.ones(frame.n_rows, dtype=np.bool_)
        ok[bad] = False
        errors.append((np.asarray(bad), exc.reason, exc.message))
        mask = np.zeros(frame.n_rows, dtype=np.bool_)
        keep = np.flatnonzero(ok)
        sub: list[tuple[np.ndarray, str, str]] = []
        mask[keep] = evaluate_masked(cond, frame.take(keep), sub)
        errors.extend((keep[rows], reason, msg) for rows, reason, msg in sub)
        return mask


@dataclass(frozen=True)
class CompiledTable:
    """A decision table ready to evaluate; built by :func:`compile_table`."""

    id: str
    hit_policy: HitPolicy
    rows: tuple[CompiledRow, ...]
    outputs: Mapping[str, OutputSpec]

    @property
    def fields(self) -> frozenset[str]:
        """Every deal field some row reads."""
        out: set[str] = set()
        for row in self.rows:
            if row.condition is not None:
                out |= row.condition.fields
        return frozenset(out)

    def evaluate(self, frame: Frame) -> TableResult:
        """Evaluate every row over ``frame`` and combine the matches by the hit policy."""
        n = frame.n_rows
        errors: list[tuple[np.ndarray, str, str]] = []
        masks = [
            np.ones(n, dtype=np.bool_)
            if row.condition is None
            else evaluate_masked(row.condition, frame, errors)
            for row in self.rows
        ]
        if self.hit_policy in (HitPolicy.COLLECT_SUM, HitPolicy.COLLECT_MAX):
            return self._collect(masks, n, errors)
        if n == 1 and self.hit_policy is HitPolicy.FIRST:  # one deal: the first row that holds
            first = next((r for r, m in enumerate(masks) if m[0]), -1)
            winner = np.array([first], dtype=np.int16)
            values = {name: table[first : first + 1] if first >= 0 else table[-1:]
                      for name, table in self._output_tables().items()}  # fmt: skip
            return TableResult(winner >= 0, values, winner=winner, errors=errors)
        winner = np.full(n, -1, dtype=np.int16)
        if self.hit_policy is HitPolicy.PRIORITY:
            # Lowest priority first, later rows before earlier: the last write is the winner.
            order = sorted(range(len(self.rows)), key=lambda r: (self.rows[r].priority, -r))
        else:
            order = list(range(len(self.rows) - 1, -1, -1))
        for r in order:
            np.putmask(winner, masks[r], r)
        hit = winner >= 0
        if self.hit_policy is HitPolicy.UNIQUE:
            self._unique_conflicts(masks, hit, errors)
        values = {name: table[winner] for name, table in self._output_tables().items()}
        return TableResult(hit, values, winner=winner, errors=errors)

    def evaluate_row(self, row: Row) -> RowResult:
        """:meth:`evaluate` for one deal, without numpy: the same outputs, matched rows and errors
        as over a frame of that one deal."""
        errors: list[tuple[str, str]] = []
        matched: list[int] = []
        first = self.hit_policy is HitPolicy.FIRST
        rows = self.rows
        for r, table_row in enumerate(rows):
            cond = table_row.condition
            if cond is None:
                holds = True
            else:
                try:
                    holds = cond.root.ev_row(row) is True
                except EvaluationError as exc:
                    if getattr(exc, "rows", None) is None:
                        raise
                    errors.append((exc.reason, exc.message))
                    holds = False
            if holds:
                matched.append(r)
                if first and len(matched) == 1 and self._rest_checks()[r].skip_row(row):
                    break  # no later row can change the answer or raise an error
        policy = self.hit_policy
        if policy in (HitPolicy.COLLECT_SUM, HitPolicy.COLLECT_MAX):
            values: dict[str, int] = {}
            for name in self.outputs:
                outs = [rows[r].outputs[name] for r in matched]
                if not outs:
                    values[name] = 0
                elif policy is HitPolicy.COLLECT_SUM:
                    values[name] = sum(outs)
                else:
                    values[name] = max(outs)
            return RowResult(bool(matched), values, tuple(matched), errors)
        if not matched:
            return RowResult(False, dict.fromkeys(self.outputs, 0), (), errors)
        if policy is HitPolicy.PRIORITY:
            winner = max(matched, key=lambda r: (rows[r].priority, -r))
        else:
            winner = matched[0]
        hit = True
        if policy is HitPolicy.UNIQUE and len(matched) > 1:
            errors.append(("UNIQUE_HIT_OVERLAP", self._overlap(matched[0], matched[1])))
            hit = False
        values = {name: rows[winner].outputs[name] for name in self.outputs}
        return RowResult(hit, values, (winner,), errors)

    def _rest_checks(self) -> tuple[SkipCheck, ...]:
        """Per row: whether the rows after it may be skipped once it hits. Built once."""
        checks = self.__dict__.get("_rest")
        if checks is None:
            checks = tuple(
                SkipCheck([row.condition.root for row in self.rows[r + 1 :] if row.condition])
                for r in range(len(self.rows))
            )
            object.__setattr__(self, "_rest", checks)
        return checks

    def _overlap(self, a: int, b: int) -> str:
        return (
            f"table {self.id!r} has hit policy unique but rows "
            f"{self.rows[a].id!r} and {self.rows[b].id!r} both match"
        )

    def _output_tables(self) -> dict[str, np.ndarray]:
        """Each output's encoded value per row, then 0 (what winner -1 picks). Built once."""
        tables = self.__dict__.get("_tables")
        if tables is None:
            tables = {
                name: np.array([row.outputs[name] for row in self.rows] + [0], dtype=np.int64)
                for name in self.outputs
            }
            object.__setattr__(self, "_tables", tables)
        return tables

    def _collect(
        self, masks: list[np.ndarray], n: int, errors: list[tuple[np.ndarray, str, str]]
    ) -> TableResult:
        hit = np.logical_or.reduce(masks) if masks else np.zeros(n, dtype=np.bool_)
        values = {}
        for name in self.outputs:
            if self.hit_policy is HitPolicy.COLLECT_SUM:
                acc = np.zeros(n, dtype=np.int64)
                for mask, row in zip(masks, self.rows, strict=True):
                    acc[mask] += row.outputs[name]
            else:
                acc = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
                for mask, row in zip(masks, self.rows, strict=True):
                    np.putmask(acc, mask & (acc < row.outputs[name]), row.outputs[name])
                acc[~hit] = 0
            values[name] = acc
        return TableResult(hit, values, masks=masks, errors=errors)

    def _unique_conflicts(
        self, masks: list[np.ndarray], hit: np.ndarray, errors: list[tuple[np.ndarray, str, str]]
    ) -> None:
        count = np.add.reduce([m.astype(np.int8) for m in masks]) if masks else None
        if count is None:
            return
        clash = np.flatnonzero(count > 1)
        if clash.size == 0:
            return
        stacked = np.stack([m[clash] for m in masks])
        first = stacked.argmax(axis=0)
        stacked[first, np.arange(clash.size)] = False
        second = stacked.argmax(axis=0)
        pairs = np.stack([first, second], axis=1)
        for a, b in np.unique(pairs, axis=0):
            rows = clash[(first == a) & (second == b)]
            errors.append((rows, "UNIQUE_HIT_OVERLAP", self._overlap(int(a), int(b))))
        hit[clash] = False

    def matched_rows(self, result: TableResult, i: int) -> list[str]:
        """Return the ids of the rows reported as matched for deal ``i`` (for explanations)."""
        return [row.id for r, row in enumerate(self.rows) if result.row_matched(r, i)]


def compile_table(
    table: DecisionTable,
    schema: Mapping[str, FieldSpec],
    outputs: Mapping[str, OutputSpec],
    doc: SourceDocument,
    path: str,
) -> CompiledTable:
    """Type-check and compile a decision table.

    Raises
    ------
    RuleSetInvalidError
        With every problem found: unknown inputs, cells on undeclared inputs, bad conditions,
        outputs missing or not allowed, duplicate row ids, collect policies on choice outputs,
        rows that provably overlap under ``unique``.
    """
    violations: list[Violation] = []
    for i, name in enumerate(table.inputs):
        if name not in schema:
            violations.append(
                doc.violation(
                    join_path(join_path(path, "inputs"), i),
                    "UNKNOWN_FIELD",
                    f"input {name!r} is not a deal field",
                )
            )
    if table.hit_policy in (HitPolicy.COLLECT_SUM, HitPolicy.COLLECT_MAX):
        for name, spec in outputs.items():
            if spec.choices:
                violations.append(
                    doc.violation(
                        join_path(path, "hit_policy"),
                        "INVALID_HIT_POLICY",
                        f"{table.hit_policy.value} cannot combine output {name!r}, "
                        "which is a choice, not a number",
                    )
                )
    seen: dict[str, int] = {}
    rows: list[CompiledRow] = []
    for r, row in enumerate(table.rows):
        row_path = join_path(join_path(path, "rows"), r)
        if row.id in seen:
            violations.append(
                doc.violation(
                    join_path(row_path, "id"),
                    "DUPLICATE_ID",
                    f"row id {row.id!r} is already used by rows[{seen[row.id]}]",
                )
            )
        seen.setdefault(row.id, r)
        parts: list[str] = []
        for name, cell in row.cells.items():
            cell_path = join_path(join_path(row_path, "cells"), name)
            if name not in table.inputs:
                violations.append(
                    doc.violation(
                        cell_path,
                        "UNKNOWN_INPUT",
                        f"{name!r} is not one of the table's inputs "
                        f"({', '.join(table.inputs) or 'none declared'})",
                    )
                )
                continue
            if name not in schema:
                continue
            sql = cell_to_sql(name, cell, schema[name].type)
            if sql is not None:
                parts.append(f"({sql})")
                line, col = doc.position(cell_path)
                try:
                    compile_condition(sql, schema, path=cell_path, line=line, column=0)
                except RuleSetInvalidError as exc:
                    violations.extend(
                        Violation(v.path, line, col, v.reason, f"{v.message} (cell reads: {sql})")
                        for v in exc.violations
                    )
                    parts.pop()
        condition: Condition | None = None
        if row.when is not None:
            when_path = join_path(row_path, "when")
            line, col = doc.position(when_path)
            try:
                compile_condition(row.when, schema, path=when_path, line=line, column=col)
            except RuleSetInvalidError as exc:
                violations.extend(exc.violations)
            else:
                parts.append(f"({row.when})")
        encoded: dict[str, int] = {}
        for name, value in row.then.items():
            out_path = join_path(join_path(row_path, "then"), name)
            if name not in outputs:
                violations.append(
                    doc.violation(
                        out_path,
                        "UNKNOWN_OUTPUT",
                        f"{name!r} is not an output here (allowed: {', '.join(outputs)})",
                    )
                )
                continue
            try:
                encoded[name] = outputs[name].encode(value)
            except ValueError as exc:
                violations.append(doc.violation(out_path, "INVALID_OUTPUT", f"{name} {exc}"))
        for name in outputs:
            if name not in row.then:
                violations.append(
                    doc.violation(
                        join_path(row_path, "then"),
                        "MISSING_OUTPUT",
                        f"row {row.id!r} does not set output {name!r}",
                    )
                )
        if parts:
            try:
                condition = compile_condition(" AND ".join(parts), schema, path=row_path)
            except RuleSetInvalidError as exc:
                violations.extend(exc.violations)
        rows.append(CompiledRow(row.id, condition, encoded, row.priority))
    if table.hit_policy is HitPolicy.UNIQUE:
        violations.extend(_static_overlaps(table, schema, doc, path))
    if violations:
        raise RuleSetInvalidError(violations)
    return CompiledTable(table.id, table.hit_policy, tuple(rows), dict(outputs))


def _static_overlaps(
    table: DecisionTable, schema: Mapping[str, FieldSpec], doc: SourceDocument, path: str
) -> Sequence[Violation]:
    """Find row pairs of a unique table whose simple cells provably accept a common input."""
    described: list[dict[str, CellSet] | None] = []
    for row in table.rows:
        if row.when is not None:
            described.append(None)
            continue
        sets: dict[str, CellSet] = {}
        for name in table.inputs:
            if name not in schema:
                break
            s = cell_set(row.cells.get(name), schema[name].type)
            if s is None:
                break
            sets[name] = s
        else:
            described.append(sets)
            continue
        described.append(None)
    out = []
    for a in range(len(described)):
        for b in range(a + 1, len(described)):
            sa, sb = described[a], described[b]
            if sa is None or sb is None:
                continue
            if all(sa[name].intersects(sb[name]) for name in table.inputs):
                out.append(
                    doc.violation(
                        join_path(join_path(path, "rows"), b),
                        "UNIQUE_ROWS_OVERLAP",
                        f"hit policy is unique but rows {table.rows[a].id!r} and "
                        f"{table.rows[b].id!r} can both match the same deal",
                    )
                )
    return out


__all__ = [
    "CompiledRow",
    "CompiledTable",
    "OutputSpec",
    "RowResult",
    "TableResult",
    "compile_table",
]
