"""Deals as columns: turning caller-supplied deal values into a typed frame, per-deal problems kept.

The service layer hands over plain Python values column by column (one list per attribute); this
module checks them against the rule set (currency, stage, manual probability, category override,
declared attribute types) and builds the :class:`DealBatch` that scoring reads. A bad deal never
fails its batch: it is marked invalid with a reason and the field at fault, and the others go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from engine.frame import (
    ONE_VALID,
    SMALL_BATCH,
    Column,
    FieldType,
    Frame,
    Row,
    RowFrame,
    any_true,
    code_dtype,
    column_from_encoded,
    date_to_days,
    read_only_one,
    string_column_from_codes,
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
    created_date: list[dt.date | str | None] = field(default_factory=list)
    stage_entered_date: list[dt.date | str | None] = field(default_factory=list)
    attributes: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.id)


#: The built-in deal fields, in order: the columns of :class:`DealInput` other than attributes.
DEAL_COLUMNS: tuple[str, ...] = tuple(
    f for f in DealInput.__dataclass_fields__ if f != "attributes"
)


class Coded:
    """One deal column as its distinct values and a code per deal into them (-1: not given).

    Deal columns repeat a few values many times (stages, regions, dates, discounts), so every check
    and conversion runs once per distinct value; Arrow dictionary arrays arrive in this shape. A
    source that can give a field's typed values directly (a date or integer array, decimals parsed
    in bulk) overrides :meth:`typed`; the per-value checks then run only when it cannot.
    """

    def __init__(self, codes: np.ndarray, values: Sequence[Any]) -> None:
        self._codes = codes
        self._values = values

    @property
    def codes(self) -> np.ndarray:
        """int64, one per deal: an index into :attr:`values`, or -1."""
        return self._codes

    @property
    def values(self) -> Sequence[Any]:
        """The distinct values."""
        return self._values

    @classmethod
    def of(cls, values: Sequence[Any]) -> Coded:
        """Encode plain values (first-appearance order)."""
        codes, uniques = _distinct(values)
        return cls(codes, uniques)

    def value(self, i: int) -> Any:
        """Deal ``i``'s value (None when not given)."""
        code = int(self.codes[i])
        return None if code < 0 else self.values[code]

    def typed(self, type_: FieldType, scale: int) -> Column | None:
        """The column as ``type_`` when every value is given in that type's form or not given
        at all (None: check value by value). Strings are never taken this way."""
        return None


@dataclass
class DealColumns:
    """Deals column by column in coded form: what a bulk caller sends (an Arrow table) and what a
    batch of plain values becomes before it is checked.

    ``amount_minor`` is an int64 array when every amount is a given integer, else coded values.
    ``fields`` holds the other built-in columns by their :class:`DealInput` name and
    ``attributes`` the declared extra attributes; a column left out is not given for any deal.
    """

    ids: Sequence[str]
    amount_minor: np.ndarray | Coded
    fields: Mapping[str, Coded] = field(default_factory=dict)
    attributes: Mapping[str, Coded] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class DealBatch:
    """Deals ready for scoring.

    Attributes
    ----------
    ids : sequence of str, length n
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

    ids: Sequence[str]
    frame: Frame
    valid: np.ndarray
    manual_win_ppm: np.ndarray
    category_override: np.ndarray
    stage_idx: np.ndarray
    errors: list[DealError]

    @property
    def n_deals(self) -> int:
        return self.frame.n_rows

    def take(self, index: np.ndarray) -> DealBatch:
        """The deals at ``index`` (int positions, in that order), errors renumbered."""
        index = np.asarray(index, dtype=np.int64)
        position = {int(old): new for new, old in enumerate(index.tolist())}
        errors = [
            DealError(position[e.index], e.field, e.reason, e.message)
            for e in self.errors
            if e.index in position
        ]
        return DealBatch(
            ids=[self.ids[i] for i in index.tolist()],
            frame=self.frame.take(index),
            valid=self.valid[index],
            manual_win_ppm=self.manual_win_ppm[index],
            category_override=self.category_override[index],
            stage_idx=self.stage_idx[index],
            errors=sorted(errors, key=lambda e: e.index),
        )


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


def _distinct(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Codes of ``values`` into their distinct values (in first-appearance order).

    Deal columns repeat a few values many times (dates, regions, discounts), so checking and
    converting each distinct value once is what keeps reading a batch linear and cheap.
    """
    index: dict[Any, int] = {}
    try:  # keyed by type too: 1, 1.0 and True are equal in Python but not as deal values
        codes = [index.setdefault((v.__class__, v), len(index)) for v in values]
    except TypeError:  # an unhashable value (a list, a dict): encode by identity instead
        index = {}
        keyed: dict[int, int] = {}
        uniques: list[Any] = []
        codes = []
        for v in values:
            k = keyed.get(id(v))
            if k is None:
                k = keyed[id(v)] = len(uniques)
                uniques.append(v)
            codes.append(k)
        return np.array(codes, dtype=np.int64), uniques
    return np.array(codes, dtype=np.int64), [v for _, v in index]


