"""Exact money: integer minor units, currency exponents, and roundings that name their mode.

Amounts are int64 minor units (cents, fen, yen) with an ISO 4217 currency. Rates are exact: parts
per million as int64 (``rate_ppm``) on the columnar paths, ``Decimal`` elsewhere. Multiplying an
amount by a rate is done in integers and rounded once, half-even unless another mode is named,
so ``1,000,000.00 x 10 %`` is exactly ``100,000.00`` and no binary float touches a payable value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from engine.errors import InvalidArgumentError
from engine.frame import SMALL_BATCH

#: ISO 4217 minor-unit exponents that differ from 2 (every other listed currency uses 2).
_EXPONENT_NOT_2: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}
#: ISO 4217 currencies with two minor-unit digits.
# fmt: off
_EXPONENT_2 = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW",
    "ZWL",
]
# fmt: on
CURRENCY_EXPONENTS: dict[str, int] = {**dict.fromkeys(_EXPONENT_2, 2), **_EXPONENT_NOT_2}

PPM = 1_000_000
# |amount_minor| up to this bound times a rate of at most 1,000,000 ppm fits in int64.
_SAFE_AMOUNT_MINOR = (2**63 - 1) // PPM


def currency_exponent(currency: str) -> int:
    """Return the number of minor-unit digits of an ISO 4217 currency code.

    Raises
    ------
    InvalidArgumentError
        With reason ``UNKNOWN_CURRENCY`` for a code that is not an ISO 4217 currency.
    """
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidArgumentError(
            f"unknown currency {currency!r}: expected an ISO 4217 code such as USD or CNY",
            reason="UNKNOWN_CURRENCY",
        ) from None


def _div_round_half_even(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Integer ``numerator / denominator`` rounded half to even (denominator > 0).

    ``numerator`` is overwritten (callers pass a fresh product): on a million deals, every
    temporary array costs more than the arithmetic, so the remainder is computed in place.
    """
    q = numerator // denominator  # floor division: 0 <= r < denominator
    numerator -= q * denominator  # now the remainder r
    numerator <<= 1  # 2r, compared with the denominator
    up = numerator > denominator
    ties = np.flatnonzero(numerator == denominator)  # rare: exactly half way
    if ties.size:
        up[ties] = (q[ties] & 1).astype(np.bool_)
    q += up
    return q


def divide_half_even(num: int, den: int) -> int:
    """Return ``num / den`` rounded to an integer, ties to even (Python integers, ``den != 0``)."""
    if den < 0:
        num, den = -num, -den
    q, r = divmod(num, den)
    return q + (2 * r > den or (2 * r == den and q % 2 == 1))


def mul_ppm_half_even(amount_minor: np.ndarray, rate_ppm: np.ndarray) -> np.ndarray:
    """Return ``amount_minor x rate_ppm / 1e6`` in minor units, rounded half to even, exactly.

    Parameters
    ----------
    amount_minor : ndarray of int64, shape (n,)
    rate_ppm : ndarray of int64, shape (n,) or scalar, each in [0, 1_000_000]

    Returns
    -------
    ndarray of int64, shape (n,)
        Amounts whose product would overflow int64 are computed with Python integers instead,
        so the result is exact for every int64 amount.
    """
    amount_minor = np.asarray(amount_minor, dtype=np.int64)
    rate = np.asarray(rate_ppm, dtype=np.int64)
    if rate.shape != amount_minor.shape:
        rate = np.broadcast_to(rate, amount_minor.shape)
    if amount_minor.size <= SMALL_BATCH:  # a few deals: Python integers are exact and cheaper
        few = [
            divide_half_even(a * r, PPM)
            for a, r in zip(amount_minor.tolist(), rate.tolist(), strict=True)
        ]
        return np.array(few, dtype=np.int64).reshape(amount_minor.shape)
    if not amount_minor.size or (
        int(amount_minor.max()) <= _SAFE_AMOUNT_MINOR
        and int(amount_minor.min()) >= -_SAFE_AMOUNT_MINOR
    ):
        return _div_round_half_even(amount_minor * rate, PPM)
    big = (amount_minor > _SAFE_AMOUNT_MINOR) | (amount_minor < -_SAFE_AMOUNT_MINOR)
    out = np.empty_like(amount_minor)
    small = ~big
    out[small] = _div_round_half_even(amount_minor[small] * rate[small], PPM)
    exact = [
        int((Decimal(int(a)) * Decimal(int(p)) / PPM).to_integral_value(rounding=ROUND_HALF_EVEN))
        for a, p in zip(amount_minor[big], rate[big], strict=True)
    ]
    out[big] = np.array(exact, dtype=np.int64)
    return out


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    """Return an amount in minor units as an exact Decimal in major units (100 -> 1.00 USD)."""
    exp = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_minor(amount_minor: int, currency: str) -> str:
    """Format minor units for people, e.g. ``100000000, 'USD'`` -> ``'1,000,000.00 USD'``."""
    exp = currency_exponent(currency)
    return f"{minor_to_decimal(amount_minor, currency):,.{exp}f} {currency}"


def ppm_to_decimal(rate_ppm: int) -> Decimal:
    """Return a rate in parts per million as an exact Decimal (100000 -> Decimal('0.1'))."""
    return (Decimal(int(rate_ppm)) / PPM).normalize() if rate_ppm else Decimal(0)


def decimal_to_ppm(rate: Decimal) -> int:
    """Return an exact rate as parts per million, refusing more than 6 decimal places.

    Raises ``ValueError`` when the rate cannot be represented exactly.
    """
    scaled = rate.scaleb(6)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{rate} has more than 6 decimal places")
    return int(scaled)


__all__ = [
    "CURRENCY_EXPONENTS",
    "PPM",
    "currency_exponent",
    "decimal_to_ppm",
    "divide_half_even",
    "format_minor",
    "minor_to_decimal",
    "mul_ppm_half_even",
    "ppm_to_decimal",
]
