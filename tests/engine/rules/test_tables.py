"""Decision tables: hit policies, matched rows, overlaps found at publish time and at evaluation."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import RuleSetInvalidError
from engine.frame import FieldType, Frame, Row, decimal_column, string_column
from engine.rules.expression import FieldSpec
from engine.rules.schema import DecisionTable
from engine.rules.source import parse_document
from engine.rules.tables import CompiledTable, OutputSpec, TableResult, compile_table

SCHEMA = {"region": FieldSpec(FieldType.STRING), "amount": FieldSpec(FieldType.DECIMAL, 4)}
RATE = OutputSpec(FieldType.DECIMAL, scale=6, min_value=Decimal(0), max_value=Decimal(1))
FRAME = Frame(
    4,
    {
        "region": string_column(["EMEA", "EMEA", "APAC", None]),
        "amount": decimal_column([10, 5000, 5000, 10], 4),
    },
)


def table(policy: str, rows: str) -> CompiledTable:
    text = f"id: t\nhit_policy: {policy}\ninputs: [region, amount]\nrows:\n{rows}"
    doc = parse_document(text)
    return compile_table(
        DecisionTable.model_validate(doc.data), SCHEMA, {"win_rate": RATE}, doc, "t"
    )


ROWS = """\
  - {id: emea, cells: {region: EMEA}, then: {win_rate: 0.2}, priority: 1}
  - {id: big, cells: {amount: ">= 1000"}, then: {win_rate: 0.3}, priority: 5}
  - {id: any, then: {win_rate: 0.05}}
"""


def rates(result_values: np.ndarray) -> list[str]:
    return [str(Decimal(int(v)).scaleb(-6).normalize()) for v in result_values]


def test_first_hit() -> None:
    t = table("first", ROWS)
    r = t.evaluate(FRAME)
    assert r.hit.tolist() == [True] * 4
    assert rates(r.values["win_rate"]) == ["0.2", "0.2", "0.3", "0.05"]
    assert [t.matched_rows(r, i) for i in range(4)] == [["emea"], ["emea"], ["big"], ["any"]]


def test_priority_hit_highest_wins_ties_to_earlier_row() -> None:
    t = table("priority", ROWS)
    r = t.evaluate(FRAME)
    assert rates(r.values["win_rate"]) == ["0.2", "0.3", "0.3", "0.05"]
    tie = table("priority", ROWS.replace("priority: 5", "priority: 1"))
    assert rates(tie.evaluate(FRAME).values["win_rate"])[1] == "0.2"


def test_collect_sum_and_max_report_every_matching_row() -> None:
    t = table("collect-sum", ROWS)
    r = t.evaluate(FRAME)
    assert rates(r.values["win_rate"]) == ["0.25", "0.55", "0.35", "0.05"]
    assert t.matched_rows(r, 1) == ["emea", "big", "any"]
    m = table("collect-max", ROWS).evaluate(FRAME)
    assert rates(m.values["win_rate"]) == ["0.2", "0.3", "0.3", "0.05"]


def test_no_hit_leaves_the_deal_undecided() -> None:
    t = table("first", "  - {id: emea, cells: {region: EMEA}, then: {win_rate: 0.2}}\n")
    r = t.evaluate(FRAME)
    assert r.hit.tolist() == [True, True, False, False]


def test_unique_overlap_is_refused_at_publish_when_provable() -> None:
    with pytest.raises(RuleSetInvalidError) as err:
        table("unique", ROWS)
    overlaps = [v for v in err.value.violations if v.reason == "UNIQUE_ROWS_OVERLAP"]
    assert {v.path for v in overlaps} == {"t.rows[1]", "t.rows[2]"}
    assert "'emea' and 'big'" in overlaps[0].message


def test_unique_overlap_found_at_evaluation_names_both_rows() -> None:
    # `when` conditions cannot be analysed at publish time, so the clash shows per deal.
    t = table(
        "unique",
        """\
  - {id: emea, when: "region = 'EMEA'", then: {win_rate: 0.2}}
  - {id: big, when: "amount >= 1000", then: {win_rate: 0.3}}
