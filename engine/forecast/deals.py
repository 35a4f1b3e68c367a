"""Deals as columns: turning caller-supplied deal values into a typed frame, per-deal problems kept.

The service layer hands over plain Python values column by column (one list per attribute); this
module checks them against the rule set (currency, stage, manual probability, category override,
declared attribute types) and builds the :class:`DealBatch` that scoring reads. A bad deal never
fails its batch: it is marked invalid with a reason and the field at fault, and the others go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from engine.frame import (
    Column,
    FieldType,
    Frame,
    column_from_python,
    date_column,
    string_column,
    to_scaled,
)
from engine.money import CURRENCY_EXPONENTS, decimal_to_ppm
from engine.rules.compiler import CompiledRuleSet
from engine.rules.fields import AMOUNT_SCALE
from engine.rules.schema import CATEGORY_ORDER

_CATEGORY_CODES = {c.value: i for i, c in enumerate(CATEGORY_ORDER)}


@dataclass(frozen=True)
class DealError:
    """A problem with one deal of a batch: its index, the field at fault and a stable reason."""

    index: int
    field: str
    reason: str
    message: str


@dataclass
class DealInput:
    """Deal attributes column by column, as plain Python values (``None`` = not given).

    Every list has one entry per deal. ``attributes`` holds the extra attributes a rule set declares
    in its ``fields`` section, by name; attributes the rule set does not declare are ignored.
    """

    id: list[str]
    amount_minor: list[int | str | None]
    currency: list[str]
    stage: list[str]
    win_prob: list[Decimal | str | None] = field(default_factory=list)
    category: list[str | None] = field(default_factory=list)
    close_date: list[dt.date | str | None] = field(default_factory=list)
    owner: list[str | None] = field(default_factory=list)
    region: list[str | None] = field(default_factory=list)
    product_line: list[str | None] = field(default_factory=list)
    customer_tier: list[str | None] = field(default_factory=list)
    source: list[str | None] = field(default_factory=list)
    attributes: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True, eq=False)
class DealBatch:
    """Deals ready for scoring.

    Attributes
    ----------
    ids : list of str, length n
    frame : Frame
        Built-in and declared fields as typed columns (n rows).
    valid : ndarray of bool, shape (n,)
        False for deals with a problem in ``errors``; they are not scored.
    manual_win_ppm : ndarray of int64, shape (n,)
        A caller-supplied win probability in ppm, or -1 when none was given.
    category_override : ndarray of int8, shape (n,)
        A caller-supplied forecast category code, or -1.
    stage_idx : ndarray of int16, shape (n,)
        Each deal's index into the rule set's stages (0 for invalid deals).
    errors : list of DealError
    """

    ids: list[str]
    frame: Frame
    valid: np.ndarray
    manual_win_ppm: np.ndarray
    category_override: np.ndarray
    stage_idx: np.ndarray
    errors: list[DealError]

    @property
    def n_deals(self) -> int:
        return self.frame.n_rows


def _pad(values: Sequence[Any], n: int) -> list[Any]:
    return list(values) + [None] * (n - len(values)) if len(values) < n else list(values)


def _coerce(value: Any, type_: FieldType, scale: int) -> Any:
    """Convert a caller value to a field type's Python form; raise ValueError when it cannot."""
    if value is None:
        return None
    if type_ is FieldType.STRING:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        return value
    if type_ is FieldType.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if type_ is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise ValueError(f"expected an integer, got {value!r}")
        d = Decimal(value)
        if d != d.to_integral_value():
            raise ValueError(f"expected an integer, got {value}")
        return int(d)
    if type_ is FieldType.DECIMAL:
        if isinstance(value, bool | float):
            raise ValueError(f"expected an exact decimal (as text), got {value!r}")
        try:
            to_scaled(value, scale)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return Decimal(value)
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    raise ValueError(f"expected a date, got {value!r}")