def _typed_from_codes(
    coded: Coded,
    type_: FieldType,
    scale: int,
    empty_is_null: bool,
    field_name: str,
    reason: str,
    fail: Callable[[int, str, str, str], None],
) -> Column:
    """Check and convert a coded column into a typed column, one conversion per distinct value."""
    if type_ is not FieldType.STRING:
        column = coded.typed(type_, scale)
        if column is not None:
            return column
    codes, uniques = coded.codes, coded.values
    k = len(uniques)
    if k == 0:  # given for no deal
        return Column(type_, np.zeros(len(codes), _VALUE_DTYPES[type_]), np.ones(len(codes), bool),
                      scale=scale if type_ is FieldType.DECIMAL else 0)  # fmt: skip
    if type_ is FieldType.STRING and _plain_strings(uniques):  # codes are the column's codes
        if empty_is_null and "" in uniques:
            uniques = list(uniques)
            codes = np.where(codes == uniques.index(""), -1, codes)
        null_codes = codes < 0
        return Column(
            FieldType.STRING,
            codes.astype(code_dtype(k)),
            null_codes if any_true(null_codes) else None,
            tuple(uniques),
        )
    problems: dict[int, str] = {}  # distinct value -> why it was refused

    def refuse(u: int, _field: str, _reason: str, message: str) -> None:
        problems[u] = message

    encoded = _coerced(uniques, type_, scale, empty_is_null, field_name, reason, refuse)
    is_null = np.array([v is None for v in encoded] + [True], dtype=np.bool_)  # -1: not given
    if problems:
        is_bad = np.zeros(k + 1, dtype=np.bool_)
        is_bad[list(problems)] = True
        for i in np.flatnonzero(is_bad[codes]).tolist():
            fail(i, field_name, reason, problems[int(codes[i])])
    null = is_null[codes] if codes.size else np.zeros(0, dtype=np.bool_)
    null_mask = null if any_true(null) else None
    if type_ is FieldType.STRING:
        dictionary: dict[str, int] = {}
        remap = np.full(k + 1, -1, dtype=np.int64)
        for u, v in enumerate(encoded):
            if v is not None:
                remap[u] = dictionary.setdefault(v, len(dictionary))
        arr = remap[codes].astype(code_dtype(len(dictionary)))
        return Column(FieldType.STRING, arr, null_mask, tuple(dictionary))
    if type_ is FieldType.DECIMAL:
        table = np.array([0 if v is None else to_scaled(v, scale) for v in encoded] + [0], np.int64)
        return Column(FieldType.DECIMAL, table[codes], null_mask, scale=scale)
    if type_ is FieldType.INT:
        table = np.array([0 if v is None else v for v in encoded] + [0], dtype=np.int64)
        return Column(FieldType.INT, table[codes], null_mask)
    if type_ is FieldType.BOOL:
        table = np.array([bool(v) for v in encoded] + [False], dtype=np.bool_)
        return Column(FieldType.BOOL, table[codes], null_mask)
    days = [0 if v is None else date_to_days(v) for v in encoded]
    return Column(FieldType.DATE, np.array([*days, 0], dtype=np.int32)[codes], null_mask)


_VALUE_DTYPES = {
    FieldType.STRING: np.int8,
    FieldType.INT: np.int64,
    FieldType.DECIMAL: np.int64,
    FieldType.BOOL: np.bool_,
    FieldType.DATE: np.int32,
}


def _plain_strings(values: Sequence[Any]) -> bool:
    """Whether ``values`` are distinct ``str`` values (then they can be a column's dictionary)."""
    return all(type(v) is str for v in values) and len(set(values)) == len(values)


def _coerced(
    values: Sequence[Any],
    type_: FieldType,
    scale: int,
    empty_is_null: bool,
    field_name: str,
    reason: str,
    fail: Callable[[int, str, str, str], None],
) -> list[Any]:
    """Each value in its type's Python form (None where not given or refused; refusals are
    reported through ``fail``)."""
    label = field_name.removeprefix("attributes.")
    encoded: list[Any] = []
    for i, v in enumerate(values):
        if v is None or (empty_is_null and v == ""):
            encoded.append(None)
            continue
        try:
            encoded.append(_coerce(v, type_, scale))
        except ValueError as exc:
            fail(i, field_name, reason, f"{label}: {exc}")
            encoded.append(None)
    return encoded


