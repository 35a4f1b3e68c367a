"""Credit splits for a batch of deals: who is credited how much, by split type, to the minor unit.

Input is the scored deal batch plus the deal teams as rows (one per member: deal index, person,
role, split type, and a ratio or a fixed amount). Policies in the rule set give shares to members
who hold a role (``product line X adds a presales overlay at 100 %``); the owner is credited 100 % of
the default full split until others are added. Then, per (deal, split type):

* **full** splits add up to exactly the deal amount. Ratio parts get ``amount x ratio`` and the
  minor units left over go by largest remainder (ties to the member listed first). Fixed amounts
  leave the rest of the deal to the *remainder receiver* (the member with the split type's
  ``remainder_role``; the owner by default). Weighted credits divide the deal's weighted amount
  the same way, so they too add up exactly to the deal's weighted amount.
* **overage** splits may exceed the deal up to the type's ceiling; each part is
  ``amount x ratio`` (or its fixed amount) and its weighted credit ``credit x win_prob``, both
  rounded half-even.

Problems are per deal (``DealError`` with the member's path, e.g. ``team[3].ratio``); a bad deal
gets no credit rows and the rest of the batch goes on. The arithmetic is whole-array numpy; the
only per-member Python is reading the caller's values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

import numpy as np

from engine.credit.allocation import allocate, muldiv, muldiv_half_even
from engine.forecast.deals import DealBatch, DealError
from engine.forecast.scoring import ScoreResult
from engine.money import PPM
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import SplitKind
from engine.rules.splits import RATIO_UNIT, ratio_units
from engine.rules.tables import evaluate_masked


class Basis(IntEnum):
    """How a part's credit is set."""

    RATIO = 0
    AMOUNT = 1
    REMAINDER = 2  # a remainder receiver with no part of their own


class PartSource(IntEnum):
    """Where a part came from."""

    TEAM = 0  # the caller gave the share
    POLICY = 1  # a split policy gave the member's role a share
    OWNER_DEFAULT = 2  # nobody else is in the default full split: the owner gets 100 %
    REMAINDER = 3  # added to receive what fixed amounts leave of a full split


@dataclass
class TeamInput:
    """Deal-team members as columns of plain Python values, one entry per member.

    ``deal`` is the member's deal index in the batch. ``ratio`` (an exact decimal, 0.7 = 70 %) and
    ``amount_minor`` are mutually exclusive; a member with neither gets their share from a policy
    for their role. ``split`` names a split type (``None`` = the default full type).
    """

    deal: list[int]
    person: list[str]
    role: list[str | None] = field(default_factory=list)
    split: list[str | None] = field(default_factory=list)
    ratio: list[Decimal | str | None] = field(default_factory=list)
    amount_minor: list[int | str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.deal)


@dataclass
class SplitResult:
    """Credit parts, one row per (deal, split type, person), ordered by deal, split type and team order.

    Attributes
    ----------
    deal : ndarray of int64, shape (m,)
        Deal index in the batch.
    split : ndarray of int16, shape (m,)
        Index into ``rules.splits.types``.
    person, role : list of str, length m
    basis, source : ndarray of int8, shape (m,)
        :class:`Basis` and :class:`PartSource` values.
    ratio_units : ndarray of int64, shape (m,)
        The ratio in units of 1e-8 for ratio parts (0 otherwise).
    fixed_minor : ndarray of int64, shape (m,)
        The fixed amount of amount parts (0 otherwise).
    credit_minor, weighted_credit_minor : ndarray of int64, shape (m,)
    policy : list of str, length m
        The id of the policy that gave the share ('' if none).
    errors : list of DealError
        Deals that got no credit, with the reason.
    """

    deal: np.ndarray
    split: np.ndarray
    person: list[str]
    role: list[str]
    basis: np.ndarray
    source: np.ndarray
    ratio_units: np.ndarray
    fixed_minor: np.ndarray
    credit_minor: np.ndarray
    weighted_credit_minor: np.ndarray
    policy: list[str]
    errors: list[DealError]

    def __len__(self) -> int:
        return int(self.deal.shape[0])


