"""A per-row reference evaluator for conditions: slow, simple, and obviously correct (tests only).

It walks the sqlglot syntax tree for one row of Python values (str, int, Decimal, bool, date or
None) with SQL three-valued logic, using exact fractions for every number. The compiled, vectorised
evaluator in :mod:`engine.rules.expression` must agree with it row by row, including which rows fail
with ``DIVISION_BY_ZERO`` or ``ARITHMETIC_OVERFLOW``. It evaluates every operand (no short-circuit),
left to right, as the compiled form does.

It does not type-check: feed it conditions that compile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlglot
from sqlglot import exp

from engine.frame import FieldType
from engine.rules.expression import FieldSpec

INT64 = range(-(2**63), 2**63)
DIVISION_SCALE = 6


class RowError(Exception):
    """The row cannot be evaluated; ``reason`` is the compiled evaluator's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def like(text: str, pattern: str) -> bool:
    """SQL LIKE by dynamic programming: ``%`` any run, ``_`` one character, ``\\`` escapes."""
    tokens: list[tuple[str, str]] = []  # ("%", "") | ("_", "") | ("lit", ch)
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        else:
            tokens.append((pattern[i], "") if pattern[i] in "%_" else ("lit", pattern[i]))
            i += 1
    # can[j] is True when text[:k] matches tokens[:j], for the current k.
    can = [True] + [False] * len(tokens)
    for j, (kind, _) in enumerate(tokens):
        can[j + 1] = can[j] and kind == "%"
    for ch in text:
        nxt = [False] * (len(tokens) + 1)
        for j, (kind, lit) in enumerate(tokens):
            if kind == "%":
                nxt[j + 1] = nxt[j] or can[j + 1]
            elif kind == "_" or lit == ch:
                nxt[j + 1] = can[j]
        can = nxt
    return can[-1]


def _literal_scale(text: str) -> int:
    if "." not in text and "e" not in text.lower():
        return 0
    exponent = Decimal(text).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