def _encode_one(value: Any, type_: FieldType, scale: int, empty_is_null: bool) -> Any:
    """A caller value in its column encoding (see :func:`engine.frame.column_from_encoded`;
    None where not given); ``ValueError`` with a message for people when it is refused."""
    if value is None or (empty_is_null and value == ""):
        return None
    if value.__class__ is not str:
        return _encode_typed(value, type_, scale)
    if type_ is FieldType.STRING:
        return value
    key = (value, type_, scale)
    known = _ENCODED_TEXT.get(key)
    if known is None:
        known = _encode_typed(value, type_, scale)
        if len(_ENCODED_TEXT) >= _ENCODED_TEXT_SIZE:
            _ENCODED_TEXT.clear()
        _ENCODED_TEXT[key] = known
    return known


def _encode_typed(value: Any, type_: FieldType, scale: int) -> Any:
    """:func:`_encode_one` of a given value, without the table of texts."""
    if type_ is FieldType.DECIMAL and value.__class__ is str:  # checked and scaled in one step
        return to_scaled(value, scale)
    typed = _coerce(value, type_, scale)
    if type_ is FieldType.DECIMAL:
        return to_scaled(typed, scale)
    if type_ is FieldType.DATE:
        return date_to_days(typed)
    return typed


#: Dates and numbers sent as text, in their column encoding: a CRM sends the same close dates and
#: discounts again and again. Only accepted values are kept; the table is emptied when full.
_ENCODED_TEXT: dict[tuple[str, FieldType, int], Any] = {}
_ENCODED_TEXT_SIZE = 65_536


@dataclass(frozen=True)
class _SmallField:
    """A field a small batch checks: where its values are, its type, and whether it is kept."""

    name: str
    attribute: bool  # an extra attribute (in ``DealInput.attributes``), not a built-in field
    type: FieldType
    scale: int
    empty_is_null: bool
    reason: str
    keep: bool  # False: checked, but no rule reads it and no caller asked for it

    @property
    def path(self) -> str:
        """The field named in a problem."""
        return f"attributes.{self.name}" if self.attribute else self.name

    def given(self, deals: DealInput) -> Sequence[Any]:
        """The values the caller sent (possibly fewer than the deals: the rest are not given)."""
        return deals.attributes.get(self.name, ()) if self.attribute else getattr(deals, self.name)


_TEXT_FIELDS = ("owner", "region", "product_line", "customer_tier", "source")
#: The columns every batch has, before the fields of its rule set's plan.
_BUILT_IN_TYPES: dict[str, tuple[FieldType, int]] = {
    "stage": (FieldType.STRING, 0),
    "amount_minor": (FieldType.INT, 0),
    "amount": (FieldType.DECIMAL, AMOUNT_SCALE),
    "currency": (FieldType.STRING, 0),
}
_SMALL_PLANS: weakref.WeakKeyDictionary[
    CompiledRuleSet, dict[frozenset[str], tuple[_SmallField, ...]]
] = weakref.WeakKeyDictionary()


def _small_plan(rules: CompiledRuleSet, keep_fields: Collection[str]) -> tuple[_SmallField, ...]:
    """The fields a small batch checks under ``rules``, in the order problems are found: the
    close date, the other dates and built-in strings a rule reads or the caller keeps (the owner
    always: credit splits need it), then the declared attributes. Worked out once per rule set."""
    plans = _SMALL_PLANS.get(rules)
    if plans is None:
        plans = _SMALL_PLANS.setdefault(rules, {})
    key = frozenset(keep_fields)
    plan: tuple[_SmallField, ...] | None = plans.get(key)
    if plan is not None:
        return plan
    used = rules.fields_used
    date, text = FieldType.DATE, FieldType.STRING
    fields = [_SmallField("close_date", False, date, 0, True, "INVALID_DATE", True)]
    for name in ("created_date", "stage_entered_date"):
        if name in used or name in key:
            fields.append(_SmallField(name, False, date, 0, True, "INVALID_DATE", True))
    for name in _TEXT_FIELDS:
        if name == "owner" or name in used or name in key:
            fields.append(_SmallField(name, False, text, 0, True, "INVALID_ATTRIBUTE", True))
    builtins = {"stage", "amount_minor", "amount", "currency", *_TEXT_FIELDS}
    builtins.update(f.name for f in fields)
    for name, spec in rules.schema.items():
        if name not in builtins:
            keep = name in used or name in key
            fields.append(
                _SmallField(name, True, spec.type, spec.scale, False, "INVALID_ATTRIBUTE", keep)
            )
    plan = plans[key] = tuple(fields)
    return plan


#: A problem with one value: (field, reason, message).
Problem = tuple[str, str, str]


