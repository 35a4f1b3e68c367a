"""Deals and scores as Arrow columns: the bulk wire form of ``ScoreDeals``.

Ten thousand ``Deal`` messages take milliseconds to parse and ten thousand Python objects to read.
The same deals as an Arrow IPC stream are a few buffers: each column becomes the engine's coded
form (:class:`engine.forecast.deals.Coded`) in one C pass, with no step per deal, and the scores go
back the same way. Only the columns the rule set reads are encoded. The layout of both streams is
documented on ``ScoreDealsRequest.deal_columns`` and ``ScoreDealsResponse.score_columns``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DEAL_COLUMNS, Coded, DealBatch, DealColumns, DealInput
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.frame import Column, FieldType
from engine.money import ppm_to_decimal
from engine.rules.schema import CATEGORY_ORDER

REQUEST_FIELD = "deal_columns"
#: Built-in deal columns other than ``id`` and ``amount_minor`` (the rest are attributes).
_BUILT_IN = frozenset(DEAL_COLUMNS) - {"id", "amount_minor"}
_CATEGORIES = pa.array([c.value for c in CATEGORY_ORDER], pa.string())
#: Source names by ProbSource value (the values run 0, 1, 2...).
_SOURCES = pa.array([ProbSource(v).name.lower() for v in range(len(ProbSource))], pa.string())


def _refuse(message: str, column: str = "") -> InvalidArgumentError:
    field = f"{REQUEST_FIELD}.{column}" if column else REQUEST_FIELD
    return InvalidArgumentError(
        message,
        reason="INVALID_DEAL_COLUMNS",
        violations=[Violation(field, reason="INVALID_DEAL_COLUMNS", message=message)],
    )


class ArrowStrings(Sequence[str]):
    """A read-only view of an Arrow text array as Python strings (null reads as ''), converted
    only where read: a batch's ids are echoed back as the same Arrow array."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [v or "" for v in self.array[i].to_pylist()]
        value = self.array[i].as_py()
        return value or ""

    def __iter__(self) -> Iterator[str]:
        return (v or "" for v in self.array.to_pylist())


