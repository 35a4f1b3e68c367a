"""The ``splits`` section compiled: split types with their governance, and the policies that add
participants by condition.

Ratios are exact decimals kept to ``RATIO_SCALE`` places as integers (``ratio_units``), so a full
split's shares are checked to add up to exactly 100 % with integer arithmetic: 72.68 % + 10.93 % +
2.73 % + 13.66 % is exactly 100 % here, never "99.99999999 %". A rule set without a ``splits``
section gets :data:`DEFAULT_SPLITS`: one full split, ``revenue``, owner credited by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from engine.errors import RuleSetInvalidError, Violation
from engine.rules.expression import Condition, FieldSpec, compile_condition
from engine.rules.schema import AmountChange, SplitKind, Splits
from engine.rules.source import SourceDocument, join_path

#: Decimal places kept for split ratios (0.12345678 = 12.345678 %).
RATIO_SCALE = 8
RATIO_UNIT = 10**RATIO_SCALE


def ratio_units(value: Decimal) -> int:
    """Return ``value`` in units of ``10**-RATIO_SCALE``; ``ValueError`` if it needs more places."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    scaled = value.scaleb(RATIO_SCALE)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {RATIO_SCALE} decimal places")
    return int(scaled)


def units_to_ratio(units: int) -> Decimal:
    """Return ratio units as an exact decimal, without trailing zeros (``70000000`` -> ``0.7``)."""
    d = Decimal(units).scaleb(-RATIO_SCALE)
    return d.normalize() if d else Decimal(0)


@dataclass(frozen=True)
class CompiledSplitType:
    """A split type in the form the credit engine uses (ratios in units of 1e-8)."""

    id: str
    kind: SplitKind
    ceiling_units: int = 10 * RATIO_UNIT
    remainder_role: str = "owner"
    amount_change: AmountChange = AmountChange.KEEP
    max_participants: int = 20
    min_share_units: int = 0


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy: a condition (``None`` = every deal), the split it adds to, and role shares."""

    id: str
    condition: Condition | None
    split: str
    participants: tuple[tuple[str, int], ...]  # (role, ratio units)


@dataclass(frozen=True)
class CompiledSplits:
    """Split types (the first full one is the default for parts that name none) and policies."""

    types: tuple[CompiledSplitType, ...]
    policies: tuple[CompiledPolicy, ...] = ()
    index: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {t.id: i for i, t in enumerate(self.types)})

    @property
    def default_type(self) -> int:
        """Index of the default split type: the first full one."""
        return next(i for i, t in enumerate(self.types) if t.kind is SplitKind.FULL)


DEFAULT_SPLITS = CompiledSplits(types=(CompiledSplitType("revenue", SplitKind.FULL),))


def compile_splits(
    section: Splits,
    schema: Mapping[str, FieldSpec],
    doc: SourceDocument,
    out: list[Violation],
    *,
    type_index: Sequence[int] | None = None,
    policy_index: Sequence[int] | None = None,
    complete: bool = True,
) -> CompiledSplits | None:
    """Check and compile the ``splits`` section; violations go to ``out`` (None if any).

    ``type_index`` and ``policy_index`` give the source positions of the items when some items
    were dropped for shape errors (and ``complete`` is then False).
    """
    start = len(out)
    t_pos = list(type_index) if type_index is not None else list(range(len(section.types)))
    p_pos = list(policy_index) if policy_index is not None else list(range(len(section.policies)))
    types: list[CompiledSplitType] = []
    seen: dict[str, int] = {}

    def units(value: Decimal, path: str, low: Decimal, high: Decimal, what: str) -> int:
        if not (low <= value <= high):
            out.append(
                doc.violation(
                    path, "SHARE_OUT_OF_RANGE", f"{what} {value} is outside [{low}, {high}]"
                )
            )
            return 0
        try:
            return ratio_units(value)
        except ValueError as exc:
            out.append(doc.violation(path, "SHARE_TOO_PRECISE", f"{what} {exc}"))
            return 0

    for i, t in zip(t_pos, section.types, strict=True):
        p = join_path("splits.types", i)
        if t.id in seen:
            out.append(
                doc.violation(
                    join_path(p, "id"),
                    "DUPLICATE_ID",
                    f"split type {t.id!r} is already defined by splits.types[{seen[t.id]}]",
                )
            )
        seen.setdefault(t.id, i)
        ceiling = units(t.ceiling, join_path(p, "ceiling"), Decimal(1), Decimal(1000), "ceiling")
        min_share = units(
            t.min_share, join_path(p, "min_share"), Decimal(0), Decimal(1), "min_share"
        )
        types.append(
            CompiledSplitType(
                t.id,
                t.kind,
                ceiling_units=ceiling if t.kind is SplitKind.OVERAGE else RATIO_UNIT,
                remainder_role=t.remainder_role,
                amount_change=t.amount_change,
                max_participants=t.max_participants,
                min_share_units=min_share,
            )
        )
    if complete and not any(t.kind is SplitKind.FULL for t in section.types):
        out.append(
            doc.violation(
                "splits.types",
                "NO_FULL_SPLIT",
                "one split type must be full: it is the default for credit that names no split",
            )
        )
    by_id = {t.id: t for t in types}
    policies: list[CompiledPolicy] = []
    policy_ids: dict[str, int] = {}
    for i, pol in zip(p_pos, section.policies, strict=True):
        p = join_path("splits.policies", i)
        if pol.id in policy_ids:
            out.append(
                doc.violation(
                    join_path(p, "id"),
                    "DUPLICATE_ID",
                    f"policy id {pol.id!r} is already used by splits.policies[{policy_ids[pol.id]}]",
                )
            )
        policy_ids.setdefault(pol.id, i)
        target = by_id.get(pol.split)
        if target is None:
            out.append(
                doc.violation(
                    join_path(p, "split"),
                    "UNKNOWN_SPLIT",
                    f"split type {pol.split!r} is not defined in splits.types "
                    f"({', '.join(by_id) or 'none'})",
                )
            )
        condition = None
        if pol.when is not None:
            wp = join_path(p, "when")
            line, column = doc.position(wp)
            try:
                condition = compile_condition(pol.when, schema, path=wp, line=line, column=column)
            except RuleSetInvalidError as exc:
                out.extend(exc.violations)
        roles: dict[str, int] = {}
        shares: list[tuple[str, int]] = []
        high = Decimal(1) if target is None or target.kind is SplitKind.FULL else Decimal(1000)
        for j, part in enumerate(pol.participants):
            pp = join_path(join_path(p, "participants"), j)
            if part.role in roles:
                out.append(
                    doc.violation(
                        join_path(pp, "role"),
                        "DUPLICATE_PARTICIPANT",
                        f"role {part.role!r} already has a share in this policy",
                    )
                )
            roles.setdefault(part.role, j)
            shares.append(
                (part.role, units(part.ratio, join_path(pp, "ratio"), Decimal(0), high, "ratio"))
            )
        policies.append(CompiledPolicy(pol.id, condition, pol.split, tuple(shares)))
    if len(out) > start:
        return None
    return CompiledSplits(types=tuple(types), policies=tuple(policies))


__all__ = [
    "DEFAULT_SPLITS",
    "RATIO_SCALE",
    "RATIO_UNIT",
    "CompiledPolicy",
    "CompiledSplitType",
    "CompiledSplits",
    "compile_splits",
    "ratio_units",
    "units_to_ratio",
]
