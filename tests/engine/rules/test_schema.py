"""Rule-set documents survive a round trip (model -> YAML or JSON -> compiled model) unchanged,
and the exported JSON Schema describes what the compiler accepts."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules.compiler import compile_rule_set
from engine.rules.schema import RuleSetDocument, json_schema
from tests.conftest import EXAMPLES

names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
labels = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=20)
rates = st.decimals(0, 1, places=6, allow_nan=False)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(
        st.lists(names, min_size=0, max_size=5, unique=True).filter(
            lambda xs: not {"won", "lost"} & set(xs)
        )
    )
    stages: list[dict[str, Any]] = [
        {
            "id": i,
            "label": draw(labels).strip() or "x",
            "order": n + 1,
            "win_rate": draw(rates),
            "default_category": draw(st.sampled_from(["pipeline", "best_case", "commit"])),
        }
        for n, i in enumerate(ids)
    ]
    k = len(stages)
    stages += [
        {
            "id": "won",
            "label": "Won",
            "order": k + 1,
            "win_rate": Decimal(1),
            "default_category": "closed",
            "is_won": True,
        },
        {
            "id": "lost",
            "label": "Lost",
            "order": k + 2,
            "win_rate": Decimal(0),
            "default_category": "omitted",
            "is_lost": True,
        },
    ]
    doc: dict[str, Any] = {
        "api_version": "quotient/v1",
        "name": draw(names),
        "effective_from": draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31))),
        "stages": draw(st.permutations(stages)),
    }
    if draw(st.booleans()):
        doc["fields"] = {"industry": {"type": "string"}, "seats": {"type": "int"}}
        doc["win_rates"] = {
            "source": "configured",
            "overrides": [
                {
                    "id": "by_industry",
                    "inputs": ["industry"],
                    "rows": [
                        {
                            "id": "retail",
                            "cells": {"industry": "retail"},
                            "when": f"seats >= {draw(st.integers(0, 1000))}",
                            "then": {"win_rate": draw(rates)},
                        }
                    ],
                }
            ],
        }
    return doc


def plain(value: Any) -> Any:
    """Decimals as marked text and dates as ISO text (the marks become bare numbers below)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return f"<<{value}>>"
    if isinstance(value, dt.date):
        return str(value)
    return value


def bare_numbers(text: str) -> str:
    """Write the marked decimals as unquoted numbers, as a person would write ``win_rate: 0.3``."""
    return re.sub(r"""['"]?<<([-0-9.E+]+)>>['"]?""", r"\1", text)


@settings(max_examples=40, deadline=None)
@given(documents())
def test_documents_round_trip_through_yaml_and_json(doc: dict[str, Any]) -> None:
    expected = RuleSetDocument.model_validate(doc)
    as_yaml = bare_numbers(yaml.safe_dump(plain(doc), allow_unicode=True, sort_keys=False))
    as_json = bare_numbers(json.dumps(plain(doc), ensure_ascii=False))
    for text in (as_yaml, as_json):
        compiled = compile_rule_set(text)
        assert compiled.document == expected
        assert list(compiled.stage_ids) == [
            s["id"] for s in sorted(doc["stages"], key=lambda s: s["order"])
        ]
    # Re-serialising the parsed model gives the same model again.
    again = compiled.document.model_dump(exclude_none=True)
    assert RuleSetDocument.model_validate(again) == expected


def test_the_json_schema_knows_every_top_level_section() -> None:
    schema = json_schema()
    sample = yaml.safe_load((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
    assert set(sample) <= set(schema["properties"])
    assert schema["$schema"].endswith("2020-12/schema")
