"""From what people earned in a period to what they are paid: clawbacks, holdback, balances, draws.

A run opens with each person's balances from the run before it (the previous period's closing
balances) and closes with new ones; runs chain period to period. Per person, in order:

1. **clawbacks**: commission paid on a deal that was then cancelled or refunded within the plan's
   window comes back, dated to the period of the cancellation or refund (:func:`clawback_minor`);
   it is taken from the holdback reserve first (the amounts held longest first), then from pay;
2. **holdback**: ``rate`` of the period's earnings (when positive, half-even) is held in the
   reserve; each amount held is released in the first period ending ``release_days`` or more
   after the end of the period it was held in;
3. **carried balance**: a negative balance from before is netted; if the period ends negative, the
   person is paid nothing and the negative balance is carried forward;
4. **draw**: while a plan's draw is in force, pay is at least the draw; a recoverable draw's
   top-ups add to a balance that is recovered from pay above the draw (and from any pay once the
   draw has ended); a non-recoverable draw's top-ups are not paid back.

Every step is an array operation over people (reserve amounts are a flat table of (person, due
day, amount) rows). The figures satisfy, per person::

    pay = earned - withheld + released - clawback_from_pay + carry_in - carry_out
          + draw_top_up - draw_recovered

with ``carry_in`` and ``carry_out`` the negative balances brought in and carried out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.credit.allocation import muldiv_half_even

_PPM = 1_000_000


@dataclass(frozen=True)
class Reserve:
    """Held-back amounts not yet released: one row per (person, amount held)."""

    person: np.ndarray  # index into the run's people
    due_day: np.ndarray  # released in the first period whose last day is on or after it
    amount_minor: np.ndarray

    @staticmethod
    def empty() -> Reserve:
        z = np.zeros(0, dtype=np.int64)
        return Reserve(z, z.copy(), z.copy())


@dataclass(frozen=True)
class Opening:
    """Balances brought in, per person."""

    carry_minor: np.ndarray  # <= 0: a negative balance carried forward
    draw_balance_minor: np.ndarray  # >= 0: recoverable draw not yet paid back
    reserve: Reserve

    @staticmethod
    def zero(n: int) -> Opening:
        return Opening(np.zeros(n, np.int64), np.zeros(n, np.int64), Reserve.empty())


@dataclass(frozen=True)
class Terms:
    """Per person: the settlement terms of their plan (0 where a plan has none)."""

    holdback_rate_ppm: np.ndarray
    release_days: np.ndarray
    draw_minor: np.ndarray  # the draw in force this period; 0: none
    recoverable: np.ndarray  # bool

    @staticmethod
    def none(n: int) -> Terms:
        z = np.zeros(n, np.int64)
        return Terms(z, z.copy(), z.copy(), np.zeros(n, np.bool_))


@dataclass(frozen=True)
class Settlement:
    """Per person: every step's figure, the pay, and the balances carried out."""

    earned_minor: np.ndarray
    clawback_minor: np.ndarray
    clawback_from_reserve_minor: np.ndarray
    clawback_from_pay_minor: np.ndarray
    withheld_minor: np.ndarray
    released_minor: np.ndarray
    carry_in_minor: np.ndarray
    carry_out_minor: np.ndarray
    draw_top_up_minor: np.ndarray
    draw_recovered_minor: np.ndarray
    pay_minor: np.ndarray
    closing: Opening


def _sum_by(key: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, key, values.astype(np.int64))
    return out