def _amount_one(a: Any, cur: Any) -> tuple[int, int, Problem | None]:
    """Check one deal's amount and currency: ``amount_minor``, ``amount`` (major units, scale
    4) and the problem (both amounts 0 when there is one)."""
    if a is None:
        return 0, 0, ("amount_minor", "MISSING_FIELD", "amount_minor is required")
    if isinstance(a, bool) or not isinstance(a, int | str):
        return 0, 0, ("amount_minor", "INVALID_AMOUNT", "amount_minor must be an integer")
    try:
        v = int(a)
    except ValueError:
        return 0, 0, ("amount_minor", "INVALID_AMOUNT", "amount_minor must be an integer")
    exp = CURRENCY_EXPONENTS.get(cur) if isinstance(cur, str) else None
    if exp is None:
        return 0, 0, ("currency", "UNKNOWN_CURRENCY",
                      f"unknown currency {cur!r}: expected an ISO 4217 code such as USD or CNY")  # fmt: skip
    if v < 0:
        return 0, 0, ("amount_minor", "NEGATIVE_AMOUNT", f"amount_minor must not be negative ({v})")
    factor = 10 ** max(AMOUNT_SCALE - exp, 0)
    if v > (2**63 - 1) // factor:
        return 0, 0, ("amount_minor", "AMOUNT_TOO_LARGE", f"amount_minor {v} is too large")
    return v, v * factor, None


def _amounts_small(
    amounts: Sequence[Any],
    currencies: Sequence[Any],
    fail: Callable[[int, str, str, str], None],
) -> tuple[list[int], list[int]]:
    """Check amounts and currencies of a few deals, value by value; return ``amount_minor`` and
    ``amount`` (major units, scale 4)."""
    minor: list[int] = []
    major: list[int] = []
    for i, (a, cur) in enumerate(zip(amounts, currencies, strict=True)):
        v, m, problem = _amount_one(a, cur)
        if problem is not None:
            fail(i, *problem)
        minor.append(v)
        major.append(m)
    return minor, major


def _manual_one(p: Any) -> tuple[int, Problem | None]:
    """A caller's win probability in ppm (-1 when not given), or the problem with it."""
    if p is None or p == "":
        return -1, None
    try:
        d = Decimal(p) if not isinstance(p, Decimal) else p
        if not d.is_finite() or d < 0 or d > 1:
            raise ValueError(f"win_prob must be in [0, 1], got {p}")
        return decimal_to_ppm(d), None
    except (InvalidOperation, ValueError) as exc:
        msg = str(exc) if isinstance(exc, ValueError) else f"win_prob {p!r} is not a number"
        return -1, ("win_prob", "INVALID_WIN_PROB", msg)


def _override_one(c: Any) -> tuple[int, Problem | None]:
    """A caller's category override as its code (-1 when not given), or the problem with it."""
    if not c:
        return -1, None
    code = _CATEGORY_CODES.get(c)
    if code is None:
        return -1, ("category", "UNKNOWN_CATEGORY",
                    f"category {c!r} is not one of {', '.join(_CATEGORY_CODES)}")  # fmt: skip
    return code, None


def _stage_problem(rules: CompiledRuleSet, stage: Any) -> Problem:
    """What is wrong with a deal's stage: missing, or not one of the rule set's."""
    if not stage:
        return ("stage", "MISSING_FIELD", "stage is required")
    return ("stage", "UNKNOWN_STAGE", f"stage {stage!r} is not in rule set {rules.name!r} "
            f"(stages: {', '.join(rules.stage_ids)})")  # fmt: skip


#: The arrays of a lone deal's batch that take few values, made once: "no manual probability"
#: and each category override (its validity is ``ONE_VALID``).
_NO_MANUAL = read_only_one(-1, np.int64)
_ONE_OVERRIDE = tuple(read_only_one(code, np.int8) for code in range(-1, len(CATEGORY_ORDER)))


@dataclass(frozen=True)
class _OnePlan:
    """What a lone deal's batch is built from under one rule set (worked out once): the fields
    to check, the types of the row it makes, and each stage's index as a shared array."""

    fields: tuple[_SmallField, ...]
    types: Mapping[str, tuple[FieldType, int]]
    stage_idx: tuple[np.ndarray, ...]


_ONE_PLANS: weakref.WeakKeyDictionary[CompiledRuleSet, dict[frozenset[str], _OnePlan]] = (
    weakref.WeakKeyDictionary()
)


def _one_plan(rules: CompiledRuleSet, keep_fields: Collection[str]) -> _OnePlan:
    plans = _ONE_PLANS.get(rules)
    if plans is None:
        plans = _ONE_PLANS.setdefault(rules, {})
    key = frozenset(keep_fields)
    plan = plans.get(key)
    if plan is None:
        fields = _small_plan(rules, keep_fields)
        types = dict(_BUILT_IN_TYPES)
        types.update((f.name, (f.type, f.scale)) for f in fields if f.keep)
        stages = tuple(read_only_one(k, np.int16) for k in range(len(rules.stage_ids)))
        plan = plans[key] = _OnePlan(fields, types, stages)
    return plan


