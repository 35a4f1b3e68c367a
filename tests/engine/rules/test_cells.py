"""Decision-table cells: their SQL form and the sets used to prove overlaps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.frame import FieldType
from engine.rules.cells import cell_set, cell_to_sql

S, D, I = FieldType.STRING, FieldType.DECIMAL, FieldType.INT


@pytest.mark.parametrize(
    ("cell", "type_", "sql"),
    [
        (None, S, None),
        ("", S, None),
        ("-", S, None),
        ("EMEA", S, "region = 'EMEA'"),
        ("'EMEA'", S, "region = 'EMEA'"),
        ("O'Brien", S, "region = 'O''Brien'"),
        (["EMEA", "APAC"], S, "region IN ('EMEA', 'APAC')"),
        ("<> EMEA", S, "region <> 'EMEA'"),
        ("IS NULL", S, "region IS NULL"),
        ("not in ('A', 'B')", S, "region not in ('A', 'B')"),
        (3, I, "region = 3"),
        (Decimal("0.5"), D, "region = 0.5"),
        (">= 100000", D, "region >= 100000"),
        ("[10..20)", D, "region >= 10 AND region < 20"),
        ("(10..20]", D, "region > 10 AND region <= 20"),
        ("[10..]", D, "region >= 10"),
        ([], S, "FALSE"),
        (True, FieldType.BOOL, "region = TRUE"),
    ],
)
def test_cell_to_sql(cell: object, type_: FieldType, sql: str | None) -> None:
    assert cell_to_sql("region", cell, type_) == sql


@pytest.mark.parametrize(
    ("a", "b", "type_", "overlap"),
    [
        ("EMEA", "APAC", S, False),
        ("EMEA", ["APAC", "EMEA"], S, True),
        (None, "EMEA", S, True),
        ("[0..10)", "[10..20)", D, False),
        ("[0..10]", "[10..20)", D, True),
        (">= 5", "< 5", D, False),
        ("> 5", "<= 5", D, False),
        (">= 5", "<= 5", D, True),
        (7, "[0..10)", I, True),
        (10, "[0..10)", I, False),
    ],
)
def test_cell_set_intersections(a: object, b: object, type_: FieldType, overlap: bool) -> None:
    sa, sb = cell_set(a, type_), cell_set(b, type_)
    assert sa is not None and sb is not None
    assert sa.intersects(sb) is overlap
    assert sb.intersects(sa) is overlap


def test_complex_cells_are_not_analysed() -> None:
    assert cell_set("LIKE 'A%'", S) is None
    assert cell_set("<> 5", D) is None
