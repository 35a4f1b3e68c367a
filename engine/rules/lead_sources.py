"""The rule set's ``lead_sources`` section compiled: what each lead source (or campaign) cost per
period, in the minor units of one currency, for source ROI (cost per won deal, return on spend).

Checked at publish time with a path for every problem: a known currency, amounts no more precise
than it, one cost per source and period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import Violation
from engine.money import CURRENCY_EXPONENTS
from engine.rules.schema import SourceCostItem
from engine.rules.source import SourceDocument, join_path


@dataclass(frozen=True)
class SourceCost:
    """What ``source`` cost in the period labelled ``period``, in minor units of ``currency``."""

    source: str
    period: str
    amount_minor: int
    currency: str


def compile_lead_sources(
    currency: str, items: Sequence[tuple[int, SourceCostItem]], doc: SourceDocument,
    out: list[Violation],
) -> tuple[SourceCost, ...]:  # fmt: skip
    """The costs (``items``: the well-shaped ones, by their index in the section), problems
    appended to ``out``."""
    exponent = CURRENCY_EXPONENTS.get(currency)
    if exponent is None:
        out.append(doc.violation("lead_sources.currency", "UNKNOWN_CURRENCY",
                                 f"{currency!r} is not an ISO 4217 currency"))  # fmt: skip
        return ()
    compiled: list[SourceCost] = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in items:
        p = join_path("lead_sources.costs", i)
        minor = item.amount.scaleb(exponent)
        if minor != minor.to_integral_value():
            out.append(doc.violation(join_path(p, "amount"), "AMOUNT_TOO_PRECISE",
                                     f"{item.amount} has more places than {currency}"))  # fmt: skip
            continue
        key = (item.source, item.period)
        if key in seen:
            out.append(doc.violation(p, "DUPLICATE_COST",
                                     f"lead_sources.costs[{seen[key]}] has the same source and "
                                     "period"))  # fmt: skip
            continue
        seen[key] = i
        compiled.append(SourceCost(item.source, item.period, int(minor), currency))
    return tuple(compiled)


__all__ = ["SourceCost", "compile_lead_sources"]
