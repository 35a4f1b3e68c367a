"""Fuzzing rule-set documents and conditions: whatever the text, validation ends quickly with a
list of violations that each carry a path and a reason; nothing else is ever raised.

A bounded run is part of the suite; ``QUOTIENT_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest
tests/engine/rules/test_fuzz.py`` runs a longer one on demand."""

from __future__ import annotations

import json
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import RuleSetInvalidError, Violation
from engine.rules.compiler import validate_rule_set
from engine.rules.expression import compile_condition
from engine.rules.fields import BUILTIN_FIELDS

EXAMPLES = int(os.environ.get("QUOTIENT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=5000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def _well_formed(violations: list[Violation]) -> None:
    assert isinstance(violations, list)
    for v in violations:
        assert isinstance(v, Violation) and isinstance(v.path, str)
        assert v.reason and v.reason == v.reason.upper() and isinstance(v.message, str)


YAML_ALPHABET = "abcdefgstz019 _-:.,'\"[]{}&*!|>#%@`\n\t?"


@FUZZ
@given(st.text(alphabet=YAML_ALPHABET, max_size=400))
def test_any_text_is_refused_with_violations(text: str) -> None:
    _well_formed(validate_rule_set(text))


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=30))  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=25,
)  # fmt: skip


@FUZZ
@given(data=st.data())
def test_sections_of_the_sample_replaced_by_anything(sample_text: str, data: st.DataObject) -> None:
    document: dict[str, Any] = yaml.safe_load(sample_text)
    section = data.draw(st.sampled_from([*sorted(document), "plans_0", "stages_0", "unknown"]))
    value = data.draw(values)
    if section == "plans_0":
        document["plans"][0][data.draw(st.sampled_from(sorted(document["plans"][0])))] = value
    elif section == "stages_0":
        document["stages"][0][data.draw(st.sampled_from(sorted(document["stages"][0])))] = value
    else:
        document[section] = value
    text = json.dumps(document, default=str)
    _well_formed(validate_rule_set(text))


TOKENS = ["amount", "region", "stage", "owner", "close_date", "amount_minor", "nope", "=", "<>",
          "<", ">=", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "(", ")", ",", "+", "-",
          "*", "/", "'North'", "'", "1", "0", "1000000.5", "1e400", "DATE '2026-01-01'",
          "TRUE", "LIKE", "CASE", "WHEN", "THEN", "END", ";", "--", "SELECT"]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30))
def test_any_condition_compiles_or_is_refused_with_violations(tokens: list[str]) -> None:
    try:
        compile_condition(" ".join(tokens), BUILTIN_FIELDS, path="when")
    except RuleSetInvalidError as exc:
        _well_formed(exc.violations)
        assert all(v.path == "when" for v in exc.violations)


def test_hostile_documents_are_refused_quickly() -> None:
    pairs = zip("abcdef", "bcdefg", strict=True)
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in pairs
    )
    reasons = {v.reason for v in validate_rule_set(bomb)}
    assert reasons == {"DOCUMENT_TOO_COMPLEX"}
    deep = "a: " + "[" * 3000 + "]" * 3000
    assert {v.reason for v in validate_rule_set(deep)} == {"DOCUMENT_TOO_DEEP"}
    nested = "a: " + "(" * 500 + "1" + ")" * 500
    try:
        compile_condition(nested, BUILTIN_FIELDS, path="when")
    except RuleSetInvalidError as exc:
        assert {v.reason for v in exc.violations} == {"EXPRESSION_TOO_COMPLEX"}
