"""Rule-set test suites: fixtures, per-case changes, differences reported field by field."""

from __future__ import annotations

import pytest

from engine.errors import RuleSetInvalidError
from engine.rules.compiler import compile_rule_set
from engine.rules.testsuite import Difference, parse_suite, run_suite
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))

SUITE = """
fixtures:
  deals:
    million: {amount_minor: 100000000, currency: CNY, stage: initial_contact}
cases:
  - name: passes
    deal: million
    expect: {win_prob: 0.10, weighted_amount_minor: 10000000, matched_rules: []}
  - name: wrong amount and category
    deal: million
    with: {stage: quote}
    expect: {weighted_amount_minor: 1, category: commit, win_prob_source: stage}
  - name: an unexpected problem fails the case
    deal: million
    with: {stage: nowhere}
    expect: {category: pipeline}
  - name: an expected problem passes
    deal: {amount_minor: 1, currency: CNY, stage: nowhere}
    expect: {problem: UNKNOWN_STAGE}
  - name: an expected problem that does not happen fails
    deal: million
    expect: {problem: UNKNOWN_STAGE}
"""


def test_cases_pass_and_fail_with_their_differences() -> None:
    results = run_suite(RULES, parse_suite(SUITE))
    assert [r.passed for r in results] == [True, False, False, True, False]
    assert results[1].differences == (
        Difference("weighted_amount_minor", "1", "50000000"),
        Difference("category", "commit", "best_case"),
    )
    assert results[2].differences == (Difference("problem", "", "UNKNOWN_STAGE"),)
    assert results[4].differences == (Difference("problem", "UNKNOWN_STAGE", ""),)


def test_the_sample_suite_passes() -> None:
    suite = parse_suite((EXAMPLES / "default_test.yaml").read_text(encoding="utf-8"))
    results = run_suite(RULES, suite)
    assert len(results) >= 8 and all(r.passed for r in results), results


def test_suite_problems_are_all_reported_with_lines() -> None:
    text = """
cases:
  - name: no such fixture
    deal: ghost
    expect: {}
  - name: bad expectation
    deal: {amount_minor: 1}
    expect: {win_prob_source: guess}
"""
    with pytest.raises(RuleSetInvalidError) as err:
        parse_suite(text)
    found = {(v.path, v.reason, v.line) for v in err.value.violations}
    assert ("cases[1].expect.win_prob_source", "INVALID_TEST_SUITE", 8) in found
    with pytest.raises(RuleSetInvalidError) as err:
        parse_suite(text.replace("guess", "stage"))
    assert [(v.path, v.reason, v.line) for v in err.value.violations] == [
        ("cases[0].deal", "UNKNOWN_FIXTURE", 4)
    ]
