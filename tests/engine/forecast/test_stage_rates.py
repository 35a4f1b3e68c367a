"""Historical stage win rates: survivor-bias-free counting by hand, shrinkage and fallbacks per
segment, intervals, dwell times and conversion; the generator's known rates are recovered."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.histories import ADVANCE, generate_history
from engine.errors import FailedPreconditionError
from engine.forecast.history import history_from_records
from engine.forecast.stage_rates import stage_flow, stage_win_rates
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))


def row(deal: str, date: str, stage: str, region: str = "North") -> dict[str, Any]:
    return {"deal_id": deal, "date": date, "stage": stage, "amount_minor": 100,
            "currency": "CNY", "region": region}  # fmt: skip


ROWS = [
    # a: won from initial contact -> counts won at all four open stages
    row("a", "2026-01-01", "initial_contact"), row("a", "2026-01-11", "quote"),
    row("a", "2026-01-31", "won"),
    # b: lost at needs_confirmed -> lost at initial contact and needs confirmed
    row("b", "2026-01-01", "initial_contact"), row("b", "2026-01-05", "needs_confirmed"),
    row("b", "2026-01-20", "lost"),
    # c: entered at quote, lost there -> lost at quote only
    row("c", "2026-01-02", "quote", "South"), row("c", "2026-02-01", "lost", "South"),
    # d: only its outcome is known (won) -> won at every stage
    row("d", "2026-02-01", "won", "South"),
    # e: still open -> not counted
    row("e", "2026-01-03", "contract_drafted"),
]  # fmt: skip


def test_survivor_bias_free_counts_by_hand() -> None:
    r = stage_win_rates(history_from_records(ROWS, RULES), RULES, min_deals=1)
    assert r.stage_ids == ("initial_contact", "needs_confirmed", "quote", "contract_drafted")
    assert r.closed_deals == 4
    # a, b, d entered at initial contact (d: only its outcome is known); c at quote.
    assert r.deals[0].tolist() == [3, 3, 3, 2]
    assert r.won[0].tolist() == [2, 2, 2, 2]
    assert r.rate[0].tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 1])
    assert list(r.source[0]) == ["global"] * 4
    assert (r.low[0][:3] < r.rate[0][:3]).all() and (r.rate[0][:3] < r.high[0][:3]).all()
    assert r.low[0][3] < 0.9 < 0.99 < r.high[0][3] <= 1


def test_segments_are_shrunk_toward_global_and_thin_ones_fall_back() -> None:
    history = history_from_records(ROWS, RULES)
    r = stage_win_rates(history, RULES, ["region"], prior_strength=2, min_deals=1)
    assert r.segments == [(), ("North",), ("South",)]
    south = r.segments.index(("South",))
    # South at quote: c lost, d won -> 1 of 2, shrunk toward the global 2/3 with k = 2.
    assert r.deals[south, 2] == 2 and r.won[south, 2] == 1
    assert r.rate[south, 2] == pytest.approx((1 + 2 * 2 / 3) / (2 + 2))
    thin = stage_win_rates(history, RULES, ["region"], prior_strength=2, min_deals=3)
    assert thin.rate[south, 2] == pytest.approx(2 / 3)
    assert thin.source[south, 2] == "global"


def test_a_stage_without_history_keeps_its_configured_rate() -> None:
    rows = [row("a", "2026-01-01", "quote"), row("a", "2026-01-09", "lost")]
    r = stage_win_rates(history_from_records(rows, RULES), RULES)
    assert list(r.source[0]) == ["configured", "configured", "global", "configured"]
    assert r.rate[0].tolist() == pytest.approx([0.1, 0.3, 0.0, 0.8])


def test_no_closed_deal_is_a_clear_error() -> None:
    with pytest.raises(FailedPreconditionError) as e:
        stage_win_rates(history_from_records([row("e", "2026-01-03", "quote")], RULES), RULES)
    assert e.value.reason == "NO_CLOSED_DEALS"


def test_dwell_and_conversion_by_hand() -> None:
    f = stage_flow(history_from_records(ROWS, RULES), RULES)
    # completed stays: initial contact a 10, b 4; needs confirmed b 15; quote a 20, c 30
    assert f.stays.tolist() == [2, 1, 2, 0]
    assert f.dwell_median_days[:3].tolist() == [7, 15, 25]
    assert np.isnan(f.dwell_median_days[3])
    # entered / advanced: a (0..3 won), b (0..1 lost), c (2 lost), d (0..3 won)
    assert f.entered.tolist() == [3, 3, 3, 2]
    assert f.advanced.tolist() == [3, 2, 2, 2]


def test_the_generators_rates_are_recovered() -> None:
    history = history_from_records(generate_history(4000, np.random.default_rng(11)), RULES)
    r = stage_win_rates(history, RULES, ["region"])
    assert r.rate[0] == pytest.approx([0.1, 0.3, 0.5, 0.8], abs=0.04)
    assert ((r.low[0] <= [0.1, 0.3, 0.5, 0.8]) & (r.high[0] >= [0.1, 0.3, 0.5, 0.8])).sum() >= 3
    f = stage_flow(history, RULES)
    assert f.conversion == pytest.approx(ADVANCE, abs=0.05)


def test_segments_by_team_follow_the_owners() -> None:
    rows = [{**r, "owner": "li.wei" if r["deal_id"] in ("a", "b") else "wang.fang"} for r in ROWS]
    r = stage_win_rates(history_from_records(rows, RULES), RULES, ["team"], min_deals=1)
    assert r.segments == [(), ("north_key_accounts",), ("south_enterprise",)]
    north = r.segments.index(("north_key_accounts",))
    assert r.deals[north].tolist() == [2, 2, 1, 1]  # a (won) and b (lost at needs confirmed)
