"""Deals and scores as Arrow columns: the bulk wire form of ``ScoreDeals`` (and of the deals
``ComputeForecast`` rolls up).

Ten thousand ``Deal`` messages take milliseconds to parse and ten thousand Python objects to read.
The same deals as an Arrow IPC stream are a few buffers: each column becomes the engine's coded
form (:class:`engine.forecast.deals.Coded`) in one C pass, with no step per deal, and the scores go
back the same way. Only the columns the rule set reads are encoded. The layout of both streams is
documented on ``ScoreDealsRequest.deal_columns`` and ``ScoreDealsResponse.score_columns``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.decimal_text import parse_scaled
from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import (
    DEAL_COLUMNS,
    Coded,
    DealBatch,
    DealColumns,
    DealError,
    DealInput,
)
from engine.forecast.scoring import ProbSource, ScoreResult
from engine.frame import Column, FieldType
from engine.rules.schema import CATEGORY_ORDER

REQUEST_FIELD = "deal_columns"
#: Built-in deal columns other than ``id`` and ``amount_minor`` (the rest are attributes).
_BUILT_IN = frozenset(DEAL_COLUMNS) - {"id", "amount_minor"}
_DATES = frozenset({"close_date", "created_date", "stage_entered_date"})
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


def null_mask(array: pa.Array) -> np.ndarray | None:
    """True where ``array`` is null, read from its validity bitmap (None: no nulls)."""
    if not array.null_count:
        return None
    validity = array.buffers()[0]
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)] == 0


def _fixed(array: pa.Array) -> np.ndarray:
    """The values buffer of a fixed-width array (date32, integers), zero-copy; unspecified where
    null."""
    dtype = (
        np.dtype(array.type.to_pandas_dtype()) if not pa.types.is_date32(array.type) else np.int32
    )
    return np.frombuffer(array.buffers()[1], dtype=dtype)[array.offset : array.offset + len(array)]


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
            codes = _fixed(array.indices).astype(np.int64)
            null = null_mask(array)
            if null is not None:
                codes[null] = -1
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
        if type_ is FieldType.DATE and pa.types.is_date32(kind):
            convert = _fixed
        elif type_ is FieldType.DATE and text:
            convert = lambda a: _fixed(pc.cast(a, pa.date32()))  # noqa: E731
        elif type_ is FieldType.INT and pa.types.is_integer(kind) and _fits_int64(self.array):
            convert = _fixed
        elif type_ is FieldType.BOOL and pa.types.is_boolean(kind):
            convert = lambda a: a.fill_null(False).to_numpy(zero_copy_only=False)  # noqa: E731
        elif type_ is FieldType.DECIMAL and (text or pa.types.is_decimal(kind)):
            convert = lambda a: _scaled_decimals(a, scale)  # noqa: E731
        else:
            return None
        try:
            converted = self._converted(convert, _DTYPES[type_])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None  # some value is not in the type's form: checked one by one
        if converted is None:
            return None
        values, null = converted
        return Column(type_, values, null, scale=scale if type_ is FieldType.DECIMAL else 0)

    def _converted(
        self, convert: Callable[[pa.Array], np.ndarray | None], dtype: type[np.generic]
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """``convert`` applied to a plain column whole, or to a dictionary column's distinct
        values and spread over the rows, as ``dtype`` with 0 where null; and the null mask."""
        array = self.array
        if not pa.types.is_dictionary(array.type):
            whole = convert(array)
            if whole is None:
                return None
            null = null_mask(array)
            if null is None:
                return whole.astype(dtype, copy=False), None
            values = whole.astype(dtype)  # a copy, never the request's buffer
            values[null] = 0
            return values, null
        codes, dictionary = self._encoded()
        table = convert(dictionary)
        if table is None:
            return None
        table = np.append(table.astype(dtype, copy=False), np.zeros(1, dtype))
        missing = null_mask(dictionary)
        if missing is not None:
            table[:-1][missing] = 0
            codes = np.where(np.append(missing, True)[codes], -1, codes)
        values = table[codes]
        null = codes < 0
        return (values, null) if null.any() else (values, None)


_DTYPES = {FieldType.DATE: np.int32, FieldType.INT: np.int64, FieldType.BOOL: np.bool_,
           FieldType.DECIMAL: np.int64}  # fmt: skip


def _scaled_decimals(array: pa.Array, scale: int) -> np.ndarray | None:
    """Decimal text or decimal128 values as int64 scaled by ``10**scale`` (unspecified where
    null), parsed exactly; None when one is not a plain decimal of at most ``scale`` places and
    18 digits (those are then checked value by value)."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        _, offsets_buffer, data_buffer = array.buffers()
        wide = np.int64 if pa.types.is_large_string(array.type) else np.int32
        offsets = np.frombuffer(offsets_buffer, dtype=wide)[
            array.offset : array.offset + len(array) + 1
        ]
        data = (
            np.frombuffer(data_buffer, dtype=np.uint8)
            if data_buffer is not None
            else np.zeros(0, np.uint8)
        )
        values, parsed = parse_scaled(data, offsets, null_mask(array), scale)
        return values if parsed.all() else None
    exact = pc.cast(array, pa.decimal128(38, scale))  # refuses to drop places
    words = np.frombuffer(exact.buffers()[1], dtype=np.int64)
    words = words[2 * exact.offset : 2 * (exact.offset + len(exact))]
    low, high = words[0::2], words[1::2]
    null = null_mask(exact)
    fits = high == (low >> 63)
    if not (fits if null is None else fits | null).all():  # beyond int64
        return None
    return low


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


