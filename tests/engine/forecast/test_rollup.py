"""Forecast roll-ups: hand-computed sums by group, period and category (single and cumulative),
omitted and unscored deals left out, exact sums past float precision, and bad input refused; every
internal path (dense bins, numbered bins, combined group values, tiny chunks, period search)
against a deal-by-deal reference with Python ints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.forecast.rollup as rollup_module
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
from engine.forecast.scoring import ProbSource, score_deals
from engine.rules.compiler import compile_rule_set
from engine.rules.schema import CATEGORY_ORDER, Category
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


@pytest.mark.parametrize(
    ("kind", "first", "last", "count"),
    [
        (PeriodKind.MONTH, dt.date(1927, 1, 31), dt.date(2026, 12, 1), 1_200),
        (PeriodKind.MONTH, dt.date(1926, 12, 31), dt.date(2026, 12, 1), 1_201),
        (PeriodKind.QUARTER, dt.date(2026, 3, 31), dt.date(2026, 4, 1), 2),
        (PeriodKind.QUARTER, dt.date(1, 1, 1), dt.date(9998, 12, 31), 39_992),
        (PeriodKind.YEAR, dt.date(827, 6, 1), dt.date(2026, 1, 1), 1_200),
        (PeriodKind.MONTH, dt.date(1, 1, 1), dt.date(9998, 12, 31), 119_976),
    ],
)
def test_at_most_a_hundred_years_of_months(
    kind: PeriodKind, first: dt.date, last: dt.date, count: int
) -> None:
    """A range of far more periods than anyone reports on (each costs a backtest a refit) is
    refused before it is built, with the count."""
    if count <= rollup_module.MAX_PERIODS:
        assert len(calendar_periods(kind, first, last)) == count
        return
    with pytest.raises(InvalidArgumentError) as err:
        calendar_periods(kind, first, last)
    assert err.value.reason == "TOO_MANY_PERIODS"
    assert f"{count:,} periods" in err.value.message
    many = [Period(str(i), dt.date(2000, 1, 1) + dt.timedelta(days=i),
                   dt.date(2000, 1, 2) + dt.timedelta(days=i)) for i in range(1_201)]  # fmt: skip
    with pytest.raises(InvalidArgumentError) as err:
        run([], ["region"], many)
    assert err.value.reason == "TOO_MANY_PERIODS"


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


# --------------------------------------------------------------------------------------------
# The vectorised roll-up against a deal-by-deal reference, on every internal path.


def reference(batch: Any, scores: Any, group_by: list[str], periods: list[Period]) -> Any:
    """Deal by deal with Python ints: rows by key, and each deal's key (None if left out)."""
    frame = batch.frame
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    key_of: list[tuple[str, ...] | None] = []
    for i in range(frame.n_rows):
        close = frame["close_date"].python_value(i)
        label = next((p.label for p in periods if close and p.start <= close < p.end), None)
        category = CATEGORY_ORDER[int(scores.category[i])]
        if not scores.valid[i] or label is None or category is Category.OMITTED:
            key_of.append(None)
            continue
        key = (*(frame[g].python_value(i) or "" for g in group_by), label)
        key_of.append(key)
        r = rows.setdefault(key, {"deals": 0, "open": 0, "won": 0, "pipeline": 0, "weighted": 0,
                                  "closed_won": 0, "single": dict.fromkeys(REPORTED_VALUES, 0)})  # fmt: skip
        amount = int(frame["amount_minor"].values[i])
        closed = int(scores.prob_source[i]) == ProbSource.CLOSED_STAGE
        won = closed and int(scores.win_prob_ppm[i]) == 1_000_000
        r["deals"] += 1
        r["single"][category.value] += amount
        if not closed:
            r["open"] += 1
            r["pipeline"] += amount
            r["weighted"] += int(scores.weighted_amount_minor[i])
        if won:
            r["won"] += 1
            r["closed_won"] += amount
    for r in rows.values():
        s = r["single"]
        r["cumulative"] = {
            "pipeline": s["pipeline"] + s["best_case"] + s["commit"] + s["closed"],
            "best_case": s["best_case"] + s["commit"] + s["closed"],
            "commit": s["commit"] + s["closed"],
            "closed": s["closed"],
        }
    return rows, key_of


REPORTED_VALUES = ("pipeline", "best_case", "commit", "closed")


@contextmanager
def engine_path(name: str) -> Iterator[None]:
    """Force one of the roll-up's internal paths (they must all agree with the reference)."""
    patches = {
        "dense": {},
        "numbered": {"_DENSE_MAX": 0},
        "combined": {"_COMBINE_AT": 0},
        "tiny chunks": {"_chunk_size": lambda n_bins: 3, "_CHUNK": 5},
        "period search": {"_LUT_MAX": 0},
    }[name]
    with ExitStack() as stack:
        for attr, value in patches.items():
            stack.enter_context(mock.patch.object(rollup_module, attr, value))
        yield


PATHS = ("dense", "numbered", "combined", "tiny chunks", "period search")


def check_against_reference(
    batch: Any, scores: Any, group_by: list[str], periods: list[Period], path: str
) -> Rollup:
    rows, key_of = reference(batch, scores, group_by, periods)
    with engine_path(path):
        r = rollup(batch, scores, group_by, periods)
    assert {k: row(r, k) for k in r.keys} == rows, path
    assert [r.keys[j] if j >= 0 else None for j in r.row_of_deal.tolist()] == key_of, path
    # rows come in the order of the group values' codes, then of the periods
    order = {p.label: i for i, p in enumerate(periods)}
    codes = [
        (*(batch.frame[g].dictionary.index(v) if v else -1 for g, v in zip(group_by, k[:-1],
                                                                             strict=True)),
         order[k[-1]])
        for k in r.keys
    ]  # fmt: skip
    assert codes == sorted(codes), path
    return r


