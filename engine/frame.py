"""Typed, dictionary-encoded columns: the shape in which deals flow through the core.

Rules are evaluated over columns, never deal by deal. A :class:`Frame` holds aligned columns of one
of five logical types; every column carries an optional null mask. Strings are dictionary-encoded
(small integer codes into a tuple of distinct values), so a string test costs one integer
comparison per deal, and string functions run once per distinct value instead of once per deal.
Decimals are exact: int64 values scaled by ``10**scale``. Dates are int32 days since 1970-01-01.

One deal is a frame of one row; a million deals is a frame of a million rows. The same compiled
rules serve both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import numpy as np

EPOCH = dt.date(1970, 1, 1)


class FieldType(str, Enum):
    """Logical type of a deal field as declared in a rule set."""

    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"


#: Batches up to this many rows (a CRM's per-deal call) take plain per-value paths where numpy's
#: fixed cost per call, not the per-value work, would dominate.
SMALL_BATCH = 16
#: Default number of decimal places kept for a ``decimal`` field with no declared scale.
DEFAULT_DECIMAL_SCALE = 6
#: Largest scale a decimal column may use (int64 leaves room for 10**12 whole units at scale 6).
MAX_DECIMAL_SCALE = 9


def any_true(mask: np.ndarray) -> bool:
    """Whether some element of the boolean ``mask`` is True, quickly for one row or a million.

    Small batches use np.count_nonzero, one C call, where ndarray.any() and .all() cost about
    2 us a call in their Python wrappers (one-deal scoring makes a dozen such tests); beyond,
    ``any`` and ``all`` win, as they stop at the first row that decides.
    """
    return bool(np.count_nonzero(mask)) if mask.size <= SMALL_BATCH else bool(mask.any())


def all_true(mask: np.ndarray) -> bool:
    """Whether every element of the boolean ``mask`` is True (see :func:`any_true`)."""
    return np.count_nonzero(mask) == mask.size if mask.size <= SMALL_BATCH else bool(mask.all())


def read_only_one(value: Any, dtype: Any) -> np.ndarray:
    """A read-only one-element array, made once and shared by every one-deal result that holds
    ``value``: making a fresh one costs about half a microsecond, a real share of scoring one
    deal. Read-only, so a write into a shared array fails loudly instead of changing another
    deal's result."""
    array = np.array([value], dtype=dtype)
    array.flags.writeable = False
    return array


#: A one-deal result's validity, shared (see :func:`read_only_one`).
ONE_VALID = {True: read_only_one(True, np.bool_), False: read_only_one(False, np.bool_)}


def code_dtype(n_values: int) -> np.dtype[Any]:
    """Return the smallest signed integer dtype that holds codes ``-1 .. n_values - 1``."""
    if n_values < 127:
        return np.dtype(np.int8)
    if n_values < 32767:
        return np.dtype(np.int16)
    return np.dtype(np.int32)


@dataclass(frozen=True, eq=False)
class Column:
    """One typed column.

    Attributes
    ----------
    type : FieldType
    values : ndarray, shape (n,)
        string: integer codes into ``dictionary`` (``-1`` where null); int: int64;
        decimal: int64 scaled by ``10**scale``; bool: bool; date: int32 days since 1970-01-01.
        Values under a null mask are unspecified (zero by convention).
    null : ndarray of bool, shape (n,), or None
        True where the value is null. ``None`` means the column has no nulls (the fast path).
    dictionary : tuple of str
        Distinct string values (string columns only).
    scale : int
        Decimal places of a decimal column.
    """

    type: FieldType
    values: np.ndarray
    null: np.ndarray | None = None
    dictionary: tuple[str, ...] = ()
    scale: int = 0

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def codes(self) -> np.ndarray:
        """A string column's codes as int64, -1 wherever the value is null."""
        values = self.values.astype(np.int64)
        return values if self.null is None else np.where(self.null, -1, values)

    def take(self, index: np.ndarray) -> Column:
        """Return the rows at ``index`` (an integer or boolean array) as a new column."""
        null = None if self.null is None else self.null[index]
        if null is not None and not any_true(null):
            null = None
        return Column(self.type, self.values[index], null, self.dictionary, self.scale)

    def python_value(self, i: int) -> Any:
        """Return row ``i`` as a Python value (str, int, Decimal, bool, date or None)."""
        if self.null is not None and self.null[i]:
            return None
        v = self.values[i]
        if self.type is FieldType.STRING:
            return self.dictionary[int(v)]
        if self.type is FieldType.INT:
            return int(v)
        if self.type is FieldType.DECIMAL:
            return Decimal(int(v)).scaleb(-self.scale)
        if self.type is FieldType.BOOL:
            return bool(v)
        return EPOCH + dt.timedelta(days=int(v))