def _build_one(deals: DealInput, rules: CompiledRuleSet, keep_fields: Collection[str]) -> DealBatch:
    """:func:`build_deal_batch` of one deal (a CRM's call): the same checks, in the same order,
    made on the values themselves, and the deal kept as a row of scalars, which scoring reads
    without numpy. A test holds it to what the same deal gets in a small batch."""
    plan = _one_plan(rules, keep_fields)
    currency = deals.currency[0]
    amount_minor, amount, problem = _amount_one(deals.amount_minor[0], currency)
    stage = deals.stage[0]
    k = rules.stage_index.get(stage, -1) if isinstance(stage, str) else -1
    if k < 0 and problem is None:
        problem = _stage_problem(rules, stage)
    manual, bad = _manual_one(deals.win_prob[0] if deals.win_prob else None)
    problem = problem or bad
    override, bad = _override_one(deals.category[0] if deals.category else None)
    problem = problem or bad
    values: dict[str, Any] = {
        "stage": stage or None,
        "amount_minor": amount_minor,
        "amount": amount,
        "currency": currency if isinstance(currency, str) else None,
    }
    for spec in plan.fields:
        given = deals.attributes.get(spec.name) if spec.attribute else getattr(deals, spec.name)
        encoded = None
        if given:
            try:
                encoded = _encode_one(given[0], spec.type, spec.scale, spec.empty_is_null)
            except ValueError as exc:
                if problem is None:
                    problem = (spec.path, spec.reason, f"{spec.name}: {exc}")
        if spec.keep:
            values[spec.name] = encoded
    return DealBatch(
        list(deals.id),
        RowFrame(Row(values, plan.types)),
        ONE_VALID[problem is None],
        _NO_MANUAL if manual < 0 else read_only_one(manual, np.int64),
        _ONE_OVERRIDE[override + 1],
        plan.stage_idx[max(k, 0)],
        [] if problem is None else [DealError(0, *problem)],
    )


def build_deal_batch(
    deals: DealInput, rules: CompiledRuleSet, *, keep_fields: Collection[str] = ()
) -> DealBatch:
    """Check deal values against ``rules`` and build the typed frame scoring reads.

    Built-in text fields no rule reads (region, product line...) are left out of small batches,
    where every column costs; name any a caller needs (to group by, say) in ``keep_fields``.

    Per-deal problems (unknown stage or currency, negative amount, a probability outside [0, 1] or
    with more than 6 places, an unknown category, an attribute of the wrong type) are returned in
    ``errors``; the deal is marked invalid and its columns hold placeholders.
    """
    n = len(deals)
    if n == 1:
        return _build_one(deals, rules, keep_fields)
    if n > SMALL_BATCH:
        return build_deal_batch_columns(deal_columns(deals), rules, keep_fields=keep_fields)
    errors: list[DealError] = []
    valid = [True] * n

    def fail(i: int, field_name: str, reason: str, message: str) -> None:
        if valid[i]:
            errors.append(DealError(i, field_name, reason, message))
            valid[i] = False

    amount_minor, amount = _amounts_small(deals.amount_minor, deals.currency, fail)

    stage_of = rules.stage_index
    stage_list = [stage_of.get(s, -1) if isinstance(s, str) else -1 for s in deals.stage]
    for bad in (i for i, k in enumerate(stage_list) if k < 0):
        fail(bad, *_stage_problem(rules, deals.stage[bad]))

    manual = [-1] * n
    for i, p in enumerate(_pad(deals.win_prob, n)):
        manual[i], problem = _manual_one(p)
        if problem is not None:
            fail(i, *problem)

    override = [-1] * n
    for i, c in enumerate(_pad(deals.category, n)):
        override[i], problem = _override_one(c)
        if problem is not None:
            fail(i, *problem)

    # Each column's values in the column encoding, and its (type, scale).
    columns: dict[str, list[Any]] = {
        "stage": [s or None for s in deals.stage],
        "amount_minor": amount_minor,
        "amount": amount,
        "currency": [c if isinstance(c, str) else None for c in deals.currency],
    }
    types = dict(_BUILT_IN_TYPES)
    for spec in _small_plan(rules, keep_fields):
        given = spec.given(deals)
        encoded: list[Any] = [None] * n
        for i, v in enumerate(given[:n]):
            try:
                encoded[i] = _encode_one(v, spec.type, spec.scale, spec.empty_is_null)
            except ValueError as exc:
                fail(i, spec.path, spec.reason, f"{spec.name}: {exc}")
        if spec.keep:
            columns[spec.name] = encoded
            types[spec.name] = (spec.type, spec.scale)
    errors.sort(key=lambda e: e.index)
    frame = Frame(n, {name: column_from_encoded(columns[name], t, scale)
                      for name, (t, scale) in types.items()})  # fmt: skip
    return DealBatch(
        list(deals.id),
        frame,
        np.array(valid, dtype=np.bool_),
        np.array(manual, dtype=np.int64),
        np.array(override, dtype=np.int8),
        np.array([max(k, 0) for k in stage_list], dtype=np.int16),
        errors,
    )


