"""The rule-set document schema: pydantic models with ``extra="forbid"``.

These models are the single definition of what a rule set may say; the JSON Schema handed to
editors is exported from them (:func:`json_schema`). They check *shape* (names, types, allowed
values). Meaning that spans nodes (stage orders without gaps, conditions over declared fields,
overlapping rows) is checked in ``engine.rules.compiler``, which reports every problem at once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.frame import MAX_DECIMAL_SCALE, FieldType

API_VERSION = "quotient/v1"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="snake_case name")]
RowId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$", description="human row id")
]


class Model(BaseModel):
    """Base of every schema model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Category(str, Enum):
    """Forecast category of a deal (the glossary's pipeline / best case / commit / closed / omitted)."""

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


#: Category codes used in columns, in this order (index = code).
CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)


class HitPolicy(str, Enum):
    """How a decision table combines the rows that match one input."""

    FIRST = "first"
    PRIORITY = "priority"
    UNIQUE = "unique"
    COLLECT_SUM = "collect-sum"
    COLLECT_MAX = "collect-max"


class FieldDecl(Model):
    """A deal attribute that rules may use, beyond the built-in deal fields."""

    type: FieldType
    scale: Annotated[int, Field(ge=0, le=MAX_DECIMAL_SCALE)] | None = Field(
        default=None, description="decimal places kept (decimal fields only; default 6)"
    )
    description: str | None = None


class Stage(Model):
    """One stage of the sales process with its configured win rate."""

    id: Name
    label: str = Field(min_length=1, max_length=200)
    order: int = Field(ge=1, description="position in the process, 1 for the first stage")
    win_rate: Decimal = Field(description="exact decimal in [0, 1], at most 6 places")
    default_category: Category = Category.PIPELINE
    is_won: bool = False
    is_lost: bool = False
    stuck_after_days: int | None = Field(
        default=None, ge=1, description="an open deal longer in this stage is stuck (default: "
        "the stage's historical P90 dwell)")  # fmt: skip


CellValue = str | int | Decimal | bool | list[str | int | Decimal | bool] | None
OutputValue = str | int | Decimal | bool


class DecisionRow(Model):
    """One row of a decision table: tests on the inputs (and/or a full condition) and outputs."""

    id: RowId
    description: str | None = None
    when: str | None = Field(
        default=None, description="SQL-style condition over deal fields, ANDed with the cells"
    )
    cells: dict[str, CellValue] = Field(
        default_factory=dict,
        description="input name -> test: a value, a list (any of), '>= 10', '[10..20)', "
        "'BETWEEN 1 AND 5', 'IS NULL'; empty or '-' matches anything",
    )
    then: dict[str, OutputValue]
    priority: int = Field(default=0, description="used by the priority hit policy: highest wins")


class DecisionTable(Model):
    """Inputs, outputs and rows with a hit policy; every output records the matched row ids."""

    id: Name
    description: str | None = None
    hit_policy: HitPolicy = HitPolicy.FIRST
    inputs: list[Name] = Field(default_factory=list)
    rows: list[DecisionRow] = Field(min_length=1)


class WinRates(Model):
    """Where win rates come from, and the decision-table overrides by segment.

    ``configured``: the stages' rates. ``historical``: stage rates learned from the store's deal
    histories, per ``segment_by`` segment (shrunk toward the global rate by ``prior_strength``
    deals; segments under ``min_deals`` use the global rate). ``model``: the probability of the
    rule set's win-probability model (``model_version``; 0: the latest). ``blend``: the model
    where every category of the deal was seen in its training and the model beat the stage rates
    on its held-out deals, the historical rate elsewhere.
    """

    source: Literal["configured", "historical", "model", "blend"] = "configured"
    segment_by: list[Name] = Field(default_factory=list)
    prior_strength: Decimal = Field(default=Decimal(20), gt=0)
    min_deals: int = Field(default=30, ge=1)
    model_version: int = Field(default=0, ge=0)
    overrides: list[DecisionTable] = Field(
        default_factory=list,
        description="tables with output win_rate; the first table that hits an open deal decides",
    )


class SplitKind(str, Enum):
    """Full splits add up to exactly the deal (revenue); overage splits may exceed it (overlay)."""

    FULL = "full"
    OVERAGE = "overage"


class AmountChange(str, Enum):
    """What fixed-amount parts do when the deal amount changes."""

    KEEP = "keep"
    RESCALE = "rescale"
    REJECT = "reject"


class SplitType(Model):
    """A kind of credit split and its governance."""

    id: Name
    description: str | None = None
    kind: SplitKind
    ceiling: Decimal = Field(
        default=Decimal(10),
        description="overage only: the most the parts may add up to, as a ratio (10 = 1000 %)",
    )
    remainder_role: Name = Field(
        default="owner",
        description="full only: the role that receives what fixed amounts leave of the deal",
    )
    amount_change: AmountChange = Field(
        default=AmountChange.KEEP,
        description="fixed parts when the deal amount changes: keep them, rescale them in "
        "proportion, or reject the change when they exceed the new amount",
    )
    max_participants: int = Field(default=20, ge=1, le=1000)
    min_share: Decimal = Field(
        default=Decimal(0), description="smallest ratio a participant may hold (0 = no minimum)"
    )


