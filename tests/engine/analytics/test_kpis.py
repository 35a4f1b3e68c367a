"""KPIs from a small history, computed by hand; stuck deals; empty groups give counts of zero."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analytics.kpis import compute_kpis, stuck_deals
from engine.forecast.history import group_codes, history_from_records
from engine.frame import date_to_days
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))


def row(deal: str, day: str, stage: str, amount: int, owner: str) -> dict[str, object]:
    return {"deal_id": deal, "date": day, "stage": stage, "amount_minor": amount,
            "currency": "CNY", "owner": owner}  # fmt: skip


HISTORY = history_from_records([
    row("d1", "2026-01-05", "initial_contact", 100_000, "a"),
    row("d1", "2026-01-10", "quote", 100_000, "a"),
    row("d1", "2026-01-20", "won", 120_000, "a"),
    row("d2", "2026-01-08", "initial_contact", 50_000, "a"),
    row("d2", "2026-02-03", "lost", 50_000, "a"),
    row("d3", "2026-01-15", "needs_confirmed", 80_000, "a"),
    row("d4", "2026-02-01", "quote", 200_000, "b"),
    row("d4", "2026-02-11", "won", 200_000, "b"),
], RULES)  # fmt: skip
D = date_to_days
PERIODS = [("2026-01", D(dt.date(2026, 1, 1)), D(dt.date(2026, 2, 1))),
           ("2026-02", D(dt.date(2026, 2, 1)), D(dt.date(2026, 3, 1)))]  # fmt: skip


def kpis(history=HISTORY):  # type: ignore[no-untyped-def]
    code, groups = group_codes(history, ["owner"])
    last = np.r_[history.first_row[1:], history.deal.size] - 1 if history.n_deals else code
    return {(r.group, r.period): r for r in compute_kpis(
        history, code[last], groups, PERIODS, RULES.stage_is_won, RULES.stage_is_lost)}  # fmt: skip


def test_kpis_by_hand() -> None:
    k = kpis()
    a_jan = k[(("a",), "2026-01")]
    assert (a_jan.deals_created, a_jan.pipeline_created_minor) == (3, 230_000)
    assert (a_jan.won_count, a_jan.bookings_minor, a_jan.average_deal_minor) == (1, 120_000,
                                                                                 120_000)  # fmt: skip
    assert (a_jan.closed_count, a_jan.lost_count, a_jan.win_rate_ppm) == (1, 0, 1_000_000)
    assert (a_jan.cycle_count, a_jan.cycle_median_days, a_jan.cycle_p90_days) == (1, 15, 15)
    # Funnel of January's new deals: 3 started, d1 and d3 got past the first stage, d1 to the
    # end (the lost stage is not a funnel stage).
    assert a_jan.funnel_reached == (3, 2, 1, 1, 1)
    assert a_jan.funnel_conversion_ppm == (666_667, 500_000, 1_000_000, 1_000_000)
    # Stays that ended in January: d1's 5 days in initial_contact and 10 in quote.
    assert a_jan.dwell_stays == (1, 0, 1, 0, 0, 0)
    assert a_jan.dwell_median_days == (5, None, 10, None, None, None)
    assert a_jan.dwell_p90_days == a_jan.dwell_median_days
    # February: d2's 26 days in initial_contact (a's), d4's 10 in quote (b's).
    assert k[(("a",), "2026-02")].dwell_median_days[:3] == (26, None, None)
    assert k[(("b",), "2026-02")].dwell_stays == (0, 0, 1, 0, 0, 0)
    # What January's new deals booked, whenever won: d1's 1,200.00 (d2 lost, d3 still open).
    assert a_jan.cohort_bookings_minor == 120_000
    # b's deal d4 was created and won in February: nothing of January's cohort.
    assert k[(("b",), "2026-01")].cohort_bookings_minor == 0
    assert k[(("b",), "2026-02")].cohort_bookings_minor == 200_000
    a_feb = k[(("a",), "2026-02")]
    assert (a_feb.closed_count, a_feb.lost_count, a_feb.win_rate_ppm) == (1, 1, 0)
    assert (a_feb.won_count, a_feb.average_deal_minor, a_feb.cycle_median_days) == (0, None, None)
    b_jan = k[(("b",), "2026-01")]
    assert (b_jan.deals_created, b_jan.win_rate_ppm, b_jan.funnel_conversion_ppm) == (
        0, None, (None, None, None, None))  # fmt: skip
    b_feb = k[(("b",), "2026-02")]
    assert (b_feb.bookings_minor, b_feb.cycle_median_days, b_feb.funnel_reached) == (
        200_000, 10, (1, 1, 1, 1, 1))  # fmt: skip


def test_stuck_deals() -> None:
    thresholds = np.full(len(RULES.stage_ids), 30, dtype=np.int64)
    stuck = stuck_deals(HISTORY, D(dt.date(2026, 3, 1)), thresholds, RULES.stage_is_closed)
    assert [(s.deal_id, RULES.stage_ids[s.stage], s.days_in_stage, s.owner, s.amount_minor)
            for s in stuck] == [("d3", "needs_confirmed", 45, "a", 80_000)]  # fmt: skip
    none = np.full(len(RULES.stage_ids), -1, dtype=np.int64)
    assert stuck_deals(HISTORY, D(dt.date(2026, 3, 1)), none, RULES.stage_is_closed) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 58),
                          st.sampled_from(RULES.stage_ids), st.integers(1, 10**6)),
                min_size=1, max_size=25))  # fmt: skip
def test_every_deal_counts_once_per_group(rows: list[tuple[str, int, str, int]]) -> None:
    start = dt.date(2026, 1, 1)
    records = [row(f"d{i}", (start + dt.timedelta(days=day)).isoformat(), stage, amount, owner)
               for i, (owner, day, stage, amount) in enumerate(rows)]  # fmt: skip
    k = kpis(history_from_records(records, RULES))
    assert sum(r.deals_created for r in k.values()) == len(rows)
    # Every won deal's bookings are in its creation period's cohort exactly once (all its
    # days fall in January or February).
    assert sum(r.cohort_bookings_minor for r in k.values()) == sum(
        r.bookings_minor for r in k.values()
    )
    for r in k.values():
        assert r.lost_count <= r.closed_count
        if r.closed_count:
            won_closed = r.closed_count - r.lost_count
            assert r.win_rate_ppm == round(won_closed * 1_000_000 / r.closed_count)
        else:
            assert r.win_rate_ppm is None
        # A deal created straight into the lost stage never entered the funnel.
        assert r.funnel_reached[0] <= r.deals_created
        assert list(r.funnel_reached) == sorted(r.funnel_reached, reverse=True)
        # The stage conversions multiply to the end-to-end conversion (exactly, as fractions).
        reached = r.funnel_reached
        if reached[-1]:
            steps = [Fraction(reached[k + 1], reached[k]) for k in range(len(reached) - 1)]
            assert math.prod(steps, start=Fraction(1)) == Fraction(reached[-1], reached[0])
            # ... and the reported conversions (ppm, half-even) to it within their rounding.
            reported = math.prod((c or 0) / 1e6 for c in r.funnel_conversion_ppm)
            assert abs(reported - reached[-1] / reached[0]) <= 4 * 0.5e-6 * len(steps)


def test_periods_in_any_order() -> None:
    code, groups = group_codes(HISTORY, ["owner"])
    last = np.r_[HISTORY.first_row[1:], HISTORY.deal.size] - 1
    forward = compute_kpis(HISTORY, code[last], groups, PERIODS, RULES.stage_is_won,
                           RULES.stage_is_lost)  # fmt: skip
    backward = compute_kpis(HISTORY, code[last], groups, PERIODS[::-1], RULES.stage_is_won,
                            RULES.stage_is_lost)  # fmt: skip
    assert {(r.group, r.period): r for r in forward} == {(r.group, r.period): r for r in backward}


def test_activities_and_new_versus_existing_business() -> None:
    # Customers: d1 (won Jan 20) and d4 (won Feb 11) belong to ACME: d4 is existing business.
    code, groups = group_codes(HISTORY, [])
    last = np.r_[HISTORY.first_row[1:], HISTORY.deal.size] - 1
    customer = np.array([0, 1, -1, 0])  # d1, d2, d3, d4 in deal order
    visits_calls = np.array([[5, 2], [1, 0], [3, 1], [4, 4]])
    rows = {r.period: r for r in compute_kpis(
        HISTORY, code[last], groups, PERIODS, RULES.stage_is_won, RULES.stage_is_lost,
        activity=visits_calls, customer=customer)}  # fmt: skip
    assert HISTORY.deal_ids == ["d1", "d2", "d3", "d4"]
    jan, feb = rows["2026-01"], rows["2026-02"]
    assert jan.activities == (9, 3) and feb.activities == (4, 4)  # by the month created
    assert (jan.new_business_minor, jan.existing_business_minor) == (120_000, 0)
    assert (feb.new_business_minor, feb.existing_business_minor, feb.existing_won_count) == (
        0, 200_000, 1)  # fmt: skip


def test_no_customers_known() -> None:
    code, groups = group_codes(HISTORY, [])
    last = np.r_[HISTORY.first_row[1:], HISTORY.deal.size] - 1
    rows = compute_kpis(HISTORY, code[last], groups, PERIODS, RULES.stage_is_won,
                        RULES.stage_is_lost, customer=np.full(4, -1))  # fmt: skip
    assert [(r.new_business_minor, r.existing_business_minor) for r in rows] == [
        (120_000, 0), (200_000, 0)]  # fmt: skip


deal_steps = st.tuples(
    st.sampled_from(["a", "b"]),
    st.lists(st.tuples(st.integers(0, 20), st.sampled_from(RULES.stage_ids)), min_size=1,
             max_size=5),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(deal_steps, min_size=1, max_size=12))
def test_dwell_per_group_equals_a_plain_sort(
    deals: list[tuple[str, list[tuple[int, str]]]],
) -> None:
    start = dt.date(2026, 1, 1)
    records, expected = [], {}
    for i, (owner, steps) in enumerate(deals):
        day, by_day = 0, {}
        for gap, next_stage in steps:
            day += gap
            by_day[day] = next_stage  # a deal has one state a day: the day's last row
        entered, stage = 0, None
        for day, next_stage in sorted(by_day.items()):
            if stage is not None and next_stage != stage:
                # A stay ends: credited to the period of its last day, January or February.
                end = start + dt.timedelta(days=day)
                period = "2026-01" if end.month == 1 else "2026-02" if end.month == 2 else None
                if period:
                    key = ((owner,), period, RULES.stage_index[stage])
                    expected.setdefault(key, []).append(day - entered)
            if next_stage != stage:
                entered, stage = day, next_stage
        day = 0
        for gap, next_stage in steps:
            day += gap
            records.append(row(f"d{i}", (start + dt.timedelta(days=day)).isoformat(), next_stage,
                               100, owner))  # fmt: skip
    history = history_from_records(records, RULES)
    k = kpis(history)
    # Ranks by sorting the stays equal ranks by counting their values.
    with mock.patch("engine.analytics.kpis._count_values", return_value=False):
        assert kpis(history) == k
    for (group, period), r in k.items():
        for s_i in range(len(RULES.stage_ids)):
            lengths = sorted(expected.get((group, period, s_i), []))
            assert r.dwell_stays[s_i] == len(lengths)
            want = [lengths[max(1, math.ceil(q * len(lengths))) - 1] if lengths else None
                    for q in (0.5, 0.9)]  # fmt: skip
            assert [r.dwell_median_days[s_i], r.dwell_p90_days[s_i]] == want
