"""From rule-set text to a compiled rule set, collecting every problem on the way.

The pipeline is parse (``source``) -> shape (``schema``, section by section so that a typo in one
section does not hide the problems of another) -> meaning (stages, fields, conditions, tables) ->
compiled form. Nothing is evaluated here; :class:`CompiledRuleSet` holds the arrays and compiled
tables that scoring uses, and is immutable so it can be cached by (name, revision).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from pydantic import BaseModel, TypeAdapter, ValidationError

from engine.errors import RuleSetInvalidError, Violation, sorted_violations
from engine.frame import DEFAULT_DECIMAL_SCALE, FieldType
from engine.fx import FxTable
from engine.money import CURRENCY_EXPONENTS
from engine.rules.expression import FieldSpec
from engine.rules.fields import BUILTIN_FIELDS, CATEGORY_INPUT_FIELDS
from engine.rules.lead_sources import SourceCost, compile_lead_sources
from engine.rules.plans import CompiledPlan, compile_people, compile_plans
from engine.rules.schema import (
    CATEGORY_ORDER,
    RESERVED_SECTIONS,
    Category,
    DecisionTable,
    FieldDecl,
    Fx,
    FxRate,
    Hierarchy,
    LeadSources,
    Person,
    Plan,
    RuleSetDocument,
    SourceCostItem,
    SplitPolicy,
    Splits,
    SplitType,
    Stage,
    TargetItem,
    Targets,
    Timing,
    WinRates,
)
from engine.rules.source import SourceDocument, join_path, parse_document
from engine.rules.splits import DEFAULT_SPLITS, CompiledSplits, compile_splits
from engine.rules.tables import CompiledTable, OutputSpec, compile_table

#: Bumped whenever the compiled form changes, so stored compiled artifacts can be rebuilt.
COMPILER_VERSION = 3
#: Win rates are exact decimals with at most this many places (parts per million).
WIN_RATE_SCALE = 6
PPM = 10**WIN_RATE_SCALE

WIN_RATE_OUTPUT = OutputSpec(
    FieldType.DECIMAL, scale=WIN_RATE_SCALE, min_value=Decimal(0), max_value=Decimal(1)
)
CATEGORY_OUTPUT = OutputSpec(FieldType.STRING, choices=tuple(c.value for c in CATEGORY_ORDER))

_REASONS = {
    "extra_forbidden": "UNKNOWN_KEY",
    "missing": "REQUIRED",
    "literal_error": "INVALID_VALUE",
    "enum": "INVALID_VALUE",
    "string_pattern_mismatch": "INVALID_NAME",
}


@dataclass(frozen=True, eq=False)
class CompiledRuleSet:
    """A validated rule set in the form scoring uses.

    Attributes
    ----------
    stage_ids : tuple of str, shape (n_stages,)
        Stage ids in process order; a deal's stage code is its index here.
    stage_rate_ppm : ndarray of int64, shape (n_stages,)
        Configured win rate of each stage in parts per million.
    stage_category : ndarray of int8, shape (n_stages,)
        Default category code of each stage (index into ``CATEGORY_ORDER``).
    stage_is_won, stage_is_lost, stage_is_closed : ndarray of bool, shape (n_stages,)
    """

    document: RuleSetDocument
    source_text: str
    content_hash: str
    schema: Mapping[str, FieldSpec]
    stage_ids: tuple[str, ...]
    stage_rate_ppm: np.ndarray
    stage_category: np.ndarray
    stage_is_won: np.ndarray
    stage_is_lost: np.ndarray
    stage_is_closed: np.ndarray
    stage_stuck_days: np.ndarray  # per stage: days after which an open deal is stuck; -1: none
    overrides: tuple[CompiledTable, ...]
    categories: CompiledTable | None
    splits: CompiledSplits = DEFAULT_SPLITS
    fx: FxTable | None = None
    team_of: Mapping[str, str] = field(default_factory=dict)
    targets: tuple[RuleTarget, ...] = ()
    source_costs: tuple[SourceCost, ...] = ()
    source_cost_field: str = "source"  # the text field source costs are keyed by
    plans: tuple[CompiledPlan, ...] = ()
    people: Mapping[str, Person] = field(default_factory=dict)
    compiler_version: int = COMPILER_VERSION
    stage_index: Mapping[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.document.name

    @property
    def fields_used(self) -> frozenset[str]:
        """Every deal field some table or split policy reads (computed once)."""
        cached = self.__dict__.get("_fields_used")
        if cached is None:
            used: set[str] = set()
            for table in (*self.overrides, *([self.categories] if self.categories else [])):
                used |= table.fields
            for policy in self.splits.policies:
                if policy.condition is not None:
                    used |= policy.condition.fields
            cached = frozenset(used)
            object.__setattr__(self, "_fields_used", cached)
        return cached

    @property
    def effective_from(self) -> dt.date:
        return self.document.effective_from

    def __reduce__(self) -> tuple[Callable[[str], CompiledRuleSet], tuple[str]]:
        """A compiled rule set is copied (pickled, as a batch job sends it to a cluster's
        workers) as its source text and compiled again where it arrives: compiled expressions
        hold caches and constants compared by identity, which a copy would not keep."""
        return (compile_rule_set, (self.source_text,))


def _path_of(loc: tuple[int | str, ...], base: str) -> str:
    path = base
    for part in loc:
        path = join_path(path, part)
    return path


def _shape(
    adapter: TypeAdapter[Any] | type[BaseModel],
    value: Any,
    doc: SourceDocument,
    base: str,
    out: list[Violation],
) -> Any:
    """Validate ``value`` against a model or adapter; record violations and return None on failure."""
    try:
        if isinstance(adapter, TypeAdapter):
            return adapter.validate_python(value)
        return adapter.model_validate(value)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            path = _path_of(loc, base)
            reason = _REASONS.get(err["type"], "INVALID_VALUE")
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}" if loc else "unknown key"
            out.append(doc.violation(path, reason, msg))
        return None


_SECTION_TYPES: dict[str, Any] = {
    "fields": TypeAdapter(dict[str, FieldDecl]),
    "stages": TypeAdapter(list[Stage]),
    "win_rates": TypeAdapter(WinRates),
    "categories": TypeAdapter(DecisionTable | None),
    "splits": TypeAdapter(Splits | None),
    "timing": TypeAdapter(Timing),
    "fx": TypeAdapter(Fx | None),
    "hierarchy": TypeAdapter(Hierarchy | None),
    "targets": TypeAdapter(Targets | None),
    "lead_sources": TypeAdapter(LeadSources | None),
    "plans": TypeAdapter(list[Plan] | None),
    "people": TypeAdapter(list[Person] | None),
}
_STAGE = TypeAdapter(Stage)
_FX_RATE = TypeAdapter(FxRate)
_TARGET = TypeAdapter(TargetItem)
_SOURCE_COST = TypeAdapter(SourceCostItem)
_PLAN = TypeAdapter(Plan)
_PERSON = TypeAdapter(Person)
_TABLE = TypeAdapter(DecisionTable)


def _shape_items(
    adapter: TypeAdapter[Any], value: Any, doc: SourceDocument, base: str, out: list[Violation]
) -> list[tuple[int, Any]] | None:
    """Validate each item of a list on its own, so one bad item does not hide the others.

    Returns the (index, item) pairs that are valid, or None when ``value`` is not a list.
    """
    if not isinstance(value, list):
        _shape(TypeAdapter(list[Any]), value, doc, base, out)
        return None
    items = [
        (i, _shape(adapter, item, doc, join_path(base, i), out)) for i, item in enumerate(value)
    ]
    return [(i, item) for i, item in items if item is not None]


def _check_stages(
    stages: list[tuple[int, Stage]], raw: list[Any], doc: SourceDocument, out: list[Violation]
) -> None:
    """Check stage ids, orders, rates and categories of the valid ``stages`` among ``raw``."""
    complete = len(stages) == len(raw)
    seen: dict[str, int] = {}
    orders: dict[int, int] = {}
    for i, st in stages:
        p = join_path("stages", i)
        if st.id in seen:
            out.append(
                doc.violation(
                    join_path(p, "id"),
                    "DUPLICATE_ID",
                    f"stage id {st.id!r} is already used by stages[{seen[st.id]}]",
                )
            )
        seen.setdefault(st.id, i)
        if st.order in orders:
            out.append(
                doc.violation(
                    join_path(p, "order"),
                    "DUPLICATE_ORDER",
                    f"order {st.order} is already used by stages[{orders[st.order]}]",
                )
            )
        orders.setdefault(st.order, i)
        rate_path = join_path(p, "win_rate")
        if not (Decimal(0) <= st.win_rate <= Decimal(1)):
            out.append(
                doc.violation(
                    rate_path, "WIN_RATE_OUT_OF_RANGE", f"win rate {st.win_rate} is outside [0, 1]"
                )
            )
        elif st.win_rate.scaleb(WIN_RATE_SCALE) != st.win_rate.scaleb(WIN_RATE_SCALE).to_integral():
            out.append(
                doc.violation(
                    rate_path,
                    "WIN_RATE_TOO_PRECISE",
                    f"win rate {st.win_rate} has more than {WIN_RATE_SCALE} decimal places",
                )
            )
        if st.is_won and st.is_lost:
            out.append(
                doc.violation(p, "STAGE_WON_AND_LOST", "a stage cannot be both won and lost")
            )
        if st.is_won and st.win_rate != 1:
            out.append(
                doc.violation(
                    rate_path,
                    "WON_STAGE_RATE",
                    f"won stage {st.id!r} must have win rate 1, not {st.win_rate}",
                )
            )
        if st.is_lost and st.win_rate != 0:
            out.append(
                doc.violation(
                    rate_path,
                    "LOST_STAGE_RATE",
                    f"lost stage {st.id!r} must have win rate 0, not {st.win_rate}",
                )
            )
        if (st.is_won or st.is_lost) and st.stuck_after_days is not None:
            out.append(doc.violation(join_path(p, "stuck_after_days"), "CLOSED_STAGE_STUCK",
                                     f"closed stage {st.id!r} cannot hold deals stuck"))  # fmt: skip
        cat_path = join_path(p, "default_category")
        if st.is_won and st.default_category is not Category.CLOSED:
            out.append(
                doc.violation(
                    cat_path,
                    "WON_STAGE_CATEGORY",
                    f"won stage {st.id!r} must be in category closed",
                )
            )
        if st.is_lost and st.default_category is not Category.OMITTED:
            out.append(
                doc.violation(
                    cat_path,
                    "LOST_STAGE_CATEGORY",
                    f"lost stage {st.id!r} must be in category omitted",
                )
            )
        if not st.is_won and st.default_category is Category.CLOSED:
            out.append(
                doc.violation(
                    cat_path,
                    "OPEN_STAGE_CLOSED",
                    f"only a won stage may default to category closed ({st.id!r})",
                )
            )
    expected = list(range(1, len(raw) + 1))
    raw_orders = {item.get("order") for item in raw
                  if isinstance(item, dict) and isinstance(item.get("order"), int)}  # fmt: skip
    if len(orders) == len(stages) and not set(expected) <= raw_orders:
        missing = sorted(set(expected) - raw_orders)
        out.append(
            doc.violation(
                "stages",
                "STAGE_ORDER_GAP",
                f"stage orders must run 1..{len(raw)} without gaps; "
                f"missing {', '.join(map(str, missing))}",
            )
        )
    if complete and not any(st.is_won for _, st in stages):
        out.append(doc.violation("stages", "NO_WON_STAGE", "one stage must be marked is_won"))
    if complete and not any(st.is_lost for _, st in stages):
        out.append(doc.violation("stages", "NO_LOST_STAGE", "one stage must be marked is_lost"))


def _build_schema(
    fields: dict[str, FieldDecl] | None, doc: SourceDocument, out: list[Violation]
) -> dict[str, FieldSpec]:
    schema = dict(BUILTIN_FIELDS)
    for name, decl in (fields or {}).items():
        p = join_path("fields", name)
        if name in BUILTIN_FIELDS or name in CATEGORY_INPUT_FIELDS:
            out.append(
                doc.violation(
                    p,
                    "BUILTIN_FIELD",
                    f"{name!r} is a built-in deal field and cannot be redeclared",
                )
            )
            continue
        if decl.scale is not None and decl.type is not FieldType.DECIMAL:
            out.append(
                doc.violation(
                    join_path(p, "scale"), "INVALID_VALUE", "scale applies to decimal fields only"
                )
            )
        scale = (
            (decl.scale if decl.scale is not None else DEFAULT_DECIMAL_SCALE)
            if (decl.type is FieldType.DECIMAL)
            else 0
        )
        schema[name] = FieldSpec(decl.type, scale)
    return schema


_SPLIT_TYPE = TypeAdapter(SplitType)
_SPLIT_POLICY = TypeAdapter(SplitPolicy)


def _compile_splits_section(
    raw: Any,
    schema: Mapping[str, FieldSpec] | None,
    doc: SourceDocument,
    out: list[Violation],
) -> CompiledSplits | None:
    """Shape the ``splits`` section item by item (so one bad item hides nothing), then compile."""
    if not isinstance(raw, dict):
        _shape(_SECTION_TYPES["splits"], raw, doc, "splits", out)
        return None
    for key in raw:
        if key not in ("types", "policies"):
            out.append(
                doc.violation(join_path("splits", key), "UNKNOWN_KEY", f"unknown key {key!r}")
            )
    if not raw.get("types"):
        out.append(doc.violation("splits.types", "REQUIRED", "at least one split type is required"))
        return None
    types = _shape_items(_SPLIT_TYPE, raw["types"], doc, "splits.types", out)
    policies = _shape_items(_SPLIT_POLICY, raw.get("policies", []), doc, "splits.policies", out)
    if types is None or policies is None or schema is None:
        return None
    section = Splits.model_construct(types=[t for _, t in types], policies=[p for _, p in policies])
    return compile_splits(
        section,
        schema,
        doc,
        out,
        type_index=[i for i, _ in types],
        policy_index=[i for i, _ in policies],
        complete=len(types) == len(raw["types"]),
    )


def _compile_fx(raw: Any, doc: SourceDocument, out: list[Violation]) -> FxTable | None:
    """The FX table: known currencies, rates with at most six places, one rate per date. Rates are
    shaped one by one, so one bad rate does not hide the others."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _shape(_SECTION_TYPES["fx"], raw, doc, "fx", out)
        return None
    head = _shape(_SECTION_TYPES["fx"], {k: v for k, v in raw.items() if k != "rates"}, doc,
                  "fx", out)  # fmt: skip
    items = _shape_items(_FX_RATE, raw.get("rates", []), doc, "fx.rates", out)
    if head is None or items is None:
        return None
    section = Fx.model_construct(reporting_currency=head.reporting_currency,
                                 rates=[r for _, r in items])  # fmt: skip
    index = [i for i, _ in items]
    if section.reporting_currency not in CURRENCY_EXPONENTS:
        out.append(doc.violation("fx.reporting_currency", "UNKNOWN_CURRENCY",
                                 f"{section.reporting_currency!r} is not an ISO 4217 currency"))  # fmt: skip
    rates: dict[str, list[tuple[dt.date, int]]] = {}
    seen: dict[tuple[str, dt.date], int] = {}
    for i, r in zip(index, section.rates, strict=True):
        p = join_path("fx.rates", i)
        if r.currency not in CURRENCY_EXPONENTS:
            out.append(doc.violation(join_path(p, "currency"), "UNKNOWN_CURRENCY",
                                     f"{r.currency!r} is not an ISO 4217 currency"))  # fmt: skip
        if r.currency == section.reporting_currency:
            out.append(doc.violation(join_path(p, "currency"), "REPORTING_CURRENCY_RATE",
                                     "the reporting currency converts at 1; remove this rate"))  # fmt: skip
        exponent = r.rate.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -WIN_RATE_SCALE:
            out.append(doc.violation(join_path(p, "rate"), "RATE_TOO_PRECISE",
                                     f"rate {r.rate} has more than 6 decimal places"))  # fmt: skip
            continue
        key = (r.currency, r.valid_from)
        if key in seen:
            out.append(doc.violation(p, "DUPLICATE_RATE", f"fx.rates[{seen[key]}] has the same "
                                     f"currency and valid_from"))  # fmt: skip
            continue
        seen[key] = i
        rates.setdefault(r.currency, []).append((r.valid_from, int(r.rate.scaleb(WIN_RATE_SCALE))))
    return FxTable(section.reporting_currency, {c: sorted(v) for c, v in rates.items()})


