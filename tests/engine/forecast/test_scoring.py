"""Deal scoring: the seed example, overrides, manual probabilities, categories, per-deal problems,
exact half-even rounding, and property tests against a per-deal reference of the sample rules."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.scoring import ProbSource, ScoreResult, score_deals
from engine.rules.compiler import CompiledRuleSet, compile_rule_set
from engine.rules.schema import CATEGORY_ORDER
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
STAGES = list(RULES.stage_ids)
MILLION_CNY = 100_000_000  # 1,000,000.00 in minor units


def score(records: list[dict[str, Any]], rules: CompiledRuleSet = RULES) -> ScoreResult:
    return score_deals(rules, build_deal_batch(deal_input_from_records(records), rules))


def deal(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "d",
        "amount_minor": MILLION_CNY,
        "currency": "CNY",
        "stage": "initial_contact",
    }
    return {**base, **kw}


def category(result: ScoreResult, i: int) -> str:
    return CATEGORY_ORDER[int(result.category[i])].value


def test_the_seed_example_weighs_the_deal_by_its_stage() -> None:
    r = score([deal(), deal(stage="won"), deal(stage="lost"), deal(stage="needs_confirmed")])
    assert r.weighted_amount_minor.tolist() == [10_000_000, 100_000_000, 0, 30_000_000]
    assert r.win_prob_ppm.tolist() == [100_000, 1_000_000, 0, 300_000]
    assert [category(r, i) for i in range(4)] == ["pipeline", "closed", "omitted", "pipeline"]
    assert r.prob_source.tolist() == [
        ProbSource.STAGE,
        ProbSource.CLOSED_STAGE,
        ProbSource.CLOSED_STAGE,
        ProbSource.STAGE,
    ]
    assert r.errors == [] and r.valid.all()


def test_the_first_override_row_that_matches_decides_and_is_named() -> None:
    r = score(
        [
            deal(stage="quote", amount_minor=800_000_000),  # 8,000,000.00: large quote
            deal(stage="quote", amount_minor=5_000_000, region="East"),  # 50,000.00 East
            deal(stage="quote", amount_minor=5_000_000, region="West"),
            deal(stage="contract_drafted", discount_pct="35.5"),
            deal(stage="quote", amount_minor=800_000_000, discount_pct="35.5"),
        ]
    )
    assert r.win_prob_ppm.tolist() == [350_000, 600_000, 500_000, 400_000, 350_000]
    assert r.matched_rules(0) == ["win_rates.overrides.by_region_and_size/large_quote"]
    assert r.matched_rules(2) == ["categories.forecast_category/best_case_when_even"]
    # Under hit policy "first" only the deciding row is reported, not later rows that also match.
    assert r.matched_rules(4) == ["win_rates.overrides.by_region_and_size/large_quote"]
    assert r.prob_source.tolist()[:3] == [ProbSource.OVERRIDE, ProbSource.OVERRIDE, 0]
    assert r.matched_rules_all() == [r.matched_rules(i) for i in range(5)]


def test_a_manual_probability_wins_except_on_closed_stages() -> None:
    r = score(
        [
            deal(win_prob="0.25"),
            deal(stage="quote", amount_minor=800_000_000, win_prob="0.9"),
            deal(stage="won", win_prob="0.2"),
        ]
    )
    assert r.win_prob_ppm.tolist() == [250_000, 900_000, 1_000_000]
    assert r.prob_source.tolist() == [
        ProbSource.MANUAL,
        ProbSource.MANUAL,
        ProbSource.CLOSED_STAGE,
    ]
    assert r.matched_rules(1) == ["categories.forecast_category/commit_when_likely"]
    assert category(r, 1) == "commit"


def test_a_category_override_wins_but_closed_is_for_won_deals_only() -> None:
    r = score(
        [
            deal(category="commit"),
            deal(stage="won", category="omitted"),
            deal(category="closed"),
            deal(stage="won", category="pipeline"),
        ]
    )
    assert [category(r, i) for i in range(2)] == ["commit", "omitted"]
    assert [(e.index, e.reason) for e in r.errors] == [
        (2, "CATEGORY_NOT_ALLOWED"),
        (3, "CATEGORY_NOT_ALLOWED"),
    ]
    assert r.valid.tolist() == [True, True, False, False]


def test_bad_deals_are_reported_one_by_one_and_the_rest_are_scored() -> None:
    r = score(
        [
            deal(stage="nowhere"),
            deal(currency="XXX"),
            deal(amount_minor=-1),
            deal(amount_minor="12x"),
            deal(win_prob="1.5"),
            deal(win_prob="0.1234567"),
            deal(category="maybe"),
            deal(close_date="2026-02-30"),
            deal(discount_pct="1.234"),
            deal(stage=""),
            deal(),
        ]
    )
    assert [(e.index, e.field, e.reason) for e in r.errors] == [
        (0, "stage", "UNKNOWN_STAGE"),
        (1, "currency", "UNKNOWN_CURRENCY"),
        (2, "amount_minor", "NEGATIVE_AMOUNT"),
        (3, "amount_minor", "INVALID_AMOUNT"),
        (4, "win_prob", "INVALID_WIN_PROB"),
        (5, "win_prob", "INVALID_WIN_PROB"),
        (6, "category", "UNKNOWN_CATEGORY"),
        (7, "close_date", "INVALID_DATE"),
        (8, "attributes.discount_pct", "INVALID_ATTRIBUTE"),
        (9, "stage", "MISSING_FIELD"),
    ]
    assert "initial_contact" in r.errors[0].message  # lists the stages there are
    assert r.valid.tolist() == [False] * 10 + [True]
    assert r.weighted_amount_minor.tolist() == [0] * 10 + [10_000_000]


def test_currencies_keep_their_own_minor_units() -> None:
    # The override compares `amount` in major units: 5,000,000 JPY (no minor digits) is large,
    # 5,000,000 minor units of CNY (50,000.00) is not.
    r = score(
        [
            deal(stage="quote", currency="JPY", amount_minor=5_000_000),
            deal(stage="quote", currency="CNY", amount_minor=5_000_000, region="West"),
            deal(stage="quote", currency="KWD", amount_minor=5_000_000_000),  # 5,000,000.000
        ]
    )
    assert r.win_prob_ppm.tolist() == [350_000, 500_000, 350_000]


def test_weighted_amounts_round_half_even() -> None:
    r = score([deal(amount_minor=a, win_prob="0.5") for a in (1, 3, 5, 15, 25)])
    # 0.5, 1.5, 2.5, 7.5, 12.5 rounded half to even
    assert r.weighted_amount_minor.tolist() == [0, 2, 2, 8, 12]


def test_huge_amounts_are_exact() -> None:
    big = 900_000_000_000_007  # amount x rate is past what a float holds exactly
    r = score([deal(amount_minor=big, currency="JPY", win_prob="0.333333", stage="quote")])
    assert r.valid.all()
    expected = (Decimal(big) * Decimal("0.333333")).quantize(Decimal(1), ROUND_HALF_EVEN)
    assert int(r.weighted_amount_minor[0]) == int(expected)


def test_amounts_past_the_exact_range_are_refused_per_deal() -> None:
    # `amount` keeps 4 places in int64, so 922,337,203,685,477 JPY is the largest amount there is.
    largest = (2**63 - 1) // 10**4
    r = score(
        [
            deal(amount_minor=largest + 1, currency="JPY"),
            deal(amount_minor=largest, currency="JPY"),
        ]
    )
    assert [(e.index, e.reason) for e in r.errors] == [(0, "AMOUNT_TOO_LARGE")]
    assert r.valid.tolist() == [False, True]
    tenth = (Decimal(largest) * Decimal("0.1")).quantize(Decimal(1), ROUND_HALF_EVEN)
    assert int(r.weighted_amount_minor[1]) == int(tenth)


def test_an_empty_batch_scores_to_nothing() -> None:
    r = score([])
    assert r.weighted_amount_minor.shape == (0,) and r.errors == []


# --- property tests: vectorised scoring equals a per-deal reference of the sample rules ---------

RATES = {
    "initial_contact": "0.10",
    "needs_confirmed": "0.30",
    "quote": "0.50",
    "contract_drafted": "0.80",
    "won": "1",
    "lost": "0",
}
DEFAULT_CATEGORY = {
    "initial_contact": "pipeline",
    "needs_confirmed": "pipeline",
    "quote": "best_case",
    "contract_drafted": "commit",
    "won": "closed",
    "lost": "omitted",
}


def reference(d: dict[str, Any]) -> tuple[Decimal, int, str]:
    """The sample rule set, written out by hand for one deal (CNY and JPY only)."""
    stage = d["stage"]
    amount = Decimal(d["amount_minor"]).scaleb(-2 if d["currency"] == "CNY" else 0)
    discount = d.get("discount_pct")
    rate = Decimal(RATES[stage])
    closed = stage in ("won", "lost")
    if not closed and d.get("win_prob") is not None:
        rate = Decimal(d["win_prob"])
    elif not closed:
        if stage == "quote" and amount >= 5_000_000:
            rate = Decimal("0.35")
        elif stage == "contract_drafted" and amount >= 5_000_000:
            rate = Decimal("0.65")
        elif stage == "quote" and d.get("region") == "East" and 0 <= amount < 100_000:
            rate = Decimal("0.60")
        elif stage in ("quote", "contract_drafted") and Decimal(discount or 0) > 30:
            rate = Decimal("0.40")
    cat = DEFAULT_CATEGORY[stage]
    if not closed:
        if rate >= Decimal("0.8"):
            cat = "commit"
        elif rate >= Decimal("0.5"):
            cat = "best_case"
    weighted = (Decimal(d["amount_minor"]) * rate).quantize(Decimal(1), ROUND_HALF_EVEN)
    return rate, int(weighted), cat


deals_strategy = st.fixed_dictionaries(
    {
        "id": st.just("x"),
        "amount_minor": st.one_of(
            st.integers(0, 10**9),
            st.integers(0, 9 * 10**14),
            st.sampled_from([0, 10**7, 5 * 10**8]),
        ),
        "currency": st.sampled_from(["CNY", "JPY"]),
        "stage": st.sampled_from(STAGES),
    },
    optional={
        "region": st.sampled_from(["East", "West", "North", "东部"]),
        "discount_pct": st.one_of(
            st.none(), st.decimals(0, 100, places=2, allow_nan=False).map(str)
        ),
        "win_prob": st.decimals(0, 1, places=6, allow_nan=False).map(str),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(deals_strategy, max_size=40))
def test_vectorised_scoring_equals_the_per_deal_reference(records: list[dict[str, Any]]) -> None:
    r = score(records)
    assert r.valid.all(), r.errors
    for i, d in enumerate(records):
        rate, weighted, cat = reference(d)
        assert int(r.win_prob_ppm[i]) == int(rate * 1_000_000), d
        assert int(r.weighted_amount_minor[i]) == weighted, d
        assert category(r, i) == cat, d


@settings(max_examples=40, deadline=None)
@given(st.lists(deals_strategy, min_size=1, max_size=20))
def test_a_batch_scores_each_deal_as_it_would_alone(records: list[dict[str, Any]]) -> None:
    batch = score(records)
    for i, d in enumerate(records):
        alone = score([d])
        for name in ("win_prob_ppm", "weighted_amount_minor", "category", "prob_source"):
            assert getattr(batch, name)[i] == getattr(alone, name)[0], (name, d)
        assert batch.matched_rules(i) == alone.matched_rules(0)


@pytest.mark.parametrize("n", [1, 1000])
def test_results_are_plain_int_arrays_of_the_batch_length(n: int) -> None:
    r = score([deal()] * n)
    for arr in (r.win_prob_ppm, r.weighted_amount_minor):
        assert arr.dtype == np.int64 and arr.shape == (n,)