def _percent(units: int) -> str:
    """Ratio units as a percentage for messages: ``90000000`` -> ``90``."""
    return f"{Decimal(units).scaleb(-6).normalize():f}"


def _pad(values: Sequence[Any], n: int) -> list[Any]:
    return list(values) + [None] * (n - len(values))


@dataclass
class _Parts:
    """Parts being assembled (Python lists; turned into arrays once complete)."""

    deal: list[int] = field(default_factory=list)
    split: list[int] = field(default_factory=list)
    person: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    basis: list[int] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    ratio: list[int] = field(default_factory=list)
    fixed: list[int] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)

    def add(
        self,
        deal: int,
        split: int,
        person: str,
        role: str,
        basis: Basis,
        source: PartSource,
        ratio: int = 0,
        fixed: int = 0,
        policy: str = "",
        path: str = "",
    ) -> None:
        self.deal.append(deal)
        self.split.append(split)
        self.person.append(person)
        self.role.append(role)
        self.basis.append(basis)
        self.source.append(source)
        self.ratio.append(ratio)
        self.fixed.append(fixed)
        self.policy.append(policy)
        self.path.append(path)


def _read_team(
    rules: CompiledRuleSet, batch: DealBatch, team: TeamInput, fail: Any
) -> tuple[_Parts, list[tuple[int, int, str, str]]]:
    """Check the caller's team rows; return explicit parts and the share-less role holders."""
    splits = rules.splits
    m = len(team)
    parts = _Parts()
    holders: list[tuple[int, int, str, str]] = []  # (deal, team row, person, role)
    rows = zip(
        team.deal,
        team.person,
        _pad(team.role, m),
        _pad(team.split, m),
        _pad(team.ratio, m),
        _pad(team.amount_minor, m),
        strict=True,
    )
    for j, (d, person, role, split, ratio, amount) in enumerate(rows):
        path = f"team[{j}]"
        if not isinstance(d, int) or not 0 <= d < batch.n_deals:
            raise IndexError(f"{path} refers to deal {d}, outside the batch")
        if not person:
            fail(d, f"{path}.person", "MISSING_FIELD", "every team member needs a person id")
            continue
        if split:
            s = splits.index.get(split)
            if s is None:
                fail(
                    d,
                    f"{path}.split",
                    "UNKNOWN_SPLIT",
                    f"split type {split!r} is not in the rule set "
                    f"({', '.join(t.id for t in splits.types)})",
                )
                continue
        else:
            s = splits.default_type
        has_ratio = ratio is not None and ratio != ""
        has_amount = amount is not None and amount != ""
        if has_ratio and has_amount:
            fail(d, path, "INVALID_SHARE", "give a ratio or an amount, not both")
            continue
        if has_ratio:
            try:
                units = ratio_units(ratio if isinstance(ratio, Decimal) else Decimal(str(ratio)))
            except (InvalidOperation, ValueError) as exc:
                msg = str(exc) if isinstance(exc, ValueError) else "is not a number"
                fail(d, f"{path}.ratio", "INVALID_SHARE", f"ratio {ratio!r}: {msg}")
                continue
            if units < 0:
                fail(d, f"{path}.ratio", "NEGATIVE_SHARE", f"ratio {ratio} is negative")
                continue
            parts.add(
                d, s, person, role or "", Basis.RATIO, PartSource.TEAM, ratio=units, path=path
            )
        elif has_amount:
            if isinstance(amount, bool) or not isinstance(amount, int | str):
                fail(d, f"{path}.amount_minor", "INVALID_SHARE", "amount_minor must be an integer")
                continue
            try:
                value = int(amount)
            except ValueError:
                fail(d, f"{path}.amount_minor", "INVALID_SHARE", "amount_minor must be an integer")
                continue
            if value < 0:
                fail(d, f"{path}.amount_minor", "NEGATIVE_SHARE", f"amount {value} is negative")
                continue
            if value >= 2**62:
                fail(d, f"{path}.amount_minor", "INVALID_SHARE", f"amount {value} is too large")
                continue
            parts.add(
                d, s, person, role or "", Basis.AMOUNT, PartSource.TEAM, fixed=value, path=path
            )
        else:
            holders.append((d, j, person, role or ""))
    return parts, holders