STAGES = ["initial_contact", "needs_confirmed", "quote", "contract_drafted", "won", "lost", "bad"]
deal_records = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.just("d"),
            "stage": st.sampled_from(STAGES),
            "amount_minor": st.one_of(st.integers(0, 10**9), st.integers(0, 9 * 10**16)),
            "currency": st.sampled_from(["CNY", "CNY", "CNY", "XXX"]),  # XXX: not scored
            "region": st.sampled_from(["North", "South", "East", None]),
            "product_line": st.sampled_from(["A", "B", None]),
            "owner": st.sampled_from(["li", "wang", "zhao", None]),
            "close_date": st.one_of(st.none(), st.dates(dt.date(2025, 11, 1), dt.date(2027, 2, 1))),
            "category": st.sampled_from([None, None, None, "commit", "omitted", "closed"]),
            "win_prob": st.sampled_from([None, None, "0.25", "1", "0"]),
        }
    ),
    max_size=30,
)
period_sets = st.sampled_from(
    [
        calendar_periods(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        calendar_periods(PeriodKind.MONTH, dt.date(2026, 3, 1), dt.date(2026, 8, 1)),
        [Period("H1", dt.date(2026, 7, 1), dt.date(2027, 1, 1)),
         Period("early", dt.date(1969, 6, 1), dt.date(2026, 2, 1))],  # before 1970 too
    ]
)  # fmt: skip
group_bys = st.sampled_from([[], ["region"], ["owner", "product_line"], ["product_line", "region"]])


@settings(max_examples=40, deadline=None)
@given(deal_records, group_bys, period_sets)
def test_every_path_equals_the_deal_by_deal_reference(
    records: list[dict[str, Any]], group_by: list[str], periods: list[Period]
) -> None:
    batch = build_deal_batch(deal_input_from_records(records), RULES, keep_fields=group_by)
    scores = score_deals(RULES, batch)
    for path in PATHS:
        check_against_reference(batch, scores, group_by, periods, path)


def test_sums_past_float_precision_in_a_rollup() -> None:
    big = 9 * 10**16 - 1  # the largest CNY amount the deal reader takes is about 9.2e16
    records = [deal("initial_contact", big, "North", "2026-02-01") for _ in range(3)]
    records += [deal("initial_contact", 1, "North", "2026-02-01"), deal("won", big, "North",
                                                                          "2026-03-01")]  # fmt: skip
    batch = build_deal_batch(deal_input_from_records(records), RULES)
    scores = score_deals(RULES, batch)
    for path in PATHS:
        r = check_against_reference(batch, scores, ["region"], [Q1], path)
        assert int(r.pipeline_minor[0]) == 3 * big + 1
        assert int(r.cumulative_minor[Category.PIPELINE][0]) == 4 * big + 1


def test_many_deals_in_many_chunks() -> None:
    rng = np.random.default_rng(5)
    n = 3_000
    records = [
        deal(str(s), int(a), str(g), f"2026-{m:02d}-{d:02d}")
        for s, a, g, m, d in zip(
            rng.choice(STAGES[:6], n), rng.integers(0, 10**15, n),
            rng.choice(["North", "South", "East", "West"], n), rng.integers(1, 13, n),
            rng.integers(1, 29, n), strict=True,
        )
    ]  # fmt: skip
    batch = build_deal_batch(deal_input_from_records(records), RULES)
    scores = score_deals(RULES, batch)
    months = calendar_periods(PeriodKind.MONTH, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    with mock.patch.object(rollup_module, "_CHUNK", 256):
        for path in ("dense", "numbered"):
            check_against_reference(batch, scores, ["region"], months, path)


def test_one_currency_among_the_kept_deals_is_not_a_mixture() -> None:
    r = run(
        [
            deal("quote", 100, "North", "2026-02-02"),
            deal("lost", 700, "North", "2026-02-01", currency="USD"),  # omitted: not rolled up
            deal("quote", 5, "North", "2027-02-01", currency="EUR"),  # outside the periods
            deal("quote", 5, "North", "2026-02-01", currency="XXX"),  # not scored
        ],
        ["region"],
        [Q1],
    )
    assert r.currency == "CNY" and r.keys == [("North", "2026-Q1")]
    assert r.row_of_deal.tolist() == [0, -1, -1, -1]


def test_amounts_too_large_to_sum_are_refused() -> None:
    records = [deal("quote", 9 * 10**16, "North", "2026-02-01") for _ in range(60)]
    with pytest.raises(InvalidArgumentError) as err:
        run(records, ["region"], [Q1])
    assert err.value.reason == "AMOUNT_TOO_LARGE"


def test_exact_group_sum_in_runs_and_limbs() -> None:
    rng = np.random.default_rng(11)
    for top in (2**39, 2**47, 2**62):  # runs of 2**53 // top values, then limbs
        values = rng.integers(-top, top, 20_000, dtype=np.int64)
        key = rng.integers(0, 7, 20_000)
        expected = [0] * 7
        for k, v in zip(key.tolist(), values.tolist(), strict=True):
            expected[k] += v
        if max(map(abs, expected)) < 2**63:
            assert exact_group_sum(key, values, 7).tolist() == expected
        else:
            with pytest.raises(OverflowError):
                exact_group_sum(key, values, 7)


def test_exact_group_sum_refuses_to_wrap() -> None:
    with pytest.raises(OverflowError):
        exact_group_sum(np.zeros(3, dtype=np.int64), np.full(3, 2**62, dtype=np.int64), 1)
    assert exact_group_sum(
        np.zeros(2, dtype=np.int64), np.array([2**62, 2**62 - 1]), 1
    ).tolist() == [2**63 - 1]
