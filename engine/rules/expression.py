"""SQL-style conditions (``region = 'EMEA' AND amount >= 100000``) compiled for columns of deals.

Rule sets let people write conditions as short SQL boolean expressions. This module parses them
with sqlglot (never ``eval``), checks them against the declared deal fields, and compiles them into
a tree of small numpy nodes (:mod:`engine.rules.expression_nodes`) that evaluates a whole
:class:`~engine.frame.Frame` at once. Compilation happens once per rule set; evaluation is the hot
path and does no Python work per deal.

The language
------------
Types: string, int, decimal (exact), bool, date. Literals: ``42``, ``1.25`` (exact decimals, never
floats), ``'text'``, ``TRUE``/``FALSE``, ``NULL``, ``DATE '2026-01-31'`` (a plain ``'2026-01-31'``
compared with a date is read as a date). Operators: ``= <> != < <= > >=``, ``AND OR NOT``,
``[NOT] IN (literals)``, ``[NOT] BETWEEN a AND b``, ``IS [NOT] NULL``, ``IS [NOT] TRUE|FALSE``,
``[NOT] LIKE`` (``%``, ``_``, backslash escapes), ``+ - * /``, unary minus and parentheses.
Functions: LOWER, UPPER, TRIM (spaces), LENGTH (characters), ABS, COALESCE.

Semantics
---------
* SQL three-valued logic: a comparison with NULL is NULL, ``NULL AND FALSE`` is FALSE, ``NOT NULL``
  is NULL, ``x IN (...)`` is NULL when ``x`` is. :meth:`Condition.evaluate` treats NULL as false.
* Strings compare by code point (PostgreSQL's "C" collation). Ints and decimals mix exactly.
* ``+``/``-`` keep the larger scale, ``*`` adds scales (more than ``MAX_DECIMAL_SCALE`` places is
  rejected at compile time), ``/`` gives a decimal with 6 places rounded half-even (so ``7 / 2`` is
  ``3.500000``, not integer division). Division by zero raises ``EvaluationError`` with reason
  ``DIVISION_BY_ZERO`` and the offending ``rows``; a NULL operand gives NULL instead. A result that
  does not fit int64 raises ``ARITHMETIC_OVERFLOW`` the same way.
* Every operand is evaluated (no short-circuit), so an error in any branch is reported.

Limits: at most 10,000 characters, 500 syntax nodes and 32 levels of nesting (a chain of ANDs, or of
ORs, counts as one level; parentheses do not count).
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from engine.errors import InvalidArgumentError, RuleSetInvalidError, Violation
from engine.frame import MAX_DECIMAL_SCALE, FieldType, Frame, Row, date_to_days
from engine.rules import expression_nodes as nd
from engine.rules.expression_nodes import FLIPPED, GE, LE, Node

#: Longest condition accepted, in characters.
MAX_CONDITION_CHARS = 10_000
#: Deepest nesting accepted (see the module docstring for how levels are counted).
MAX_DEPTH = 32
#: Most sqlglot syntax nodes accepted in one condition.
MAX_NODES = 500
#: The SQL dialect conditions are read in.
DIALECT = "postgres"
SUPPORTED_FUNCTIONS = ("ABS", "COALESCE", "LENGTH", "LOWER", "TRIM", "UPPER")

_NUMERIC = (FieldType.INT, FieldType.DECIMAL)
_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: nd.EQ,
    exp.NEQ: nd.NE,
    exp.LT: nd.LT,
    exp.LTE: nd.LE,
    exp.GT: nd.GT,
    exp.GTE: nd.GE,
}
_ARITHMETIC: dict[type[exp.Expr], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}
_STRING_FUNCTIONS: dict[type[exp.Expr], Callable[[str], str]] = {
    exp.Lower: str.lower,
    exp.Upper: str.upper,
    exp.Trim: lambda s: s.strip(" "),
}
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_SYNTAX_NAMES = {
    "select": "SELECT",
    "subquery": "subqueries",
    "exists": "EXISTS",
    "star": "*",
    "window": "window functions",
    "case": "CASE",
    "block": "several statements",
    "alias": "aliases (is an operator missing?)",
    "escape": "ESCAPE (a backslash escapes % and _)",
    "ilike": "ILIKE (use LOWER(x) LIKE ...)",
    "nullsafeeq": "IS NOT DISTINCT FROM",
    "nullsafeneq": "IS DISTINCT FROM",
}


@dataclass(frozen=True)
class FieldSpec:
    """Declared type of a deal field; ``scale`` is the number of decimal places (decimals only)."""

    type: FieldType
    scale: int = 0


Schema = Mapping[str, FieldSpec]


class Condition:
    """A compiled condition. Build with :func:`compile_condition`; reuse for any number of frames.

    Attributes
    ----------
    source : str
        The condition text as written.
    fields : frozenset of str
        The deal fields it reads.
    """

    __slots__ = ("_ast", "_root", "fields", "source")

    def __init__(self, source: str, fields: frozenset[str], root: Node, ast: exp.Expr) -> None:
        self.source = source
        self.fields = fields
        self._root = root
        self._ast = ast

    def evaluate(self, frame: Frame) -> np.ndarray:
        """Return a bool array of shape ``(frame.n_rows,)``: True where the condition holds.

        NULL counts as false. Raises ``EvaluationError``: ``MISSING_FIELD`` when the frame lacks a
        field, ``FIELD_TYPE_MISMATCH`` when a column has another type, and ``DIVISION_BY_ZERO`` or
        ``ARITHMETIC_OVERFLOW`` with a ``rows`` attribute (int indices) naming the deals at fault.
        """
        root = self._root
        v = root.ev(frame)[0]
        return v if root.fresh else np.array(v, dtype=np.bool_)

    @property
    def root(self) -> Node:
        """The compiled expression."""
        return self._root

    def evaluate_row(self, row: Row) -> bool | None:
        """The condition for one deal: True, False or None (NULL), as :meth:`evaluate3` gives
        over a frame of that one row, without numpy. Raises like :meth:`evaluate`; errors that
        name rows name row 0."""
        value: bool | None = self._root.ev_row(row)
        return value

    def evaluate3(self, frame: Frame) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``(value, null)``: the SQL three-valued result.

        ``value`` is False wherever ``null`` is True; ``null`` is ``None`` when no row is NULL.
        Raises like :meth:`evaluate`.
        """
        root = self._root
        v, n = root.ev(frame)
        if not root.fresh:
            v = np.array(v, dtype=np.bool_)
        if n is not None:
            n = np.array(n, dtype=np.bool_) if n.any() else None
        return v, n

    def to_sql(self, dialect: str = DIALECT) -> str:
        """Return the condition in another SQL dialect (a transpilation of the text by sqlglot).

        The text is translated, not the semantics: in most databases ``/`` on two integers is
        integer division, while here it gives a decimal with 6 places.
        """
        try:
            return self._ast.sql(dialect=dialect)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc), reason="UNSUPPORTED_DIALECT") from None

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"


