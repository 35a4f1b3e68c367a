"""The runtime half of compiled conditions: small node objects that evaluate over numpy columns.

:mod:`engine.rules.expression` parses and type-checks a condition, then builds a tree of these
nodes. Evaluating the tree over a :class:`~engine.frame.Frame` runs a handful of whole-array numpy
operations per node and no Python per deal, so the same tree serves one deal or a million.

Conventions every node keeps:

* A non-string node returns ``(values, null)``; a string node returns ``(codes, null, dictionary)``
  from ``ev_str``. ``null`` is a bool array or ``None`` (no nulls: the fast path, no mask work).
* Boolean values are *canonical*: False wherever the result is NULL, so "NULL counts as false" is
  the value array itself. Other values under a null mask are unspecified.
* String codes are ``-1`` wherever the value is NULL, and index the node's dictionary otherwise.
* A node never writes into an array it got from a child or a column; it only writes into arrays it
  allocated. ``fresh`` says whether ``ev`` returns such an array (the caller may then keep it).
* Work that depends on a dictionary (a literal's code, a LOWER mapping, a LIKE table) is done once
  per distinct value and cached against the dictionary object, one entry per node.

Every node also evaluates one deal held as a :class:`~engine.frame.Row` (``ev_row``): Python
scalars in, a Python value or ``None`` (NULL) out, the same answers and the same errors (naming
row 0) as ``ev`` on a one-row frame. A CRM scores one deal per call, and there numpy's fixed cost
on one-element arrays would be nearly all the work.

Integer and decimal arithmetic is exact on int64: rows whose magnitude comes near the int64 limits
are recomputed with Python integers, and a result that does not fit raises ``EvaluationError``
(``ARITHMETIC_OVERFLOW``) naming the rows, as does division by zero (``DIVISION_BY_ZERO``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from engine.errors import EvaluationError
from engine.frame import SMALL_BATCH, FieldType, Frame, Row, all_true, any_true, code_dtype
from engine.money import divide_half_even

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
#: Decimal places of every quotient: ``a / b`` is a decimal rounded half-even to 6 places.
DIVISION_SCALE = 6
#: IN lists and string tests with at most this many matching codes use equality tests, not a table.
_FEW = 8
#: From this many rows, a few equality tests beat one table lookup.
_MANY_ROWS = 4096

Val = tuple[np.ndarray, np.ndarray | None]
StrVal = tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]

EQ, NE, LT, LE, GT, GE = "=", "<>", "<", "<=", ">", ">="
UFUNCS: dict[str, np.ufunc] = {
    EQ: np.equal,
    NE: np.not_equal,
    LT: np.less,
    LE: np.less_equal,
    GT: np.greater,
    GE: np.greater_equal,
}
#: The operator that gives the same answer with the operands swapped.
FLIPPED = {EQ: EQ, NE: NE, LT: GT, LE: GE, GT: LT, GE: LE}
_PY_CMP: dict[str, Callable[[Any, Any], bool]] = {
    EQ: lambda a, b: a == b,
    NE: lambda a, b: a != b,
    LT: lambda a, b: a < b,
    LE: lambda a, b: a <= b,
    GT: lambda a, b: a > b,
    GE: lambda a, b: a >= b,
}
_DTYPES: dict[FieldType, np.dtype[Any]] = {
    FieldType.INT: np.dtype(np.int64),
    FieldType.DECIMAL: np.dtype(np.int64),
    FieldType.DATE: np.dtype(np.int32),
    FieldType.BOOL: np.dtype(np.bool_),
    FieldType.STRING: np.dtype(np.int8),
}


def row_error(reason: str, message: str, rows: Sequence[int] | np.ndarray) -> EvaluationError:
    """Return an ``EvaluationError`` whose ``rows`` attribute holds the offending row indices."""
    err = EvaluationError(message, reason=reason)
    err.rows = np.asarray(rows, dtype=np.int64)  # type: ignore[attr-defined]
    return err


def _overflow_row(message: str) -> EvaluationError:
    return row_error("ARITHMETIC_OVERFLOW", message, [0])


def merge_null(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Null mask of a result that is NULL where either input is."""
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def _raise_rows(mask: np.ndarray, null: np.ndarray | None, reason: str, message: str) -> None:
    if null is not None:
        mask = mask > null  # mask & ~null
    if any_true(mask):
        raise row_error(reason, message, np.flatnonzero(mask))


def fits_int64(value: int) -> bool:
    """True when ``value`` fits in a signed 64-bit integer."""
    return INT64_MIN <= value <= INT64_MAX


