"""The deal fields every rule set may use without declaring them.

A rule set's ``fields`` section adds attributes of its own; these built-ins come from the deal
itself. ``amount`` is the deal amount in major units as an exact decimal (``amount_minor`` scaled by
the currency's exponent), so a rule reads ``amount >= 500000`` whatever the currency's minor unit.
"""

from __future__ import annotations

from engine.frame import FieldType
from engine.rules.expression import FieldSpec

#: Decimal places of the built-in ``amount`` field (enough for every ISO 4217 exponent).
AMOUNT_SCALE = 4

BUILTIN_FIELDS: dict[str, FieldSpec] = {
    "stage": FieldSpec(FieldType.STRING),
    "amount": FieldSpec(FieldType.DECIMAL, AMOUNT_SCALE),
    "amount_minor": FieldSpec(FieldType.INT),
    "currency": FieldSpec(FieldType.STRING),
    "owner": FieldSpec(FieldType.STRING),
    "region": FieldSpec(FieldType.STRING),
    "product_line": FieldSpec(FieldType.STRING),
    "customer_tier": FieldSpec(FieldType.STRING),
    "source": FieldSpec(FieldType.STRING),
    "close_date": FieldSpec(FieldType.DATE),
    "created_date": FieldSpec(FieldType.DATE),
    "stage_entered_date": FieldSpec(FieldType.DATE),
}

#: Fields available to the ``categories`` table only: they exist once win rates are known.
CATEGORY_INPUT_FIELDS: dict[str, FieldSpec] = {
    "win_prob": FieldSpec(FieldType.DECIMAL, 6),
}

__all__ = ["AMOUNT_SCALE", "BUILTIN_FIELDS", "CATEGORY_INPUT_FIELDS"]
