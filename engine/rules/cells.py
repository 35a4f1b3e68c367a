"""Decision-table cells: short tests on one input, turned into SQL conditions and set descriptions.

A cell is what a person writes in one column of a decision-table row: a value (``EMEA``, ``3``),
a list of values (any of them), a comparison (``>= 100000``), an interval (``[10000..50000)``), or
an SQL test (``BETWEEN 1 AND 5``, ``IS NULL``, ``LIKE 'A%'``). Empty or ``-`` matches anything.
Each cell becomes a condition in the same safe SQL language as ``when`` (so it is type-checked and
compiled the same way), and, where it is simple enough, a :class:`CellSet` used to prove at publish
time that two rows of a ``unique`` table can both match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.frame import FieldType

_COMPARISON = re.compile(r"^(<=|>=|<>|!=|=|<|>)\s*(.+)$", re.S)
_KEYWORD = re.compile(r"^(NOT\s+)?(IN|BETWEEN|LIKE|IS)\b", re.I)
_INTERVAL = re.compile(r"^([\[\(\]])\s*(.*?)\s*\.\.\s*(.*?)\s*([\]\)\[])$", re.S)


def _literal(value: Any, type_: FieldType) -> str:
    """Render a Python value as an SQL literal for a field of ``type_``."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        if type_ in (FieldType.STRING, FieldType.DATE):
            return "'" + str(value) + "'"
        return str(value)
    text = str(value).strip()
    if type_ in (FieldType.INT, FieldType.DECIMAL, FieldType.BOOL):
        return text
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text
    return "'" + text.replace("'", "''") + "'"


def is_any(cell: Any) -> bool:
    """True when the cell matches anything (missing, empty, or ``-``)."""
    return cell is None or (isinstance(cell, str) and cell.strip() in ("", "-"))


def cell_to_sql(input_name: str, cell: Any, type_: FieldType) -> str | None:
    """Return the SQL condition a cell stands for, or ``None`` when it matches anything.

    Plain words are values of string inputs (``EMEA`` means ``= 'EMEA'``); a leading operator or
    SQL keyword makes the text a test; ``[a..b)`` style intervals use ``[``/``]`` for closed ends
    and ``(``/``)`` (or an outward ``]``/``[``) for open ends.
    """
    if is_any(cell):
        return None
    if isinstance(cell, list):
        if not cell:
            return "FALSE"
        return f"{input_name} IN ({', '.join(_literal(v, type_) for v in cell)})"
    if not isinstance(cell, str):
        return f"{input_name} = {_literal(cell, type_)}"
    text = cell.strip()
    if m := _COMPARISON.match(text):
        op, rest = m.group(1), m.group(2).strip()
        if type_ in (FieldType.STRING, FieldType.DATE) and not rest.startswith("'"):
            rest = _literal(rest, type_)
        return f"{input_name} {op} {rest}"
    if _KEYWORD.match(text):
        return f"{input_name} {text}"
    if m := _INTERVAL.match(text):
        left, lo, hi, right = m.groups()
        parts = []
        if lo:
            parts.append(f"{input_name} {'>=' if left == '[' else '>'} {_literal(lo, type_)}")
        if hi:
            parts.append(f"{input_name} {'<=' if right == ']' else '<'} {_literal(hi, type_)}")
        return " AND ".join(parts) if parts else None
    return f"{input_name} = {_literal(text, type_)}"


@dataclass(frozen=True)
class CellSet:
    """The set of input values a simple cell accepts: finite values, or one numeric interval."""

    values: frozenset[Any] | None = None
    lo: Decimal | None = None
    lo_closed: bool = True
    hi: Decimal | None = None
    hi_closed: bool = True

    def _contains(self, v: Decimal) -> bool:
        if self.lo is not None and (v < self.lo or (v == self.lo and not self.lo_closed)):
            return False
        return not (self.hi is not None and (v > self.hi or (v == self.hi and not self.hi_closed)))

    def intersects(self, other: CellSet) -> bool:
        """True when some value is accepted by both sets."""
        if self.values is not None and other.values is not None:
            return bool(self.values & other.values)
        if self.values is not None or other.values is not None:
            finite, interval = (self, other) if self.values is not None else (other, self)
            assert finite.values is not None
            if interval.lo is None and interval.hi is None:
                return bool(finite.values)
            return any(isinstance(v, Decimal) and interval._contains(v) for v in finite.values)
        lo_a, lo_b = self.lo, other.lo
        # The larger lower bound against the smaller upper bound.
        if lo_a is None or (lo_b is not None and lo_b > lo_a):
            lo, lo_closed = lo_b, other.lo_closed
        elif lo_b is not None and lo_b == lo_a:
            lo, lo_closed = lo_a, self.lo_closed and other.lo_closed
        else:
            lo, lo_closed = lo_a, self.lo_closed
        hi_a, hi_b = self.hi, other.hi
        if hi_a is None or (hi_b is not None and hi_b < hi_a):
            hi, hi_closed = hi_b, other.hi_closed
        elif hi_b is not None and hi_b == hi_a:
            hi, hi_closed = hi_a, self.hi_closed and other.hi_closed
        else:
            hi, hi_closed = hi_a, self.hi_closed
        if lo is None or hi is None:
            return True
        return lo < hi or (lo == hi and lo_closed and hi_closed)


ANY = CellSet()


def _number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def cell_set(cell: Any, type_: FieldType) -> CellSet | None:
    """Describe the values a cell accepts, or ``None`` when the cell is too complex to analyse."""
    if is_any(cell):
        return ANY
    numeric = type_ in (FieldType.INT, FieldType.DECIMAL)

    def norm(v: Any) -> Any:
        if numeric:
            return v if isinstance(v, Decimal) else _number(str(v))
        text = str(v).strip()
        return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text

    if isinstance(cell, list):
        vals = [norm(v) for v in cell]
        return None if any(v is None for v in vals) else CellSet(values=frozenset(vals))
    if isinstance(cell, bool) or type_ in (FieldType.BOOL, FieldType.DATE):
        return None if type_ is FieldType.DATE else CellSet(values=frozenset([bool(cell)]))
    if isinstance(cell, int | Decimal):
        return CellSet(values=frozenset([Decimal(cell) if numeric else str(cell)]))
    text = cell.strip()
    if m := _COMPARISON.match(text):
        op, rest = m.group(1), m.group(2)
        if op == "=":
            v = norm(rest)
            return None if v is None else CellSet(values=frozenset([v]))
        if not numeric or op in ("<>", "!="):
            return None
        bound = _number(rest)
        if bound is None:
            return None
        if op in (">", ">="):
            return CellSet(lo=bound, lo_closed=op == ">=")
        return CellSet(hi=bound, hi_closed=op == "<=")
    if m := _INTERVAL.match(text):
        if not numeric:
            return None
        left, lo_text, hi_text, right = m.groups()
        lo = _number(lo_text) if lo_text else None
        hi = _number(hi_text) if hi_text else None
        if (lo_text and lo is None) or (hi_text and hi is None):
            return None
        return CellSet(lo=lo, lo_closed=left == "[", hi=hi, hi_closed=right == "]")
    if _KEYWORD.match(text):
        return None
    v = norm(text)
    return None if v is None else CellSet(values=frozenset([v]))


__all__ = ["ANY", "CellSet", "cell_set", "cell_to_sql", "is_any"]
