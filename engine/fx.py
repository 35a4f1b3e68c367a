"""Currency conversion by a rule set's dated FX table, exactly.

A roll-up adds amounts, so deals in several currencies must first be converted to one reporting
currency. The rule set's ``fx`` section gives, per currency, rates effective from given dates:
units of the reporting currency per unit of the currency (major units, an exact decimal with at
most six places). A deal converts at the rate in force on the as-of date (the latest one effective
on or before it); a currency without such a rate is an error naming it, never a silent 1.0.

``amount x rate`` is computed on integers (minor units x parts per million, shifted by the two
currencies' exponents) and rounded once, half to even.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.credit.allocation import muldiv_half_even
from engine.errors import InvalidArgumentError, Violation
from engine.money import CURRENCY_EXPONENTS, PPM


@dataclass(frozen=True)
class FxTable:
    """Dated rates to ``reporting`` per currency: ``rates[c]`` is ``[(from, rate_ppm), ...]``
    sorted by date."""

    reporting: str
    rates: Mapping[str, Sequence[tuple[dt.date, int]]] = field(default_factory=dict)

    def rate_ppm(self, currency: str, on: dt.date) -> int | None:
        """The rate in force on ``on`` (1,000,000 for the reporting currency), or None."""
        if currency == self.reporting:
            return PPM
        dated = self.rates.get(currency, ())
        i = bisect.bisect_right([d for d, _ in dated], on) - 1
        return dated[i][1] if i >= 0 else None


def convert_minor(
    amount_minor: np.ndarray,
    currency_code: np.ndarray,
    dictionary: Sequence[str],
    table: FxTable,
    on: dt.date,
    path: str = "deals.currency",
) -> np.ndarray:
    """Amounts (minor units of ``dictionary[currency_code]``) in minor units of the reporting
    currency, rounded half-even. Raises FX_RATE_MISSING naming each currency without a rate."""
    amount = np.asarray(amount_minor, dtype=np.int64)
    code = np.asarray(currency_code, dtype=np.int64)
    used = np.unique(code) if code.size else code
    missing = []
    out = np.empty_like(amount)
    rep_exp = CURRENCY_EXPONENTS.get(table.reporting, 2)
    for c in used.tolist():
        name = dictionary[c]
        rate = table.rate_ppm(name, on)
        if rate is None:
            missing.append(name)
            continue
        shift = rep_exp - CURRENCY_EXPONENTS.get(name, 2)
        mult = rate * 10 ** max(shift, 0)
        div = PPM * 10 ** max(-shift, 0)
        rows = code == c
        out[rows] = muldiv_half_even(amount[rows], np.asarray(mult, dtype=np.int64), div)
    if missing:
        raise InvalidArgumentError(
            f"no FX rate to {table.reporting} on {on} for " + ", ".join(missing),
            reason="FX_RATE_MISSING",
            violations=[
                Violation(path, 0, 0, "FX_RATE_MISSING", f"{name}: no rate on or before {on}")
                for name in missing
            ],
        )
    return out


__all__ = ["FxTable", "convert_minor"]