def deal_columns(deals: DealInput) -> DealColumns:
    """The coded form of plain deal values (each column encoded once, in C-speed dict passes)."""
    n = len(deals)
    amounts = deals.amount_minor
    amount: np.ndarray | Coded | None = None
    if set(map(type, amounts)) <= {int} and len(amounts) == n:  # the usual case
        with contextlib.suppress(OverflowError):  # beyond int64: checked value by value
            amount = np.fromiter(amounts, dtype=np.int64, count=n)
    if amount is None:
        amount = Coded.of(_pad(amounts, n))
    fields = {  # a column of None alone is a column not given (counted at C speed)
        name: Coded.of(_pad(values, n))
        for name in DEAL_COLUMNS[2:]
        if (values := getattr(deals, name)) and values.count(None) < len(values)
    }
    attributes = {
        name: Coded.of(_pad(values, n))
        for name, values in deals.attributes.items()
        if values.count(None) < len(values)
    }
    return DealColumns(list(deals.id), amount, fields, attributes)


def deal_input_from_columns(deals: DealColumns) -> DealInput:
    """Coded deals back as plain values (for edits that work deal by deal, such as a scenario's
    new pipeline)."""

    def plain(coded: Coded) -> list[Any]:
        values = list(coded.values)
        return [values[c] if c >= 0 else None for c in coded.codes.tolist()]

    amount = deals.amount_minor
    fields = {name: plain(deals.fields[name]) for name in DEAL_COLUMNS[2:] if name in deals.fields}
    for required in ("currency", "stage"):
        fields.setdefault(required, [None] * len(deals))
    return DealInput(
        id=list(deals.ids),
        amount_minor=plain(amount) if isinstance(amount, Coded) else amount.tolist(),
        **fields,  # type: ignore[arg-type]
        attributes={name: plain(deals.attributes[name]) for name in deals.attributes},
    )


