"""Rule-set validation and compilation: the sample compiles; broken ones report every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import RuleSetInvalidError
from engine.rules.compiler import compile_rule_set, validate_rule_set
from engine.rules.schema import json_schema
from tests.conftest import GOLDEN, Golden

BROKEN = sorted((GOLDEN / "rulesets").glob("*.yaml"))


def test_the_sample_compiles(sample_text: str) -> None:
    rules = compile_rule_set(sample_text)
    assert rules.name == "default"
    assert rules.stage_ids == (
        "initial_contact",
        "needs_confirmed",
        "quote",
        "contract_drafted",
        "won",
        "lost",
    )
    assert rules.stage_rate_ppm.tolist() == [100_000, 300_000, 500_000, 800_000, 1_000_000, 0]
    assert [t.id for t in rules.overrides] == ["by_region_and_size"]
    assert rules.categories is not None
    assert rules.schema["discount_pct"].scale == 2


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_rule_sets_match_their_golden_violations(path: Path, golden: Golden) -> None:
    violations = validate_rule_set(path.read_text(encoding="utf-8"))
    assert violations, f"{path.name} should be invalid"
    text = "".join(f"{v}\n" for v in violations)
    golden.check(path.with_suffix(".violations.txt"), text)


def test_violations_are_sorted_and_unique() -> None:
    violations = validate_rule_set((GOLDEN / "rulesets" / "broken_rules.yaml").read_text())
    assert violations == sorted(set(violations))


def expect_reasons(text: str) -> set[str]:
    with pytest.raises(RuleSetInvalidError) as err:
        compile_rule_set(text)
    return {v.reason for v in err.value.violations}


def test_every_problem_of_every_section_is_reported() -> None:
    reasons = {
        v.reason
        for v in validate_rule_set((GOLDEN / "rulesets" / "broken_stages.yaml").read_text())
    }
    assert {
        "DUPLICATE_ID",
        "WIN_RATE_OUT_OF_RANGE",
        "WIN_RATE_TOO_PRECISE",
        "WON_STAGE_RATE",
        "LOST_STAGE_RATE",
        "STAGE_ORDER_GAP",
        "UNKNOWN_KEY",
        "INVALID_VALUE",
        "WON_STAGE_CATEGORY",
        "LOST_STAGE_CATEGORY",
    } <= reasons
    reasons = {
        v.reason for v in validate_rule_set((GOLDEN / "rulesets" / "broken_rules.yaml").read_text())
    }
    assert {
        "UNKNOWN_FIELD",
        "TYPE_MISMATCH",
        "CONDITION_SYNTAX",
        "UNSUPPORTED_FUNCTION",
        "DUPLICATE_ID",
        "INVALID_OUTPUT",
        "MISSING_OUTPUT",
        "UNKNOWN_INPUT",
        "BUILTIN_FIELD",
        "UNIQUE_ROWS_OVERLAP",
        "INVALID_VALUE",
        "INVALID_HIT_POLICY",
    } <= reasons


def test_violation_paths_carry_source_lines() -> None:
    text = (GOLDEN / "rulesets" / "broken_rules.yaml").read_text()
    by_path = {v.path: v for v in validate_rule_set(text)}
    v = by_path["win_rates.overrides[0].rows[0].when"]
    assert v.reason == "UNKNOWN_FIELD"
    assert text.splitlines()[v.line - 1].strip().startswith("when: industy")
    assert "industry" in v.message  # suggests the close name


def test_float_literals_are_exact_decimals(sample_text: str) -> None:
    text = sample_text.replace("win_rate: 0.30", "win_rate: 0.3000001")
    assert "WIN_RATE_TOO_PRECISE" in expect_reasons(text)


def test_not_a_mapping_and_empty_documents() -> None:
    assert expect_reasons("- 1\n- 2\n") == {"NOT_A_MAPPING"}
    assert expect_reasons("") == {"EMPTY_DOCUMENT"}
    assert expect_reasons("a: 1\na: 2\n") >= {"DUPLICATE_KEY"}


def test_json_schema_is_exported() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert {"api_version", "name", "effective_from", "stages"} <= set(schema["required"])
    assert "win_rates" in schema["properties"]


def test_the_timing_section(sample_text: str) -> None:
    rules = compile_rule_set(sample_text)
    assert rules.document.timing.age_buckets_days == [14, 30, 60, 120]  # defaults
    tuned = compile_rule_set(
        sample_text + "\ntiming:\n  age_buckets_days: [7, 21]\n  stale: {dwell_factor: 0.3}\n"
    )
    assert tuned.document.timing.age_buckets_days == [7, 21]
    assert str(tuned.document.timing.stale.dwell_factor) == "0.3"
    bad = sample_text + "\ntiming:\n  age_buckets_days: [30, 10]\n  snapshot_every_days: 0\n"
    found = {(v.path, v.reason) for v in validate_rule_set(bad)}
    assert found == {
        ("timing.age_buckets_days", "NOT_INCREASING"),
        ("timing.snapshot_every_days", "INVALID_VALUE"),
    }


FX = """
fx:
  reporting_currency: CNY
  rates:
    - {currency: USD, valid_from: 2026-01-01, rate: 7.1}
    - {currency: USD, valid_from: 2026-03-01, rate: "7.2"}