def build_deal_batch(deals: DealInput, rules: CompiledRuleSet) -> DealBatch:
    """Check deal values against ``rules`` and build the typed frame scoring reads.

    Per-deal problems (unknown stage or currency, negative amount, a probability outside [0, 1] or
    with more than 6 places, an unknown category, an attribute of the wrong type) are returned in
    ``errors``; the deal is marked invalid and its columns hold placeholders.
    """
    n = len(deals)
    errors: list[DealError] = []
    valid = np.ones(n, dtype=np.bool_)

    def fail(i: int, field_name: str, reason: str, message: str) -> None:
        if valid[i]:
            errors.append(DealError(i, field_name, reason, message))
            valid[i] = False

    amount_minor = np.zeros(n, dtype=np.int64)
    amount = np.zeros(n, dtype=np.int64)
    for i, (a, cur) in enumerate(zip(deals.amount_minor, deals.currency, strict=True)):
        if a is None:
            fail(i, "amount_minor", "MISSING_FIELD", "amount_minor is required")
            continue
        if isinstance(a, str | bool):
            try:
                a = int(a) if not isinstance(a, bool) else None
            except ValueError:
                a = None
            if a is None:
                fail(i, "amount_minor", "INVALID_AMOUNT", "amount_minor must be an integer")
                continue
        exp = CURRENCY_EXPONENTS.get(cur) if isinstance(cur, str) else None
        if exp is None:
            fail(
                i,
                "currency",
                "UNKNOWN_CURRENCY",
                f"unknown currency {cur!r}: expected an ISO 4217 code such as USD or CNY",
            )
            continue
        if a < 0:
            fail(i, "amount_minor", "NEGATIVE_AMOUNT", f"amount_minor must not be negative ({a})")
            continue
        if a > (2**63 - 1) // 10 ** (AMOUNT_SCALE - min(exp, AMOUNT_SCALE)):
            fail(i, "amount_minor", "AMOUNT_TOO_LARGE", f"amount_minor {a} is too large")
            continue
        amount_minor[i] = a
        amount[i] = a * 10 ** (AMOUNT_SCALE - exp)

    stage_col = string_column([s or None for s in deals.stage])
    lookup = np.array(
        [rules.stage_index.get(s, -1) for s in stage_col.dictionary] + [-1], dtype=np.int16
    )
    stage_idx = lookup[stage_col.values.astype(np.int32)]  # code -1 picks the trailing -1
    for bad in np.flatnonzero(stage_idx < 0).tolist():
        s = deals.stage[bad]
        if not s:
            fail(bad, "stage", "MISSING_FIELD", "stage is required")
        else:
            fail(
                bad,
                "stage",
                "UNKNOWN_STAGE",
                f"stage {s!r} is not in rule set {rules.name!r} "
                f"(stages: {', '.join(rules.stage_ids)})",
            )

    manual = np.full(n, -1, dtype=np.int64)
    for i, p in enumerate(_pad(deals.win_prob, n)):
        if p is None or p == "":
            continue
        try:
            d = Decimal(p) if not isinstance(p, Decimal) else p
            if not d.is_finite() or d < 0 or d > 1:
                raise ValueError(f"win_prob must be in [0, 1], got {p}")
            manual[i] = decimal_to_ppm(d)
        except (InvalidOperation, ValueError) as exc:
            msg = str(exc) if isinstance(exc, ValueError) else f"win_prob {p!r} is not a number"
            fail(i, "win_prob", "INVALID_WIN_PROB", msg)

    override = np.full(n, -1, dtype=np.int8)
    for i, c in enumerate(_pad(deals.category, n)):
        if c:
            code = _CATEGORY_CODES.get(c)
            if code is None:
                fail(
                    i,
                    "category",
                    "UNKNOWN_CATEGORY",
                    f"category {c!r} is not one of {', '.join(_CATEGORY_CODES)}",
                )
            else:
                override[i] = code

    columns: dict[str, Column] = {
        "stage": stage_col,
        "amount_minor": Column(FieldType.INT, amount_minor),
        "amount": Column(FieldType.DECIMAL, amount, scale=AMOUNT_SCALE),
        "currency": string_column([c if isinstance(c, str) else None for c in deals.currency]),
    }
    dates: list[dt.date | None] = []
    for i, v in enumerate(_pad(deals.close_date, n)):
        try:
            dates.append(_coerce(v or None, FieldType.DATE, 0))
        except ValueError as exc:
            fail(i, "close_date", "INVALID_DATE", f"close_date: {exc}")
            dates.append(None)
    columns["close_date"] = date_column(dates)
    for name in ("owner", "region", "product_line", "customer_tier", "source"):
        columns[name] = string_column([v or None for v in _pad(getattr(deals, name), n)])
    builtins = set(columns)
    for name, spec in rules.schema.items():
        if name in builtins:
            continue
        raw = _pad(deals.attributes.get(name, []), n)
        values: list[Any] = []
        for i, v in enumerate(raw):
            try:
                values.append(_coerce(v, spec.type, spec.scale))
            except ValueError as exc:
                fail(i, f"attributes.{name}", "INVALID_ATTRIBUTE", f"{name}: {exc}")
                values.append(None)
        columns[name] = column_from_python(values, spec.type, spec.scale)
    stage_codes = np.where(stage_idx < 0, 0, stage_idx).astype(np.int16)
    frame = Frame(n, columns)
    return DealBatch(list(deals.id), frame, valid, manual, override, stage_codes, errors)


def deal_input_from_records(records: Sequence[Mapping[str, Any]]) -> DealInput:
    """Build a :class:`DealInput` from dict records (CSV rows, tests). Unknown keys become
    attributes."""
    known = {f for f in DealInput.__dataclass_fields__ if f != "attributes"}
    cols: dict[str, list[Any]] = {k: [] for k in known}
    attrs: dict[str, list[Any]] = {}
    for i, rec in enumerate(records):
        for k in known:
            cols[k].append(rec.get(k))
        for k, v in rec.items():
            if k not in known:
                attrs.setdefault(k, [None] * i).append(v)
        for lst in attrs.values():
            if len(lst) < i + 1:
                lst.append(None)
    return DealInput(**cols, attributes=attrs)  # type: ignore[arg-type]


__all__ = [
    "DealBatch",
    "DealError",
    "DealInput",
    "build_deal_batch",
    "deal_input_from_records",
]
