"""Credit splits as Arrow columns: the bulk wire form of ``SplitCredits``.

The deals come as in ``ScoreDeals`` (:mod:`service.convert_arrow`), with their teams in one
``team`` column (a list of members per deal). The answer is two streams: one row per deal (its
amount, weighted amount and win probability, or its problem), and one row per credit part in
deal order, coded columns throughout. The layouts are documented on
``SplitCreditsRequest.deal_columns`` and ``SplitCreditsResponse``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.credit.splits import Basis, PartSource, SplitResult, TeamColumns, TeamInput
from engine.decimal_text import parse_scaled
from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ScoreResult
from engine.rules.compiler import CompiledRuleSet
from engine.rules.splits import RATIO_SCALE
from service.convert_arrow import (
    REQUEST_FIELD,
    dictionary_array,
    index_type,
    null_mask,
    problem_columns,
    single,
    table_bytes,
    win_prob_array,
)

TEAM_COLUMN = "team"
_MEMBER_FIELDS = ("person", "role", "split", "ratio", "amount_minor")
_BASES = pa.array([b.name.lower() for b in sorted(Basis)], pa.string())
_SOURCES = pa.array([s.name.lower() for s in sorted(PartSource)], pa.string())
#: A part's ratio: exact to RATIO_SCALE places, up to the overage ceiling.
RATIO_TYPE = pa.decimal128(18, RATIO_SCALE)


def team_from_arrow(table: pa.Table, rules: CompiledRuleSet) -> TeamInput | TeamColumns:
    """The ``team`` column's members: as ready columns when every value is plainly valid (a
    person, a known split, a ratio of at most 8 places or none), else as team rows for the
    engine's member-by-member checks (``deal`` is the deal's row)."""
    if TEAM_COLUMN not in table.column_names:
        return TeamInput([], [], [], [], [], [])
    team = single(table.column(TEAM_COLUMN))
    kind = team.type
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not pa.types.is_struct(
        kind.value_type
    ):
        message = f"column 'team' must be a list of members (structs), got {kind}"
        raise InvalidArgumentError(
            message,
            reason="INVALID_DEAL_COLUMNS",
            violations=[Violation(f"{REQUEST_FIELD}.{TEAM_COLUMN}", reason="INVALID_DEAL_COLUMNS",
                                  message=message)],
        )  # fmt: skip
    parents = pc.list_parent_indices(team).to_numpy(zero_copy_only=False).astype(np.int64)
    members = pc.list_flatten(team)
    names = {members.type.field(i).name for i in range(members.type.num_fields)}
    ready = _plain_team(parents, members, names, rules)
    if ready is not None:
        return ready
    deal = parents.tolist()
    given: dict[str, list[Any]] = {
        name: members.field(name).to_pylist() if name in names else [None] * len(deal)
        for name in _MEMBER_FIELDS
    }
    return TeamInput(
        deal,
        [p or "" for p in given["person"]],
        [r or None for r in given["role"]],
        [s or None for s in given["split"]],
        given["ratio"],
        given["amount_minor"],
    )


def _plain_team(
    deal: np.ndarray, members: pa.StructArray, names: set[str], rules: CompiledRuleSet
) -> TeamColumns | None:
    """The members as columns, or None when any value needs the member-by-member checks."""
    if "person" not in names or ("amount_minor" in names and members.field("amount_minor")
                                 .null_count < len(members)):  # fmt: skip
        return None
    person = members.field("person")
    if (
        not pa.types.is_string(person.type)
        or person.null_count
        or pc.any(pc.equal(person, "")).as_py()
    ):
        return None
    people = person.dictionary_encode()
    role_code, roles = _roles(members.field("role") if "role" in names else None, len(members))
    split = _split_index(members.field("split") if "split" in names else None, len(members), rules)
    if role_code is None or split is None:
        return None
    basis = np.full(len(members), Basis.NONE, dtype=np.int8)
    units = np.zeros(len(members), dtype=np.int64)
    if "ratio" in names and members.field("ratio").null_count < len(members):
        ratio = members.field("ratio")
        if not pa.types.is_string(ratio.type):
            return None
        offsets = np.frombuffer(ratio.buffers()[1], dtype=np.int32)[
            ratio.offset : ratio.offset + len(ratio) + 1
        ]
        data = ratio.buffers()[2]
        text = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        missing = null_mask(ratio)
        units, parsed = parse_scaled(text, offsets, missing, RATIO_SCALE)
        if not parsed.all() or (units < 0).any():
            return None
        basis[:] = Basis.RATIO
        if missing is not None:
            basis[missing] = Basis.NONE
    return TeamColumns(
        deal=deal,
        person=people.indices.to_numpy(zero_copy_only=False).astype(np.int32),
        role=role_code,
        split=split,
        basis=basis,
        ratio_units=units,
        fixed_minor=np.zeros(len(members), dtype=np.int64),
        people=people.dictionary.to_pylist(),
        roles=roles,
        rows=np.arange(len(members)),
    )


def _roles(role: pa.Array | None, m: int) -> tuple[np.ndarray | None, list[str]]:
    """Role codes (0: no role) and the roles, or None when a role is not text."""
    if role is None or role.null_count == len(role):
        return np.zeros(m, dtype=np.int32), [""]
    if not pa.types.is_string(role.type):
        return None, []
    encoded = role.dictionary_encode()
    roles: dict[str, int] = {"": 0}
    remap = np.array([roles.setdefault(v, len(roles)) for v in encoded.dictionary.to_pylist()]
                     + [0], dtype=np.int32)  # fmt: skip
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    missing = null_mask(encoded)
    if missing is not None:
        codes = np.where(missing, -1, codes)
    return remap[codes], list(roles)


def _split_index(split: pa.Array | None, m: int, rules: CompiledRuleSet) -> np.ndarray | None:
    """Each member's split type index, or None when a split is not one of the rule set's."""
    splits = rules.splits
    if split is None or split.null_count == len(split):
        return np.full(m, splits.default_type, dtype=np.int64)
    if not pa.types.is_string(split.type):
        return None
    encoded = split.dictionary_encode()
    index = [splits.default_type if not v else splits.index.get(v, -1)
             for v in encoded.dictionary.to_pylist()]  # fmt: skip
    if min(index, default=0) < 0:
        return None
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    missing = null_mask(encoded)
    if missing is not None:
        codes = np.where(missing, -1, codes)
    return np.array([*index, splits.default_type], dtype=np.int64)[codes]


def credits_to_arrow(
    table: pa.Table,
    rules: CompiledRuleSet,
    batch: DealBatch,
    scores: ScoreResult,
    result: SplitResult,
) -> tuple[bytes, bytes]:
    """The deal stream and the part stream of a split request table."""
    n = batch.n_deals
    invalid = np.zeros(n, dtype=np.bool_)
    for e in result.errors:
        invalid[e.index] = True
    mask = invalid if invalid.any() else None
    ppm = pa.array(scores.win_prob_ppm, mask=mask)
    deals = {
        "deal_id": single(table.column("id")),
        "currency": single(table.column("currency"))
        if "currency" in table.column_names
        else pa.nulls(n, pa.string()),
        "amount_minor": pa.array(batch.frame["amount_minor"].values, mask=mask),
        "weighted_amount_minor": pa.array(scores.weighted_amount_minor, mask=mask),
        "win_prob": win_prob_array(ppm),
        **problem_columns(n, result.errors),
    }
    types = rules.splits.types
    split_ids = pa.array([t.id for t in types], pa.string())
    kinds = pa.array([t.kind.value for t in types], pa.string())
    ratio = result.basis == Basis.RATIO
    parts = {
        "deal_index": pa.array(result.deal.astype(np.int32)),
        "split": dictionary_array(result.split.astype(index_type(len(types))), split_ids),
        "kind": dictionary_array(result.split.astype(index_type(len(types))), kinds),
        "person": dictionary_array(result.person_code, pa.array(result.people, pa.string())),
        "role": dictionary_array(result.role_code, pa.array(result.roles, pa.string())),
        "basis": dictionary_array(result.basis, _BASES),
        "ratio": _ratios(result.ratio_units, ratio),
        "fixed_amount_minor": pa.array(result.fixed_minor),
        "credit_minor": pa.array(result.credit_minor),
        "weighted_credit_minor": pa.array(result.weighted_credit_minor),
        "source": dictionary_array(result.source, _SOURCES),
        "policy": dictionary_array(
            np.where(result.policy_code < 0, len(result.policies), result.policy_code).astype(
                index_type(len(result.policies) + 1)
            ),
            pa.array([*result.policies, ""], pa.string()),
        ),
    }
    return table_bytes(pa.table(deals)), table_bytes(pa.table(parts))


def _ratios(units: np.ndarray, given: np.ndarray) -> pa.Array:
    """Ratio parts' ratios as exact decimals (null for other parts)."""
    words = np.zeros(2 * units.shape[0], dtype=np.int64)  # little-endian 128-bit: low, high
    words[0::2] = units
    words[1::2] = units >> 63
    validity = pa.array(given).buffers()[1] if not given.all() else None
    return pa.Array.from_buffers(RATIO_TYPE, units.shape[0], [validity, pa.py_buffer(words)])


__all__ = ["RATIO_TYPE", "TEAM_COLUMN", "credits_to_arrow", "team_from_arrow"]