class PolicyParticipant(Model):
    """A share a policy gives to the deal-team members who hold a role."""

    role: Name
    ratio: Decimal = Field(description="exact decimal share of the deal amount, e.g. 1 = 100 %")


class SplitPolicy(Model):
    """When a deal matches ``when``, team members with the listed roles are credited in ``split``."""

    id: RowId
    description: str | None = None
    when: str | None = Field(default=None, description="SQL-style condition over deal fields")
    split: Name
    participants: list[PolicyParticipant] = Field(min_length=1)


class Splits(Model):
    """Split types (the first full one is the default) and the policies that add participants."""

    types: list[SplitType] = Field(min_length=1)
    policies: list[SplitPolicy] = Field(default_factory=list)


class StaleRules(Model):
    """How far a stale open deal's period-aware probability is cut."""

    past_close_factor: Decimal = Field(
        default=Decimal(1),
        ge=0,
        le=1,
        description="multiplier for deals past their expected close date (1: only what history "
        "shows about overdue deals)",
    )
    dwell_multiple: Decimal = Field(
        default=Decimal(2),
        gt=0,
        description="a deal is stale when it has been in its stage longer than this multiple of "
        "the stage's historical P90 dwell time",
    )
    dwell_factor: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=1, description="multiplier for such stale deals"
    )


class Timing(Model):
    """The period-aware probability: P(won within the period | stage, age in stage, days to
    expected close), learned from deal histories with shrinkage toward coarser estimates."""

    age_buckets_days: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [14, 30, 60, 120],
        description="increasing bounds of the age-in-stage buckets, in days",
    )
    prior_strength: Decimal = Field(
        default=Decimal(20),
        gt=0,
        description="weight, in observations, of the coarser estimate a cell is shrunk toward",
    )
    snapshot_every_days: int = Field(
        default=7, ge=1, le=366, description="spacing of the past snapshots learned from"
    )
    lookback_days: int = Field(
        default=730, ge=30, le=3660, description="how far back snapshots are taken"
    )
    stale: StaleRules = Field(default_factory=StaleRules)


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class FxRate(Model):
    """Units of the reporting currency per unit of ``currency`` (major units), from a date on."""

    currency: Currency
    valid_from: dt.date
    rate: Decimal = Field(gt=0, description="exact decimal, at most 6 places")


class Fx(Model):
    """The dated FX table that converts deals to one reporting currency for roll-ups."""

    reporting_currency: Currency
    rates: list[FxRate] = Field(default_factory=list)


class Team(Model):
    """A sales team: the owners (people) in it."""

    id: Name
    label: str | None = None
    members: list[str] = Field(min_length=1)


class Hierarchy(Model):
    """How forecasts roll up, top level first (e.g. region -> team -> owner -> the company), and
    the teams that make ``team`` a field to group by (each owner's team)."""

    levels: list[Name] = Field(min_length=1, description="text fields, top level first")
    teams: list[Team] = Field(default_factory=list)


class TargetItem(Model):
    """A target for one group (text field values; none: the company) and period label."""

    period: str = Field(min_length=1, description="a period label: 2026-Q1, 2026-03, 2026, H1...")
    group: dict[Name, str] = Field(default_factory=dict, description="e.g. {owner: li.wei}")
    amount: Decimal = Field(ge=0, description="major units of the targets' currency")


class Targets(Model):
    """Targets per group and period, in one currency."""

    currency: Currency
    items: list[TargetItem] = Field(default_factory=list)


class SourceCostItem(Model):
    """What one lead source (or campaign) cost in one period."""

    source: str = Field(min_length=1, description="the deals' value of the field, e.g. web")
    period: str = Field(min_length=1, description="a period label: 2026-Q1, 2026-03, 2026...")
    amount: Decimal = Field(ge=0, description="major units of the costs' currency")


class LeadSources(Model):
    """Lead-source costs per period, for source ROI (cost per won deal, return on spend)."""

    currency: Currency
    field: Name = Field(default="source", description="the text field the costs are keyed by: "
                        "source, or a declared text field such as campaign")  # fmt: skip
    costs: list[SourceCostItem] = Field(default_factory=list)