def _compile_hierarchy(
    section: Hierarchy | None, schema: Mapping[str, FieldSpec], doc: SourceDocument,
    out: list[Violation],
) -> dict[str, str]:  # fmt: skip
    """Check the levels (text fields, or ``team`` when teams are declared; no repeats) and the
    teams (unique ids, an owner in one team only); return each owner's team."""
    team_of: dict[str, str] = {}
    if section is None:
        return team_of
    ids: dict[str, int] = {}
    for i, team in enumerate(section.teams):
        p = join_path("hierarchy.teams", i)
        if team.id in ids:
            out.append(doc.violation(join_path(p, "id"), "DUPLICATE_ID",
                                     f"team id {team.id!r} is already used by "
                                     f"hierarchy.teams[{ids[team.id]}]"))  # fmt: skip
        ids.setdefault(team.id, i)
        for j, member in enumerate(team.members):
            if member in team_of and team_of[member] != team.id:
                out.append(doc.violation(join_path(join_path(p, "members"), j), "DUPLICATE_MEMBER",
                                         f"{member!r} is already in team {team_of[member]!r}"))  # fmt: skip
            team_of.setdefault(member, team.id)
    seen: set[str] = set()
    for i, level in enumerate(section.levels):
        p = join_path("hierarchy.levels", i)
        if level in seen:
            out.append(doc.violation(p, "DUPLICATE_LEVEL", f"{level!r} is listed twice"))
        seen.add(level)
        if level == "team":
            if not section.teams:
                out.append(doc.violation(p, "NO_TEAMS", "the team level needs hierarchy.teams"))
        elif level not in schema or schema[level].type is not FieldType.STRING:
            out.append(doc.violation(p, "INVALID_LEVEL",
                                     f"{level!r} is not a text field of the deals"))  # fmt: skip
    return team_of