def read_table(data: bytes, check_rows: Callable[[int], None] | None = None) -> pa.Table:
    """The Arrow IPC stream of a request, as one table (INVALID_ARGUMENT if it is not one).

    ``check_rows`` sees the rows read so far after each record batch and may refuse them (a batch
    limit), so a long stream is stopped before it is all in memory.
    """
    batches = []
    rows = 0
    try:
        with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
            schema = reader.schema
            for batch in reader:
                rows += batch.num_rows
                if check_rows is not None:
                    check_rows(rows)
                batches.append(batch)
        table = pa.Table.from_batches(batches, schema=schema)
        # The caller's buffers are read directly (offsets, indices, text): every offset and index
        # must be in bounds and all text UTF-8 before anything touches them.
        table.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise _refuse(f"{REQUEST_FIELD} is not a valid Arrow IPC stream: {exc}") from None
    if table.num_columns and any(c.num_chunks != 1 for c in table.columns):
        table = table.unify_dictionaries().combine_chunks()
    names = table.column_names
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise _refuse(f"columns named more than once: {', '.join(twice)}", twice[0])
    return table


def deal_columns_from_arrow(table: pa.Table) -> DealColumns:
    """The deals of a request table as the engine's :class:`DealColumns`."""
    arrays = {name: single(table.column(name)) for name in table.column_names}
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
    arrays.pop("team", None)  # deal teams: read by SplitCredits (service.convert_credit_arrow)
    fields = {k: v for k, v in arrays.items() if k in _BUILT_IN}
    attributes = {k: v for k, v in arrays.items() if k not in _BUILT_IN}
    return DealColumns(ArrowStrings(ids), amount, _LazyColumns(fields), _LazyColumns(attributes))