"""


def test_the_fx_section(sample_text: str) -> None:
    assert compile_rule_set(sample_text).fx is None
    rules = compile_rule_set(sample_text + FX)
    assert rules.fx is not None and rules.fx.reporting == "CNY"
    import datetime as dt

    assert rules.fx.rate_ppm("USD", dt.date(2026, 2, 1)) == 7_100_000
    bad = (
        sample_text
        + """
fx:
  reporting_currency: CNY
  rates:
    - {currency: XXY, valid_from: 2026-01-01, rate: 1}
    - {currency: USD, valid_from: 2026-01-01, rate: 7.1234567}
    - {currency: EUR, valid_from: 2026-01-01, rate: 7.9}
    - {currency: EUR, valid_from: 2026-01-01, rate: 8.0}
    - {currency: CNY, valid_from: 2026-01-01, rate: 1}
    - {currency: GBP, valid_from: 2026-01-01, rate: 0}
"""
    )
    found = {(v.path, v.reason) for v in validate_rule_set(bad)}
    assert found == {
        ("fx.rates[0].currency", "UNKNOWN_CURRENCY"),
        ("fx.rates[1].rate", "RATE_TOO_PRECISE"),
        ("fx.rates[3]", "DUPLICATE_RATE"),
        ("fx.rates[4].currency", "REPORTING_CURRENCY_RATE"),
        ("fx.rates[5].rate", "INVALID_VALUE"),
    }


def test_the_hierarchy_section(sample_text: str) -> None:
    rules = compile_rule_set(sample_text)
    assert rules.document.hierarchy is not None
    assert rules.document.hierarchy.levels == ["region", "team", "owner"]
    assert rules.team_of["li.wei"] == "north_key_accounts"
    head = sample_text[: sample_text.index("\nhierarchy:")]
    bad = (
        head
        + """
hierarchy:
  levels: [region, amount, owner, owner, nowhere]
  teams:
    - {id: a, members: [li.wei]}
    - {id: a, members: [zhang.min, li.wei]}
"""
    )
    found = {(v.path, v.reason) for v in validate_rule_set(bad)}
    assert found == {
        ("hierarchy.levels[1]", "INVALID_LEVEL"),
        ("hierarchy.levels[3]", "DUPLICATE_LEVEL"),
        ("hierarchy.levels[4]", "INVALID_LEVEL"),
        ("hierarchy.teams[1].id", "DUPLICATE_ID"),
    }
    no_teams = head + "\nhierarchy:\n  levels: [team]\n"
    assert {(v.path, v.reason) for v in validate_rule_set(no_teams)} == {
        ("hierarchy.levels[0]", "NO_TEAMS")
    }
    two = head + "\nhierarchy:\n  levels: [team]\n  teams:\n    - {id: a, members: [x]}\n" \
        "    - {id: b, members: [x]}\n"  # fmt: skip
    assert {(v.path, v.reason) for v in validate_rule_set(two)} == {
        ("hierarchy.teams[1].members[0]", "DUPLICATE_MEMBER")
    }


def test_the_targets_section(sample_text: str) -> None:
    sample_text = sample_text[: sample_text.index("\ntargets:")]
    rules = compile_rule_set(
        sample_text
        + """
targets:
  currency: CNY
  items:
    - {period: 2026-Q1, group: {region: North}, amount: 40000.5}
    - {period: 2026-Q1, group: {team: north_key_accounts}, amount: 30000}
    - {period: 2026-Q1, amount: 90000}
"""
    )
    assert [(t.group, t.period, t.amount_minor) for t in rules.targets] == [
        ((("region", "North"),), "2026-Q1", 4_000_050),
        ((("team", "north_key_accounts"),), "2026-Q1", 3_000_000),
        ((), "2026-Q1", 9_000_000),
    ]
    bad = (
        sample_text
        + """
targets:
  currency: CNY
  items:
    - {period: 2026-Q1, group: {amount: "5"}, amount: 1}
    - {period: 2026-Q1, amount: 1.234}
    - {period: 2026-Q2, amount: 1}
    - {period: 2026-Q2, amount: 2}
    - {period: 2026-Q3, amount: -1}
