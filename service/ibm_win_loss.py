"""The IBM "Sales Win Loss" sample as deals: an importer and the feature sets evaluated on it.

The file (``../shared/data/ibm_sales_win_loss.csv``, see its README) holds 78,025 closed
opportunities, one row each, with no dates, stages or sellers. Seven of its columns are measured
at close (elapsed days, stage change count, the three duration ratios and two durations) and are
never read as features; three more are suspect (the amount, the deal size category binned from
it, and the past two years' revenue band, which may include this deal) and are evaluated
separately. Exact duplicate rows are dropped; a repeated opportunity number with other values gets
a suffix so deal ids stay unique.

Reading is all or nothing: a missing column or a bad value refuses the file with every problem
named by row and column (up to 100), so a bad row never trains half a model.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import InvalidArgumentError, Violation
from engine.forecast.win_model import Feature

#: Columns measured at close: never features.
POST_OUTCOME_COLUMNS = (
    "Elapsed Days In Sales Stage",
    "Sales Stage Change Count",
    "Total Days Identified Through Closing",
    "Total Days Identified Through Qualified",
    "Ratio Days Identified To Total Days",
    "Ratio Days Validated To Total Days",
    "Ratio Days Qualified To Total Days",
)
#: Column -> (deal field, kind): what the importer keeps.
KEPT = {
    "Supplies Subgroup": ("product_line", "text"),
    "Supplies Group": ("supplies_group", "text"),
    "Region": ("region", "text"),
    "Route To Market": ("source", "text"),
    "Competitor Type": ("competitor_type", "text"),
    "Client Size By Revenue": ("customer_tier", "text"),
    "Client Size By Employee Count": ("client_size_employees", "int"),
    "Revenue From Client Past Two Years": ("past_revenue_band", "int"),
    "Opportunity Amount USD": ("amount_usd", "int"),
    "Deal Size Category": ("deal_size_category", "int"),
}
REQUIRED = ("Opportunity Number", "Opportunity Result", *KEPT)

#: Known before the outcome and not suspect.
HONEST_FEATURES = (
    Feature("product_line", "categorical"),
    Feature("supplies_group", "categorical"),
    Feature("region", "categorical"),
    Feature("source", "categorical"),
    Feature("competitor_type", "categorical"),
    Feature("customer_tier", "categorical"),
    Feature("client_size_employees", "numeric"),
)
#: The three suspect columns (see the data's README).
SUSPECT_FEATURES = (
    Feature("amount_usd", "numeric"),
    Feature("deal_size_category", "numeric"),
    Feature("past_revenue_band", "numeric"),
)
MAX_LISTED = 100


@dataclass(frozen=True)
class IbmDeals:
    """Deals read from the file: ids, outcomes, feature columns, and what was dropped."""

    ids: list[str]
    won: np.ndarray
    columns: dict[str, Any]
    rows_read: int
    duplicates_dropped: int


def read_ibm_win_loss(path: Path) -> IbmDeals:
    """Read and check the whole file (see the module); INVALID_ARGUMENT names each problem."""
    problems: list[Violation] = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InvalidArgumentError(
                f"{path.name} lacks the column(s) " + ", ".join(missing),
                reason="MISSING_COLUMNS",
                violations=[Violation(c, 0, 0, "MISSING_COLUMN", "required") for c in missing],
            )
        seen_rows: set[tuple[str, ...]] = set()
        id_count: dict[str, int] = {}
        ids: list[str] = []
        won: list[bool] = []
        values: dict[str, list[Any]] = {field: [] for field, _ in KEPT.values()}
        rows = dropped = 0
        for line, row in enumerate(reader, start=2):
            rows += 1
            key = tuple(row.get(c) or "" for c in header)
            if key in seen_rows:
                dropped += 1
                continue
            seen_rows.add(key)
            result = row.get("Opportunity Result")
            if result not in ("Won", "Loss"):
                problems.append(Violation(f"row {line}.Opportunity Result", line, 0, "INVALID_VALUE",
                                          f"expected Won or Loss, got {result!r}"))  # fmt: skip
            parsed: dict[str, Any] = {}
            for column, (field, kind) in KEPT.items():
                text = (row.get(column) or "").strip()
                if kind == "int":
                    try:
                        parsed[field] = int(text)
                    except ValueError:
                        problems.append(Violation(f"row {line}.{column}", line, 0, "NOT_AN_INTEGER",
                                                  f"expected an integer, got {text!r}"))  # fmt: skip
                else:
                    parsed[field] = text or None
            if problems:
                continue
            number = (row.get("Opportunity Number") or "").strip() or f"row-{line}"
            id_count[number] = id_count.get(number, 0) + 1
            ids.append(number if id_count[number] == 1 else f"{number}-{id_count[number]}")
            won.append(result == "Won")
            for field, value in parsed.items():
                values[field].append(value)
    if problems:
        raise InvalidArgumentError(
            f"{path.name} has {len(problems)} bad value(s); nothing was read",
            reason="INVALID_FILE",
            violations=problems[:MAX_LISTED],
        )
    columns: dict[str, Any] = {}
    for field, kind in KEPT.values():
        columns[field] = (
            np.array(values[field], dtype=np.float64) if kind == "int" else values[field]
        )
    return IbmDeals(ids, np.array(won, dtype=np.bool_), columns, rows, dropped)


def deal_rows(data: IbmDeals) -> list[dict[str, Any]]:
    """The deals as flat records for a deals CSV (amounts in US cents; stage won or lost)."""
    out = []
    for i, deal_id in enumerate(data.ids):
        rec: dict[str, Any] = {
            "id": deal_id,
            "amount_minor": int(data.columns["amount_usd"][i]) * 100,
            "currency": "USD",
            "stage": "won" if data.won[i] else "lost",
        }
        for field, kind in KEPT.values():
            if field == "amount_usd":
                continue
            value = data.columns[field][i]
            rec[field] = int(value) if kind == "int" else value
        out.append(rec)
    return out


__all__ = [
    "HONEST_FEATURES",
    "POST_OUTCOME_COLUMNS",
    "SUSPECT_FEATURES",
    "IbmDeals",
    "deal_rows",
    "read_ibm_win_loss",
]