class ArrowCoded(Coded):
    """An Arrow column in coded form (its dictionary's values, a code per row, -1 for null),
    encoded on first use; dates, integers, booleans and decimals are taken whole when they can
    be, and text is parsed once per distinct value, in bulk."""

    def __init__(self, array: pa.Array, column: str) -> None:
        self.array = array
        self.column = column
        self._dictionary: tuple[np.ndarray, pa.Array] | None = None
        self._values: list[Any] | None = None

    def _encoded(self) -> tuple[np.ndarray, pa.Array]:
        """Codes (int64, -1 for null) and the dictionary, as Arrow gives them."""
        if self._dictionary is None:
            array = self.array
            if not pa.types.is_dictionary(array.type):
                try:
                    array = array.dictionary_encode()
                except pa.ArrowNotImplementedError:
                    raise _refuse(f"column {self.column!r} has type {array.type}, which holds "
                                  "no deal values", self.column) from None  # fmt: skip
            indices = array.indices
            if indices.null_count:
                indices = pc.fill_null(indices, -1)
            codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
            self._dictionary = codes, array.dictionary
        return self._dictionary

    @property
    def codes(self) -> np.ndarray:
        return self._encoded()[0]

    @property
    def values(self) -> Sequence[Any]:
        if self._values is None:
            self._values = self._encoded()[1].to_pylist()
        return self._values

    def typed(self, type_: FieldType, scale: int) -> Column | None:
        kind = self.array.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        convert: Callable[[pa.Array], np.ndarray | None]
        if type_ is FieldType.DATE and (text or pa.types.is_date32(kind)):
            convert = lambda a: pc.cast(a, pa.date32()).cast(pa.int32()).fill_null(0).to_numpy()  # noqa: E731
        elif type_ is FieldType.INT and pa.types.is_integer(kind) and _fits_int64(self.array):
            convert = lambda a: a.cast(pa.int64()).fill_null(0).to_numpy()  # noqa: E731
        elif type_ is FieldType.BOOL and pa.types.is_boolean(kind):
            convert = lambda a: a.fill_null(False).to_numpy(zero_copy_only=False)  # noqa: E731
        elif type_ is FieldType.DECIMAL and (text or pa.types.is_decimal(kind)):
            convert = lambda a: _scaled_decimals(a, scale)  # noqa: E731
        else:
            return None
        try:
            values, null = self._converted(convert)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None  # some value is not in the type's form: checked one by one
        if values is None:
            return None
        values = values.astype(_DTYPES[type_], copy=False)
        return Column(type_, values, null, scale=scale if type_ is FieldType.DECIMAL else 0)

    def _converted(
        self, convert: Callable[[pa.Array], np.ndarray | None]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``convert`` applied to a plain column whole, or to a dictionary column's distinct
        values, spread over the rows; with the null mask (None: no nulls)."""
        array = self.array
        if not pa.types.is_dictionary(array.type):
            whole = convert(array)
            if whole is None or not array.null_count:
                return whole, None
            null = array.is_null().to_numpy(zero_copy_only=False)
            return np.where(null, 0, whole), null
        codes, dictionary = self._encoded()
        table = convert(dictionary)
        if table is None:
            return None, None
        values = np.append(table, np.zeros(1, table.dtype))[codes]
        null = (codes < 0) | np.append(dictionary.is_null().to_numpy(zero_copy_only=False), True)[
            codes
        ]
        if null.any():
            values[null] = 0
            return values, null
        return values, None


_DTYPES = {FieldType.DATE: np.int32, FieldType.INT: np.int64, FieldType.BOOL: np.bool_,
           FieldType.DECIMAL: np.int64}  # fmt: skip


def _scaled_decimals(array: pa.Array, scale: int) -> np.ndarray | None:
    """Decimal text or decimal128 values (nulls read 0) as int64 scaled by ``10**scale``, parsed
    exactly; None when one does not fit int64. Raises ArrowInvalid for a value with more places
    than ``scale`` or one that is not a number."""
    exact = pc.cast(array, pa.decimal128(38, scale))  # refuses to drop places
    if exact.null_count:
        exact = exact.fill_null(pa.scalar(0, pa.decimal128(38, scale)))
    words = np.frombuffer(exact.buffers()[1], dtype=np.int64)
    words = words[2 * exact.offset : 2 * (exact.offset + len(exact))]
    low, high = words[0::2], words[1::2]
    if not np.array_equal(high, low >> 63):  # beyond int64
        return None
    return low.copy()


class _LazyColumns(Mapping[str, Coded]):
    """Columns coded on first read, so the ones no rule reads cost nothing."""

    def __init__(self, arrays: dict[str, pa.Array]) -> None:
        self.arrays = arrays
        self.cache: dict[str, Coded] = {}

    def __getitem__(self, name: str) -> Coded:
        got = self.cache.get(name)
        if got is None:
            got = self.cache[name] = ArrowCoded(self.arrays[name], name)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)


def read_table(data: bytes) -> pa.Table:
    """The Arrow IPC stream of a request, as one table (INVALID_ARGUMENT if it is not one)."""
    try:
        with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
            table = reader.read_all()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise _refuse(f"{REQUEST_FIELD} is not an Arrow IPC stream: {exc}") from None
    if table.num_columns and any(c.num_chunks != 1 for c in table.columns):
        table = table.unify_dictionaries().combine_chunks()
    names = table.column_names
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise _refuse(f"columns named more than once: {', '.join(twice)}", twice[0])
    return table


def deal_columns_from_arrow(table: pa.Table) -> DealColumns:
    """The deals of a request table as the engine's :class:`DealColumns`."""
    arrays = {name: _single(table.column(name)) for name in table.column_names}
    ids = arrays.pop("id", None)
    if ids is None:
        raise _refuse("the deal columns need an 'id' column", "id")
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        try:
            ids = ids.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _refuse(f"column 'id' must be text, got {ids.type}", "id") from None
    n = len(ids)
    amount: np.ndarray | Coded
    given = arrays.pop("amount_minor", None)
    if given is None:
        amount = Coded(np.full(n, -1, dtype=np.int64), ())
    elif pa.types.is_integer(given.type) and not given.null_count and _fits_int64(given):
        amount = given.cast(pa.int64()).to_numpy()
    else:
        amount = ArrowCoded(given, "amount_minor")
    fields = {k: v for k, v in arrays.items() if k in _BUILT_IN}
    attributes = {k: v for k, v in arrays.items() if k not in _BUILT_IN}
    return DealColumns(ArrowStrings(ids), amount, _LazyColumns(fields), _LazyColumns(attributes))


def _single(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _fits_int64(array: pa.Array) -> bool:
    if array.type != pa.uint64() or not len(array):
        return True
    return bool(pc.max(array).as_py() < 2**63)


def _dictionary(codes: np.ndarray, values: pa.Array, mask: np.ndarray | None) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask), values)