def split_credits(
    rules: CompiledRuleSet, batch: DealBatch, scores: ScoreResult, team: TeamInput
) -> SplitResult:
    """Split every valid deal's amount and weighted amount among its team; see the module doc."""
    splits = rules.splits
    n_types = len(splits.types)
    errors: dict[int, DealError] = {}
    valid = scores.valid.copy()

    def fail(d: int, path: str, reason: str, message: str) -> None:
        if valid[d] and d not in errors:
            errors[d] = DealError(d, path, reason, message)
        valid[d] = False

    parts, holders = _read_team(rules, batch, team, fail)

    # Policies: members who hold a role get the policy's share, on deals that match.
    if holders and splits.policies:
        holder_deal = np.array([h[0] for h in holders], dtype=np.int64)
        given = np.zeros(len(holders), dtype=np.bool_)
        for policy in splits.policies:
            if policy.condition is None:
                match = np.ones(batch.n_deals, dtype=np.bool_)
            else:
                problems: list[tuple[np.ndarray, str, str]] = []
                match = evaluate_masked(policy.condition, batch.frame, problems)
                for bad, reason, message in problems:
                    for d in bad.tolist():
                        fail(int(d), f"splits.policies.{policy.id}", reason, message)
            s = splits.index[policy.split]
            shares = dict(policy.participants)
            for k in np.flatnonzero(match[holder_deal] & ~given).tolist():
                d, j, person, role = holders[k]
                if role in shares:
                    parts.add(
                        d,
                        s,
                        person,
                        role,
                        Basis.RATIO,
                        PartSource.POLICY,
                        ratio=shares[role],
                        policy=policy.id,
                        path=f"team[{j}]",
                    )
                    given[k] = True
        holders = [h for h, g in zip(holders, given, strict=True) if not g]
    for d, j, person, role in holders:
        fail(
            d,
            f"team[{j}]",
            "MISSING_SHARE",
            f"{person} has no ratio or amount, and no policy gives role {role or '(none)'!r} a share",
        )

    # The owner is credited 100 % of the default full split until others are added.
    default = splits.default_type
    in_default = np.zeros(batch.n_deals, dtype=np.bool_)
    if parts.deal:
        pd, ps = np.array(parts.deal), np.array(parts.split)
        in_default[pd[ps == default]] = True
    owner_col = batch.frame["owner"]
    owners = owner_col.dictionary
    owner_code = owner_col.values
    for d in np.flatnonzero(valid & ~in_default).tolist():
        code = int(owner_code[d])
        if code < 0:
            fail(d, "owner", "MISSING_OWNER", "a deal with no team needs an owner to credit")
            continue
        parts.add(
            d, default, owners[code], "owner", Basis.RATIO, PartSource.OWNER_DEFAULT, RATIO_UNIT
        )

    return _compute(rules, batch, scores, parts, valid, errors, fail, n_types)