def _coded_amounts(
    amounts: np.ndarray | Coded,
    currencies: Coded,
    fail: Callable[[int, str, str, str], None],
) -> tuple[np.ndarray, np.ndarray]:
    """Check amounts and currencies; return ``amount_minor`` and ``amount`` (major units, scale 4).

    Values that are not integers are checked once per distinct value; the checks and their order
    are those of :func:`_amounts_small`.
    """
    n = len(currencies.codes)
    outside = np.zeros(n, dtype=np.bool_)  # integers beyond int64, reported after the currency
    beyond: dict[int, int] = {}
    if isinstance(amounts, Coded):
        k = len(amounts.values)
        table = np.zeros(k + 1, dtype=np.int64)
        problem: dict[int, tuple[str, str]] = {-1: ("MISSING_FIELD", "amount_minor is required")}
        problem[k] = problem[-1]
        for u, a in enumerate(amounts.values):
            if a is None:
                problem[u] = problem[-1]
            elif isinstance(a, bool) or not isinstance(a, int | str):
                problem[u] = ("INVALID_AMOUNT", "amount_minor must be an integer")
            else:
                try:
                    v = int(a)
                except ValueError:
                    problem[u] = ("INVALID_AMOUNT", "amount_minor must be an integer")
                    continue
                if -(2**63) <= v < 2**63:
                    table[u] = v
                else:
                    beyond[u] = v
        codes = amounts.codes
        values = table[codes]
        status = np.zeros(k + 1, dtype=np.int8)  # 0 given, 1 a problem, 2 beyond int64
        status[[u for u in problem if u >= 0]] = 1
        status[list(beyond)] = 2
        per_deal = status[codes]
        given = per_deal == 0
        outside = per_deal == 2
        for i in np.flatnonzero(per_deal == 1).tolist():
            fail(i, "amount_minor", *problem[int(codes[i])])
    else:
        values = amounts
        given = np.ones(n, dtype=np.bool_)
    exponents = [
        CURRENCY_EXPONENTS.get(c, -1) if isinstance(c, str) else -1 for c in currencies.values
    ]
    exponent = np.array([*exponents, -1], dtype=np.int64)
    factor_of = _POW10[np.clip(AMOUNT_SCALE - np.maximum(exponent, 0), 0, AMOUNT_SCALE)]
    known = (exponent >= 0)[currencies.codes]
    if not isinstance(amounts, Coded) and n and known.all():  # the usual case: one check each
        factor = factor_of[currencies.codes]
        if int(values.min()) >= 0 and int(values.max()) <= (2**63 - 1) // int(factor.max()):
            return values, values * factor
    for i in np.flatnonzero((given | outside) & ~known).tolist():
        cur = currencies.value(i)
        fail(i, "currency", "UNKNOWN_CURRENCY",
             f"unknown currency {cur!r}: expected an ISO 4217 code such as USD or CNY")  # fmt: skip
    for i in np.flatnonzero(outside).tolist():
        v = beyond[int(amounts.codes[i])]  # type: ignore[union-attr]
        if v < 0:
            fail(i, "amount_minor", "NEGATIVE_AMOUNT", f"amount_minor must not be negative ({v})")
        else:
            fail(i, "amount_minor", "AMOUNT_TOO_LARGE", f"amount_minor {v} is too large")
    ok = given & known
    negative = ok & (values < 0)
    if negative.any():
        for i in np.flatnonzero(negative).tolist():
            fail(i, "amount_minor", "NEGATIVE_AMOUNT",
                 f"amount_minor must not be negative ({values[i]})")  # fmt: skip
        ok &= ~negative
    factor = factor_of[currencies.codes]
    too_large = ok & (values > (2**63 - 1) // factor)
    if too_large.any():
        for i in np.flatnonzero(too_large).tolist():
            fail(i, "amount_minor", "AMOUNT_TOO_LARGE", f"amount_minor {values[i]} is too large")
        ok &= ~too_large
    if ok.all():
        return values, values * factor
    amount_minor = np.where(ok, values, 0)
    return amount_minor, amount_minor * factor


_POW10 = 10 ** np.arange(AMOUNT_SCALE + 1, dtype=np.int64)


def _coded_lookup(
    coded: Coded,
    convert: Callable[[Any], int],
    missing: int,
    field_name: str,
    reason: str,
    fail: Callable[[int, str, str, str], None],
) -> np.ndarray:
    """``convert`` each distinct value once (None and '' give ``missing``; a ValueError marks its
    deals with ``reason``) and spread the results over the deals."""
    table = np.full(len(coded.values) + 1, missing, dtype=np.int64)
    problems: dict[int, str] = {}
    for u, v in enumerate(coded.values):
        if v is None or (isinstance(v, str) and v == ""):
            continue
        try:
            table[u] = convert(v)
        except ValueError as exc:
            problems[u] = str(exc)
    if problems:
        codes = coded.codes
        bad = np.zeros(len(table), dtype=np.bool_)
        bad[list(problems)] = True
        for i in np.flatnonzero(bad[codes]).tolist():
            fail(i, field_name, reason, problems[int(codes[i])])
    return table[coded.codes]


def _win_ppm(p: Any) -> int:
    try:
        d = Decimal(p) if not isinstance(p, Decimal) else p
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"win_prob {p!r} is not a number") from None
    if not d.is_finite() or d < 0 or d > 1:
        raise ValueError(f"win_prob must be in [0, 1], got {p}")
    return decimal_to_ppm(d)


def _category_code(c: Any) -> int:
    code = _CATEGORY_CODES.get(c) if isinstance(c, str) else None
    if code is None:
        raise ValueError(f"category {c!r} is not one of {', '.join(_CATEGORY_CODES)}")
    return code