def scores_to_arrow(
    table: pa.Table,
    batch: DealBatch,
    result: ScoreResult,
    model_version: int = 0,
) -> bytes:
    """The response stream for a scored request table (see ``ScoreDealsResponse.score_columns``)."""
    n = batch.n_deals
    invalid = None if result.valid.all() else ~result.valid
    ppm = result.win_prob_ppm
    distinct = pc.dictionary_encode(pa.array(ppm))
    texts = pa.array([str(ppm_to_decimal(p)) for p in distinct.dictionary.to_pylist()], pa.string())
    offsets, rule_codes, rule_ids = result.matched_rule_lists()
    matched = pa.ListArray.from_arrays(
        pa.array(offsets),
        _dictionary(rule_codes, pa.array(rule_ids, pa.string()), None),
    )
    model = result.prob_source == ProbSource.MODEL
    columns: dict[str, pa.Array] = {
        "deal_id": _single(table.column("id")) if "id" in table.column_names else pa.nulls(n),
        "win_prob": _dictionary(distinct.indices.to_numpy(), texts, invalid),
        "win_prob_ppm": pa.array(ppm, mask=invalid),
        "weighted_amount_minor": pa.array(result.weighted_amount_minor, mask=invalid),
        "currency": _single(table.column("currency"))
        if "currency" in table.column_names
        else pa.nulls(n, pa.string()),
        "category": _dictionary(result.category, _CATEGORIES, invalid),
        "win_prob_source": _dictionary(result.prob_source, _SOURCES, invalid),
        "matched_rules": matched,
        "model_version": pa.array(np.where(model, model_version, 0).astype(np.int64)),
        **_problem_columns(n, result),
    }
    return table_bytes(pa.table(columns))


def _problem_columns(n: int, result: ScoreResult) -> dict[str, pa.Array]:
    names = ("problem_reason", "problem_field", "problem_message")
    if not result.errors:
        return {name: pa.nulls(n, pa.string()) for name in names}
    rows = np.array([e.index for e in result.errors], dtype=np.int64)
    mask = np.ones(n, dtype=np.bool_)
    mask[rows] = False
    out = {}
    for name, values in zip(
        names,
        (
            [e.reason for e in result.errors],
            [e.field for e in result.errors],
            [e.message for e in result.errors],
        ),
        strict=True,
    ):
        index: dict[str, int] = {}
        codes = np.zeros(n, dtype=np.int32)
        codes[rows] = [index.setdefault(v, len(index)) for v in values]
        out[name] = _dictionary(codes, pa.array(list(index), pa.string()), mask)
    return out


def deals_to_arrow(deals: DealInput) -> pa.Table:
    """Plain deal values as a request table (text columns dictionary-encoded; columns nobody
    gave left out): what a bulk client sends as ``deal_columns``."""
    n = len(deals)
    columns: dict[str, pa.Array] = {
        "id": pa.array(deals.id, pa.string()),
        "amount_minor": pa.array(deals.amount_minor, pa.int64()),
    }
    for name in DEAL_COLUMNS[2:]:
        values = getattr(deals, name)
        if any(v is not None for v in values):
            array = pa.array(list(values) + [None] * (n - len(values)))
            columns[name] = array.dictionary_encode() if pa.types.is_string(array.type) else array
    for name, values in deals.attributes.items():
        columns[name] = pa.array(list(values) + [None] * (n - len(values)))
    return pa.table(columns)


def table_bytes(table: pa.Table) -> bytes:
    """A table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def table_rows(data: bytes) -> list[dict[str, Any]]:
    """The rows of an Arrow IPC stream as dicts (for callers and tests that want plain values)."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all().to_pylist()


__all__ = [
    "ArrowCoded",
    "ArrowStrings",
    "deal_columns_from_arrow",
    "deals_to_arrow",
    "read_table",
    "scores_to_arrow",
    "table_bytes",
    "table_rows",
]
