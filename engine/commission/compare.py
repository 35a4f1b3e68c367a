"""What changed between two commission runs, per person and deal line, and why.

Statements are compared as stored (plain mappings: ``person``, ``plan``, ``base_minor``,
``target_minor``, ``pay_minor``, ``flags``, ``deals``). A person appears when anything on their
statement differs; the reasons name what: a person new or gone, another plan, another target,
other credit (the base), other flags, other bonuses (milestones, SPIFFs), other clawbacks, another
settlement (balances brought in, draws, holdback), or (none of these, other pay) the plan's terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DealLineChange:
    deal_id: str
    credit_before_minor: int
    credit_after_minor: int
    commission_before_minor: int
    commission_after_minor: int


@dataclass(frozen=True)
class PersonChange:
    person: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reasons: tuple[str, ...]
    deals: tuple[DealLineChange, ...]


def _deal_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[DealLineChange, ...]:
    old, new = _lines_by_deal(before), _lines_by_deal(after)
    out = []
    for deal, nth in sorted(old.keys() | new.keys()):
        a, b = old.get((deal, nth), {}), new.get((deal, nth), {})
        pair = (a.get("credit_minor", 0), b.get("credit_minor", 0),
                a.get("commission_minor", 0), b.get("commission_minor", 0))  # fmt: skip
        if pair[0] != pair[1] or pair[2] != pair[3]:
            out.append(DealLineChange(deal, *pair))
    return tuple(out)


def _lines_by_deal(statement: Mapping[str, Any] | None) -> dict[tuple[str, int], Any]:
    """Deal lines keyed by deal and occurrence: a deal has one line, or (cash collected in two
    spans of a plan switch) one per span, matched in order."""
    out: dict[tuple[str, int], Any] = {}
    seen: dict[str, int] = {}
    for d in (statement or {}).get("deals", []):
        nth = seen.get(d["deal_id"], 0)
        seen[d["deal_id"]] = nth + 1
        out[(d["deal_id"], nth)] = d
    return out


def compare_statements(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[PersonChange]:
    """The people whose statements differ between two runs, by person."""
    changes = []
    for person in sorted(before.keys() | after.keys()):
        a, b = before.get(person), after.get(person)
        if a == b:
            continue
        deals = _deal_changes(a, b)
        reasons = []
        if a is None:
            reasons.append("NEW_PERSON")
        elif b is None:
            reasons.append("PERSON_REMOVED")
        else:
            moved = any(d.credit_before_minor != d.credit_after_minor for d in deals)
            for reason, differs in (
                ("PLAN_CHANGED", a["plan"] != b["plan"]),
                ("TARGET_CHANGED", a["target_minor"] != b["target_minor"]),
                ("CREDIT_CHANGED", a["base_minor"] != b["base_minor"] or moved),
                ("FLAGS_CHANGED", a["flags"] != b["flags"]),
                ("BONUSES_CHANGED", a.get("bonuses") != b.get("bonuses")),
                ("CLAWBACKS_CHANGED", a.get("clawbacks") != b.get("clawbacks")),
                ("SETTLEMENT_CHANGED", a.get("settlement") != b.get("settlement")),
            ):
                if differs:
                    reasons.append(reason)
            if not reasons:
                reasons.append("RULES_CHANGED" if a["pay_minor"] != b["pay_minor"] else
                               "LINES_CHANGED")  # fmt: skip
        changes.append(PersonChange(person, a, b, tuple(reasons), deals))
    return changes


__all__ = ["DealLineChange", "PersonChange", "compare_statements"]