def clawback_minor(
    paid_minor: np.ndarray,
    won_day: np.ndarray,
    event_day: np.ndarray,
    window_days: np.ndarray,
    pro_rata: np.ndarray,
    refunded_minor: np.ndarray | None = None,
    deal_amount_minor: np.ndarray | None = None,
) -> np.ndarray:
    """What each (person, deal) line gives back: ``paid_minor`` is the commission paid on the
    deal so far, ``event_day`` the day of the cancellation or refund. Outside the window
    (``event_day - won_day > window_days``) nothing. A cancellation gives back all of it, or with
    ``pro_rata`` the unexpired share of the window, ``(window - days) / window``; a refund gives
    back ``refunded / deal amount`` of it (all of it at most). Half-even to the unit."""
    paid = np.maximum(np.asarray(paid_minor, dtype=np.int64), 0)
    days = np.asarray(event_day, np.int64) - np.asarray(won_day, np.int64)
    window = np.asarray(window_days, dtype=np.int64)
    inside = (days >= 0) & (days <= window)
    if refunded_minor is not None and deal_amount_minor is not None:
        refunded = np.asarray(refunded_minor, dtype=np.int64)
        amount = np.asarray(deal_amount_minor, dtype=np.int64)
        share = muldiv_half_even(paid, np.minimum(np.maximum(refunded, 0), amount),
                                 np.maximum(amount, 1))  # fmt: skip
        refund = refunded > 0
    else:
        share = paid
        refund = np.zeros(paid.shape, dtype=np.bool_)
    unexpired = muldiv_half_even(paid, np.maximum(window - days, 0), np.maximum(window, 1))
    cancelled = np.where(np.asarray(pro_rata, np.bool_) & (window > 0), unexpired, paid)
    back = np.where(refund, share, cancelled)
    return np.where(inside, back, 0).astype(np.int64)


def settle(
    earned_minor: np.ndarray,
    clawback_minor: np.ndarray,
    terms: Terms,
    opening: Opening,
    period_last_day: int,
) -> Settlement:
    """Settle a period for every person (see the module)."""
    earned = np.asarray(earned_minor, dtype=np.int64)
    claw = np.maximum(np.asarray(clawback_minor, dtype=np.int64), 0)
    n = earned.size
    reserve = opening.reserve
    # Reserve rows by person, then the one held longest (earliest due) first.
    order = np.lexsort((reserve.due_day, reserve.person))
    who, due, amount = reserve.person[order], reserve.due_day[order], reserve.amount_minor[order]
    held = _sum_by(who, amount, n)
    from_reserve = np.minimum(claw, held)
    from_pay = claw - from_reserve
    # Each row's part of its person's take: what the take leaves after the rows before it.
    running = np.cumsum(amount)
    first_of = np.searchsorted(who, np.arange(n))
    before = running - amount - np.where(first_of[who] > 0, running[first_of[who] - 1], 0)
    taken = np.clip(from_reserve[who] - before, 0, amount)
    left = amount - taken
    released_now = due <= period_last_day
    released = _sum_by(who, np.where(released_now, left, 0), n)
    withheld = muldiv_half_even(np.maximum(earned, 0), terms.holdback_rate_ppm, _PPM)
    net = earned - withheld - from_pay + released + opening.carry_minor
    carry_out = np.minimum(net, 0)
    available = net - carry_out
    draw = np.asarray(terms.draw_minor, dtype=np.int64)
    top_up = np.where((draw > 0) & (available < draw), draw - available, 0)
    balance = opening.draw_balance_minor + np.where(terms.recoverable, top_up, 0)
    room = np.where(draw > 0, np.maximum(available - draw, 0), available)
    recovered = np.where(top_up > 0, 0, np.minimum(opening.draw_balance_minor, room))
    balance = balance - recovered
    pay = available + top_up - recovered
    keep = (left > 0) & ~released_now
    new = withheld > 0
    people_new = np.flatnonzero(new)
    closing_reserve = Reserve(
        np.r_[who[keep], people_new].astype(np.int64),
        np.r_[due[keep], period_last_day + terms.release_days[people_new]].astype(np.int64),
        np.r_[left[keep], withheld[people_new]].astype(np.int64),
    )
    return Settlement(
        earned_minor=earned,
        clawback_minor=claw,
        clawback_from_reserve_minor=from_reserve,
        clawback_from_pay_minor=from_pay,
        withheld_minor=withheld,
        released_minor=released,
        carry_in_minor=np.asarray(opening.carry_minor, dtype=np.int64),
        carry_out_minor=carry_out,
        draw_top_up_minor=top_up,
        draw_recovered_minor=recovered,
        pay_minor=pay,
        closing=Opening(carry_out, balance, closing_reserve),
    )


__all__ = ["Opening", "Reserve", "Settlement", "Terms", "clawback_minor", "settle"]