def compile_condition(
    text: str, schema: Schema, *, path: str = "", line: int = 0, column: int = 0
) -> Condition:
    """Parse, type-check and compile a condition.

    Parameters
    ----------
    text : str
        The condition, e.g. ``"region = 'EMEA' AND amount >= 100000"``.
    schema : mapping of str to FieldSpec
        The fields the condition may read.
    path, line, column
        Where the text sits in its document: violations carry ``path``, and positions inside the
        text are shifted so that the text starts at document ``(line, column)`` (1-based). With
        ``line == 0`` positions are relative to the text itself.

    Returns
    -------
    Condition

    Raises
    ------
    RuleSetInvalidError
        With every violation found in the condition: ``CONDITION_SYNTAX``, ``UNKNOWN_FIELD``,
        ``TYPE_MISMATCH``, ``UNSUPPORTED_FUNCTION``, ``UNSUPPORTED_SYNTAX``, ``NOT_BOOLEAN``,
        ``EXPRESSION_TOO_COMPLEX``.
    """
    checker = _Compiler(text, schema, path, line, column)
    root = checker.compile()
    if root is None or checker.violations:
        raise RuleSetInvalidError(checker.violations)
    assert checker.ast is not None
    return Condition(text, frozenset(checker.fields), root, checker.ast)


@dataclass(frozen=True)
class _Lit:
    """A literal before it meets an operand: its Python value and literal type (None for NULL)."""

    value: Any  # str | int | Decimal | bool | date | None
    type: FieldType | None
    scale: int = 0


_Built = Node | _Lit


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _type_name(value: _Built) -> str:
    return "NULL" if value.type is None else value.type.value


def _a(value: _Built) -> str:
    """The type with its article: "an int", "a string", "NULL"."""
    name = _type_name(value)
    return name if value.type is None else ("an " if name[0] in "aeiou" else "a ") + name