@dataclass(frozen=True)
class RuleTarget:
    """A compiled target: group field values (sorted by field), period label, minor units."""

    group: tuple[tuple[str, str], ...]
    period: str
    amount_minor: int
    currency: str


def _compile_targets(
    raw: Any, schema: Mapping[str, FieldSpec], teams: bool, doc: SourceDocument,
    out: list[Violation],
) -> tuple[RuleTarget, ...]:  # fmt: skip
    """Targets: text fields to group by (``team`` with teams declared), amounts exact in the
    currency's minor units, one target per group and period. Items are shaped one by one."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        _shape(_SECTION_TYPES["targets"], raw, doc, "targets", out)
        return ()
    head = _shape(_SECTION_TYPES["targets"], {k: v for k, v in raw.items() if k != "items"}, doc,
                  "targets", out)  # fmt: skip
    items = _shape_items(_TARGET, raw.get("items", []), doc, "targets.items", out)
    if head is None or items is None:
        return ()
    exponent = CURRENCY_EXPONENTS.get(head.currency)
    if exponent is None:
        out.append(doc.violation("targets.currency", "UNKNOWN_CURRENCY",
                                 f"{head.currency!r} is not an ISO 4217 currency"))  # fmt: skip
        return ()
    compiled: list[RuleTarget] = []
    seen: dict[tuple[tuple[tuple[str, str], ...], str], int] = {}
    for i, item in items:
        p = join_path("targets.items", i)
        for name in item.group:
            ok = name == "team" and teams
            ok = ok or (name in schema and schema[name].type is FieldType.STRING)
            if not ok:
                out.append(doc.violation(join_path(join_path(p, "group"), name), "INVALID_GROUP",
                                         f"{name!r} is not a text field to group by"))  # fmt: skip
        minor = item.amount.scaleb(exponent)
        if minor != minor.to_integral_value():
            out.append(doc.violation(join_path(p, "amount"), "AMOUNT_TOO_PRECISE",
                                     f"{item.amount} has more places than {head.currency}"))  # fmt: skip
            continue
        group = tuple(sorted(item.group.items()))
        key = (group, item.period)
        if key in seen:
            message = f"targets.items[{seen[key]}] has the same group and period"
            out.append(doc.violation(p, "DUPLICATE_TARGET", message))
            continue
        seen[key] = i
        compiled.append(RuleTarget(group, item.period, int(minor), head.currency))
    return tuple(compiled)


def _compile_lead_sources(
    raw: Any, schema: Mapping[str, FieldSpec], doc: SourceDocument, out: list[Violation]
) -> tuple[SourceCost, ...]:
    """Lead-source costs, shaped item by item so one bad cost does not hide the others."""
    if raw is None:
        return ()
    adapter = _SECTION_TYPES["lead_sources"]
    if not isinstance(raw, dict):
        _shape(adapter, raw, doc, "lead_sources", out)
        return ()
    head = _shape(adapter, {k: v for k, v in raw.items() if k != "costs"}, doc, "lead_sources", out)
    items = _shape_items(_SOURCE_COST, raw.get("costs", []), doc, "lead_sources.costs", out)
    if head is None or items is None:
        return ()
    if head.field not in schema or schema[head.field].type is not FieldType.STRING:
        out.append(doc.violation("lead_sources.field", "UNKNOWN_FIELD",
                                 f"{head.field!r} is not a text field"))  # fmt: skip
    return compile_lead_sources(head.currency, items, doc, out)


def compile_rule_set(text: str) -> CompiledRuleSet:
    """Validate and compile rule-set text (YAML or JSON).

    Raises
    ------
    RuleSetInvalidError
        Carrying every violation found, sorted by path and de-duplicated.
    """
    doc = parse_document(text)
    out: list[Violation] = list(doc.violations)
    data = doc.data
    if not isinstance(data, dict):
        raise RuleSetInvalidError(
            [doc.violation("", "NOT_A_MAPPING", "a rule set must be a mapping of sections")]
        )
    head = {k: v for k, v in data.items() if k not in _SECTION_TYPES}
    head.update({"stages": [], "fields": {}})
    # Shape of the header and unknown top-level keys; sections are checked one by one below.
    header_errors: list[Violation] = []
    _shape(RuleSetDocument, head, doc, "", header_errors)
    out.extend(v for v in header_errors if not v.path.startswith("stages"))
    sections = {
        name: _shape(adapter, data.get(name), doc, name, out) if name in data else None
        for name, adapter in _SECTION_TYPES.items()
        if name in ("fields", "categories", "splits", "timing", "hierarchy")
    }
    fx = _compile_fx(data.get("fx"), doc, out)
    raw_timing = data.get("timing")
    edges = raw_timing.get("age_buckets_days") if isinstance(raw_timing, dict) else None
    # Checked on the raw list, so that a shape problem elsewhere in the section hides nothing.
    increasing = not isinstance(edges, list) or all(
        not isinstance(a, int) or not isinstance(b, int) or b > a
        for a, b in itertools.pairwise(edges)
    )
    if not increasing:
        out.append(doc.violation("timing.age_buckets_days", "NOT_INCREASING",
                                 f"bucket bounds must increase: {edges}"))  # fmt: skip
    if "stages" not in data:
        out.append(doc.violation("stages", "REQUIRED", "Field required"))
    for name in RESERVED_SECTIONS:
        if data.get(name) is not None:
            out.append(
                doc.violation(
                    name,
                    "SECTION_NOT_SUPPORTED",
                    f"section {name!r} is reserved for a later version of the "
                    "rule-set format and is not supported yet; remove it",
                )
            )
    stages = _shape_items(_STAGE, data["stages"], doc, "stages", out) if "stages" in data else None
    if stages is not None:
        if not data["stages"]:
            out.append(doc.violation("stages", "REQUIRED", "at least one stage is required"))
        _check_stages(stages, data["stages"], doc, out)
    fields_ok = "fields" not in data or sections["fields"] is not None
    schema = _build_schema(sections["fields"], doc, out)
    overrides: list[CompiledTable] = []
    raw_rates = data.get("win_rates")
    win_rates: WinRates | None = None
    tables: list[tuple[int, DecisionTable]] = []
    if isinstance(raw_rates, dict):
        win_rates = _shape(
            _SECTION_TYPES["win_rates"],
            {k: v for k, v in raw_rates.items() if k != "overrides"},
            doc,
            "win_rates",
            out,
        )
        if "overrides" in raw_rates:
            tables = (
                _shape_items(_TABLE, raw_rates["overrides"], doc, "win_rates.overrides", out) or []
            )
    elif raw_rates is not None:
        _shape(_SECTION_TYPES["win_rates"], raw_rates, doc, "win_rates", out)
    table_ids: dict[str, int] = {}
    for i, table in tables:
        p = join_path("win_rates.overrides", i)
        if table.id in table_ids:
            out.append(
                doc.violation(
                    join_path(p, "id"),
                    "DUPLICATE_ID",
                    f"table id {table.id!r} is already used by "
                    f"win_rates.overrides[{table_ids[table.id]}]",
                )
            )
        table_ids.setdefault(table.id, i)
        if not fields_ok:
            continue
        try:
            overrides.append(compile_table(table, schema, {"win_rate": WIN_RATE_OUTPUT}, doc, p))
        except RuleSetInvalidError as exc:
            out.extend(exc.violations)
    categories: CompiledTable | None = None
    cat_table: DecisionTable | None = sections["categories"]
    if cat_table is not None and fields_ok:
        try:
            categories = compile_table(
                cat_table,
                {**schema, **CATEGORY_INPUT_FIELDS},
                {"category": CATEGORY_OUTPUT},
                doc,
                "categories",
            )
        except RuleSetInvalidError as exc:
            out.extend(exc.violations)
    team_of = _compile_hierarchy(sections["hierarchy"], schema, doc, out) if fields_ok else {}
    for i, name in enumerate(win_rates.segment_by if win_rates is not None else []):
        is_text = name in schema and schema[name].type is FieldType.STRING
        if not is_text and not (name == "team" and team_of):
            out.append(doc.violation(f"win_rates.segment_by[{i}]", "UNKNOWN_FIELD",
                                     f"{name!r} is not a text field to segment by"))  # fmt: skip
    targets = _compile_targets(data.get("targets"), schema, bool(team_of), doc, out)
    source_costs = _compile_lead_sources(data.get("lead_sources"), schema, doc, out)
    raw_sources = data.get("lead_sources")
    cost_field = raw_sources.get("field") if isinstance(raw_sources, dict) else None
    splits: CompiledSplits | None = DEFAULT_SPLITS
    if data.get("splits") is not None:
        splits = _compile_splits_section(data["splits"], schema if fields_ok else None, doc, out)
    people: dict[str, Person] = {}
    if data.get("people") is not None:
        person_items = _shape_items(_PERSON, data["people"], doc, "people", out)
        people = compile_people(person_items or [], doc, out)
    plans: tuple[CompiledPlan, ...] = ()
    if data.get("plans") is not None:
        plan_items = _shape_items(_PLAN, data["plans"], doc, "plans", out)
        plans = compile_plans(plan_items or [], splits, team_of, people,
                              schema if fields_ok else None, doc, out)  # fmt: skip
    if out:
        raise RuleSetInvalidError(sorted_violations(out))
    assert splits is not None
    # The whole document once more: a shape the section checks let through (a section set to
    # null, say) is reported like any other problem.
    document = _shape(RuleSetDocument, data, doc, "", out)
    if document is None or out:
        raise RuleSetInvalidError(sorted_violations(out))
    ordered = sorted(document.stages, key=lambda s: s.order)
    return CompiledRuleSet(
        document=document,
        source_text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        schema=schema,
        stage_ids=tuple(s.id for s in ordered),
        stage_rate_ppm=np.array(
            [int(s.win_rate.scaleb(WIN_RATE_SCALE)) for s in ordered], dtype=np.int64
        ),
        stage_category=np.array(
            [CATEGORY_ORDER.index(s.default_category) for s in ordered], dtype=np.int8
        ),
        stage_is_won=np.array([s.is_won for s in ordered], dtype=np.bool_),
        stage_is_lost=np.array([s.is_lost for s in ordered], dtype=np.bool_),
        stage_is_closed=np.array([s.is_won or s.is_lost for s in ordered], dtype=np.bool_),
        stage_stuck_days=np.array([s.stuck_after_days or -1 for s in ordered], dtype=np.int64),
        overrides=tuple(overrides),
        categories=categories,
        splits=splits,
        fx=fx,
        team_of=team_of,
        targets=targets,
        source_costs=source_costs,
        source_cost_field=cost_field if isinstance(cost_field, str) else "source",
        plans=plans,
        people=people,
        stage_index={s.id: i for i, s in enumerate(ordered)},
    )


def validate_rule_set(text: str) -> list[Violation]:
    """Return every violation in rule-set text (an empty list when it is valid)."""
    try:
        compile_rule_set(text)
    except RuleSetInvalidError as exc:
        return exc.violations
    return []


__all__ = [
    "COMPILER_VERSION",
    "PPM",
    "WIN_RATE_SCALE",
    "CompiledPlan",
    "CompiledRuleSet",
    "RuleTarget",
    "compile_rule_set",
    "validate_rule_set",
]
