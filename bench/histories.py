"""Synthetic deal histories for the sample rule set, for backtest tests and benchmarks.

No public data set here has stage histories with dates (the IBM win/loss set is one row per
closed deal, without dates), so histories are generated from a seeded ``numpy.random.Generator``:
deals are created uniformly over a span, move through the sample rule set's stages with
exponential dwell times, and advance with the probabilities that make each stage's eventual win
rate its configured rate (10 % from initial contact ... 80 % from contract drafted). Sellers are
optimistic: the expected close date is 45 days after creation while real cycles average about 84
days, and when a close date passes with the deal still open it is pushed 30 days out (a new
row). That is the pattern that makes a plain weighted pipeline overshoot a period's bookings.

Rows follow the history format of ``engine.forecast.history``: ``deal_id``, ``date``, ``stage``,
``amount_minor``, ``currency``, ``close_date``, ``owner``, ``region``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

STAGES = ("initial_contact", "needs_confirmed", "quote", "contract_drafted")
#: P(advance to the next stage); the rest are lost. Products: 0.1, 0.3, 0.5, 0.8 from each stage.
ADVANCE = (1 / 3, 0.6, 0.625, 0.8)
#: Mean days in each stage.
DWELL_DAYS = (21.0, 28.0, 21.0, 14.0)
REGIONS = ("North", "South", "East", "West")
OPTIMISM_DAYS = 45
SLIP_DAYS = 30


def generate_history(
    n_deals: int,
    rng: np.random.Generator,
    *,
    first: dt.date = dt.date(2024, 1, 1),
    span_days: int = 730,
    reps: int = 12,
    currency: str = "CNY",
) -> list[dict[str, Any]]:
    """Rows of ``n_deals`` deal histories created over ``span_days`` from ``first``."""
    rows: list[dict[str, Any]] = []
    created = rng.integers(0, span_days, n_deals)
    amounts = (np.rint(rng.lognormal(11.0, 1.0, n_deals) / 1000) * 1000 * 100).astype(np.int64)
    owners = rng.integers(0, reps, n_deals)
    for i in range(n_deals):
        deal_id = f"h-{i:06d}"
        owner = f"rep{int(owners[i]):02d}"
        region = REGIONS[int(owners[i]) % len(REGIONS)]
        amount = max(int(amounts[i]), 100_000)
        day = int(created[i])
        close = day + OPTIMISM_DAYS

        def row(day: int, stage: str, close: int | None, *, deal_id: str = deal_id,
                owner: str = owner, region: str = region, amount: int = amount) -> None:  # fmt: skip
            rows.append({
                "deal_id": deal_id,
                "date": (first + dt.timedelta(days=day)).isoformat(),
                "stage": stage,
                "amount_minor": amount,
                "currency": currency,
                "close_date": None if close is None else (first + dt.timedelta(days=close)).isoformat(),
                "owner": owner,
                "region": region,
            })  # fmt: skip

        outcome = "won"
        for s, stage in enumerate(STAGES):
            row(day, stage, close)
            leave = day + 1 + int(rng.exponential(DWELL_DAYS[s]))
            while close < leave:  # the close date slips while the deal sits in the stage
                row(close + 1, stage, close + 1 + SLIP_DAYS)
                close += 1 + SLIP_DAYS
            day = leave
            if rng.random() >= ADVANCE[s]:
                outcome = "lost"
                break
        row(day, outcome, day)
    return rows


__all__ = ["generate_history"]