class PlanTierRow(Model):
    """One tier: ``[lower, upper)`` in the tiers' basis (major units of the base, or attainment:
    1 = 100 %); no ``upper`` for the last."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    rate: Decimal = Field(description="exact decimal, at most 6 places; 0.05 = 5 %")
    mode: Literal["marginal", "retroactive"] = "marginal"


class PlanTiers(Model):
    basis: Literal["amount", "attainment"]
    rows: list[PlanTierRow] = Field(min_length=1)


class PlanAssign(Model):
    """Who the plan is for: these people, the members of these teams, and the people of the rule
    set's ``people`` section with these roles or regions; all empty: everyone not taken by an
    earlier plan."""

    people: list[str] = Field(default_factory=list)
    teams: list[Name] = Field(default_factory=list)
    roles: list[Name] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)


class PlanCap(Model):
    per_period: Decimal | None = Field(default=None, ge=0, description="major units")
    per_deal: Decimal | None = Field(default=None, ge=0, description="major units, per deal line")
    target_incentive_multiple: Decimal | None = Field(default=None, gt=0)


class PlanSegment(Model):
    """Deals matching ``when`` (first matching segment wins): their base counts ``weight`` toward
    the period base, and with ``rate`` they are paid that flat rate instead of the tiers."""

    id: Name
    when: str = Field(description="a condition over the deal fields")
    weight: Decimal = Field(default=Decimal(1), ge=0, le=10)
    rate: Decimal | None = Field(default=None, ge=0, description="exact decimal, 6 places")


class PlanSpiff(Model):
    """A fixed bonus per won deal matching ``when``, shared by the deal's credit shares."""

    id: Name
    when: str
    amount: Decimal = Field(ge=0, description="major units per deal")


class PlanMilestone(Model):
    """A bonus paid in a period whose base reaches ``at`` (in the tiers' basis)."""

    id: Name
    at: Decimal = Field(ge=0)
    bonus: Decimal = Field(ge=0, description="major units")


class PlanDraw(Model):
    """A floor on each period's pay; a recoverable draw is paid back from later pay above it."""

    amount: Decimal = Field(gt=0, description="major units per period")
    recoverable: bool = True
    until: dt.date | None = Field(default=None, description="the last day of the last period "
                                  "with a draw")  # fmt: skip


class PlanClawback(Model):
    """A won deal cancelled or refunded within ``window_days`` of its win gives its commission
    back (``full``, or ``pro_rata``: the unexpired share of the window for a cancellation; a
    refund always gives back the refunded share)."""

    window_days: int = Field(ge=0, le=3660)
    mode: Literal["full", "pro_rata"] = "full"


class PlanHoldback(Model):
    """A share of each period's earnings held back, released ``release_days`` after the period;
    clawbacks are taken from it first."""

    rate: Decimal = Field(gt=0, le=1)
    release_days: int = Field(ge=0, le=3660)


class Plan(Model):
    """A commission plan: who it is for, when, what base it pays on, its tiers, limits, bonuses,
    draws and clawbacks."""

    id: Name
    description: str | None = None
    currency: Currency
    effective_from: dt.date | None = None
    effective_until: dt.date | None = Field(default=None, description="inclusive")
    assign: PlanAssign = Field(default_factory=PlanAssign)
    base: Literal["bookings", "collections", "margin"] = "bookings"
    margin_field: Name | None = Field(default=None, description="with base margin: a declared "
                                      "decimal field holding each deal's margin ratio")  # fmt: skip
    split: Name | None = Field(default=None, description="split type credited; default: the "
                               "rule set's default full split")  # fmt: skip
    tiers: PlanTiers
    threshold: Decimal = Field(default=Decimal(0), ge=0, description="in the tiers' basis")
    target_incentive: Decimal | None = Field(default=None, ge=0, description="major units")
    cap: PlanCap | None = None
    segments: list[PlanSegment] = Field(default_factory=list)
    spiffs: list[PlanSpiff] = Field(default_factory=list)
    milestones: list[PlanMilestone] = Field(default_factory=list)
    draw: PlanDraw | None = None
    clawback: PlanClawback | None = None
    holdback: PlanHoldback | None = None


class Person(Model):
    """A payee: their role and region, which plans may be assigned by."""

    id: str = Field(min_length=1)
    role: Name | None = None
    region: str | None = None


class RuleSetDocument(Model):
    """A whole rule set as authored (YAML or JSON)."""

    api_version: Literal["quotient/v1"]
    name: Name
    effective_from: dt.date
    description: str | None = None
    fields: dict[Name, FieldDecl] = Field(default_factory=dict)
    stages: list[Stage] = Field(min_length=1)
    win_rates: WinRates = Field(default_factory=WinRates)
    categories: DecisionTable | None = None
    splits: Splits | None = None
    timing: Timing = Field(default_factory=Timing)
    fx: Fx | None = None
    hierarchy: Hierarchy | None = None
    targets: Targets | None = None
    lead_sources: LeadSources | None = None
    plans: list[Plan] | None = None
    people: list[Person] | None = None


#: Top-level sections that are reserved but not yet supported.
RESERVED_SECTIONS: tuple[str, ...] = ()


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a rule-set document, for editors."""
    schema = RuleSetDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Quotient rule set"
    return schema


__all__ = [
    "API_VERSION",
    "CATEGORY_ORDER",
    "RESERVED_SECTIONS",
    "AmountChange",
    "Category",
    "CellValue",
    "DecisionRow",
    "DecisionTable",
    "FieldDecl",
    "HitPolicy",
    "OutputValue",
    "PolicyParticipant",
    "RuleSetDocument",
    "SplitKind",
    "SplitPolicy",
    "SplitType",
    "Splits",
    "Stage",
    "WinRates",
    "json_schema",
]