class Reference:
    """Evaluates one parsed condition row by row."""

    def __init__(self, text: str, schema: Mapping[str, FieldSpec]) -> None:
        self.ast = sqlglot.parse_one(text, read="postgres")
        self.schema = schema

    def row(self, values: Mapping[str, Any]) -> bool | str | None:
        """True, False, None (SQL NULL), or the reason the row cannot be evaluated."""
        try:
            result = self.eval(self.ast, values)
        except RowError as err:
            return err.reason
        assert result is None or isinstance(result, bool)
        return result

    # --- static scale of numeric expressions (needed for the int64 range checks) ---------------

    def scale(self, node: exp.Expr) -> int:
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.Column):
            spec = self.schema[node.name]
            return spec.scale if spec.type is FieldType.DECIMAL else 0
        if isinstance(node, exp.Literal):
            return 0 if node.is_string else _literal_scale(node.this)
        if isinstance(node, exp.Neg | exp.Abs):
            return self.scale(node.this)
        if isinstance(node, exp.Add | exp.Sub):
            return max(self.scale(node.this), self.scale(node.expression))
        if isinstance(node, exp.Mul):
            return self.scale(node.this) + self.scale(node.expression)
        if isinstance(node, exp.Div):
            return DIVISION_SCALE
        if isinstance(node, exp.Coalesce):
            args = [node.this, *node.expressions]
            return max(self.scale(a) for a in args if not isinstance(a, exp.Null))
        return 0

    def checked(self, value: Fraction, node: exp.Expr) -> Fraction:
        scaled = value * 10 ** self.scale(node)
        assert scaled.denominator == 1, (value, node.sql())
        if int(scaled) not in INT64:
            raise RowError("ARITHMETIC_OVERFLOW")
        return value

    # --- evaluation ---------------------------------------------------------------------------

    def eval(self, node: exp.Expr, row: Mapping[str, Any]) -> Any:
        ev = self.eval
        if isinstance(node, exp.Paren):
            return ev(node.this, row)
        if isinstance(node, exp.Column):
            value = row[node.name]
            if isinstance(value, int | Decimal) and not isinstance(value, bool):
                return Fraction(value)
            return value
        if isinstance(node, exp.Literal):
            return node.this if node.is_string else Fraction(Decimal(node.this))
        if isinstance(node, exp.Boolean):
            return bool(node.this)
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Cast):  # DATE 'yyyy-mm-dd'
            return dt.date.fromisoformat(node.this.this)
        if isinstance(node, exp.And | exp.Or):
            a, b = ev(node.this, row), ev(node.expression, row)
            if isinstance(node, exp.And):
                if a is False or b is False:
                    return False
                return None if a is None or b is None else True
            if a is True or b is True:
                return True
            return None if a is None or b is None else False
        if isinstance(node, exp.Not):
            a = ev(node.this, row)
            return None if a is None else not a
        ops = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
        if type(node) in ops:
            return compare(ops[type(node)], ev(node.this, row), ev(node.expression, row))
        if isinstance(node, exp.Between):
            x, lo, hi = ev(node.this, row), ev(node.args["low"], row), ev(node.args["high"], row)
            a, b = compare(">=", x, lo), compare("<=", x, hi)
            if a is False or b is False:
                return False
            return None if a is None or b is None else True
        if isinstance(node, exp.In):
            x = ev(node.this, row)
            items = [ev(i, row) for i in node.expressions]
            if x is None:
                return None
            if any(compare("=", x, i) for i in items if i is not None):
                return True
            return None if any(i is None for i in items) else False
        if isinstance(node, exp.Is):
            x = ev(node.this, row)
            result = (
                x is None
                if isinstance(node.expression, exp.Null)
                else x is bool(node.expression.this)
            )
            return not result if node.args.get("negate") else result
        if isinstance(node, exp.Like):
            x, pattern = ev(node.this, row), ev(node.expression, row)
            if x is None or pattern is None:
                return None
            return like(x, pattern) != bool(node.args.get("negate"))
        if isinstance(node, exp.Neg | exp.Abs):
            x = ev(node.this, row)
            if x is None:
                return None
            return self.checked(-x if isinstance(node, exp.Neg) else abs(x), node)
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
            a, b = ev(node.this, row), ev(node.expression, row)
            if a is None or b is None:
                return None
            if isinstance(node, exp.Add):
                return self.checked(a + b, node)
            if isinstance(node, exp.Sub):
                return self.checked(a - b, node)
            if isinstance(node, exp.Mul):
                return self.checked(a * b, node)
            if b == 0:
                raise RowError("DIVISION_BY_ZERO")
            # Fraction rounds half to even.
            return self.checked(
                Fraction(round(a / b * 10**DIVISION_SCALE), 10**DIVISION_SCALE), node
            )
        if isinstance(node, exp.Lower | exp.Upper | exp.Trim | exp.Length):
            x = ev(node.this, row)
            if x is None:
                return None
            if isinstance(node, exp.Lower):
                return x.lower()
            if isinstance(node, exp.Upper):
                return x.upper()
            if isinstance(node, exp.Trim):
                return x.strip(" ")
            return Fraction(len(x))
        if isinstance(node, exp.Coalesce):
            values = [ev(a, row) for a in [node.this, *node.expressions]]
            first = next((v for v in values if v is not None), None)
            if isinstance(first, Fraction):
                return self.checked(first, node)
            return first
        raise AssertionError(f"the reference does not handle {node.key}")


def compare(op: str, a: Any, b: Any) -> bool | None:
    """SQL comparison; a string meeting a date is read as a date."""
    if a is None or b is None:
        return None
    if isinstance(a, dt.date) and isinstance(b, str):
        b = dt.date.fromisoformat(b)
    if isinstance(b, dt.date) and isinstance(a, str):
        a = dt.date.fromisoformat(a)
    if op == "=":
        return bool(a == b)
    if op == "<>":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)
