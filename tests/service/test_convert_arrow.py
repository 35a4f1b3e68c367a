"""Deals as Arrow columns: whatever encoding a client picks (plain or dictionary text, date32 or
text dates, decimal text or decimal128, nulls anywhere), each deal reads as it does from plain
values; the scores come back as columns; a stream that is not one is refused whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.forecast.deals import (
    build_deal_batch,
    build_deal_batch_columns,
    deal_input_from_records,
)
from engine.forecast.scoring import score_deals
from engine.rules.compiler import compile_rule_set
from service.convert_arrow import (
    deal_columns_from_arrow,
    deals_to_arrow,
    read_table,
    scores_to_arrow,
    table_bytes,
    table_rows,
)
from tests.conftest import EXAMPLES
from tests.engine.forecast.test_deals import per_deal

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))

# Per column: the values, and the Arrow types a client may send them as.
COLUMNS: dict[str, tuple[Any, list[pa.DataType]]] = {
    "amount_minor": (st.one_of(st.none(), st.integers(-5, 10**15)), [pa.int64(), pa.uint32()]),
    "currency": (st.sampled_from(["CNY", "JPY", "XXX", "", None]), [pa.string()]),
    "stage": (
        st.sampled_from(["quote", "won", "initial_contact", "nope", "", None]),
        [pa.string()],
    ),
    "win_prob": (st.sampled_from([None, "", "0.25", "1.5", "abc", "0.1234567"]), [pa.string()]),
    "category": (st.sampled_from([None, "", "commit", "closed", "nope"]), [pa.string()]),
    "close_date": (
        st.sampled_from([None, dt.date(2026, 3, 31), dt.date(2027, 1, 2)]),
        [pa.date32(), pa.string()],
    ),
    "region": (st.sampled_from([None, "", "East", "东部"]), [pa.string(), pa.large_string()]),
    "owner": (st.sampled_from([None, "li.wei", "wang.fang"]), [pa.string()]),
    "discount_pct": (
        st.one_of(
            st.none(),
            st.decimals(0, 100, places=2, allow_nan=False),
            st.sampled_from([Decimal("1.234"), Decimal("12")]),
        ),
        [pa.string(), pa.decimal128(9, 3)],
    ),
    "visits": (st.one_of(st.none(), st.integers(0, 10**6)), [pa.int64(), pa.int8()]),
    "industry": (st.sampled_from([None, "energy", ""]), [pa.string()]),
}


def as_arrow(values: list[Any], kind: pa.DataType, dictionary: bool) -> pa.Array:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    if pa.types.is_integer(kind):
        info = np.iinfo(kind.to_pandas_dtype())
        values = [v if v is None or info.min <= v <= info.max else None for v in values]
    array = pa.array(values, kind)
    return array.dictionary_encode() if dictionary else array


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, list[dict[str, Any]]]:
    n = draw(st.integers(17, 40))
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), unique=True, min_size=2))
    arrays: dict[str, pa.Array] = {"id": pa.array([f"d{i}" for i in range(n)])}
    records: list[dict[str, Any]] = [{"id": f"d{i}"} for i in range(n)]
    for name in names:
        strategy, kinds = COLUMNS[name]
        kind = draw(st.sampled_from(kinds))
        dictionary = draw(st.booleans()) and not pa.types.is_decimal(kind)
        array = as_arrow(draw(st.lists(strategy, min_size=n, max_size=n)), kind, dictionary)
        arrays[name] = array
        for r, v in zip(records, array.to_pylist(), strict=True):
            r[name] = v
    return pa.table(arrays), records


@settings(max_examples=80, deadline=None)
@given(tables())
def test_each_deal_reads_from_columns_as_from_plain_values(
    given_table: tuple[pa.Table, list[dict[str, Any]]],
) -> None:
    table, records = given_table
    from_columns = build_deal_batch_columns(
        deal_columns_from_arrow(read_table(table_bytes(table))), RULES
    )
    from_values = build_deal_batch(deal_input_from_records(records), RULES)
    for i, r in enumerate(records):
        assert per_deal(from_columns, i) == per_deal(from_values, i), r
    assert list(from_columns.ids) == [r["id"] for r in records]


def test_the_scores_come_back_as_columns_in_request_order() -> None:
    records = [
        {"id": "a", "amount_minor": 100_000_000, "currency": "CNY", "stage": "initial_contact"},
        {"id": "b", "amount_minor": 100_000_000, "currency": "CNY", "stage": "quote",
         "discount_pct": "35.5"},
        {"id": "c", "amount_minor": 5, "currency": "CNY", "stage": "nope"},
    ] * 7  # fmt: skip
    deals = deal_input_from_records(records)
    table = read_table(table_bytes(deals_to_arrow(deals)))
    batch = build_deal_batch_columns(deal_columns_from_arrow(table), RULES)
    rows = table_rows(scores_to_arrow(table, batch, score_deals(RULES, batch)))
    expected = score_deals(RULES, build_deal_batch(deals, RULES))
    assert [r["deal_id"] for r in rows] == [r["id"] for r in records]
    assert rows[0]["win_prob"] == Decimal("0.1") and rows[0]["weighted_amount_minor"] == 10_000_000
    assert rows[0]["category"] == "pipeline" and rows[0]["win_prob_source"] == "stage"
    assert rows[1]["win_prob"] == Decimal("0.4") and rows[1]["win_prob_source"] == "override"
    assert rows[1]["matched_rules"] == ["win_rates.overrides.by_region_and_size/deep_discount"]
    assert rows[2]["problem_reason"] == "UNKNOWN_STAGE" and rows[2]["problem_field"] == "stage"
    assert rows[2]["win_prob"] is None and rows[2]["weighted_amount_minor"] is None
    assert rows[0]["problem_reason"] is None
    for i, row in enumerate(rows):
        assert row["matched_rules"] == expected.matched_rules(i)
        if expected.valid[i]:
            assert row["win_prob_ppm"] == expected.win_prob_ppm[i]
            assert row["weighted_amount_minor"] == expected.weighted_amount_minor[i]


def refusal(data: bytes) -> tuple[str, str]:
    with pytest.raises(InvalidArgumentError) as err:
        deal_columns_from_arrow(read_table(data))
    (violation,) = err.value.violations
    return violation.path, violation.reason


def test_a_stream_that_is_not_arrow_is_refused() -> None:
    assert refusal(b"not arrow at all") == ("deal_columns", "INVALID_DEAL_COLUMNS")


def test_buffers_out_of_order_or_not_utf8_are_refused_before_they_are_read() -> None:
    """A stream whose structure reads fine but whose offsets go backwards, or whose text is not
    UTF-8, is refused whole: the columns are read buffer by buffer, so nothing unchecked may
    reach them."""
    backwards = pa.Array.from_buffers(
        pa.string(), 2, [None, pa.py_buffer(np.array([0, 8, 5], np.int32).tobytes()),
                         pa.py_buffer(b"0123456789")])  # fmt: skip
    not_utf8 = pa.Array.from_buffers(
        pa.string(), 1, [None, pa.py_buffer(np.array([0, 2], np.int32).tobytes()),
                         pa.py_buffer(b"\xff\xfe")])  # fmt: skip
    for table in (
        pa.table({"id": ["a", "b"], "discount_pct": backwards}),
        pa.table({"id": not_utf8}),
    ):
        assert refusal(table_bytes(table)) == ("deal_columns", "INVALID_DEAL_COLUMNS")


def test_columns_without_ids_or_named_twice_are_refused() -> None:
    no_id = pa.table({"stage": ["quote"], "amount_minor": [1]})
    assert refusal(table_bytes(no_id)) == ("deal_columns.id", "INVALID_DEAL_COLUMNS")
    twice = pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], names=["id", "id"])
    assert refusal(table_bytes(twice)) == ("deal_columns.id", "INVALID_DEAL_COLUMNS")


def test_a_column_of_a_type_that_holds_no_deal_values_is_refused_by_name() -> None:
    table = pa.table(
        {
            "id": ["a"] * 20,
            "amount_minor": [1] * 20,
            "currency": ["CNY"] * 20,
            "stage": ["quote"] * 20,
            "region": pa.array([{"x": 1}] * 20),
        }
    )
    deals = deal_columns_from_arrow(read_table(table_bytes(table)))
    with pytest.raises(InvalidArgumentError) as err:
        build_deal_batch_columns(deals, RULES)
    assert err.value.violations[0].path == "deal_columns.region"


def test_several_record_batches_read_as_one_table() -> None:
    first = deals_to_arrow(
        deal_input_from_records([{"id": "a", "amount_minor": 1, "currency": "CNY",
                                  "stage": "quote"}])
    )  # fmt: skip
    second = deals_to_arrow(
        deal_input_from_records([{"id": "b", "amount_minor": 2, "currency": "JPY",
                                  "stage": "won"}])
    )  # fmt: skip
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, first.schema) as writer:
        writer.write_table(first)
        writer.write_table(second.cast(first.schema))
    table = read_table(sink.getvalue().to_pybytes())
    batch = build_deal_batch_columns(deal_columns_from_arrow(table), RULES)
    assert list(batch.ids) == ["a", "b"] and batch.valid.all()
    assert batch.frame["currency"].python_value(1) == "JPY"