def single(column: pa.ChunkedArray) -> pa.Array:
    """A table column as one array."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _fits_int64(array: pa.Array) -> bool:
    if array.type != pa.uint64() or not len(array):
        return True
    return bool(pc.max(array).as_py() < 2**63)


def dictionary_array(
    codes: np.ndarray, values: pa.Array, mask: np.ndarray | None = None
) -> pa.Array:
    """A dictionary column from integer codes into ``values`` (null where ``mask``)."""
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
    ppm = pa.array(result.win_prob_ppm, mask=invalid)
    offsets, rule_codes, rule_ids = result.matched_rule_lists()
    rules = dictionary_array(
        rule_codes.astype(index_type(len(rule_ids))), pa.array(rule_ids, pa.string())
    )
    matched = pa.ListArray.from_arrays(pa.array(offsets), rules)
    model = result.prob_source == ProbSource.MODEL if model_version else None
    columns: dict[str, pa.Array] = {
        "deal_id": single(table.column("id")) if "id" in table.column_names else pa.nulls(n),
        "win_prob": win_prob_array(ppm),
        "win_prob_ppm": ppm,
        "weighted_amount_minor": pa.array(result.weighted_amount_minor, mask=invalid),
        "currency": _narrow(single(table.column("currency")))
        if "currency" in table.column_names
        else pa.nulls(n, pa.string()),
        "category": dictionary_array(result.category, _CATEGORIES, invalid),
        "win_prob_source": dictionary_array(result.prob_source, _SOURCES, invalid),
        "matched_rules": matched,
        # One model version per response at most: a dictionary of [0, version], a byte per deal.
        "model_version": dictionary_array(
            model.astype(np.int8) if model is not None else np.zeros(n, dtype=np.int8),
            pa.array([0, model_version], pa.int64()),
        ),
        **problem_columns(n, result.errors),
    }
    return table_bytes(pa.table(columns))


def index_type(size: int) -> type[np.signedinteger[Any]]:
    """The narrowest dictionary index for ``size`` values."""
    return np.int8 if size <= 127 else np.int16 if size <= 32767 else np.int32


def _narrow(array: pa.Array) -> pa.Array:
    """A dictionary column passed back with the narrowest indices (a byte per deal, usually)."""
    if not pa.types.is_dictionary(array.type):
        return array
    narrow = index_type(len(array.dictionary))
    if np.dtype(narrow).itemsize >= array.type.index_type.bit_width // 8:
        return array
    return pa.DictionaryArray.from_arrays(
        pa.array(_fixed(array.indices).astype(narrow), mask=null_mask(array)), array.dictionary
    )


#: An exact win probability: up to 6 places (ppm), at most 1.
WIN_PROB_TYPE = pa.decimal128(7, 6)


def win_prob_array(ppm: pa.Array) -> pa.Array:
    """Win probabilities in ppm as exact decimals (the ppm are the unscaled values)."""
    words = np.zeros(2 * len(ppm), dtype=np.int64)  # little-endian 128-bit: low word, then 0
    words[0::2] = _fixed(ppm)
    return pa.Array.from_buffers(WIN_PROB_TYPE, len(ppm), [ppm.buffers()[0], pa.py_buffer(words)])


def problem_columns(n: int, errors: Sequence[DealError]) -> dict[str, pa.Array]:
    """The problem columns of ``n`` deals: dictionary text, null for every deal without one."""
    names = ("problem_reason", "problem_field", "problem_message")
    mask = np.ones(n, dtype=np.bool_)
    if not errors:
        none = dictionary_array(np.zeros(n, dtype=np.int8), pa.array([], pa.string()), mask)
        return dict.fromkeys(names, none)
    rows = np.array([e.index for e in errors], dtype=np.int64)
    mask[rows] = False
    out = {}
    for name, values in zip(
        names,
        (
            [e.reason for e in errors],
            [e.field for e in errors],
            [e.message for e in errors],
        ),
        strict=True,
    ):
        index: dict[str, int] = {}
        found = [index.setdefault(v, len(index)) for v in values]
        codes = np.zeros(n, dtype=index_type(len(index)))
        codes[rows] = found
        out[name] = dictionary_array(codes, pa.array(list(index), pa.string()), mask)
    return out


def deals_to_arrow(deals: DealInput) -> pa.Table:
    """Plain deal values as a request table (text columns dictionary-encoded; columns nobody
    gave left out): what a bulk client sends as ``deal_columns``."""
    n = len(deals)
    columns: dict[str, pa.Array] = {
        "id": pa.array(deals.id, pa.string()),
        "amount_minor": _array(deals.amount_minor, n, pa.int64()),
    }
    for name in DEAL_COLUMNS[2:]:
        values = getattr(deals, name)
        if not any(v is not None for v in values):
            continue
        array = _array(values, n)
        if name in _DATES and pa.types.is_string(array.type):
            with contextlib.suppress(pa.ArrowInvalid):  # dates travel as dates
                array = pc.cast(pc.if_else(pc.equal(array, ""), None, array), pa.date32())
        columns[name] = array.dictionary_encode() if pa.types.is_string(array.type) else array
    for name, values in deals.attributes.items():
        array = _array(values, n)
        columns[name] = array.dictionary_encode() if _repeats(array) else array
    return pa.table(columns)


def _array(values: Sequence[Any], n: int, kind: pa.DataType | None = None) -> pa.Array:
    """One column of plain values (padded with nulls to ``n``); values of mixed kinds travel as
    text, and the server checks them as it checks any text."""
    padded = list(values) + [None] * (n - len(values))
    try:
        return pa.array(padded, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in padded], pa.string())


def _repeats(array: pa.Array) -> bool:
    """Whether a text column repeats its values enough to travel dictionary-encoded."""
    if not pa.types.is_string(array.type):
        return False
    return bool(pc.count_distinct(array).as_py() * 4 <= len(array))


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
    "REQUEST_FIELD",
    "WIN_PROB_TYPE",
    "ArrowCoded",
    "ArrowStrings",
    "deal_columns_from_arrow",
    "deals_to_arrow",
    "dictionary_array",
    "index_type",
    "null_mask",
    "problem_columns",
    "read_table",
    "scores_to_arrow",
    "single",
    "table_bytes",
    "table_rows",
    "win_prob_array",
]