def build_deal_batch_columns(
    deals: DealColumns, rules: CompiledRuleSet, *, keep_fields: Collection[str] = ()
) -> DealBatch:
    """:func:`build_deal_batch` for deals in coded form: the same checks, run once per distinct
    value of each column, and the same batch."""
    n = len(deals)
    errors: list[DealError] = []
    valid = np.ones(n, dtype=np.bool_)

    def fail(i: int, field_name: str, reason: str, message: str) -> None:
        if valid[i]:
            errors.append(DealError(i, field_name, reason, message))
            valid[i] = False

    absent = Coded(np.full(n, -1, dtype=np.int64), ())
    given = deals.fields.get
    amount_minor, amount = _coded_amounts(deals.amount_minor, given("currency", absent), fail)

    stage = given("stage", absent)
    lookup = np.array(
        [rules.stage_index.get(s, -1) if isinstance(s, str) else -1 for s in stage.values] + [-1],
        dtype=np.int16,
    )
    stage_idx = lookup[stage.codes]
    for bad in np.flatnonzero(stage_idx < 0).tolist():
        fail(bad, *_stage_problem(rules, stage.value(bad)))

    def text(coded: Coded, name: str, empty_is_null: bool = True) -> Column:
        return _typed_from_codes(
            coded, FieldType.STRING, 0, empty_is_null, name, "INVALID_ATTRIBUTE", fail
        )

    manual = _coded_lookup(given("win_prob", absent), _win_ppm, -1, "win_prob",
                           "INVALID_WIN_PROB", fail)  # fmt: skip
    override = _coded_lookup(given("category", absent), _category_code, -1, "category",
                             "UNKNOWN_CATEGORY", fail).astype(np.int8)  # fmt: skip
    columns: dict[str, Column] = {
        "stage": text(stage, "stage"),
        "amount_minor": Column(FieldType.INT, amount_minor),
        "amount": Column(FieldType.DECIMAL, amount, scale=AMOUNT_SCALE),
        "currency": text(given("currency", absent), "currency", empty_is_null=False),
    }
    columns["close_date"] = _typed_from_codes(
        given("close_date", absent), FieldType.DATE, 0, True, "close_date", "INVALID_DATE", fail
    )
    # As in build_deal_batch: in small batches only the columns a rule reads or the caller needs.
    used = rules.fields_used
    skip_unused = n <= SMALL_BATCH
    for name in ("created_date", "stage_entered_date"):
        coded = given(name)
        present = coded is not None and any(v is not None for v in coded.values)
        if (skip_unused or not present) and name not in used and name not in keep_fields:
            continue
        columns[name] = _typed_from_codes(
            coded or absent, FieldType.DATE, 0, True, name, "INVALID_DATE", fail
        )
    text_fields = ("owner", "region", "product_line", "customer_tier", "source")
    for name in text_fields:
        if skip_unused and name != "owner" and name not in used and name not in keep_fields:
            continue
        columns[name] = text(given(name, absent), name)
    builtins = set(columns) | set(text_fields) | {"created_date", "stage_entered_date"}
    for name, spec in rules.schema.items():
        if name in builtins:
            continue
        columns[name] = _typed_from_codes(
            deals.attributes.get(name, absent),
            spec.type,
            spec.scale,
            False,
            f"attributes.{name}",
            "INVALID_ATTRIBUTE",
            fail,
        )
    stage_codes = np.where(stage_idx < 0, 0, stage_idx).astype(np.int16)
    errors.sort(key=lambda e: e.index)
    return DealBatch(deals.ids, Frame(n, columns), valid, manual, override, stage_codes, errors)


def group_keys(batch: DealBatch, fields: Sequence[str]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """A group code per deal by its values of the text ``fields`` ('' where null), and the values
    of each code: distinct combinations only, translated once each."""
    n = batch.n_deals
    if not fields:
        return np.zeros(n, dtype=np.int64), [()]
    columns = [batch.frame[name] for name in fields]
    radices = [len(c.dictionary) + 1 for c in columns]
    flat = np.ravel_multi_index([c.codes() + 1 for c in columns], radices)
    uniq, code = np.unique(flat, return_inverse=True)
    unravel = np.unravel_index(uniq, radices)
    keys = [
        tuple(c.dictionary[int(u[j]) - 1] if u[j] > 0 else "" for c, u in zip(columns, unravel,
                                                                                strict=True))
        for j in range(uniq.size)
    ]  # fmt: skip
    return code.astype(np.int64).reshape(-1), keys


def with_team_column(batch: DealBatch, team_of: Mapping[str, str]) -> DealBatch:
    """The batch with a ``team`` text field: each deal's owner's team ('' where none)."""
    owner = batch.frame["owner"]
    teams = sorted(set(team_of.values()))
    code = {t: i for i, t in enumerate(teams)}
    per_owner = np.array([code.get(team_of.get(o, ""), -1) for o in owner.dictionary] + [-1])
    column = string_column_from_codes(per_owner[owner.codes()], teams)
    return replace(batch, frame=batch.frame.with_columns({"team": column}))


def deal_input_from_records(records: Sequence[Mapping[str, Any]]) -> DealInput:
    """Build a :class:`DealInput` from dict records (CSV rows, tests). Unknown keys become
    attributes."""
    known = [f for f in DealInput.__dataclass_fields__ if f != "attributes"]
    cols = {k: [rec.get(k) for rec in records] for k in known}
    extra = dict.fromkeys(k for rec in records for k in rec if k not in cols)  # in order met
    attrs = {k: [rec.get(k) for rec in records] for k in extra}
    return DealInput(**cols, attributes=attrs)  # type: ignore[arg-type]


__all__ = [
    "DEAL_COLUMNS",
    "Coded",
    "DealBatch",
    "DealColumns",
    "DealError",
    "DealInput",
    "build_deal_batch",
    "build_deal_batch_columns",
    "deal_columns",
    "deal_input_from_columns",
    "deal_input_from_records",
    "group_keys",
    "with_team_column",
]