def _null_mask(is_null: list[bool]) -> np.ndarray | None:
    if not any(is_null):
        return None
    return np.array(is_null, dtype=np.bool_)


def string_column(values: Sequence[str | None]) -> Column:
    """Dictionary-encode a sequence of strings (``None`` is null). Codes follow first appearance."""
    index: dict[str, int] = {}
    codes = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
    dictionary = tuple(index)
    arr = np.array(codes, dtype=code_dtype(len(dictionary)))
    return Column(FieldType.STRING, arr, _null_mask([v is None for v in values]), dictionary)


def string_column_from_codes(codes: np.ndarray, dictionary: Sequence[str]) -> Column:
    """Wrap existing codes (``-1`` = null) and their dictionary as a string column."""
    dictionary = tuple(dictionary)
    arr = np.asarray(codes).astype(code_dtype(len(dictionary)), copy=False)
    null = arr < 0
    return Column(FieldType.STRING, arr, null if any_true(null) else None, dictionary)


def int_column(values: Sequence[int | None]) -> Column:
    """Build an int64 column (``None`` is null)."""
    return column_from_encoded([None if v is None else int(v) for v in values], FieldType.INT)


def to_scaled(value: Decimal | int | str, scale: int) -> int:
    """Return ``value * 10**scale`` as an int, refusing values that need more decimal places.

    Raises ``ValueError`` if the value is not a finite number or has more than ``scale`` places:
    a decimal column never rounds silently.
    """
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    scaled = d.scaleb(scale)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {scale} decimal places")
    return int(scaled)


def decimal_column(values: Sequence[Decimal | int | str | None], scale: int) -> Column:
    """Build an exact decimal column scaled by ``10**scale`` (``None`` is null)."""
    scaled = [None if v is None else to_scaled(v, scale) for v in values]
    return column_from_encoded(scaled, FieldType.DECIMAL, scale)


def bool_column(values: Sequence[bool | None]) -> Column:
    """Build a boolean column (``None`` is null)."""
    return column_from_encoded([None if v is None else bool(v) for v in values], FieldType.BOOL)


def date_to_days(value: dt.date) -> int:
    """Days since 1970-01-01."""
    return (value - EPOCH).days


def days_to_date(days: int) -> dt.date:
    """The date ``days`` after 1970-01-01."""
    return EPOCH + dt.timedelta(days=days)


def date_column(values: Sequence[dt.date | None]) -> Column:
    """Build a date column of int32 days since 1970-01-01 (``None`` is null)."""
    days = [None if v is None else date_to_days(v) for v in values]
    return column_from_encoded(days, FieldType.DATE)


@dataclass(frozen=True, eq=False)
class Frame:
    """Aligned columns by field name; every column has ``n_rows`` rows."""

    n_rows: int
    columns: Mapping[str, Column]

    def __post_init__(self) -> None:
        n = self.n_rows
        for name, col in self.columns.items():
            if col.values.shape[0] != n:
                raise ValueError(f"column {name!r} has {len(col)} rows, expected {n}")

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def take(self, index: np.ndarray) -> Frame:
        """Return the rows at ``index`` (integer or boolean array) as a new frame."""
        cols = {k: c.take(index) for k, c in self.columns.items()}
        n = int(np.count_nonzero(index)) if index.dtype == np.bool_ else int(index.shape[0])
        return Frame(n, cols)

    def with_columns(self, extra: Mapping[str, Column]) -> Frame:
        """Return a frame with ``extra`` columns added (or replaced)."""
        n = self.n_rows
        for name, col in extra.items():
            if col.values.shape[0] != n:
                raise ValueError(f"column {name!r} has {len(col)} rows, expected {n}")
        frame = object.__new__(Frame)  # the other columns were checked when this frame was made
        object.__setattr__(frame, "n_rows", n)
        object.__setattr__(frame, "columns", {**self.columns, **extra})
        return frame

    def row(self, i: int) -> dict[str, Any]:
        """Return row ``i`` as a dict of Python values (for explanations and tests, not hot paths)."""
        return {k: c.python_value(i) for k, c in self.columns.items()}


