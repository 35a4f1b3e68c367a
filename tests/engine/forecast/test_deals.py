"""Reading deals: a big batch (checked once per distinct value of each column, the coded path
that Arrow columns take too) finds the same values and the same problems as each deal read alone
(checked value by value)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.forecast.deals import (
    DEAL_COLUMNS,
    Coded,
    DealBatch,
    DealColumns,
    build_deal_batch,
    build_deal_batch_columns,
    deal_columns,
    deal_input_from_columns,
    deal_input_from_records,
)
from engine.frame import SMALL_BATCH, FieldType, Row, RowFrame
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))

# Good values mostly, with every kind of bad one the per-deal checks know.
values = {
    "amount_minor": st.one_of(
        st.integers(0, 10**12),
        st.sampled_from([None, -5, "700", "x", 2**63, 1.5, True, 9 * 10**18]),
    ),
    "currency": st.sampled_from(["CNY", "JPY", "USD", "XXX", "", None, 7]),
    "stage": st.sampled_from(["quote", "won", "initial_contact", "negotiation", "", None]),
    "win_prob": st.sampled_from([None, "", "0.25", "1.5", "abc", "0.1234567", Decimal("0.3")]),
    "category": st.sampled_from([None, "", "commit", "closed", "nope"]),
    "close_date": st.sampled_from([None, "", "2026-03-31", "2026-13-01", dt.date(2026, 1, 2)]),
    "region": st.sampled_from([None, "", "East", "东部", 5]),
    "owner": st.sampled_from([None, "li.wei", "wang.fang"]),
    "discount_pct": st.sampled_from([None, "35.5", "12", "1.234", "x", 3.5, Decimal("40")]),
    "visits": st.sampled_from([None, 3, "4", "2.5", True]),
    "industry": st.sampled_from([None, "energy", 1]),
}
record = st.fixed_dictionaries({"id": st.just("d")}, optional=values)


def per_deal(batch: DealBatch, i: int) -> tuple[Any, ...]:
    """Everything a batch says about deal ``i``: problem, stage, manual probability, override and
    (for a valid deal) the value of every column."""
    errors = [(e.field, e.reason, e.message) for e in batch.errors if e.index == i]
    if not batch.valid[i]:
        return (False, errors, None)
    columns = {
        name: batch.frame[name].python_value(i)
        for name in sorted(batch.frame.columns)
        if name
        not in (
            "created_date",
            "stage_entered_date",
            "product_line",
            "customer_tier",
            "source",
        )  # small batches leave out the text no rule reads
    }
    return (
        True,
        errors,
        int(batch.stage_idx[i]),
        int(batch.manual_win_ppm[i]),
        int(batch.category_override[i]),
        columns,
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(record, min_size=SMALL_BATCH + 1, max_size=60))
def test_a_big_batch_reads_each_deal_as_it_would_alone(records: list[dict[str, Any]]) -> None:
    batch = build_deal_batch(deal_input_from_records(records), RULES)
    for i, r in enumerate(records):
        alone = build_deal_batch(deal_input_from_records([r]), RULES)
        in_batch, by_itself = per_deal(batch, i), per_deal(alone, 0)
        assert in_batch[:-1] == by_itself[:-1], r
        if by_itself[0]:  # a lone deal's frame leaves out what no rule reads; the rest agrees
            assert by_itself[-1].items() <= in_batch[-1].items(), r


@settings(max_examples=80, deadline=None)
@given(st.lists(record, min_size=2, max_size=SMALL_BATCH))
def test_one_deal_is_a_row_of_what_a_small_batch_reads(records: list[dict[str, Any]]) -> None:
    """A lone deal is held as a row of scalars (what one-deal scoring reads): its checks and
    values are those the same deal gets in a small batch, and its columns, built on demand,
    hold the same row."""
    batch = build_deal_batch(deal_input_from_records(records), RULES)
    for i, r in enumerate(records):
        alone = build_deal_batch(deal_input_from_records([r]), RULES)
        assert isinstance(alone.frame, RowFrame)
        assert per_deal(alone, 0) == per_deal(batch, i), r
        row = alone.frame.one
        assert set(row.types) == set(batch.frame.columns)
        again = Row.of_frame(alone.frame, 0)
        assert (again.values, again.types) == (row.values, row.types)


@settings(max_examples=40, deadline=None)
@given(st.lists(record, min_size=1, max_size=30))
def test_coded_deals_give_back_their_plain_values(records: list[dict[str, Any]]) -> None:
    plain = deal_input_from_records(records)
    back = deal_input_from_columns(deal_columns(plain))
    n = len(records)
    # A column of None alone comes back as a column not given (an empty list).
    for name in ("id", "amount_minor", *DEAL_COLUMNS[2:]):
        assert padded(getattr(back, name), n) == padded(getattr(plain, name), n), name
    for name, values in plain.attributes.items():
        assert padded(back.attributes.get(name, []), n) == values, name
    a = build_deal_batch(plain, RULES)
    b = build_deal_batch(back, RULES)
    assert [per_deal(a, i) for i in range(n)] == [per_deal(b, i) for i in range(n)]


def padded(values: list[Any], n: int) -> list[Any]:
    return values + [None] * (n - len(values))


class Given(Coded):
    """A coded column that also gives its typed values (as an Arrow column can)."""

    def __init__(self, codes: np.ndarray, values: list[Any], typed: Any) -> None:
        super().__init__(codes, values)
        self.given = typed

    def typed(self, type_: FieldType, scale: int) -> Any:
        return self.given


def test_typed_values_are_taken_whole_and_strings_by_their_codes() -> None:
    from engine.frame import Column

    n = SMALL_BATCH + 2
    discount = Column(FieldType.DECIMAL, np.full(n, 3550, dtype=np.int64), scale=2)
    deals = DealColumns(
        ids=[f"d{i}" for i in range(n)],
        amount_minor=np.full(n, 100_000_000, dtype=np.int64),
        fields={
            "currency": Coded(np.zeros(n, dtype=np.int64), ["CNY"]),
            "stage": Coded(np.arange(n, dtype=np.int64) % 2, ["quote", "won"]),
            "region": Coded(np.where(np.arange(n) % 3 == 0, -1, 1), ["", "North"]),
        },
        attributes={"discount_pct": Given(np.zeros(n, dtype=np.int64), ["35.5"], discount)},
    )
    batch = build_deal_batch_columns(deals, RULES)
    assert batch.valid.all()
    assert batch.frame["discount_pct"] is discount
    region = batch.frame["region"]
    assert [region.python_value(i) for i in range(3)] == [None, "North", "North"]
    assert batch.stage_idx.tolist()[:2] == [RULES.stage_index["quote"], RULES.stage_index["won"]]


def test_a_dictionary_that_repeats_a_value_is_read_by_value() -> None:
    n = SMALL_BATCH + 1
    deals = DealColumns(
        ids=["d"] * n,
        amount_minor=np.ones(n, dtype=np.int64),
        fields={
            "currency": Coded(np.zeros(n, dtype=np.int64), ["CNY"]),
            "stage": Coded(np.zeros(n, dtype=np.int64), ["quote"]),
            "region": Coded(np.arange(n, dtype=np.int64) % 2, ["East", "East"]),
        },
    )
    region = build_deal_batch_columns(deals, RULES).frame["region"]
    assert region.dictionary == ("East",) and set(region.values.tolist()) == {0}
