"""Backtests: hand-checked classic forecasts and actuals at a cutoff, forecasts that use nothing
after the cutoff, incomplete periods kept out of the metrics, and the metrics themselves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from bench.histories import generate_history
from engine.errors import InvalidArgumentError
from engine.forecast.backtest import backtest
from engine.forecast.history import history_from_records
from engine.forecast.rollup import PeriodKind, calendar_periods
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
Q2 = calendar_periods(PeriodKind.QUARTER, dt.date(2026, 4, 1), dt.date(2026, 6, 30))


def row(deal: str, date: str, stage: str, amount: int, close: str, region: str) -> dict[str, Any]:
    return {"deal_id": deal, "date": date, "stage": stage, "amount_minor": amount,
            "currency": "CNY", "close_date": close, "region": region}  # fmt: skip


ROWS = [
    row("a", "2026-01-05", "initial_contact", 1000, "2026-04-15", "North"),
    row("a", "2026-02-01", "quote", 1000, "2026-04-15", "North"),
    row("a", "2026-04-10", "won", 1200, "2026-04-10", "North"),  # won for more than quoted
    row("b", "2026-02-01", "quote", 2000, "2026-05-01", "South"),
    row("b", "2026-05-20", "lost", 2000, "2026-05-20", "South"),
    row("c", "2026-04-05", "quote", 500, "2026-04-30", "North"),  # created inside the period
    row("c", "2026-04-25", "won", 500, "2026-04-25", "North"),
    row("d", "2026-03-01", "quote", 700, "2026-09-01", "South"),  # expected later
    row("e", "2026-07-02", "initial_contact", 10, "2026-12-01", "South"),  # history to July
]


def test_a_hand_checked_quarter() -> None:
    b = backtest(history_from_records(ROWS, RULES), RULES, Q2, ["region"])
    got = {r.group: r for r in b.rows}
    north, south, total = got[("North",)], got[("South",)], got[()]
    assert total.cutoff_day == north.cutoff_day and total.complete
    # Open at 2026-03-31: a (quote, 50 %, closing in Q2), b (quote, 50 %, Q2), d (quote, later).
    assert (north.classic_minor, south.classic_minor) == (500, 1000)
    assert (north.open_count, south.open_count, total.open_count) == (1, 2, 3)
    # Won in Q2: a at its won amount, and c, created after the cutoff.
    assert (north.actual_minor, north.won_count, south.actual_minor) == (1700, 2, 0)
    assert total.classic_minor == 1500 and total.actual_minor == 1700
    acc = {a.group: a for a in b.accuracy}
    assert acc[()].classic.error_minor == -200
    assert acc[()].classic.bias == pytest.approx(-200 / 1700)
    assert acc[("South",)].classic.mape is None  # no bookings to compare with
    assert acc[("South",)].classic.bias is None


HISTORY = history_from_records(generate_history(1200, np.random.default_rng(3)), RULES)
YEAR = calendar_periods(PeriodKind.QUARTER, dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_forecasts_use_nothing_after_their_cutoff() -> None:
    full = backtest(HISTORY, RULES, YEAR, ["region"])
    for q in YEAR:
        cutoff = (q.start - dt.timedelta(days=1)).isoformat()
        known = history_from_records([r for r in HISTORY.records if r["date"] <= cutoff], RULES)
        part = backtest(known, RULES, [q], ["region"])
        mine = {r.group: r for r in full.rows if r.period == q}
        for r in part.rows:
            if r.open_count or r.new_business_minor:
                m = mine[r.group]
                assert (r.classic_minor, r.period_aware_minor, r.new_business_minor) == (
                    m.classic_minor, m.period_aware_minor, m.new_business_minor)  # fmt: skip


def test_metrics_and_incomplete_periods() -> None:
    periods = calendar_periods(PeriodKind.QUARTER, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    b = backtest(HISTORY, RULES, periods)
    assert b.group_by == () and b.currency == "CNY"
    done = [r for r in b.rows if r.complete]
    assert 0 < len(done) < len(b.rows)  # the history ends before 2026 does
    (acc,) = b.accuracy
    f = np.array([r.period_aware_minor for r in done], dtype=float)
    a = np.array([r.actual_minor for r in done], dtype=float)
    assert acc.period_aware.periods == len(done)
    assert acc.period_aware.mae_minor == pytest.approx(np.abs(f - a).mean())
    assert acc.period_aware.bias == pytest.approx((f - a).sum() / a.sum())
    assert acc.period_aware.mape == pytest.approx((np.abs(f - a) / a).mean())
    assert all(r.period_aware_minor >= r.new_business_minor > 0 for r in done)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        backtest(HISTORY, RULES, [])
    with pytest.raises(InvalidArgumentError) as e:
        backtest(HISTORY, RULES, YEAR, lead_days=-1)
    assert e.value.violations[0].path == "lead_days"
    with pytest.raises(InvalidArgumentError) as e:  # a cutoff before year 1
        backtest(HISTORY, RULES, YEAR, lead_days=10**8)
    assert e.value.violations[0].path == "lead_days"


def test_a_history_known_through_a_later_day() -> None:
    periods = calendar_periods(PeriodKind.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    history = history_from_records(ROWS, RULES)
    assert not backtest(history, RULES, periods).rows[0].complete
    through = history.last_day + 120
    assert backtest(history, RULES, periods, known_through=through).rows[0].complete
