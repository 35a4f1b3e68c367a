"""Deal histories: rows sorted and de-duplicated by day, stage entry days carried forward, the state
as of any day, outcomes per deal, and bad rows refused with their paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from engine.errors import InvalidArgumentError
from engine.forecast.history import (
    NO_DAY,
    first_won_row,
    history_from_records,
    stage_dwell_p90,
    state_at,
)
from engine.frame import date_to_days
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))


def day(text: str) -> int:
    return date_to_days(dt.date.fromisoformat(text))


def row(deal: str, date: str, stage: str, amount: int = 1000, **kw: Any) -> dict[str, Any]:
    return {"deal_id": deal, "date": date, "stage": stage, "amount_minor": amount,
            "currency": "CNY", **kw}  # fmt: skip


ROWS = [
    row("b", "2026-01-10", "initial_contact", close_date="2026-03-01"),
    row("a", "2026-01-05", "initial_contact"),
    row("a", "2026-01-20", "initial_contact", 2000),  # amount change, same stage
    row("a", "2026-02-01", "quote", 2000),
    row("a", "2026-02-01", "contract_drafted", 2500),  # same day: the later row stands
    row("a", "2026-03-01", "won", 2500),
    row("b", "2026-02-15", "lost"),
]


def test_rows_are_sorted_deduplicated_and_carry_their_stage_entry() -> None:
    h = history_from_records(ROWS, RULES)
    assert h.deal_ids == ["b", "a"] and h.currency == "CNY"
    a = [i for i in range(h.deal.size) if h.deal[i] == 1]
    stages = [RULES.stage_ids[s] for s in h.stage[a]]
    assert stages == ["initial_contact", "initial_contact", "contract_drafted", "won"]
    assert h.entered_day[a].tolist() == [day("2026-01-05"), day("2026-01-05"),
                                         day("2026-02-01"), day("2026-03-01")]  # fmt: skip
    assert h.won_day.tolist() == [NO_DAY, day("2026-03-01")]
    assert h.closed_day.tolist() == [day("2026-02-15"), day("2026-03-01")]
    assert h.day[h.first_row].tolist() == [day("2026-01-10"), day("2026-01-05")]
    assert h.close_day[h.first_row].tolist() == [day("2026-03-01"), NO_DAY]
    assert h.amount_minor[first_won_row(h, RULES.stage_is_won)[1]] == 2500
    assert first_won_row(h, RULES.stage_is_won)[0] == -1


def test_state_at_a_day() -> None:
    h = history_from_records(ROWS, RULES)

    def stages(date: str) -> list[str | None]:
        rows = state_at(h, day(date))
        return [RULES.stage_ids[h.stage[r]] if r >= 0 else None for r in rows.tolist()]

    assert stages("2026-01-01") == [None, None]
    assert stages("2026-01-05") == [None, "initial_contact"]
    assert stages("2026-01-31") == ["initial_contact", "initial_contact"]
    assert stages("2026-02-01") == ["initial_contact", "contract_drafted"]
    assert stages("2027-01-01") == ["lost", "won"]
    rows = state_at(h, day("2026-01-25"))
    assert h.amount_minor[rows[1]] == 2000


def test_dwell_p90_counts_completed_stays_only() -> None:
    h = history_from_records(ROWS, RULES)
    p90 = stage_dwell_p90(h, len(RULES.stage_ids), day("2027-01-01"))
    # initial contact: a 27 days, b 36 days -> P90 by linear interpolation 35.1
    assert p90[RULES.stage_index["initial_contact"]] == pytest.approx(35.1)
    assert p90[RULES.stage_index["contract_drafted"]] == 28
    assert p90[RULES.stage_index["quote"]] == -1  # never completed (overwritten the same day)
    early = stage_dwell_p90(h, len(RULES.stage_ids), day("2026-02-01"))
    assert early[RULES.stage_index["initial_contact"]] == 27  # b's stay had not ended


def test_bad_rows_are_refused_with_their_paths() -> None:
    bad = [
        {"date": "2026-01-01", "stage": "quote", "amount_minor": 1, "currency": "CNY"},
        row("x", "2026-13-01", "quote"),
        row("x", "2026-01-01", "nowhere"),
        row("x", "2026-01-01", "quote", -5),
        row("x", "2026-01-01", "quote", close_date="soon"),
        {**row("y", "2026-01-01", "quote"), "currency": "USD"},
    ]
    with pytest.raises(InvalidArgumentError) as e:
        history_from_records(bad, RULES)
    assert {(v.path, v.reason) for v in e.value.violations} == {
        ("history[0].deal_id", "MISSING_FIELD"),
        ("history[1].date", "INVALID_DATE"),
        ("history[2].stage", "UNKNOWN_STAGE"),
        ("history[3].amount_minor", "INVALID_AMOUNT"),
        ("history[4].close_date", "INVALID_DATE"),
        ("history.currency", "CURRENCY_MIXTURE"),
    }


def test_an_empty_history() -> None:
    h = history_from_records([], RULES)
    assert h.n_deals == 0 and state_at(h, 0).size == 0
    assert np.array_equal(first_won_row(h, RULES.stage_is_won), np.zeros(0))


def test_rows_out_of_date_order_are_refused() -> None:
    rows = [row("a", "2026-01-05", "initial_contact"), row("b", "2026-01-01", "quote"),
            row("a", "2026-01-03", "quote"), row("a", "2026-02-01", "won")]  # fmt: skip
    with pytest.raises(InvalidArgumentError) as e:
        history_from_records(rows, RULES)
    assert [(v.path, v.reason) for v in e.value.violations] == [
        ("history[2].date", "DATE_OUT_OF_ORDER")
    ]
