"""Settlement worked by hand: a clawback in a later period (full and pro rata, from the holdback
reserve first, a negative balance carried forward), a draw recovered over two periods, and the
identity every settlement keeps."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.commission.settlement import Opening, Reserve, Terms, clawback_minor, settle
from engine.frame import date_to_days

JAN31, FEB28, MAR31 = (date_to_days(dt.date(2026, m, d)) for m, d in ((1, 31), (2, 28), (3, 31)))
WON = date_to_days(dt.date(2026, 1, 15))
CANCELLED = date_to_days(dt.date(2026, 2, 10))  # 26 days after the win


def one(value: int) -> np.ndarray:
    return np.array([value], dtype=np.int64)


def test_a_clawback_in_a_later_period_carries_a_negative_balance_forward() -> None:
    # January: 5,000.00 paid on d1 (won Jan 15). February: d1 cancelled on Feb 10, inside a
    # 90-day window: the 5,000.00 comes back; February earned 2,000.00, so February pays nothing
    # and carries -3,000.00; March earned 4,000.00 and pays 1,000.00.
    back = clawback_minor(one(500_000), one(WON), one(CANCELLED), one(90), np.array([False]))
    assert back.tolist() == [500_000]
    jan = settle(one(500_000), one(0), Terms.none(1), Opening.zero(1), JAN31)
    assert jan.pay_minor.tolist() == [500_000]
    feb = settle(one(200_000), back, Terms.none(1), jan.closing, FEB28)
    assert (feb.clawback_from_pay_minor[0], feb.pay_minor[0], feb.carry_out_minor[0]) == (
        500_000, 0, -300_000)  # fmt: skip
    mar = settle(one(400_000), one(0), Terms.none(1), feb.closing, MAR31)
    assert (mar.carry_in_minor[0], mar.pay_minor[0], mar.closing.carry_minor[0]) == (
        -300_000, 100_000, 0)  # fmt: skip


def test_pro_rata_and_refund_clawbacks_and_the_window() -> None:
    # Pro rata: 64 of 90 days unexpired: 5,000.00 x 64 / 90 = 3,555.555... -> 3,555.56
    assert clawback_minor(one(500_000), one(WON), one(CANCELLED), one(90),
                          np.array([True])).tolist() == [355_556]  # fmt: skip
    # A refund of 25,000.00 on a 100,000.00 deal gives back a quarter: 1,250.00
    assert clawback_minor(one(500_000), one(WON), one(CANCELLED), one(90), np.array([False]),
                          one(2_500_000), one(10_000_000)).tolist() == [125_000]  # fmt: skip
    # Outside a 20-day window: nothing.
    assert clawback_minor(one(500_000), one(WON), one(CANCELLED), one(20),
                          np.array([False])).tolist() == [0]  # fmt: skip


def test_a_clawback_draws_on_the_holdback_reserve_first() -> None:
    terms = Terms(one(100_000), one(60), one(0), np.array([False]))  # hold 10 % for 60 days
    jan = settle(one(500_000), one(0), terms, Opening.zero(1), JAN31)
    assert (jan.withheld_minor[0], jan.pay_minor[0]) == (50_000, 450_000)  # 500 held
    assert jan.closing.reserve.due_day.tolist() == [JAN31 + 60]
    # February: a 800.00 clawback takes the 500.00 reserve, then 300.00 of pay.
    feb = settle(one(200_000), one(80_000), terms, jan.closing, FEB28)
    assert (feb.clawback_from_reserve_minor[0], feb.clawback_from_pay_minor[0]) == (50_000, 30_000)
    assert (feb.withheld_minor[0], feb.pay_minor[0]) == (20_000, 200_000 - 20_000 - 30_000)
    # April (Apr 30 >= Feb 28 + 60): February's 200.00 is released.
    apr = settle(one(0), one(0), terms, feb.closing, date_to_days(dt.date(2026, 4, 30)))
    assert (apr.released_minor[0], apr.pay_minor[0]) == (20_000, 20_000)
    assert apr.closing.reserve.amount_minor.size == 0


def test_a_recoverable_draw_is_paid_back_over_two_periods() -> None:
    # Draw 2,000.00 a month, recoverable. January earns 500.00: paid 2,000.00, owes 1,500.00.
    # February earns 3,000.00: 1,000.00 above the draw is recovered, paid 2,000.00, owes 500.00.
    # March earns 2,600.00: the last 500.00 is recovered, paid 2,100.00, owes nothing.
    terms = Terms(one(0), one(0), one(200_000), np.array([True]))
    jan = settle(one(50_000), one(0), terms, Opening.zero(1), JAN31)
    assert (jan.draw_top_up_minor[0], jan.pay_minor[0], jan.closing.draw_balance_minor[0]) == (
        150_000, 200_000, 150_000)  # fmt: skip
    feb = settle(one(300_000), one(0), terms, jan.closing, FEB28)
    assert (feb.draw_recovered_minor[0], feb.pay_minor[0], feb.closing.draw_balance_minor[0]) == (
        100_000, 200_000, 50_000)  # fmt: skip
    mar = settle(one(260_000), one(0), terms, feb.closing, MAR31)
    assert (mar.draw_recovered_minor[0], mar.pay_minor[0], mar.closing.draw_balance_minor[0]) == (
        50_000, 210_000, 0)  # fmt: skip


def test_a_non_recoverable_draw_is_never_paid_back() -> None:
    terms = Terms(one(0), one(0), one(200_000), np.array([False]))
    jan = settle(one(50_000), one(0), terms, Opening.zero(1), JAN31)
    feb = settle(one(300_000), one(0), terms, jan.closing, FEB28)
    assert (jan.pay_minor[0], feb.pay_minor[0], feb.closing.draw_balance_minor[0]) == (
        200_000, 300_000, 0)  # fmt: skip


money = st.integers(-(10**7), 10**8)


@given(st.lists(st.tuples(money, st.integers(0, 10**7), st.integers(0, 500_000),
                          st.integers(0, 10**7), st.booleans()), min_size=1, max_size=8),
       st.integers(1, 4))  # fmt: skip
def test_every_settlement_adds_up_and_pays_nothing_negative(
    rows: list[tuple[int, int, int, int, bool]], periods: int
) -> None:
    n = len(rows)
    earned = np.array([r[0] for r in rows], np.int64)
    claw = np.array([r[1] for r in rows], np.int64)
    terms = Terms(
        np.array([r[2] for r in rows], np.int64),
        np.full(n, 30, np.int64),
        np.array([r[3] for r in rows], np.int64),
        np.array([r[4] for r in rows]),
    )
    opening = Opening(np.zeros(n, np.int64), np.zeros(n, np.int64), Reserve.empty())
    day = JAN31
    for _ in range(periods):
        s = settle(earned, claw, terms, opening, day)
        identity = (s.earned_minor - s.withheld_minor + s.released_minor
                    - s.clawback_from_pay_minor + s.carry_in_minor - s.carry_out_minor
                    + s.draw_top_up_minor - s.draw_recovered_minor)  # fmt: skip
        assert (identity == s.pay_minor).all()
        assert (s.pay_minor >= 0).all() and (s.closing.carry_minor <= 0).all()
        assert (s.clawback_from_reserve_minor + s.clawback_from_pay_minor == claw).all()
        assert (s.closing.draw_balance_minor >= 0).all()
        assert (s.closing.reserve.amount_minor > 0).all()
        opening, day = s.closing, day + 31
