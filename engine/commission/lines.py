"""The base of each credit line for a plan's base type, and the SPIFFs a line earns.

A plan pays on ``bookings`` (the credit on deals won in the period: the line's base is its
credit), on ``collections`` or on ``margin``:

* **collections**: cash received against the deal's invoices. A line's collected base is its
  credit times the share of the deal paid, ``min(paid, amount) / amount``; the period's part is
  the share paid by the period's end minus the share paid before it, each rounded half-even. The
  rounding is cumulative, so once a deal is paid in full its lines have collected exactly their
  credit, whatever the number of partial payments.
* **margin**: the credit times the deal's margin ratio (a declared decimal field), half-even.

A SPIFF pays a fixed amount per deal of its segment, shared among the deal's credited people by
their share of the deal (``credit / amount``, half-even per line).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.commission.run import Awards
from engine.credit.allocation import muldiv_half_even

_PPM = 1_000_000


def collected_base_minor(
    credit_minor: np.ndarray,
    deal_amount_minor: np.ndarray,
    paid_before_minor: np.ndarray,
    paid_through_minor: np.ndarray,
) -> np.ndarray:
    """Each line's base collected in the period (see the module): cash paid on its deal before
    the period and by its end, both cumulative."""
    credit = np.maximum(np.asarray(credit_minor, dtype=np.int64), 0)
    amount = np.maximum(np.asarray(deal_amount_minor, dtype=np.int64), 0)
    den = np.maximum(amount, 1)

    def share(paid: np.ndarray) -> np.ndarray:
        paid = np.clip(np.asarray(paid, dtype=np.int64), 0, amount)
        return np.where(amount > 0, muldiv_half_even(credit, paid, den), 0)

    return (share(paid_through_minor) - share(paid_before_minor)).astype(np.int64)


def margin_base_minor(credit_minor: np.ndarray, margin_ppm: np.ndarray) -> np.ndarray:
    """Each line's margin: credit x the deal's margin ratio (ppm; clipped to [0, 1]), half-even."""
    credit = np.maximum(np.asarray(credit_minor, dtype=np.int64), 0)
    ratio = np.clip(np.asarray(margin_ppm, dtype=np.int64), 0, _PPM)
    return muldiv_half_even(credit, ratio, _PPM).astype(np.int64)


def spiff_awards(
    credit_minor: np.ndarray,
    deal_amount_minor: np.ndarray,
    spiffs: Sequence[tuple[str, int, np.ndarray]],
) -> Awards:
    """Awards for ``(spiff id, amount per deal in minor units, lines it applies to)``: each line
    of a matching deal gets the amount times its share of the deal."""
    credit = np.maximum(np.asarray(credit_minor, dtype=np.int64), 0)
    amount = np.asarray(deal_amount_minor, dtype=np.int64)
    lines, ids, amounts = [], [], []
    for spiff_id, per_deal, mask in spiffs:
        rows = np.flatnonzero(np.asarray(mask, dtype=np.bool_) & (amount > 0) & (credit > 0))
        pay = muldiv_half_even(np.full(rows.size, per_deal, np.int64), credit[rows], amount[rows])
        lines.append(rows)
        amounts.append(pay)
        ids += [spiff_id] * rows.size
    if not lines:
        z = np.zeros(0, dtype=np.int64)
        return Awards(z, [], z.copy())
    return Awards(np.concatenate(lines).astype(np.int64), ids,
                  np.concatenate(amounts).astype(np.int64))  # fmt: skip


__all__ = ["collected_base_minor", "margin_base_minor", "spiff_awards"]