""",
    )
    r = t.evaluate(FRAME)
    assert len(r.errors) == 1
    rows, reason, message = r.errors[0]
    assert rows.tolist() == [1] and reason == "UNIQUE_HIT_OVERLAP"
    assert "'emea' and 'big'" in message
    assert r.hit.tolist() == [True, False, True, False]


def one_by_one(t: CompiledTable, frame: Frame, i: int) -> tuple[Any, ...]:
    """Deal ``i`` through the table as a frame of that one deal: hit, outputs where hit,
    matched rows, errors."""
    r: TableResult = t.evaluate(frame.take(np.array([i])))
    hit = bool(r.hit[0])
    values = {k: int(v[0]) for k, v in r.values.items()} if hit else {}
    errors = [(reason, message) for rows, reason, message in r.errors if 0 in rows.tolist()]
    return hit, values, tuple(t.matched_rows(r, 0)), errors


def as_row(t: CompiledTable, frame: Frame, i: int) -> tuple[Any, ...]:
    """The same deal through the table's row evaluation."""
    r = t.evaluate_row(Row.of_frame(frame, i))
    values = r.values if r.hit else {}
    return r.hit, values, tuple(t.rows[j].id for j in r.matched), r.errors


ERRING_ROWS = """\
  - {id: ratio, when: "amount / (amount - 10) > 1", then: {win_rate: 0.1}, priority: 2}
  - {id: emea, cells: {region: EMEA}, then: {win_rate: 0.2}, priority: 1}
  - {id: huge, when: "amount * 1000000000000 > 0", then: {win_rate: 0.4}, priority: 3}
  - {id: big, when: "amount >= 1000", then: {win_rate: 0.3}, priority: 5}
  - {id: any, then: {win_rate: 0.05}}
"""


@pytest.mark.parametrize("policy", ["first", "priority", "unique", "collect-sum", "collect-max"])
@pytest.mark.parametrize(
    "rows", [ROWS, ERRING_ROWS, ERRING_ROWS.replace("id: any", "id: x, when: 'FALSE'")]
)
def test_one_deal_as_a_row_is_evaluated_as_a_frame_of_one(policy: str, rows: str) -> None:
    if policy == "unique":  # as `when` conditions, so overlaps show per deal, not at publish
        rows = rows.replace("cells: {region: EMEA}", "when: \"region = 'EMEA'\"")
        rows = rows.replace('cells: {amount: ">= 1000"}', 'when: "amount >= 1000"')
        rows = rows.replace("{id: any, then", '{id: any, when: "TRUE", then')
    t = table(policy, rows)
    frame = Frame(
        6,
        {
            "region": string_column(["EMEA", "EMEA", "APAC", None, "EMEA", "APAC"]),
            "amount": decimal_column([10, 5000, 5000, None, 9223372036, 1], 4),
        },
    )
    for i in range(frame.n_rows):
        assert as_row(t, frame, i) == one_by_one(t, frame, i), (policy, i)


def test_outputs_are_checked_at_publish() -> None:
    with pytest.raises(RuleSetInvalidError) as err:
        table("first", "  - {id: a, then: {win_rate: 1.5, colour: red}}\n  - {id: b, then: {}}\n")
    reasons = sorted(v.reason for v in err.value.violations)
    assert reasons == ["INVALID_OUTPUT", "MISSING_OUTPUT", "UNKNOWN_OUTPUT"]


# --- property test: random tables, vectorised evaluation equals a per-deal reference ------------

UNBOUNDED = OutputSpec(FieldType.DECIMAL, scale=6)
REGIONS = ["EMEA", "APAC", "AMER", None]
region_cells = st.sampled_from([None, "EMEA", "APAC", ["EMEA", "AMER"], "-"])
amount_cells = st.one_of(
    st.none(),
    st.builds(
        lambda op, x: f"{op} {x}", st.sampled_from([">=", "<", ">", "<="]), st.integers(0, 9)
    ),
    st.builds(lambda a, b: f"[{min(a, b)}..{max(a, b)})", st.integers(0, 9), st.integers(0, 9)),
)
row_strategy = st.fixed_dictionaries(
    {
        "region": region_cells,
        "amount": amount_cells,
        "rate": st.decimals(0, 1, places=2, allow_nan=False),
        "priority": st.integers(0, 3),
    }
)


