"""Forecast roll-ups: hand-computed sums by group, period and category (single and cumulative),
omitted and unscored deals left out, exact sums past float precision, and bad input refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.rollup import (
    Period,
    PeriodKind,
    Rollup,
    calendar_periods,
    exact_group_sum,
    rollup,
)
from engine.forecast.scoring import score_deals
from engine.rules.compiler import compile_rule_set
from engine.rules.schema import Category
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
Q1, Q2 = calendar_periods(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 6, 30))


def run(records: list[dict[str, Any]], group_by: list[str], periods: list[Period]) -> Rollup:
    batch = build_deal_batch(deal_input_from_records(records), RULES, keep_fields=group_by)
    return rollup(batch, score_deals(RULES, batch), group_by, periods)


def deal(stage: str, amount: int, region: str, close: str, **kw: Any) -> dict[str, Any]:
    return {"id": "x", "amount_minor": amount, "currency": "CNY", "stage": stage,
            "region": region, "close_date": close, "owner": "li.wei", **kw}  # fmt: skip


def row(r: Rollup, key: tuple[str, ...]) -> dict[str, Any]:
    i = r.keys.index(key)
    return {
        "deals": int(r.deal_count[i]),
        "open": int(r.open_count[i]),
        "won": int(r.won_count[i]),
        "pipeline": int(r.pipeline_minor[i]),
        "weighted": int(r.weighted_minor[i]),
        "closed_won": int(r.closed_won_minor[i]),
        "single": {c.value: int(v[i]) for c, v in r.category_minor.items()},
        "cumulative": {c.value: int(v[i]) for c, v in r.cumulative_minor.items()},
    }


def test_a_hand_computed_rollup() -> None:
    r = run(
        [
            deal("initial_contact", 1_000_000, "North", "2026-02-10"),  # pipeline, weighs 100,000
            deal("quote", 2_000_000, "North", "2026-03-31"),  # best case at 50 %: 1,000,000
            deal("won", 500_000, "North", "2026-01-05"),  # closed
            deal("lost", 700_000, "North", "2026-02-01"),  # omitted: left out
            deal("contract_drafted", 300_000, "North", "2026-04-01"),  # Q2
            deal("quote", 100, "South", "2026-02-02", category="omitted"),  # omitted by override
            deal("nowhere", 100, "North", "2026-02-02"),  # not scored: left out
            deal("quote", 100, "North", "2027-01-01"),  # outside every period
        ],
        ["region"],
        [Q1, Q2],
    )
    assert r.currency == "CNY" and r.group_by == ("region",)
    assert sorted(r.keys) == [("North", "2026-Q1"), ("North", "2026-Q2")]
    assert row(r, ("North", "2026-Q1")) == {
        "deals": 3, "open": 2, "won": 1,
        "pipeline": 3_000_000, "weighted": 1_100_000, "closed_won": 500_000,
        "single": {"pipeline": 1_000_000, "best_case": 2_000_000, "commit": 0, "closed": 500_000},
        "cumulative": {"pipeline": 3_500_000, "best_case": 2_500_000, "commit": 500_000,
                       "closed": 500_000},
    }  # fmt: skip
    q2 = row(r, ("North", "2026-Q2"))
    assert (q2["weighted"], q2["single"]["commit"], q2["cumulative"]["best_case"]) == (
        240_000,
        300_000,
        300_000,
    )


def test_group_by_several_fields_and_missing_values() -> None:
    r = run(
        [
            deal("quote", 10, "North", "2026-02-01", product_line="A"),
            deal("quote", 20, "North", "2026-02-01", product_line="B"),
            deal("quote", 40, "North", "2026-02-01"),
        ],
        ["region", "product_line"],
        [Q1],
    )
    assert {k: int(v) for k, v in zip(r.keys, r.pipeline_minor, strict=True)} == {
        ("North", "A", "2026-Q1"): 10,
        ("North", "B", "2026-Q1"): 20,
        ("North", "", "2026-Q1"): 40,
    }


def test_sums_are_exact_beyond_float_precision() -> None:
    big = 2**53 + 1
    key = np.array([0, 0, 1, 1, 1])
    values = np.array([big, 1, big, big, 7], dtype=np.int64)
    assert exact_group_sum(key, values, 2).tolist() == [big + 1, 2 * big + 7]


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2**60)), min_size=1, max_size=40))
def test_exact_group_sum_equals_python(pairs: list[tuple[int, int]]) -> None:
    key = np.array([k for k, _ in pairs])
    values = np.array([v for _, v in pairs], dtype=np.int64)
    expected = [0] * 6
    for k, v in pairs:
        expected[k] += v
    if max(expected) < 2**63:
        assert exact_group_sum(key, values, 6).tolist() == expected


def test_calendar_periods() -> None:
    months = calendar_periods(PeriodKind.MONTH, dt.date(2025, 11, 15), dt.date(2026, 2, 1))
    assert [p.label for p in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months[1].end == dt.date(2026, 1, 1)
    years = calendar_periods(PeriodKind.YEAR, dt.date(2026, 5, 1), dt.date(2026, 5, 1))
    assert [(p.label, p.start, p.end) for p in years] == [
        ("2026", dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    ]


def test_bad_input_is_refused_with_paths() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        run([deal("quote", 1, "North", "2026-02-01")], ["regoin"], [Q1])
    assert [v.path for v in err.value.violations] == ["group_by[0]"]
    overlapping = [Q1, Period("custom", dt.date(2026, 3, 1), dt.date(2026, 4, 15))]
    with pytest.raises(InvalidArgumentError) as err:
        run([deal("quote", 1, "North", "2026-02-01")], ["region"], overlapping)
    assert [v.reason for v in err.value.violations] == ["OVERLAPPING_PERIODS"]
    with pytest.raises(InvalidArgumentError) as err:
        run(
            [deal("quote", 1, "North", "2026-02-01"),
             deal("quote", 1, "North", "2026-02-01", currency="USD")],
            ["region"], [Q1],
        )  # fmt: skip
    assert err.value.reason == "CURRENCY_MIXTURE"
    assert Category.OMITTED not in run([], ["region"], [Q1]).category_minor


def test_small_batches_leave_out_unread_text_fields_unless_kept() -> None:
    records = [deal("quote", 1, "North", "2026-02-01", product_line="A")]
    lean = build_deal_batch(deal_input_from_records(records), RULES)
    assert "product_line" not in lean.frame and "region" in lean.frame  # region is read by rules
    with pytest.raises(InvalidArgumentError) as err:
        rollup(lean, score_deals(RULES, lean), ["product_line"], [Q1])
    assert err.value.violations[0].reason == "UNKNOWN_FIELD"
    kept = build_deal_batch(deal_input_from_records(records), RULES, keep_fields=["product_line"])
    assert kept.frame["product_line"].dictionary == ("A",)


def test_each_deal_knows_its_row() -> None:
    r = run(
        [
            deal("quote", 100, "North", "2026-02-02"),
            deal("lost", 700, "North", "2026-02-01"),  # omitted
            deal("quote", 300, "South", "2026-05-02"),
            deal("quote", 200, "North", "2026-03-02"),
        ],
        ["region"],
        [Q1, Q2],
    )
    north, south = r.keys.index(("North", "2026-Q1")), r.keys.index(("South", "2026-Q2"))
    assert r.row_of_deal.tolist() == [north, -1, south, north]