def _compute(
    rules: CompiledRuleSet,
    batch: DealBatch,
    scores: ScoreResult,
    parts: _Parts,
    valid: np.ndarray,
    errors: dict[int, DealError],
    fail: Any,
    n_types: int,
) -> SplitResult:
    types = rules.splits.types
    m = len(parts.deal)
    deal = np.array(parts.deal, dtype=np.int64).reshape(m)
    split = np.array(parts.split, dtype=np.int64).reshape(m)
    basis = np.array(parts.basis, dtype=np.int8).reshape(m)
    ratio = np.array(parts.ratio, dtype=np.int64).reshape(m)
    fixed = np.array(parts.fixed, dtype=np.int64).reshape(m)
    amount = batch.frame["amount_minor"].values
    kind_full = np.array([t.kind is SplitKind.FULL for t in types], dtype=np.bool_)
    max_parts = np.array([t.max_participants for t in types], dtype=np.int64)
    min_share = np.array([t.min_share_units for t in types], dtype=np.int64)
    ceiling = np.array([t.ceiling_units for t in types], dtype=np.int64)

    # Groups are (deal, split type); order parts by group, keeping team order inside a group.
    key = deal * n_types + split
    order = np.argsort(key, kind="stable")
    uniq, group_sorted = np.unique(key[order], return_inverse=True)
    group = np.empty(m, dtype=np.int64)
    group[order] = group_sorted
    g_deal, g_split = uniq // n_types, uniq % n_types
    n_groups = uniq.shape[0]

    def per_group(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n_groups, dtype=np.int64)
        np.add.at(out, group, values)
        return out

    def group_fail(bad: np.ndarray, reason: str, message: Any) -> None:
        for g in np.flatnonzero(bad).tolist():
            d = int(g_deal[g])
            fail(d, "team", reason, f"split {types[int(g_split[g])].id}: {message(g)}")

    # Duplicate people within a split.
    person_codes = {p: i for i, p in enumerate(dict.fromkeys(parts.person))}
    pcode = np.array([person_codes[p] for p in parts.person], dtype=np.int64).reshape(m)
    by_person = np.lexsort((pcode, group))
    dup = np.zeros(m, dtype=np.bool_)
    same = (group[by_person][1:] == group[by_person][:-1]) & (
        pcode[by_person][1:] == pcode[by_person][:-1]
    )
    dup[by_person[1:][same]] = True
    for k in np.flatnonzero(dup).tolist():
        fail(
            int(deal[k]),
            parts.path[k] or "team",
            "DUPLICATE_PARTICIPANT",
            f"{parts.person[k]} appears twice in split {types[int(split[k])].id}",
        )

    count = np.bincount(group, minlength=n_groups)
    g_full = kind_full[g_split]
    too_many = count > max_parts[g_split]
    group_fail(
        too_many,
        "TOO_MANY_PARTICIPANTS",
        lambda g: f"{count[g]} participants; the most allowed is {max_parts[g_split[g]]}",
    )
    small = (basis == Basis.RATIO) & (ratio < min_share[split])
    for k in np.flatnonzero(small).tolist():
        fail(
            int(deal[k]),
            f"{parts.path[k]}.ratio" if parts.path[k] else "team",
            "SHARE_TOO_SMALL",
            f"{parts.person[k]}'s share is below the split's minimum",
        )
    is_fixed = basis == Basis.AMOUNT
    ratio_sum = per_group(np.where(basis == Basis.RATIO, ratio, 0))
    fixed_sum = per_group(np.where(is_fixed, fixed, 0))
    has_fixed = per_group(is_fixed.astype(np.int64)) > 0
    g_amount = amount[g_deal]
    not_100 = g_full & ~has_fixed & (ratio_sum != RATIO_UNIT)
    group_fail(
        not_100,
        "RATIOS_NOT_100",
        lambda g: (
            f"the ratios of a full split must add up to exactly 100 %; they add up to "
            f"{_percent(int(ratio_sum[g]))} %"
        ),
    )
    # What the ratio parts leave of the deal must cover the fixed amounts.
    left, _ = muldiv(g_amount, np.maximum(RATIO_UNIT - ratio_sum, 0), RATIO_UNIT)
    over = g_full & has_fixed & ((ratio_sum > RATIO_UNIT) | (fixed_sum > left))
    group_fail(
        over,
        "FIXED_EXCEEDS_AMOUNT",
        lambda g: (
            f"fixed amounts ({int(fixed_sum[g])}) and ratios exceed the deal amount "
            f"({int(g_amount[g])}) in a full split"
        ),
    )

    # Remainder receivers of full splits with fixed amounts.
    needs_receiver = g_full & has_fixed & valid[g_deal]
    receiver = np.full(n_groups, -1, dtype=np.int64)
    if needs_receiver.any():
        owner_col = batch.frame["owner"]
        for g in np.flatnonzero(needs_receiver).tolist():
            d, s = int(g_deal[g]), int(g_split[g])
            role = types[s].remainder_role
            members = np.flatnonzero(group == g).tolist()
            if role == "owner":
                code = int(owner_col.values[d])
                who = owner_col.dictionary[code] if code >= 0 else None
                found = [k for k in members if parts.person[k] == who] if who else []
            else:
                found = [k for k in members if parts.role[k] == role]
                who = parts.person[found[0]] if found else None
            if found:
                receiver[g] = found[0]
            elif who is None:
                fail(
                    d,
                    "team",
                    "NO_REMAINDER_RECEIVER",
                    f"split {types[s].id} has fixed amounts but no {role} to receive the rest",
                )
            else:
                parts.add(d, s, who, role, Basis.REMAINDER, PartSource.REMAINDER)
                receiver[g] = len(parts.deal) - 1
        if len(parts.deal) > m:  # receivers were added: rebuild the arrays with them
            extra = len(parts.deal) - m
            new_groups = np.array(
                [int(np.flatnonzero(receiver == k)[0]) for k in range(m, m + extra)], dtype=np.int64
            )
            deal = np.concatenate([deal, np.array(parts.deal[m:], dtype=np.int64)])
            split = np.concatenate([split, np.array(parts.split[m:], dtype=np.int64)])
            basis = np.concatenate([basis, np.full(extra, Basis.REMAINDER, dtype=np.int8)])
            ratio = np.concatenate([ratio, np.zeros(extra, dtype=np.int64)])
            fixed = np.concatenate([fixed, np.zeros(extra, dtype=np.int64)])
            group = np.concatenate([group, new_groups])
            m += extra

    # Keep only the parts of deals still valid.
    keep = valid[deal]
    g_ok = valid[g_deal]
    weight = np.where(basis == Basis.RATIO, ratio, 0)
    is_receiver = np.zeros(m, dtype=np.bool_)
    rec_rows = receiver[(receiver >= 0) & g_ok]
    is_receiver[rec_rows] = True
    weight = weight + np.where(is_receiver, RATIO_UNIT - ratio_sum[group], 0)

    credit = np.zeros(m, dtype=np.int64)
    weighted = np.zeros(m, dtype=np.int64)
    full_rows = keep & g_full[group]
    g_full_ok = g_full & g_ok
    if full_rows.any():
        total = np.where(g_full_ok, g_amount, 0)
        w = np.where(full_rows, weight, 0)
        credit += allocate(total, group, w)
        credit += np.where(full_rows & (basis == Basis.AMOUNT), fixed, 0)
        credit -= np.where(is_receiver, fixed_sum[group], 0)
        wtotal = np.where(g_full_ok, scores.weighted_amount_minor[g_deal], 0)
        weighted += allocate(wtotal, group, np.where(full_rows, credit, 0))
    over_rows = keep & ~g_full[group]
    if over_rows.any():
        a = amount[deal]
        c = np.where(basis == Basis.RATIO, muldiv_half_even(a, ratio, RATIO_UNIT), fixed)
        c = np.where(over_rows, c, 0)
        credit += c
        weighted += np.where(over_rows, muldiv_half_even(c, scores.win_prob_ppm[deal], PPM), 0)
        # The ceiling bounds the shares, not the rounded credits: the ratios plus the fixed amounts
        # (as a share of the deal) add up to at most the ceiling.
        room = np.maximum(ceiling[g_split] - ratio_sum, 0)
        fixed_room, _ = muldiv(g_amount, room, RATIO_UNIT)
        group_fail(
            ~g_full & g_ok & ((ratio_sum > ceiling[g_split]) | (fixed_sum > fixed_room)),
            "OVERAGE_CEILING",
            lambda g: (
                f"the shares add up to more than the split's ceiling of "
                f"{_percent(int(ceiling[g_split[g]]))} % of the deal"
            ),
        )

    keep = valid[deal]
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((rows, split[rows], deal[rows]))]
    src = np.array(parts.source, dtype=np.int8).reshape(m)
    return SplitResult(
        deal=deal[rows],
        split=split[rows].astype(np.int16),
        person=[parts.person[k] for k in rows.tolist()],
        role=[parts.role[k] for k in rows.tolist()],
        basis=basis[rows],
        source=src[rows],
        ratio_units=ratio[rows],
        fixed_minor=fixed[rows],
        credit_minor=credit[rows],
        weighted_credit_minor=weighted[rows],
        policy=[parts.policy[k] for k in rows.tolist()],
        errors=sorted(list(errors.values()) + list(scores.errors), key=lambda e: e.index),
    )


__all__ = ["Basis", "PartSource", "SplitResult", "TeamInput", "split_credits"]