"""
    )
    assert {(v.path, v.reason) for v in validate_rule_set(bad)} == {
        ("targets.items[0].group.amount", "INVALID_GROUP"),
        ("targets.items[1].amount", "AMOUNT_TOO_PRECISE"),
        ("targets.items[3]", "DUPLICATE_TARGET"),
        ("targets.items[4].amount", "INVALID_VALUE"),
    }


def test_the_plans_section(sample_text: str) -> None:
    rules = compile_rule_set(sample_text)
    (plan,) = rules.plans
    assert (plan.spec.id, plan.split, plan.currency, plan.target_incentive_minor) == (
        "account_executive", "revenue", "CNY", 8_000_000)  # fmt: skip
    assert plan.covers("anyone", None)
    head = sample_text[: sample_text.index("\nplans:")]
    bad = (
        head
        + """
plans:
  - id: a
    currency: CNY
    base: margin
    split: bonus
    assign: {teams: [nowhere]}
    tiers: {basis: amount, rows: [{lower: 0, upper: 100, rate: 0.1}, {lower: 150, rate: 0.2}]}
  - id: a
    currency: CNY
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.1}]}
    threshold: 1000
    cap: {per_period: 50}
"""
    )
    found = {(v.path, v.reason) for v in validate_rule_set(bad)}
    assert found == {
        ("plans[0].margin_field", "REQUIRED"),
        ("plans[0].split", "UNKNOWN_SPLIT"),
        ("plans[0].assign.teams[0]", "UNKNOWN_TEAM"),
        ("plans[0].tiers.rows[1].lower", "TIER_GAP"),
        ("plans[1].id", "DUPLICATE_ID"),
        ("plans[1].cap.per_period", "CAP_BELOW_THRESHOLD"),
    }


def test_plan_terms_are_checked_with_paths(sample_text: str) -> None:
    head = sample_text[: sample_text.index("\nplans:")]
    bad = (
        head
        + """
people:
  - {id: li.wei, role: account_executive, region: North}
  - {id: li.wei, role: manager}
plans:
  - id: a
    currency: CNY
    effective_from: 2026-06-01
    effective_until: 2026-01-31
    assign: {roles: [pilot], regions: [Mars]}
    base: margin
    margin_field: industry
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.1}]}
    segments:
      - {id: s, when: "no_such_field = 1", rate: 0.0000001}
      - {id: s, when: "region = 'East'"}
    spiffs:
      - {id: x, when: "amount >", amount: 100.001}
  - id: c
    currency: CNY
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.1}]}
    segments: [{id: s, when: "region = 'East'", weight: 11}]
    milestones: [{id: m, at: 1000, bonus: -1}]
    draw: {amount: 0}
    clawback: {window_days: -3, mode: sometimes}
    holdback: {rate: 1.5, release_days: 30}
  - id: b
    currency: CNY
    margin_field: discount_pct
    tiers: {basis: attainment, rows: [{lower: 0, rate: 0.1}]}
    cap: {per_deal: 0.001}
"""
    )
    found = {(v.path, v.reason) for v in validate_rule_set(bad)}
    expected = {
        ("people[1].id", "DUPLICATE_ID"),
        ("plans[0].effective_until", "EMPTY_PERIOD"),
        ("plans[0].assign.roles[0]", "UNKNOWN_ROLE"),
        ("plans[0].assign.regions[0]", "UNKNOWN_REGION"),
        ("plans[0].margin_field", "UNKNOWN_FIELD"),
        ("plans[0].segments[0].when", "UNKNOWN_FIELD"),
        ("plans[0].segments[0].rate", "TOO_PRECISE"),
        ("plans[0].segments[1].id", "DUPLICATE_ID"),
        ("plans[0].spiffs[0].when", "CONDITION_SYNTAX"),
        ("plans[0].spiffs[0].amount", "TOO_PRECISE"),
        ("plans[1].segments[0].weight", "INVALID_VALUE"),
        ("plans[1].milestones[0].bonus", "INVALID_VALUE"),
        ("plans[1].draw.amount", "INVALID_VALUE"),
        ("plans[1].clawback.window_days", "INVALID_VALUE"),
        ("plans[1].clawback.mode", "INVALID_VALUE"),
        ("plans[1].holdback.rate", "INVALID_VALUE"),
        ("plans[2].margin_field", "NOT_APPLICABLE"),
        ("plans[2].cap.per_deal", "TOO_PRECISE"),
    }
    assert expected <= found, expected - found
    good = (
        head
        + """
people:
  - {id: li.wei, role: account_executive, region: North}