def cell_matches(cell: Any, value: Any) -> bool:
    """The cell language, written out by hand for the shapes the strategy draws."""
    if cell is None or cell == "-":
        return True
    if value is None:
        return False
    if isinstance(cell, list):
        return value in cell
    if isinstance(cell, str) and cell.startswith("["):
        lo, hi = cell[1:-1].split("..")
        return Decimal(lo) <= value < Decimal(hi)
    if isinstance(cell, str) and cell[0] in "<>":
        op, x = cell.split()
        return {
            ">=": value >= Decimal(x),
            "<": value < Decimal(x),
            ">": value > Decimal(x),
            "<=": value <= Decimal(x),
        }[op]
    return bool(value == cell)


def reference_table(
    policy: str, rows: list[dict[str, Any]], region: str | None, amount: Decimal | None
) -> tuple[Decimal | None, list[int]]:
    hits = [
        i
        for i, r in enumerate(rows)
        if cell_matches(r["region"], region) and cell_matches(r["amount"], amount)
    ]
    if not hits:
        return None, []
    if policy == "first":
        return rows[hits[0]]["rate"], [hits[0]]
    if policy == "priority":
        best = max(hits, key=lambda i: (rows[i]["priority"], -i))
        return rows[best]["rate"], [best]
    rates_ = [rows[i]["rate"] for i in hits]
    return (sum(rates_) if policy == "collect-sum" else max(rates_)), hits


@settings(max_examples=80, deadline=None)
@given(
    policy=st.sampled_from(["first", "priority", "collect-sum", "collect-max"]),
    rows=st.lists(row_strategy, min_size=1, max_size=8),
    deals=st.lists(
        st.tuples(st.sampled_from(REGIONS), st.one_of(st.none(), st.integers(0, 10))),
        min_size=1,
        max_size=30,
    ),
)
def test_random_tables_match_the_reference(
    policy: str, rows: list[dict[str, Any]], deals: list[tuple[str | None, int | None]]
) -> None:
    spec = {
        "id": "t",
        "hit_policy": policy,
        "inputs": ["region", "amount"],
        "rows": [
            {
                "id": f"r{i}",
                "cells": {k: r[k] for k in ("region", "amount") if r[k] is not None},
                "then": {"win_rate": r["rate"]},
                "priority": r["priority"],
            }
            for i, r in enumerate(rows)
        ],
    }
    doc = parse_document(yaml.safe_dump(json.loads(json.dumps(spec, default=str))))
    compiled = compile_table(
        DecisionTable.model_validate(doc.data), SCHEMA, {"win_rate": UNBOUNDED}, doc, "t"
    )
    frame = Frame(
        len(deals),
        {
            "region": string_column([d[0] for d in deals]),
            "amount": decimal_column([d[1] for d in deals], 4),
        },
    )
    result = compiled.evaluate(frame)
    assert result.errors == []
    for i, (region, amount) in enumerate(deals):
        expected, matched = reference_table(
            policy, rows, region, None if amount is None else Decimal(amount)
        )
        assert bool(result.hit[i]) == (expected is not None)
        if expected is not None:
            assert Decimal(int(result.values["win_rate"][i])).scaleb(-6) == expected
        assert compiled.matched_rows(result, i) == [f"r{j}" for j in matched]
        one = compiled.evaluate_row(Row.of_frame(frame, i))  # the same deal alone, as scalars
        assert one.hit == (expected is not None)
        if expected is not None:
            assert Decimal(one.values["win_rate"]).scaleb(-6) == expected
        assert [compiled.rows[j].id for j in one.matched] == [f"r{j}" for j in matched]