def _is_string_expression(value: _Built | None) -> bool:
    """True for a string field or expression (where a bare word was probably meant as text)."""
    return isinstance(value, Node) and value.type is FieldType.STRING


def _max_paren_depth(text: str) -> int:
    """Deepest parenthesis nesting outside quotes (checked before parsing: the parser recurses)."""
    depth = deepest = 0
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest


def _unterminated_quote(text: str) -> int:
    """Offset of the quote that opens an unterminated string, or 0."""
    quote, start = "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote, start = ch, i
    return start if quote else 0


def _depth(ast: exp.Expr) -> int:
    """Nesting depth; parentheses, identifiers and a chain of the same AND/OR add no level."""
    deepest = 0
    stack: list[tuple[exp.Expr, int, type]] = [(ast, 1, type(ast))]
    while stack:
        node, depth, context = stack.pop()
        deepest = max(deepest, depth)
        for child in node.iter_expressions():
            kind = type(child)
            if isinstance(child, exp.Paren):
                stack.append((child, depth, context))
            elif isinstance(child, exp.Identifier | exp.DataType) or (
                kind in (exp.And, exp.Or) and kind is context
            ):
                stack.append((child, depth, kind))
            else:
                stack.append((child, depth + 1, kind))
    return deepest


class _Compiler:
    """One compilation: collects violations while building the node tree."""

    def __init__(self, text: str, schema: Schema, path: str, line: int, column: int) -> None:
        self.text, self.schema, self.path = text, schema, path
        self.line, self.column = line, column
        self.violations: list[Violation] = []
        self.fields: set[str] = set()
        self.ast: exp.Expr | None = None
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    # --- positions and reporting ----------------------------------------------------------------

    def _position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        i = bisect.bisect_right(self._line_starts, offset) - 1
        line, col = i + 1, offset - self._line_starts[i] + 1
        if self.line == 0:
            return line, col
        if line == 1:
            return self.line, (self.column + col - 1 if self.column else 0)
        return self.line + line - 1, col

    def _offset(self, node: exp.Expr) -> int:
        starts = [s for n in node.walk() if (s := n.meta_get("start")) is not None]
        return min(starts) if starts else 0

    def report(self, where: exp.Expr | int, reason: str, message: str) -> None:
        offset = where if isinstance(where, int) else self._offset(where)
        line, col = self._position(offset)
        self.violations.append(Violation(self.path, line, col, reason, message))

    def _sql(self, node: exp.Expr) -> str:
        start, end = node.meta_get("start"), node.meta_get("end")
        if start is not None and end is not None:
            return self.text[start : end + 1]
        return node.sql(dialect=DIALECT)

    def _mismatch(self, node: exp.Expr, message: str) -> None:
        self.report(node, "TYPE_MISMATCH", message)

    # --- top level ------------------------------------------------------------------------------

    def compile(self) -> Node | None:
        text = self.text
        if len(text) > MAX_CONDITION_CHARS:
            self.report(
                0,
                "EXPRESSION_TOO_COMPLEX",
                f"the condition has {len(text)} characters; the limit is {MAX_CONDITION_CHARS}",
            )
            return None
        if _max_paren_depth(text) > MAX_DEPTH:
            self.report(
                0,
                "EXPRESSION_TOO_COMPLEX",
                f"the condition nests parentheses more than {MAX_DEPTH} deep",
            )
            return None
        ast = self._parse(text)
        if ast is None:
            return None
        self.ast = ast
        count = sum(1 for _ in ast.walk())
        if count > MAX_NODES:
            self.report(
                0,
                "EXPRESSION_TOO_COMPLEX",
                f"the condition has {count} syntax nodes; the limit is {MAX_NODES}",
            )
            return None
        depth = _depth(ast)
        if depth > MAX_DEPTH:
            self.report(
                0,
                "EXPRESSION_TOO_COMPLEX",
                f"the condition nests {depth} levels deep; the limit is {MAX_DEPTH}",
            )
            return None
        built = self.build(ast)
        if built is None:
            return None
        if isinstance(built, _Lit):
            if built.type in (FieldType.BOOL, None):
                return nd.ConstNode(built.value, FieldType.BOOL)
        elif built.type is FieldType.BOOL:
            return built
        self.report(
            ast, "NOT_BOOLEAN", f"a condition must be true or false; this is {_a(built)} expression"
        )
        return None

    def _parse(self, text: str) -> exp.Expr | None:
        try:
            return sqlglot.parse_one(text, read=DIALECT)
        except ParseError as exc:
            if not exc.errors:
                self.report(0, "CONDITION_SYNTAX", "the condition is empty")
            for err in exc.errors:
                self._syntax_error(err)
        except TokenError:
            self.report(
                _unterminated_quote(text),
                "CONDITION_SYNTAX",
                "cannot read the condition: a quoted string or name is not closed",
            )
        except RecursionError:
            self.report(0, "EXPRESSION_TOO_COMPLEX", "the condition is nested too deeply")
        return None

    def _syntax_error(self, err: Mapping[str, Any]) -> None:
        line, col = err.get("line") or 1, err.get("col") or 1
        highlight = err.get("highlight") or ""
        start = self._line_starts[min(line, len(self._line_starts)) - 1]
        offset = start + col - 1
        if highlight and "\n" not in highlight:
            offset -= len(highlight) - 1
        description = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", err.get("description") or "")
        near = f" near {highlight!r}" if highlight else " at the end"
        self.report(
            offset,
            "CONDITION_SYNTAX",
            f"cannot parse the condition{near}: {description or 'syntax error'}",
        )

    # --- building -------------------------------------------------------------------------------

    def build(self, node: exp.Expr) -> _Built | None:
        """Type-check and compile ``node``; report problems and return None when there are any."""
        node = _unparen(node)
        kind = type(node)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return handler(self, node)
        if kind in _COMPARISONS:
            return self._comparison(node, _COMPARISONS[kind])
        if kind in _ARITHMETIC:
            return self._arithmetic(node, _ARITHMETIC[kind])
        if kind in _STRING_FUNCTIONS:
            return self._string_function(node, _STRING_FUNCTIONS[kind])
        if node.key not in _SYNTAX_NAMES and (
            isinstance(node, exp.Func) and not isinstance(node, exp.Connector | exp.Cast)
        ):
            name = self._sql(node).split("(")[0].strip().upper() or node.sql_name()
            self.report(
                node,
                "UNSUPPORTED_FUNCTION",
                f"function {name} is not supported; the supported functions are "
                f"{', '.join(SUPPORTED_FUNCTIONS)}",
            )
            return None
        what = _SYNTAX_NAMES.get(node.key, node.key.upper())
        self.report(node, "UNSUPPORTED_SYNTAX", f"not supported in conditions: {what}")
        return None

    def _is_unknown_column(self, node: exp.Expr) -> bool:
        node = _unparen(node)
        return isinstance(node, exp.Column) and not node.table and node.name not in self.schema

    def _unknown(self, node: exp.Expr, quote_hint: bool) -> None:
        name = _unparen(node).name
        same_case = [f for f in self.schema if f.lower() == name.lower()]
        close = same_case + [
            f
            for f in difflib.get_close_matches(name, list(self.schema), n=3, cutoff=0.6)
            if f not in same_case
        ]
        message = f"unknown field {name!r}"
        if close:
            message += f"; did you mean {' or '.join(repr(c) for c in close)}?"
        if quote_hint:
            quoted = name.replace("'", "''")
            message += f". If you meant the text {name}, quote it as a string: '{quoted}'"
        self.report(node, "UNKNOWN_FIELD", message)

    def _operand(self, node: exp.Expr, partner: _Built | None) -> _Built | None:
        """Build an operand whose partner is known; an unknown name next to a string gets a hint."""
        if self._is_unknown_column(node):
            self._unknown(node, _is_string_expression(partner))
            return None
        return self.build(node)

    def _pair(self, left: exp.Expr, right: exp.Expr) -> tuple[_Built | None, _Built | None]:
        lu, ru = self._is_unknown_column(left), self._is_unknown_column(right)
        a = None if lu else self.build(left)
        b = None if ru else self.build(right)
        if lu:
            self._unknown(left, _is_string_expression(b))
        if ru:
            self._unknown(right, _is_string_expression(a))
        return a, b

    def _column(self, node: exp.Column) -> _Built | None:
        if node.table or not isinstance(node.this, exp.Identifier):
            self.report(
                node,
                "UNSUPPORTED_SYNTAX",
                f"qualified names like {self._sql(node)} are not supported",
            )
            return None
        name = node.name
        spec = self.schema.get(name)
        if spec is None:
            self._unknown(node, False)
            return None
        self.fields.add(name)
        if spec.type is FieldType.STRING:
            return nd.StrColumn(name, spec.type)
        if spec.type is FieldType.BOOL:
            return nd.BoolColumn(name, spec.type)
        if spec.type is FieldType.DECIMAL:
            return nd.DecimalColumn(name, spec.type, spec.scale)
        return nd.ColumnNode(name, spec.type)

    def _literal(self, node: exp.Literal) -> _Built | None:
        text = node.this
        if node.is_string:
            return _Lit(text, FieldType.STRING)
        if text.isdigit():
            return _Lit(int(text), FieldType.INT)
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.report(node, "CONDITION_SYNTAX", f"{text} is not a number")
            return None
        exponent = value.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        if not value.is_finite() or abs(value.adjusted()) > 30 or exponent < -30:
            self._mismatch(node, f"the number {text} is out of range")
            return None
        return _Lit(value, FieldType.DECIMAL, max(0, -exponent))

    def _boolean_literal(self, node: exp.Boolean) -> _Built:
        return _Lit(bool(node.this), FieldType.BOOL)

    def _null(self, node: exp.Null) -> _Built:
        return _Lit(None, None)

    def _date(self, text: str, node: exp.Expr) -> _Lit | None:
        try:
            if not _DATE_TEXT.fullmatch(text):
                raise ValueError
            return _Lit(dt.date.fromisoformat(text), FieldType.DATE)
        except ValueError:
            self._mismatch(node, f"{text!r} is not a date (write YYYY-MM-DD, e.g. '2026-01-31')")
            return None

    def _cast(self, node: exp.Cast) -> _Built | None:
        inner = _unparen(node.this)
        to = node.args.get("to")
        if (
            isinstance(to, exp.DataType)
            and to.is_type(exp.DataType.Type.DATE)
            and isinstance(inner, exp.Literal)
            and inner.is_string
        ):
            return self._date(inner.this, inner)
        self.report(
            node,
            "UNSUPPORTED_SYNTAX",
            "casts are not supported (dates are written DATE 'YYYY-MM-DD')",
        )
        return None

    def _coerce(self, lit: _Lit, target: FieldType, node: exp.Expr) -> _Lit | None:
        """A quoted literal compared with a date is a date."""
        if target is FieldType.DATE and lit.type is FieldType.STRING:
            return self._date(lit.value, node)
        return lit

    def _materialize(self, lit: _Lit, type_: FieldType, scale: int, node: exp.Expr) -> Node | None:
        """Turn a literal into a constant column of ``type_`` (encoded, checked for range)."""
        value = lit.value
        if value is None or type_ in (FieldType.STRING, FieldType.BOOL):
            return nd.ConstNode(value, type_, scale)
        if type_ is FieldType.DATE:
            return nd.ConstNode(date_to_days(value), type_)
        if lit.scale > MAX_DECIMAL_SCALE:
            self._mismatch(
                node, f"{self._sql(node)} has more than {MAX_DECIMAL_SCALE} decimal places"
            )
            return None
        scaled = Fraction(value) * 10**scale
        if scaled.denominator != 1 or not nd.fits_int64(int(scaled)):
            self._mismatch(node, f"the number {self._sql(node)} is out of range")
            return None
        return nd.ConstNode(int(scaled), type_, scale)

    def _node(self, value: _Built, node: exp.Expr) -> Node | None:
        """The value as a node (a literal becomes a constant of its own type)."""
        if not isinstance(value, _Lit):
            return value
        return self._materialize(value, value.type or FieldType.INT, value.scale, node)

    def _boolean(self, value: _Built | None, node: exp.Expr, context: str) -> Node | None:
        if value is None:
            return None
        if value.type in (FieldType.BOOL, None):
            return self._node(value, node) if value.type else nd.ConstNode(None, FieldType.BOOL)
        self._mismatch(
            node, f"{context} needs true/false operands; {self._sql(node)} is {_a(value)}"
        )
        return None

    # --- logic ----------------------------------------------------------------------------------

    def _connective(self, node: exp.Expr) -> _Built | None:
        kind = type(node)
        operands: list[exp.Expr] = []
        stack = [node]
        while stack:
            item = _unparen(stack.pop())
            if type(item) is kind:
                stack.extend((item.expression, item.this))
            else:
                operands.append(item)
        word = "AND" if kind is exp.And else "OR"
        built = [self._boolean(self.build(o), o, word) for o in operands]
        if any(b is None for b in built):
            return None
        children = [b for b in built if b is not None]
        return nd.And(children) if kind is exp.And else nd.Or(children)

    def _not(self, node: exp.Not) -> _Built | None:
        x = self._boolean(self.build(node.this), node.this, "NOT")
        return None if x is None else nd.Not(x)

    def _negated(self, node: exp.Expr, result: Node | None) -> Node | None:
        if result is not None and node.args.get("negate"):
            return nd.Not(result)
        return result

    # --- comparisons ----------------------------------------------------------------------------

    def _comparison(self, node: exp.Expr, op: str) -> _Built | None:
        a, b = self._pair(node.this, node.expression)
        return self._compare(node, op, a, b, node.this, node.expression)

    def _compare(
        self,
        node: exp.Expr,
        op: str,
        a: _Built | None,
        b: _Built | None,
        a_node: exp.Expr,
        b_node: exp.Expr,
    ) -> Node | None:
        if a is None or b is None:
            return None
        if isinstance(a, _Lit) and (not isinstance(b, _Lit) or a.type is None):
            a, b, a_node, b_node, op = b, a, b_node, a_node, FLIPPED[op]
        if isinstance(a, _Lit):  # two literals
            assert isinstance(b, _Lit)
            if b.type is FieldType.DATE:
                a = self._coerce(a, FieldType.DATE, a_node)
                if a is None:
                    return None
            a = self._materialize(a, a.type or FieldType.INT, a.scale, a_node)
            if a is None:
                return None
        left: Node = a
        if isinstance(b, _Lit):
            if b.type is None:
                return nd.NullResult(left)
            lit = self._coerce(b, left.type, b_node)
            if lit is None:
                return None
            if not self._comparable(left, lit, node, a_node, b_node):
                return None
            return self._compare_constant(left, op, lit)
        if not self._comparable(left, b, node, a_node, b_node):
            return None
        if left.type is FieldType.STRING:
            return nd.StrCmp(left, op, b)
        return nd.Cmp(left, op, b)

    def _comparable(
        self, a: _Built, b: _Built, node: exp.Expr, a_node: exp.Expr, b_node: exp.Expr
    ) -> bool:
        if a.type is b.type or (a.type in _NUMERIC and b.type in _NUMERIC):
            return True
        self._mismatch(
            node,
            f"cannot compare {self._sql(a_node)} ({_type_name(a)}) with "
            f"{self._sql(b_node)} ({_type_name(b)})",
        )
        return False

    def _compare_constant(self, x: Node, op: str, lit: _Lit) -> Node:
        if x.type is FieldType.STRING:
            return nd.StrConstCmp(x, op, lit.value)
        if x.type is FieldType.BOOL:
            return nd.ConstCmp(x, op, nd.CMP, np.bool_(lit.value))
        value = (
            Fraction(date_to_days(lit.value)) if x.type is FieldType.DATE else Fraction(lit.value)
        )
        mode, const = nd.constant_test(op, value, x.scale, x.type)
        return nd.ConstCmp(x, op, mode, const)

    def _between(self, node: exp.Between) -> _Built | None:
        if node.args.get("symmetric"):
            self.report(node, "UNSUPPORTED_SYNTAX", "BETWEEN SYMMETRIC is not supported")
            return None
        x_node, lo_node, hi_node = node.this, node.args["low"], node.args["high"]
        x = self._operand(x_node, None)
        lo, hi = self._operand(lo_node, x), self._operand(hi_node, x)
        ge = self._compare(node, GE, x, lo, x_node, lo_node)
        le = self._compare(node, LE, x, hi, x_node, hi_node)
        if ge is None or le is None:
            return None
        return nd.And([ge, le])

    def _in(self, node: exp.In) -> _Built | None:
        for arg in ("query", "unnest", "field"):
            if node.args.get(arg):
                self.report(node, "UNSUPPORTED_SYNTAX", "IN takes a list of literals only")
                return None
        x = self.build(node.this)
        items: list[tuple[_Lit, exp.Expr]] = []
        ok = x is not None
        for item in node.expressions:
            value = self._operand(item, x)
            if value is None:
                ok = False
            elif not isinstance(value, _Lit):
                self.report(
                    item,
                    "UNSUPPORTED_SYNTAX",
                    f"IN lists may only hold literals; {self._sql(item)} is not one",
                )
                ok = False
            else:
                items.append((value, item))
        if not ok or x is None:
            return None
        x_node = self._node(x, node.this)
        if x_node is None:
            return None
        lits: list[_Lit] = []
        for lit, item in items:
            if lit.type is None:
                lits.append(lit)
                continue
            coerced = self._coerce(lit, x_node.type, item)
            if coerced is None or not self._comparable(x_node, coerced, item, node.this, item):
                ok = False
            else:
                lits.append(coerced)
        if not ok:
            return None
        has_null = any(lit.type is None for lit in lits)
        values = [lit.value for lit in lits if lit.type is not None]
        if x_node.type is FieldType.STRING:
            return self._negated(node, nd.InStrings(x_node, values, has_null))
        if x_node.type is FieldType.DATE:
            values = [date_to_days(v) for v in values]
        elif x_node.type in _NUMERIC:
            scaled = [Fraction(v) * 10**x_node.scale for v in values]
            values = [int(s) for s in scaled if s.denominator == 1 and nd.fits_int64(int(s))]
        return self._negated(node, nd.InValues(x_node, values, has_null))

    def _is(self, node: exp.Is) -> _Built | None:
        target = _unparen(node.expression)
        value = self.build(node.this)
        if value is None:
            return None
        if isinstance(target, exp.Null):
            x = self._node(value, node.this)
            return None if x is None else nd.IsNull(x, bool(node.args.get("negate")))
        if isinstance(target, exp.Boolean):
            x = self._boolean(value, node.this, "IS TRUE/FALSE")
            if x is None:
                return None
            return self._negated(node, nd.IsBool(x, bool(target.this), False))
        self.report(node, "UNSUPPORTED_SYNTAX", "IS may only be followed by NULL, TRUE or FALSE")
        return None

    def _like(self, node: exp.Like) -> _Built | None:
        x, pattern = self._pair(node.this, node.expression)
        if x is None or pattern is None:
            return None
        if x.type not in (FieldType.STRING, None):
            self._mismatch(node, f"LIKE needs a string; {self._sql(node.this)} is {_a(x)}")
            return None
        if not isinstance(pattern, _Lit) or pattern.type not in (FieldType.STRING, None):
            self.report(
                node.expression, "UNSUPPORTED_SYNTAX", "the pattern of LIKE must be a quoted string"
            )
            return None
        x_node = self._materialize(x, FieldType.STRING, 0, node.this) if isinstance(x, _Lit) else x
        if x_node is None:
            return None
        if pattern.value is None:
            return nd.NullResult(x_node)
        try:
            regex = nd.like_regex(pattern.value)
        except ValueError as exc:
            self.report(node.expression, "CONDITION_SYNTAX", str(exc))
            return None
        return self._negated(node, nd.Like(x_node, regex))

    # --- values ---------------------------------------------------------------------------------

    def _neg(self, node: exp.Neg) -> _Built | None:
        x = self.build(node.this)
        if x is None:
            return None
        if x.type not in (*_NUMERIC, None):
            self._mismatch(node, f"unary minus needs a number; {self._sql(node.this)} is {_a(x)}")
            return None
        if isinstance(x, _Lit):
            return x if x.value is None else _Lit(-x.value, x.type, x.scale)
        return nd.Negate(x)

    def _arithmetic(self, node: exp.Expr, op: str) -> _Built | None:
        a, b = self._pair(node.this, node.expression)
        if a is None or b is None:
            return None
        bad = [
            (v, n)
            for v, n in ((a, node.this), (b, node.expression))
            if v.type not in (*_NUMERIC, None)
        ]
        for v, n in bad:
            self._mismatch(n, f"{op} needs numbers; {self._sql(n)} is {_a(v)}")
        if bad:
            return None
        type_a = a.type or b.type or FieldType.INT
        type_b = b.type or type_a
        scale_a = a.scale if a.type else b.scale
        scale_b = b.scale if b.type else scale_a
        if op == "/":
            type_, scale = FieldType.DECIMAL, nd.DIVISION_SCALE
        elif type_a is FieldType.INT and type_b is FieldType.INT:
            type_, scale = FieldType.INT, 0
        else:
            type_ = FieldType.DECIMAL
            scale = scale_a + scale_b if op == "*" else max(scale_a, scale_b)
        if scale > MAX_DECIMAL_SCALE:
            self._mismatch(
                node,
                f"{self._sql(node)} would have {scale} decimal places; the "
                f"limit is {MAX_DECIMAL_SCALE}",
            )
            return None
        left = self._materialize(a, type_a, scale_a, node.this) if isinstance(a, _Lit) else a
        right = self._materialize(b, type_b, scale_b, node.expression) if isinstance(b, _Lit) else b
        if left is None or right is None:
            return None
        return nd.Arith(op, left, right, type_, scale)

    def _string_argument(self, node: exp.Expr, name: str) -> Node | None:
        extra = [k for k, v in node.args.items() if k != "this" and v]
        if extra:
            self.report(node, "UNSUPPORTED_SYNTAX", f"{name} takes exactly one argument")
            return None
        x = self.build(node.this)
        if x is None:
            return None
        if x.type not in (FieldType.STRING, None):
            self._mismatch(node, f"{name} needs a string; {self._sql(node.this)} is {_a(x)}")
            return None
        return self._materialize(x, FieldType.STRING, 0, node.this) if isinstance(x, _Lit) else x

    def _string_function(self, node: exp.Expr, fn: Callable[[str], str]) -> _Built | None:
        x = self._string_argument(node, type(node).__name__.upper())
        return None if x is None else nd.StrFunc(x, fn)

    def _length(self, node: exp.Length) -> _Built | None:
        x = self._string_argument(node, "LENGTH")
        return None if x is None else nd.Length(x)

    def _abs(self, node: exp.Abs) -> _Built | None:
        x = self.build(node.this)
        if x is None:
            return None
        if x.type not in (*_NUMERIC, None):
            self._mismatch(node, f"ABS needs a number; {self._sql(node.this)} is {_a(x)}")
            return None
        x_node = self._node(x, node.this)
        return None if x_node is None else nd.Abs(x_node)

    def _coalesce(self, node: exp.Coalesce) -> _Built | None:
        arg_nodes = [node.this, *node.expressions]
        built = [self.build(a) for a in arg_nodes]
        args: list[_Built] = [a for a in built if a is not None]
        if len(args) < len(built):
            return None
        if any(a.type is FieldType.DATE for a in args):  # quoted literals are dates here
            coerced = [
                self._coerce(a, FieldType.DATE, n) if isinstance(a, _Lit) else a
                for a, n in zip(args, arg_nodes, strict=True)
            ]
            args = [a for a in coerced if a is not None]
            if len(args) < len(coerced):
                return None
        typed = [a for a in args if a.type is not None]
        types = {a.type for a in typed}
        if not typed:
            return _Lit(None, None)
        if len(types) > 1 and not types <= set(_NUMERIC):
            names = ", ".join(sorted(t.value for t in types if t is not None))
            self._mismatch(node, f"COALESCE needs arguments of one type; got {names}")
            return None
        type_ = FieldType.DECIMAL if FieldType.DECIMAL in types else typed[0].type
        assert type_ is not None
        scale = max(a.scale for a in typed)
        nodes: list[Node] = []
        for value, arg in zip(args, arg_nodes, strict=True):
            if isinstance(value, _Lit):
                const = self._materialize(
                    value, type_, scale if value.type is None else value.scale, arg
                )
                if const is None:
                    return None
                nodes.append(const)
            else:
                nodes.append(value)
        if type_ is FieldType.STRING:
            return nd.CoalesceStr(nodes)
        return nd.Coalesce(nodes, type_, scale)


_HANDLERS: dict[type[exp.Expr], Callable[[_Compiler, Any], _Built | None]] = {
    exp.Column: _Compiler._column,
    exp.Literal: _Compiler._literal,
    exp.Boolean: _Compiler._boolean_literal,
    exp.Null: _Compiler._null,
    exp.Cast: _Compiler._cast,
    exp.And: _Compiler._connective,
    exp.Or: _Compiler._connective,
    exp.Not: _Compiler._not,
    exp.Between: _Compiler._between,
    exp.In: _Compiler._in,
    exp.Is: _Compiler._is,
    exp.Like: _Compiler._like,
    exp.Neg: _Compiler._neg,
    exp.Length: _Compiler._length,
    exp.Abs: _Compiler._abs,
    exp.Coalesce: _Compiler._coalesce,
}

__all__ = [
    "DIALECT",
    "MAX_CONDITION_CHARS",
    "MAX_DEPTH",
    "MAX_NODES",
    "SUPPORTED_FUNCTIONS",
    "Condition",
    "FieldSpec",
    "Schema",
    "compile_condition",
]
