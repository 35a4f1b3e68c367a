"""Decision tables: hit policies, matched rows, overlaps found at publish time and at evaluation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from engine.errors import RuleSetInvalidError
from engine.frame import FieldType, Frame, decimal_column, string_column
from engine.rules.expression import FieldSpec
from engine.rules.schema import DecisionTable
from engine.rules.source import parse_document
from engine.rules.tables import CompiledTable, OutputSpec, compile_table

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


def test_outputs_are_checked_at_publish() -> None:
    with pytest.raises(RuleSetInvalidError) as err:
        table("first", "  - {id: a, then: {win_rate: 1.5, colour: red}}\n  - {id: b, then: {}}\n")
    reasons = sorted(v.reason for v in err.value.violations)
    assert reasons == ["INVALID_OUTPUT", "MISSING_OUTPUT", "UNKNOWN_OUTPUT"]