plans:
  - id: a
    currency: CNY
    effective_from: 2026-01-01
    assign: {roles: [account_executive]}
    base: margin
    margin_field: discount_pct
    tiers: {basis: attainment, rows: [{lower: 0, rate: 0.1}]}
    segments: [{id: east, when: "region = 'East'", weight: 1.5, rate: 0.02}]
    spiffs: [{id: big, when: "amount >= 1000000", amount: 500}]
    milestones: [{id: club, at: 1, bonus: 5000}]
    draw: {amount: 2000, recoverable: false, until: 2026-06-30}
    clawback: {window_days: 90, mode: pro_rata}
    holdback: {rate: 0.1, release_days: 60}
"""
    )
    (plan,) = compile_rule_set(good).plans
    spec = plan.spec
    assert (plan.base, plan.margin_field, plan.covers("li.wei", None, "account_executive")) == (
        "margin", "discount_pct", True)  # fmt: skip
    assert not plan.covers("x", None, "manager", "South")
    assert (spec.segments[0].weight_ppm, spec.segments[0].rate_ppm) == (1_500_000, 20_000)
    assert (spec.milestones[0].at, spec.milestones[0].bonus_minor) == (1_000_000, 500_000)
    assert spec.draw is not None and (spec.draw.amount_minor, spec.draw.recoverable) == (
        200_000, False)  # fmt: skip
    assert spec.clawback is not None and spec.clawback.pro_rata
    assert spec.holdback is not None and spec.holdback.rate_ppm == 100_000
    assert [s[:2] for s in plan.spiffs] == [("big", 50_000)]


def test_the_lead_sources_section(sample_text: str) -> None:
    rules = compile_rule_set(sample_text)
    assert [(c.source, c.period, c.amount_minor, c.currency) for c in rules.source_costs][:2] == [
        ("web", "2026-01", 1_000_000, "CNY"), ("web", "2026-02", 1_200_000, "CNY")]  # fmt: skip
    head = sample_text[: sample_text.index("\nlead_sources:")]
    bad = (
        head
        + """
lead_sources:
  currency: CNY
  costs:
    - {source: web, period: 2026-01, amount: 1.234}
    - {source: web, period: 2026-02, amount: 1}
    - {source: web, period: 2026-02, amount: 2}
    - {source: web, period: 2026-03, amount: -1}
    - {source: "", period: 2026-03, amount: 1}
"""
    )
    assert {(v.path, v.reason) for v in validate_rule_set(bad)} == {
        ("lead_sources.costs[0].amount", "AMOUNT_TOO_PRECISE"),
        ("lead_sources.costs[2]", "DUPLICATE_COST"),
        ("lead_sources.costs[3].amount", "INVALID_VALUE"),
        ("lead_sources.costs[4].source", "INVALID_VALUE"),
    }
    field = head + "\nlead_sources:\n  currency: CNY\n  field: campaign\n"
    assert {(v.path, v.reason) for v in validate_rule_set(field)} == {
        ("lead_sources.field", "UNKNOWN_FIELD")
    }
    money = head + "\nlead_sources:\n  currency: XYZ\n"
    assert {(v.path, v.reason) for v in validate_rule_set(money)} == {
        ("lead_sources.currency", "UNKNOWN_CURRENCY")
    }


def test_a_closed_stage_cannot_hold_stuck_deals(sample_text: str) -> None:
    text = sample_text.replace("default_category: closed, is_won: true}",
                               "default_category: closed, is_won: true, stuck_after_days: 5}")  # fmt: skip
    assert text != sample_text
    assert {(v.path, v.reason) for v in validate_rule_set(text)} == {
        ("stages[4].stuck_after_days", "CLOSED_STAGE_STUCK")
    }


def test_a_copied_rule_set_is_compiled_again_and_scores_the_same(sample_text: str) -> None:
    """Batch jobs send rule sets to other processes: a copy is made from the source text."""
    import pickle

    from engine.forecast.deals import build_deal_batch, deal_input_from_records
    from engine.forecast.scoring import score_deals

    rules = compile_rule_set(sample_text)
    records = [{"id": f"d-{i}", "amount_minor": amount, "currency": "CNY", "stage": "quote",
                "region": region} for i, (amount, region) in enumerate(
                    [(50_000, "East"), (50_000, "North"), (900_000_000, "East")])]  # fmt: skip
    batch = build_deal_batch(deal_input_from_records(records), rules)
    before = score_deals(rules, batch)  # compiled expressions now hold their caches
    copy = pickle.loads(pickle.dumps(rules))
    assert copy.content_hash == rules.content_hash and copy is not rules
    after = score_deals(copy, build_deal_batch(deal_input_from_records(records), copy))
    # The East small quote's override (60 %), the stage rate, the large quote's override (35 %).
    assert before.win_prob_ppm.tolist() == after.win_prob_ppm.tolist() == [600_000, 500_000,
                                                                           350_000]  # fmt: skip
    assert before.matched_rules_all() == after.matched_rules_all()