class RowFrame(Frame):
    """A frame of one deal held as a :class:`Row`: one-deal scoring reads the row, and the columns
    are built only when something asks for them."""

    one: Row

    def __init__(self, row: Row) -> None:
        object.__setattr__(self, "n_rows", 1)
        object.__setattr__(self, "one", row)

    @property  # type: ignore[override]
    def columns(self) -> Mapping[str, Column]:
        built: Mapping[str, Column] | None = self.__dict__.get("_columns")
        if built is None:
            built = {name: self.one.column(name) for name in self.one.types}
            object.__setattr__(self, "_columns", built)
        return built

    def __contains__(self, name: object) -> bool:
        return name in self.one.types


_VALUE_DTYPES: dict[FieldType, Any] = {
    FieldType.INT: np.int64,
    FieldType.DECIMAL: np.int64,
    FieldType.BOOL: np.bool_,
    FieldType.DATE: np.int32,
}


def column_from_encoded(values: Sequence[Any], type_: FieldType, scale: int = 0) -> Column:
    """Build a column from values already in its encoding (``None`` is null): text for strings,
    ints scaled by ``10**scale`` for decimals, days since 1970-01-01 for dates, bools, ints."""
    if type_ is FieldType.STRING:
        return string_column(values)
    placeholder = False if type_ is FieldType.BOOL else 0
    arr = np.array([placeholder if v is None else v for v in values], dtype=_VALUE_DTYPES[type_])
    null = _null_mask([v is None for v in values])
    return Column(type_, arr, null, scale=scale if type_ is FieldType.DECIMAL else 0)


@dataclass(frozen=True, eq=False)
class Row:
    """One deal as Python scalars in the columns' encoding, with each field's type and scale.

    A CRM scores deals one at a time, and for one deal numpy's fixed cost per call on one-element
    arrays is nearly all the work; compiled conditions and tables therefore also evaluate a row
    (see ``ev_row`` in :mod:`engine.rules.expression_nodes`).

    Attributes
    ----------
    values : dict of name -> value
        Text for strings, int scaled by ``10**scale`` for decimals, int days since 1970-01-01 for
        dates, bool, int; ``None`` is null.
    types : dict of name -> (FieldType, scale)
    """

    values: Mapping[str, Any]
    types: Mapping[str, tuple[FieldType, int]]

    @classmethod
    def of_frame(cls, frame: Frame, i: int) -> Row:
        """Row ``i`` of ``frame``."""
        values: dict[str, Any] = {}
        types: dict[str, tuple[FieldType, int]] = {}
        for name, col in frame.columns.items():
            types[name] = (col.type, col.scale)
            if col.null is not None and col.null[i]:
                values[name] = None
            elif col.type is FieldType.STRING:
                code = int(col.values[i])
                values[name] = None if code < 0 else col.dictionary[code]
            else:
                values[name] = col.values[i].item()
        return cls(values, types)

    def with_value(self, name: str, type_: FieldType, scale: int, value: Any) -> Row:
        """This row with field ``name`` added (or replaced)."""
        return Row({**self.values, name: value}, {**self.types, name: (type_, scale)})

    def column(self, name: str) -> Column:
        """Field ``name`` as a one-row column."""
        type_, scale = self.types[name]
        return column_from_encoded([self.values[name]], type_, scale)


def column_from_python(values: Sequence[Any], type_: FieldType, scale: int = 0) -> Column:
    """Build a column of ``type_`` from Python values (``None`` is null)."""
    if type_ is FieldType.STRING:
        return string_column(values)
    if type_ is FieldType.INT:
        return int_column(values)
    if type_ is FieldType.DECIMAL:
        return decimal_column(values, scale)
    if type_ is FieldType.BOOL:
        return bool_column(values)
    return date_column(values)


__all__ = [
    "DEFAULT_DECIMAL_SCALE",
    "EPOCH",
    "MAX_DECIMAL_SCALE",
    "ONE_VALID",
    "SMALL_BATCH",
    "Column",
    "FieldType",
    "Frame",
    "Row",
    "RowFrame",
    "all_true",
    "any_true",
    "bool_column",
    "code_dtype",
    "column_from_encoded",
    "column_from_python",
    "date_column",
    "date_to_days",
    "days_to_date",
    "decimal_column",
    "int_column",
    "read_only_one",
    "string_column",
    "string_column_from_codes",
    "to_scaled",
]