def upscale(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``a * 10**k`` and the mask of rows where the product does not fit int64 (or None)."""
    if k == 0:
        return a, None
    m = 10**k
    if m > INT64_MAX:
        return np.zeros(a.shape, dtype=np.int64), a != 0
    hi, lo = INT64_MAX // m, -(2**63 // m)
    out = a * np.int64(m)
    if a.size == 0 or (int(a.min()) >= lo and int(a.max()) <= hi):
        return out, None
    return out, (a < lo) | (a > hi)


def like_regex(pattern: str) -> re.Pattern[str]:
    """Translate an SQL LIKE pattern (``%``, ``_``, backslash escapes) to an anchored regex.

    Raises ``ValueError`` when the pattern ends with a lone backslash (as PostgreSQL does).
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 == len(pattern):
                raise ValueError("a LIKE pattern must not end with the escape character \\")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class Node:
    """A compiled (sub)expression. ``type`` and ``scale`` describe its values."""

    __slots__ = ("scale", "type")
    #: True when ``ev`` returns a freshly allocated value array.
    fresh = False

    def __init__(self, type_: FieldType, scale: int = 0) -> None:
        self.type = type_
        self.scale = scale

    def ev(self, frame: Frame) -> Val:
        """Evaluate a non-string node: ``(values, null mask or None)``."""
        raise TypeError(f"{type(self).__name__} is not a {self.type.value} value")

    def ev_str(self, frame: Frame) -> StrVal:
        """Evaluate a string node: ``(codes, null mask or None, dictionary)``."""
        raise TypeError(f"{type(self).__name__} is not a string")

    def ev_row(self, row: Row) -> Any:
        """Evaluate for one deal: a Python value in the node's encoding, or None (NULL)."""
        raise NotImplementedError(type(self).__name__)


# --- leaves -------------------------------------------------------------------------------------


class ColumnNode(Node):
    """A field of the frame, checked against the declared type on every evaluation."""

    __slots__ = ("name",)

    def __init__(self, name: str, type_: FieldType, scale: int = 0) -> None:
        super().__init__(type_, scale)
        self.name = name

    def _missing(self) -> EvaluationError:
        return EvaluationError(f"the deals have no field {self.name!r}", reason="MISSING_FIELD")

    def _mistyped(self, held: FieldType) -> EvaluationError:
        return EvaluationError(
            f"field {self.name!r} holds {held.value} values; the rule set declares "
            f"{self.type.value}",
            reason="FIELD_TYPE_MISMATCH",
        )

    def column(self, frame: Frame) -> Any:
        try:
            col = frame.columns[self.name]
        except KeyError:
            raise self._missing() from None
        if col.type is not self.type:
            raise self._mistyped(col.type)
        return col

    def row_scale(self, row: Row) -> int:
        """The scale the row holds this field at, after the same checks as :meth:`column`."""
        try:
            type_, scale = row.types[self.name]
        except KeyError:
            raise self._missing() from None
        if type_ is not self.type:
            raise self._mistyped(type_)
        return scale

    def ev(self, frame: Frame) -> Val:
        col = self.column(frame)
        return col.values, col.null

    def ev_row(self, row: Row) -> Any:
        self.row_scale(row)
        return row.values[self.name]


class StrColumn(ColumnNode):
    __slots__ = ()

    def ev_str(self, frame: Frame) -> StrVal:
        col = self.column(frame)
        return col.values, col.null, col.dictionary


class BoolColumn(ColumnNode):
    __slots__ = ()

    def ev(self, frame: Frame) -> Val:
        col = self.column(frame)
        if col.null is None:
            return col.values, None
        return np.greater(col.values, col.null), col.null  # canonical: False under NULL


class DecimalColumn(ColumnNode):
    __slots__ = ()

    def ev(self, frame: Frame) -> Val:
        col = self.column(frame)
        if col.scale == self.scale:
            return col.values, col.null
        if col.scale > self.scale:
            raise EvaluationError(
                f"field {self.name!r} has {col.scale} decimal places; the rule set declares "
                f"{self.scale}",
                reason="FIELD_TYPE_MISMATCH",
            )
        values, ovf = upscale(col.values, self.scale - col.scale)
        if ovf is not None:
            _raise_rows(ovf, col.null, "ARITHMETIC_OVERFLOW", f"{self.name} is out of range")
        return values, col.null

    def ev_row(self, row: Row) -> Any:
        scale = self.row_scale(row)
        value = row.values[self.name]
        if scale == self.scale:
            return value
        if scale > self.scale:
            raise EvaluationError(
                f"field {self.name!r} has {scale} decimal places; the rule set declares "
                f"{self.scale}",
                reason="FIELD_TYPE_MISMATCH",
            )
        if value is None:
            return None
        value *= 10 ** (self.scale - scale)
        if not fits_int64(value):
            raise _overflow_row(f"{self.name} is out of range")
        return value


class ConstNode(Node):
    """A literal as a column: a read-only broadcast of one value (``None`` is NULL)."""

    __slots__ = ("_scalar", "value")

    def __init__(self, value: Any, type_: FieldType, scale: int = 0) -> None:
        """``value`` is encoded: scaled int, days since 1970, bool, or str; ``None`` is NULL."""
        super().__init__(type_, scale)
        self.value = value
        dtype = _DTYPES[type_]
        if type_ is FieldType.STRING:
            self._scalar = np.array(-1 if value is None else 0, dtype=dtype)
        else:
            self._scalar = np.array(0 if value is None else value, dtype=dtype)

    def _null(self, n: int) -> np.ndarray | None:
        return None if self.value is not None else np.broadcast_to(np.True_, (n,))

    def ev(self, frame: Frame) -> Val:
        n = frame.n_rows
        return np.broadcast_to(self._scalar, (n,)), self._null(n)

    def ev_str(self, frame: Frame) -> StrVal:
        n = frame.n_rows
        dictionary = () if self.value is None else (self.value,)
        return np.broadcast_to(self._scalar, (n,)), self._null(n), dictionary

    def ev_row(self, row: Row) -> Any:
        return self.value


# --- boolean logic ------------------------------------------------------------------------------


class SkipCheck:
    """Whether the rest of an expression may be skipped once its answer is settled.

    When the first operand of an AND (an OR) is false (true) for every row of a small batch (a
    CRM's per-deal call), the rest cannot change the result, and is skipped unless it could raise
    an error naming rows: a deal's errors never depend on the other deals beside it. Columns of a
    lower scale than declared are rescaled, which may overflow, so the rest is evaluated then too;
    the column checks (a missing or mistyped column is an error whatever the rows hold) always
    run. A first-hit decision table asks the same of the rows after the one that hit."""

    __slots__ = ("columns", "possible")

    def __init__(self, rest: Sequence[Node]) -> None:
        self.possible = not any(isinstance(n, _RAISES_ROWS) for c in rest for n in _walk(c))
        self.columns = tuple(c for node in rest for c in _walk(node) if isinstance(c, ColumnNode))

    def skip(self, frame: Frame, first: Val, settled: bool) -> bool:
        """True when ``first`` (the first operand's value) settles every row and the rest need
        not run."""
        values = first[0]
        if not self.possible or first[1] is not None or values.size > SMALL_BATCH:
            return False  # with many rows, a first operand rarely settles them all
        if not (all_true(values) if settled else not any_true(values)):
            return False
        for node in self.columns:
            column = node.column(frame)
            if isinstance(node, DecimalColumn) and column.scale != node.scale:
                return False
        return True

    def skip_row(self, row: Row) -> bool:
        """:meth:`skip` for one deal whose first operand settled it."""
        if not self.possible:
            return False
        for node in self.columns:
            scale = node.row_scale(row)
            if isinstance(node, DecimalColumn) and scale != node.scale:
                return False
        return True


def _connective_row(children: Sequence[Node], short: SkipCheck, row: Row, *, decisive: bool) -> Any:
    """AND (``decisive`` False) or OR (True) of one deal's operands, in SQL's three-valued logic:
    the decisive value if any operand has it, else NULL if any operand is NULL."""
    result = children[0].ev_row(row)
    if result is decisive and short.skip_row(row):
        return decisive
    for child in children[1:]:  # every operand runs: its errors count
        v = child.ev_row(row)
        if v is decisive or result is decisive:
            result = decisive
        elif v is None:
            result = None
    return result


class And(Node):
    """N-ary AND with SQL three-valued logic."""

    __slots__ = ("children", "short")
    fresh = True

    def __init__(self, children: Sequence[Node]) -> None:
        super().__init__(FieldType.BOOL)
        self.children = tuple(children)
        self.short = SkipCheck(self.children[1:])

    def ev(self, frame: Frame) -> Val:
        first = self.children[0].ev(frame)
        if self.short.skip(frame, first, settled=False):  # every row definitely false
            return np.zeros(first[0].shape[0], dtype=np.bool_), None
        vals = [first, *(c.ev(frame) for c in self.children[1:])]
        v = np.logical_and(vals[0][0], vals[1][0])
        nullable = vals[0][1] is not None or vals[1][1] is not None
        for w, m in vals[2:]:
            np.logical_and(v, w, out=v)
            nullable = nullable or m is not None
        if not nullable:
            return v, None
        # NULL where no operand is definitely false and some operand is NULL.
        t: np.ndarray | None = None
        for w, m in vals:
            x = w if m is None else w | m
            if t is None:
                t = x.copy() if m is None else x
            else:
                np.logical_and(t, x, out=t)
        assert t is not None
        return v, np.greater(t, v)

    def ev_row(self, row: Row) -> Any:
        return _connective_row(self.children, self.short, row, decisive=False)


class Or(Node):
    """N-ary OR with SQL three-valued logic."""

    __slots__ = ("children", "short")
    fresh = True

    def __init__(self, children: Sequence[Node]) -> None:
        super().__init__(FieldType.BOOL)
        self.children = tuple(children)
        self.short = SkipCheck(self.children[1:])

    def ev(self, frame: Frame) -> Val:
        first = self.children[0].ev(frame)
        if self.short.skip(frame, first, settled=True):  # every row definitely true
            return np.ones(first[0].shape[0], dtype=np.bool_), None
        vals = [first, *(c.ev(frame) for c in self.children[1:])]
        v = np.logical_or(vals[0][0], vals[1][0])
        nulls = [m for _, m in vals if m is not None]
        for w, _ in vals[2:]:
            np.logical_or(v, w, out=v)
        if not nulls:
            return v, None
        some = nulls[0] if len(nulls) == 1 else np.logical_or.reduce(nulls)
        return v, np.greater(some, v)  # NULL where some operand is NULL and none is true

    def ev_row(self, row: Row) -> Any:
        return _connective_row(self.children, self.short, row, decisive=True)


class Not(Node):
    __slots__ = ("x",)
    fresh = True

    def __init__(self, x: Node) -> None:
        super().__init__(FieldType.BOOL)
        self.x = x

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        if n is None:
            return np.logical_not(v), None
        r = np.logical_or(v, n)
        np.logical_not(r, out=r)
        return r, n

    def ev_row(self, row: Row) -> Any:
        v = self.x.ev_row(row)
        return None if v is None else not v


class IsNull(Node):
    """``x IS [NOT] NULL`` (never NULL itself)."""

    __slots__ = ("negate", "x")

    def __init__(self, x: Node, negate: bool) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.negate = x, negate

    def ev(self, frame: Frame) -> Val:
        if self.x.type is FieldType.STRING:
            v, n, _ = self.x.ev_str(frame)
        else:
            v, n = self.x.ev(frame)
        if n is None:
            return (np.ones if self.negate else np.zeros)(v.shape[0], dtype=np.bool_), None
        return (np.logical_not(n) if self.negate else n), None

    def ev_row(self, row: Row) -> Any:
        return (self.x.ev_row(row) is None) is not self.negate


class IsBool(Node):
    """``x IS [NOT] TRUE`` / ``x IS [NOT] FALSE`` (never NULL itself)."""

    __slots__ = ("negate", "target", "x")

    def __init__(self, x: Node, target: bool, negate: bool) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.target, self.negate = x, target, negate

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        if self.target:
            return (np.logical_not(v) if self.negate else v), None
        true_or_null = v if n is None else v | n
        return (true_or_null if self.negate else np.logical_not(true_or_null)), None

    def ev_row(self, row: Row) -> Any:
        v = self.x.ev_row(row)
        if self.target:
            return (v is True) is not self.negate
        return (v is not False) is self.negate


# --- comparisons --------------------------------------------------------------------------------

CMP, NEVER, ALWAYS, NULL = "cmp", "never", "always", "null"


def constant_test(
    op: str, value: Fraction, scale: int, type_: FieldType
) -> tuple[str, np.generic | None]:
    """Turn ``x OP value`` on integers scaled by ``10**scale`` into an integer test.

    Returns ``(CMP, bound)`` meaning ``x OP' bound`` (same operator, ``bound`` exact), or
    ``(NEVER|ALWAYS, None)`` when the answer is the same for every non-null ``x``. Exact for any
    constant: ``x < 2.5`` on integers is ``x < 3``, ``x = 2.5`` is never true.
    """
    dtype = _DTYPES[type_]
    lo, hi = (INT32_MIN, INT32_MAX) if dtype == np.int32 else (INT64_MIN, INT64_MAX)
    x = value * 10**scale
    floor, ceil = math.floor(x), math.ceil(x)
    if op in (EQ, NE):
        if x.denominator == 1 and lo <= floor <= hi:
            return CMP, dtype.type(floor)
        return (NEVER if op == EQ else ALWAYS), None
    if op == LT:
        bound, always, never = ceil, ceil > hi, ceil <= lo
    elif op == LE:
        bound, always, never = floor, floor >= hi, floor < lo
    elif op == GT:
        bound, always, never = floor, floor < lo, floor >= hi
    else:
        bound, always, never = ceil, ceil <= lo, ceil > hi
    if always:
        return ALWAYS, None
    if never:
        return NEVER, None
    return CMP, dtype.type(bound)


class ConstCmp(Node):
    """``x OP constant`` for numbers, dates and bools, with the constant pre-encoded."""

    __slots__ = ("const", "mode", "py_const", "test", "ufunc", "x")
    fresh = True

    def __init__(self, x: Node, op: str, mode: str, const: Any = None) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.mode, self.const, self.ufunc = x, mode, const, UFUNCS[op]
        self.test = _PY_CMP[op]
        self.py_const = None if const is None else const.item()

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        mode = self.mode
        if mode is CMP:
            r = self.ufunc(v, self.const)
        elif mode is NEVER:
            return np.zeros(v.shape[0], dtype=np.bool_), n
        elif mode is ALWAYS:
            r = np.ones(v.shape[0], dtype=np.bool_)
        else:
            return np.zeros(v.shape[0], dtype=np.bool_), np.ones(v.shape[0], dtype=np.bool_)
        if n is not None:
            np.greater(r, n, out=r)
        return r, n

    def ev_row(self, row: Row) -> Any:
        v = self.x.ev_row(row)
        mode = self.mode
        if v is None or mode is NULL:
            return None
        if mode is CMP:
            return self.test(v, self.py_const)
        return mode is ALWAYS


class NullResult(Node):
    """A comparison with a NULL literal: evaluates ``x`` (for its errors), is NULL everywhere."""

    __slots__ = ("x",)
    fresh = True

    def __init__(self, x: Node) -> None:
        super().__init__(FieldType.BOOL)
        self.x = x

    def ev(self, frame: Frame) -> Val:
        v = self.x.ev_str(frame)[0] if self.x.type is FieldType.STRING else self.x.ev(frame)[0]
        return np.zeros(v.shape[0], dtype=np.bool_), np.ones(v.shape[0], dtype=np.bool_)

    def ev_row(self, row: Row) -> Any:
        self.x.ev_row(row)
        return None


def _compare_scaled(op: str, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Exactly compare ``a * 10**k`` with ``b`` (int64 arrays), even where the product overflows."""
    a2, ovf = upscale(a, k)
    if ovf is None:
        return UFUNCS[op](a2, b)
    # a*m OP b  <=>  a OP' floor/ceil(b/m): no product, so nothing overflows (k <= 18 here).
    m = np.int64(10**k)
    q = b // m
    inexact = (b - q * m) != 0
    if op in (EQ, NE):
        eq = (a == q) & ~inexact
        return eq if op == EQ else ~eq
    if op == LT:
        return a < q + inexact
    if op == LE:
        return a <= q
    if op == GT:
        return a > q
    return a >= q + inexact


class Cmp(Node):
    """``x OP y`` for two non-string expressions (numbers of any scales, dates, bools)."""

    __slots__ = ("op", "shift", "swapped", "test", "ufunc", "x", "y")
    fresh = True

    def __init__(self, x: Node, op: str, y: Node) -> None:
        super().__init__(FieldType.BOOL)
        self.swapped = x.scale > y.scale
        if self.swapped:
            x, op, y = y, FLIPPED[op], x
        self.x, self.op, self.y, self.ufunc = x, op, y, UFUNCS[op]
        self.shift = y.scale - x.scale
        self.test = _PY_CMP[op]

    def ev(self, frame: Frame) -> Val:
        # Operands are evaluated in source order, so the first error in the text is the one raised.
        if self.swapped:
            b, nb = self.y.ev(frame)
            a, na = self.x.ev(frame)
        else:
            a, na = self.x.ev(frame)
            b, nb = self.y.ev(frame)
        r = _compare_scaled(self.op, a, b, self.shift) if self.shift else self.ufunc(a, b)
        n = merge_null(na, nb)
        if n is not None:
            np.greater(r, n, out=r)
        return r, n

    def ev_row(self, row: Row) -> Any:
        if self.swapped:
            b = self.y.ev_row(row)
            a = self.x.ev_row(row)
        else:
            a = self.x.ev_row(row)
            b = self.y.ev_row(row)
        if a is None or b is None:
            return None
        return self.test(a * 10**self.shift if self.shift else a, b)


class StrConstCmp(Node):
    """``x OP 'literal'`` on a string: a code lookup (= <>) or a table over the dictionary."""

    __slots__ = ("_cache", "literal", "op", "x")
    fresh = True

    def __init__(self, x: Node, op: str, literal: str) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.op, self.literal = x, op, literal
        self._cache: tuple[tuple[str, ...], np.dtype[Any], Any] | None = None

    def _prepare(self, d: tuple[str, ...], dtype: np.dtype[Any]) -> Any:
        if self.op in (EQ, NE):
            try:
                return dtype.type(d.index(self.literal))
            except ValueError:
                return dtype.type(-2)  # no code equals it; -1 is NULL
        test = _PY_CMP[self.op]
        return np.array([test(s, self.literal) for s in d] + [False], dtype=np.bool_)

    def ev(self, frame: Frame) -> Val:
        codes, n, d = self.x.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d or cache[1] is not codes.dtype:
            cache = self._cache = (d, codes.dtype, self._prepare(d, codes.dtype))
        op = self.op
        if op == EQ:
            return np.equal(codes, cache[2]), n  # NULL codes are -1: already False
        if op == NE:
            r = np.not_equal(codes, cache[2])
            if n is not None:
                np.greater(r, n, out=r)
            return r, n
        return np.take(cache[2], codes), n

    def ev_row(self, row: Row) -> Any:
        s = self.x.ev_row(row)
        return None if s is None else _PY_CMP[self.op](s, self.literal)


def _ranks(d: Sequence[str], order: dict[str, int]) -> np.ndarray:
    """``order[s]`` for every value, then ``-1`` for the NULL code."""
    return np.array([order[s] for s in d] + [-1], dtype=np.int32)


class StrCmp(Node):
    """``x OP y`` on two strings, dictionaries mapped onto each other once per evaluation."""

    __slots__ = ("_cache", "op", "ufunc", "x", "y")
    fresh = True

    def __init__(self, x: Node, op: str, y: Node) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.op, self.y, self.ufunc = x, op, y, UFUNCS[op]
        self._cache: tuple[Any, Any, Any, Any] | None = None

    def _prepare(
        self, d1: tuple[str, ...], d2: tuple[str, ...]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        same = d1 is d2 or d1 == d2
        if self.op in (EQ, NE):
            if same:
                return None, None
            index = {s: i for i, s in enumerate(d1)}
            return None, np.array([index.get(s, -2) for s in d2] + [-1], dtype=np.int32)
        order = {s: i for i, s in enumerate(sorted(set(d1) | set(d2)))}
        r1 = _ranks(d1, order)
        return r1, (r1 if same else _ranks(d2, order))

    def ev(self, frame: Frame) -> Val:
        c1, n1, d1 = self.x.ev_str(frame)
        c2, n2, d2 = self.y.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d1 or cache[1] is not d2:
            cache = self._cache = (d1, d2, *self._prepare(d1, d2))
        m1, m2 = cache[2], cache[3]
        a = c1 if m1 is None else np.take(m1, c1)
        b = c2 if m2 is None else np.take(m2, c2)
        r = self.ufunc(a, b)
        n = merge_null(n1, n2)
        if n is not None:
            np.greater(r, n, out=r)
        return r, n

    def ev_row(self, row: Row) -> Any:
        a = self.x.ev_row(row)
        b = self.y.ev_row(row)
        return None if a is None or b is None else _PY_CMP[self.op](a, b)


def _in_row(value: Any, consts: frozenset[Any], has_null: bool) -> Any:
    """``value IN consts`` for one deal (a NULL in the list makes "no match" unknown)."""
    if value is None:
        return None
    if value in consts:
        return True
    return None if has_null else False


def _any_equal(values: np.ndarray, consts: Sequence[Any]) -> np.ndarray:
    r = np.equal(values, consts[0])
    for c in consts[1:]:
        np.logical_or(r, np.equal(values, c), out=r)
    return r


class InValues(Node):
    """``x IN (constants)`` for numbers, dates and bools (constants pre-encoded at x's scale)."""

    __slots__ = ("consts", "has_null", "py_consts", "sorted", "x")
    fresh = True

    def __init__(self, x: Node, consts: Sequence[Any], has_null: bool) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.has_null = x, has_null
        dtype = _DTYPES[x.type]
        self.sorted = np.array(sorted(set(consts)), dtype=dtype)
        self.consts = tuple(dtype.type(c) for c in self.sorted.tolist())
        self.py_consts = frozenset(self.sorted.tolist())

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        consts = self.consts
        if not consts:
            r = np.zeros(v.shape[0], dtype=np.bool_)
        elif len(consts) <= _FEW:
            r = _any_equal(v, consts)
        else:
            s = self.sorted
            idx = np.searchsorted(s, v)
            np.minimum(idx, s.shape[0] - 1, out=idx)
            r = np.equal(np.take(s, idx), v)
        if n is not None:
            np.greater(r, n, out=r)
        # With a NULL in the list, "no match" is unknown rather than false.
        return r, (np.logical_not(r) if self.has_null else n)

    def ev_row(self, row: Row) -> Any:
        return _in_row(self.x.ev_row(row), self.py_consts, self.has_null)


class InStrings(Node):
    """``x IN ('a', 'b', ...)`` on a string: the matching codes are found once per dictionary."""

    __slots__ = ("_cache", "has_null", "values", "x")
    fresh = True

    def __init__(self, x: Node, values: Sequence[str], has_null: bool) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.values, self.has_null = x, frozenset(values), has_null
        self._cache: tuple[tuple[str, ...], np.dtype[Any], list[Any], np.ndarray] | None = None

    def ev(self, frame: Frame) -> Val:
        codes, n, d = self.x.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d or cache[1] is not codes.dtype:
            found = [i for i, s in enumerate(d) if s in self.values]
            lut = np.zeros(len(d) + 1, dtype=np.bool_)
            lut[found] = True
            typed = [codes.dtype.type(c) for c in found]
            cache = self._cache = (d, codes.dtype, typed, lut)
        found = cache[2]
        rows = codes.shape[0]
        # A table lookup costs ~1 ns a row, an equality test on int8 codes ~0.05 ns a row plus a
        # fixed cost per call: one code, or a few codes over many rows, are tested for equality.
        if not found:
            r = np.zeros(rows, dtype=np.bool_)
        elif len(found) == 1 or (len(found) <= _FEW and rows >= _MANY_ROWS):
            r = _any_equal(codes, found)
        else:
            r = np.take(cache[3], codes)
        return r, (np.logical_not(r) if self.has_null else n)

    def ev_row(self, row: Row) -> Any:
        return _in_row(self.x.ev_row(row), self.values, self.has_null)


class Like(Node):
    """``x LIKE 'pattern'``: the pattern is matched once per distinct value."""

    __slots__ = ("_cache", "regex", "x")
    fresh = True

    def __init__(self, x: Node, regex: re.Pattern[str]) -> None:
        super().__init__(FieldType.BOOL)
        self.x, self.regex = x, regex
        self._cache: tuple[tuple[str, ...], np.ndarray] | None = None

    def ev(self, frame: Frame) -> Val:
        codes, n, d = self.x.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d:
            match = self.regex.fullmatch
            lut = np.array([match(s) is not None for s in d] + [False], dtype=np.bool_)
            cache = self._cache = (d, lut)
        return np.take(cache[1], codes), n

    def ev_row(self, row: Row) -> Any:
        s = self.x.ev_row(row)
        return None if s is None else self.regex.fullmatch(s) is not None


# --- values -------------------------------------------------------------------------------------


class StrFunc(Node):
    """LOWER / UPPER / TRIM: applied once per distinct value, then codes are remapped."""

    __slots__ = ("_cache", "fn", "x")

    def __init__(self, x: Node, fn: Callable[[str], str]) -> None:
        super().__init__(FieldType.STRING)
        self.x, self.fn = x, fn
        self._cache: tuple[tuple[str, ...], tuple[str, ...], np.ndarray] | None = None

    def ev_str(self, frame: Frame) -> StrVal:
        codes, n, d = self.x.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d:
            index: dict[str, int] = {}
            remap = [index.setdefault(self.fn(s), len(index)) for s in d]
            out = tuple(index)
            cache = self._cache = (d, out, np.array([*remap, -1], dtype=code_dtype(len(out))))
        return np.take(cache[2], codes), n, cache[1]

    def ev_row(self, row: Row) -> Any:
        s = self.x.ev_row(row)
        return None if s is None else self.fn(s)


class Length(Node):
    """LENGTH(x): characters, computed once per distinct value."""

    __slots__ = ("_cache", "x")
    fresh = True

    def __init__(self, x: Node) -> None:
        super().__init__(FieldType.INT)
        self.x = x
        self._cache: tuple[tuple[str, ...], np.ndarray] | None = None

    def ev(self, frame: Frame) -> Val:
        codes, n, d = self.x.ev_str(frame)
        cache = self._cache
        if cache is None or cache[0] is not d:
            cache = self._cache = (d, np.array([len(s) for s in d] + [0], dtype=np.int64))
        return np.take(cache[1], codes), n

    def ev_row(self, row: Row) -> Any:
        s = self.x.ev_row(row)
        return None if s is None else len(s)


class Negate(Node):
    __slots__ = ("x",)
    fresh = True

    def __init__(self, x: Node) -> None:
        super().__init__(x.type, x.scale)
        self.x = x

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        _raise_rows(v == INT64_MIN, n, "ARITHMETIC_OVERFLOW", "negation out of range")
        return np.negative(v), n

    def ev_row(self, row: Row) -> Any:
        v = self.x.ev_row(row)
        if v == INT64_MIN:
            raise _overflow_row("negation out of range")
        return None if v is None else -v


class Abs(Node):
    __slots__ = ("x",)
    fresh = True

    def __init__(self, x: Node) -> None:
        super().__init__(x.type, x.scale)
        self.x = x

    def ev(self, frame: Frame) -> Val:
        v, n = self.x.ev(frame)
        _raise_rows(v == INT64_MIN, n, "ARITHMETIC_OVERFLOW", "ABS out of range")
        return np.abs(v), n

    def ev_row(self, row: Row) -> Any:
        v = self.x.ev_row(row)
        if v == INT64_MIN:
            raise _overflow_row("ABS out of range")
        return None if v is None else abs(v)


def _multiply(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    r = a * b
    if a.size == 0:
        return r, None
    amax = max(abs(int(a.min())), abs(int(a.max())))
    bmax = max(abs(int(b.min())), abs(int(b.max())))
    if amax * bmax <= INT64_MAX:
        return r, None
    # Rows whose float product is below 2**62 certainly fit; the others are checked exactly.
    return r, np.abs(a.astype(np.float64) * b.astype(np.float64)) >= 2.0**62


class Arith(Node):
    """``a + b``, ``a - b``, ``a * b``, ``a / b`` on exact scaled integers.

    Sums align scales; products add them; quotients are decimals at :data:`DIVISION_SCALE` places,
    rounded half-even. Division by zero (with a non-null dividend) raises ``DIVISION_BY_ZERO``.
    """

    __slots__ = ("a", "b", "op")
    fresh = True

    def __init__(self, op: str, a: Node, b: Node, type_: FieldType, scale: int) -> None:
        super().__init__(type_, scale)
        self.op, self.a, self.b = op, a, b

    def exact(self, x: int, y: int) -> int:
        """The result for one row, computed with Python integers."""
        sa, sb, s = self.a.scale, self.b.scale, self.scale
        if self.op == "+":
            return x * 10 ** (s - sa) + y * 10 ** (s - sb)
        if self.op == "-":
            return x * 10 ** (s - sa) - y * 10 ** (s - sb)
        if self.op == "*":
            return x * y
        e = DIVISION_SCALE - sa + sb
        return divide_half_even(x * 10 ** max(e, 0), y * 10 ** max(-e, 0))

    def ev(self, frame: Frame) -> Val:
        av, an = self.a.ev(frame)
        bv, bn = self.b.ev(frame)
        null = merge_null(an, bn)
        op = self.op
        if op == "/":
            r, suspect = self._divide(av, bv, null)
        elif op == "*":
            r, suspect = _multiply(av, bv)
        else:
            r, suspect = _add(av, self.a.scale, bv, self.b.scale, self.scale, op == "-")
        if suspect is not None:
            if null is not None:
                suspect = suspect > null
            if suspect.any():
                self._recompute(r, av, bv, np.flatnonzero(suspect))
        return r, null

    def ev_row(self, row: Row) -> Any:
        x = self.a.ev_row(row)
        y = self.b.ev_row(row)
        if x is None or y is None:
            return None
        if self.op == "/" and y == 0:
            raise row_error("DIVISION_BY_ZERO", "division by zero", [0])
        value = self.exact(x, y)
        if not fits_int64(value):
            raise _overflow_row(f"the result of {self.op!r} is too large for a {self.type.value}")
        return value

    def _recompute(self, r: np.ndarray, av: np.ndarray, bv: np.ndarray, rows: np.ndarray) -> None:
        bad = []
        for i in rows.tolist():
            value = self.exact(int(av[i]), int(bv[i]))
            if fits_int64(value):
                r[i] = value
            else:
                bad.append(i)
        if bad:
            raise row_error(
                "ARITHMETIC_OVERFLOW",
                f"the result of {self.op!r} is too large for a {self.type.value}",
                bad,
            )

    def _divide(
        self, a: np.ndarray, b: np.ndarray, null: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if null is not None:
            b = np.where(null, np.int64(1), b)  # a NULL operand gives NULL, never an error
        b_lo, b_hi = bounds(b)
        if b_lo <= 0 <= b_hi:
            _raise_rows(b == 0, None, "DIVISION_BY_ZERO", "division by zero")
        e = DIVISION_SCALE - self.a.scale + self.b.scale
        num, o1 = upscale(a, max(e, 0))
        den, o2 = upscale(b, max(-e, 0))
        suspect = _either(o1, o2)
        if o2 is not None:
            den = np.where(o2, np.int64(1), den)  # recomputed exactly below
        if b_lo < 0:  # make every divisor positive
            neg = den < 0
            num = np.where(neg, np.negative(num), num)
            den = np.abs(den)
            suspect = _either(suspect, (num == INT64_MIN) | (den < 0))  # INT64_MIN has no negation
        q = num // den
        rem = num - q * den
        half = den - rem
        up = rem > half
        tie = rem == half
        tie &= np.bitwise_and(q, 1, dtype=np.int64).astype(np.bool_)
        up |= tie
        q += up
        return q, suspect


def _either(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return merge_null(a, b)


def bounds(a: np.ndarray) -> tuple[int, int]:
    """(min, max) of an integer array as Python ints ((0, 0) when empty)."""
    if a.size == 0:
        return 0, 0
    return int(a.min()), int(a.max())


def _add(
    a: np.ndarray, sa: int, b: np.ndarray, sb: int, s: int, subtract: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """``a + b`` (or ``a - b``) at scale ``s``, with the rows that may have overflowed."""
    a2, oa = upscale(a, s - sa)
    b2, ob = upscale(b, s - sb)
    r = a2 - b2 if subtract else a2 + b2
    if oa is None and ob is None:
        (a_lo, a_hi), (b_lo, b_hi) = bounds(a2), bounds(b2)
        lo, hi = (a_lo - b_hi, a_hi - b_lo) if subtract else (a_lo + b_lo, a_hi + b_hi)
        if fits_int64(lo) and fits_int64(hi):
            return r, None
    # Overflow flips the sign against what the operands' signs imply.
    suspect = ((a2 ^ b2) & (a2 ^ r)) < 0 if subtract else ((a2 ^ r) & (b2 ^ r)) < 0
    return r, _either(_either(suspect, oa), ob)


class Coalesce(Node):
    """COALESCE over non-string arguments, aligned to the result scale."""

    __slots__ = ("args",)
    fresh = True

    def __init__(self, args: Sequence[Node], type_: FieldType, scale: int) -> None:
        super().__init__(type_, scale)
        self.args = tuple(args)

    def ev(self, frame: Frame) -> Val:
        out: np.ndarray | None = None
        null: np.ndarray | None = None
        # Every argument runs first, so that its errors come before any of the scaling (as a
        # deal's own evaluation has them).
        values = [arg.ev(frame) for arg in self.args]
        for i, (arg, (v, n)) in enumerate(zip(self.args, values, strict=True)):
            v, ovf = upscale(v, self.scale - arg.scale)
            if out is None:
                take = None if n is None else ~n
                out, null = v.copy(), n
            elif null is None:  # every row already has a value (later arguments still run)
                take = np.zeros(v.shape[0], dtype=np.bool_)
            else:
                take = null if n is None else null > n  # still NULL here, and this one is not
                out = np.where(take, v, out)
                null = None if n is None else null & n
            if ovf is not None:
                mask = ovf if take is None else ovf & take
                _raise_rows(
                    mask, None, "ARITHMETIC_OVERFLOW", f"COALESCE argument {i + 1} is out of range"
                )
        assert out is not None
        return out, null

    def ev_row(self, row: Row) -> Any:
        out = None
        values = [arg.ev_row(row) for arg in self.args]  # every argument runs: its errors count
        for i, (arg, v) in enumerate(zip(self.args, values, strict=True)):
            if out is None and v is not None:
                out = v * 10 ** (self.scale - arg.scale)
                if not fits_int64(out):
                    raise _overflow_row(f"COALESCE argument {i + 1} is out of range")
        return out


class CoalesceStr(Node):
    """COALESCE over strings: the argument dictionaries are merged (first appearance order)."""

    __slots__ = ("args",)

    def __init__(self, args: Sequence[Node]) -> None:
        super().__init__(FieldType.STRING)
        self.args = tuple(args)

    def ev_str(self, frame: Frame) -> StrVal:
        vals = [a.ev_str(frame) for a in self.args]
        index: dict[str, int] = {}
        remaps = [[index.setdefault(s, len(index)) for s in d] for _, _, d in vals]
        dtype = code_dtype(len(index))
        out: np.ndarray | None = None
        null: np.ndarray | None = None
        for (codes, n, _), remap in zip(vals, remaps, strict=True):
            mapped = np.take(np.array([*remap, -1], dtype=dtype), codes)
            if out is None:
                out, null = mapped, n
            elif null is not None:
                out = np.where(null, mapped, out)
                null = None if n is None else null & n
        assert out is not None
        return out, null, tuple(index)

    def ev_row(self, row: Row) -> Any:
        out = None
        for arg in self.args:
            v = arg.ev_row(row)
            if out is None:
                out = v
        return out


__all__ = [
    "DIVISION_SCALE",
    "INT64_MAX",
    "INT64_MIN",
    "Abs",
    "And",
    "Arith",
    "BoolColumn",
    "Cmp",
    "Coalesce",
    "CoalesceStr",
    "ColumnNode",
    "ConstCmp",
    "ConstNode",
    "DecimalColumn",
    "InStrings",
    "InValues",
    "IsBool",
    "IsNull",
    "Length",
    "Like",
    "Negate",
    "Node",
    "Not",
    "NullResult",
    "Or",
    "SkipCheck",
    "StrCmp",
    "StrColumn",
    "StrConstCmp",
    "StrFunc",
    "constant_test",
    "like_regex",
    "row_error",
]


#: Nodes whose evaluation may raise an error naming rows (overflow, division by zero); a decimal
#: column may too, when the frame holds it at a lower scale (see :class:`SkipCheck`).
_RAISES_ROWS = (Negate, Abs, Arith, Coalesce)


def _walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it."""
    yield node
    for cls in type(node).__mro__:
        for name in getattr(cls, "__slots__", ()):
            child = getattr(node, name, None)
            for c in child if isinstance(child, tuple) else (child,):
                if isinstance(c, Node):
                    yield from _walk(c)
