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

from engine.credit.splits import Basis, PartSource, SplitResult, TeamInput
from engine.errors import InvalidArgumentError, Violation
from engine.forecast.deals import DealBatch
from engine.forecast.scoring import ScoreResult
from engine.rules.compiler import CompiledRuleSet
from engine.rules.splits import RATIO_SCALE
from service.convert_arrow import (
    REQUEST_FIELD,
    dictionary_array,
    index_type,
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


def team_from_arrow(table: pa.Table) -> TeamInput:
    """The ``team`` column's members as team rows (``deal`` is the deal's row)."""
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
    deal = pc.list_parent_indices(team).to_numpy(zero_copy_only=False).tolist()
    members = pc.list_flatten(team)
    names = {members.type.field(i).name for i in range(members.type.num_fields)}
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
