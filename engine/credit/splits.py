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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

import numpy as np

from engine.credit.allocation import allocate, muldiv, muldiv_half_even
from engine.forecast.deals import DealBatch, DealError
from engine.forecast.scoring import ScoreResult
from engine.frame import RowFrame
from engine.money import PPM, divide_half_even
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import SplitKind
from engine.rules.splits import RATIO_UNIT, ratio_units
from engine.rules.tables import evaluate_masked


class Basis(IntEnum):
    """How a part's credit is set."""

    RATIO = 0
    AMOUNT = 1
    REMAINDER = 2  # a remainder receiver with no part of their own
    NONE = 3  # a team member with no share yet: a policy for their role may give one


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
class TeamColumns:
    """Deal-team members as typed columns, ready for :func:`split_credits` (see :func:`read_team`).

    Attributes
    ----------
    deal : ndarray of int64, shape (m,)
    person, role : ndarray of int32, shape (m,)
        Codes into ``people`` and ``roles`` (role code 0 is "no role").
    split : ndarray of int64, shape (m,)
        Index into the rule set's split types.
    basis : ndarray of int8, shape (m,)
        :class:`Basis` (``NONE`` for members whose share a policy must give).
    ratio_units, fixed_minor : ndarray of int64, shape (m,)
    people, roles : list of str
    errors : list of DealError
        Members that could not be read; their deals get no credit.
    """

    deal: np.ndarray
    person: np.ndarray
    role: np.ndarray
    split: np.ndarray
    basis: np.ndarray
    ratio_units: np.ndarray
    fixed_minor: np.ndarray
    people: list[str]
    roles: list[str]
    errors: list[DealError] = field(default_factory=list)
    rows: np.ndarray | None = None  # the member's row in the caller's team (for error paths)


@dataclass
class SplitResult:
    """Credit parts, one row per (deal, split type, person), ordered by deal, split type and team order.

    Attributes
    ----------
    deal : ndarray of int64, shape (m,)
        Deal index in the batch.
    split : ndarray of int16, shape (m,)
        Index into ``rules.splits.types``.
    person_code, role_code : ndarray of int32, shape (m,)
        Codes into ``people`` and ``roles``; :attr:`person` and :attr:`role` decode them.
    basis, source : ndarray of int8, shape (m,)
        :class:`Basis` and :class:`PartSource` values.
    ratio_units : ndarray of int64, shape (m,)
        The ratio in units of 1e-8 for ratio parts (0 otherwise).
    fixed_minor : ndarray of int64, shape (m,)
        The fixed amount of amount parts (0 otherwise).
    credit_minor, weighted_credit_minor : ndarray of int64, shape (m,)
    policy_code : ndarray of int16, shape (m,)
        Index of the policy that gave the share into ``rules.splits.policies`` (-1 if none).
    errors : list of DealError
        Deals that got no credit, with the reason.
    """

    deal: np.ndarray
    split: np.ndarray
    person_code: np.ndarray
    role_code: np.ndarray
    basis: np.ndarray
    source: np.ndarray
    ratio_units: np.ndarray
    fixed_minor: np.ndarray
    credit_minor: np.ndarray
    weighted_credit_minor: np.ndarray
    policy_code: np.ndarray
    people: list[str]
    roles: list[str]
    policies: list[str]
    errors: list[DealError]

    def __len__(self) -> int:
        return int(self.deal.shape[0])

    @property
    def person(self) -> list[str]:
        people = self.people
        return [people[c] for c in self.person_code.tolist()]

    @property
    def role(self) -> list[str]:
        roles = self.roles
        return [roles[c] for c in self.role_code.tolist()]

    @property
    def policy(self) -> list[str]:
        names = [*self.policies, ""]  # code -1 picks ""
        return [names[c] for c in self.policy_code.tolist()]


def _percent(units: int) -> str:
    """Ratio units as a percentage for messages: ``90000000`` -> ``90``."""
    return f"{Decimal(units).scaleb(-6).normalize():f}"


def _pad(values: Sequence[Any], n: int) -> list[Any]:
    return list(values) + [None] * (n - len(values))


def read_team(rules: CompiledRuleSet, team: TeamInput, n_deals: int) -> TeamColumns:
    """Check the caller's team values and encode them as columns.

    A team whose values are all plainly valid (a person each, known split types, ratios or none)
    is encoded column by column, each distinct value checked once; any other team is read member
    by member, which names every problem (:func:`read_team_members`). Both give the same columns.
    """
    plain = _plain_team(rules, team, n_deals)
    return plain if plain is not None else read_team_members(rules, team, n_deals)


def _codes(values: Sequence[Any], index: dict[Any, int]) -> list[int]:
    """Codes of ``values`` in ``index``, new values appended in first-appearance order."""
    return [index.setdefault(v, len(index)) for v in values]


def _plain_team(rules: CompiledRuleSet, team: TeamInput, n_deals: int) -> TeamColumns | None:
    """The team as columns when no member needs a message, else None (then the member-by-member
    reading names the problems)."""
    m = len(team)
    amounts = team.amount_minor
    if (
        m == 0
        or amounts.count(None) + amounts.count("") != len(amounts)  # a fixed amount
        or not all(issubclass(t, int) for t in set(map(type, team.deal)))
    ):
        return None
    try:
        deal = np.array(team.deal, dtype=np.int64)
        people: dict[Any, int] = {}
        person = _codes(team.person, people)
        roles: dict[Any, int] = {"": 0}
        if team.role.count(None) == len(team.role):  # no roles: every code is 0
            role: list[int] | np.ndarray = np.zeros(m, dtype=np.int32)
        else:
            role = _codes([r or "" for r in _pad(team.role, m)], roles)
        splits = _pad(team.split, m)
        split_of = {
            sp: rules.splits.default_type if sp in (None, "") else rules.splits.index.get(sp, -1)
            for sp in set(splits)
        }
        ratios = _pad(team.ratio, m)
        units_of = {rt: _plain_ratio(rt) for rt in set(ratios)}
    except (TypeError, ValueError, OverflowError):  # an unhashable or non-integer value
        return None
    if (
        not all(people)  # a member without a person
        or deal.min() < 0
        or deal.max() >= n_deals
        or min(split_of.values()) < 0
        or any(u is not None and u < 0 for u in units_of.values())
    ):
        return None
    # -1 stands for "no ratio" (valid ratios are never negative, checked above)
    coded = {rt: -1 if u is None else u for rt, u in units_of.items()}
    units = np.array(list(map(coded.__getitem__, ratios)), dtype=np.int64)
    return TeamColumns(
        deal=deal,
        person=np.array(person, dtype=np.int32),
        role=np.asarray(role, dtype=np.int32),
        split=np.array(list(map(split_of.__getitem__, splits)), dtype=np.int64),
        basis=np.where(units < 0, Basis.NONE, Basis.RATIO).astype(np.int8),
        ratio_units=np.maximum(units, 0),
        fixed_minor=np.zeros(m, dtype=np.int64),
        people=list(people),
        roles=list(roles),
        errors=[],
        rows=np.arange(m),
    )


#: Ratio units and fixed amounts stay below this, so that sums of a few of them fit in int64.
_MAX_UNITS = 2**62


def _plain_ratio(value: Any) -> int | None:
    """A ratio's units, None for no ratio; -1 for one that is not plainly valid."""
    if value is None or value == "":
        return None
    try:
        units = ratio_units(value if isinstance(value, Decimal) else Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return -1
    return units if units < _MAX_UNITS else -1


def read_team_members(rules: CompiledRuleSet, team: TeamInput, n_deals: int) -> TeamColumns:
    """:func:`read_team` member by member, naming each problem with the member's path.

    Repeated values (the same ratio text, person or role) are converted once.
    """
    splits = rules.splits
    m = len(team)
    errors: list[DealError] = []
    people: dict[str, int] = {}
    roles: dict[str, int] = {"": 0}
    ratio_cache: dict[Any, int | str] = {}
    split_cache: dict[Any, int] = {None: splits.default_type, "": splits.default_type}
    deal = np.zeros(m, dtype=np.int64)
    person = np.zeros(m, dtype=np.int32)
    role = np.zeros(m, dtype=np.int32)
    split = np.zeros(m, dtype=np.int64)
    basis = np.full(m, Basis.NONE, dtype=np.int8)
    ratio = np.zeros(m, dtype=np.int64)
    fixed = np.zeros(m, dtype=np.int64)
    ok = np.ones(m, dtype=np.bool_)

    def bad(j: int, d: int, path: str, reason: str, message: str) -> None:
        errors.append(DealError(d, path, reason, message))
        ok[j] = False

    rows = zip(
        team.deal,
        team.person,
        _pad(team.role, m),
        _pad(team.split, m),
        _pad(team.ratio, m),
        _pad(team.amount_minor, m),
        strict=True,
    )
    for j, (d, who, r, sp, rt, amount) in enumerate(rows):
        path = f"team[{j}]"
        if not isinstance(d, int) or not 0 <= d < n_deals:
            raise IndexError(f"{path} refers to deal {d}, outside the batch")
        deal[j] = d
        if not who:
            bad(j, d, f"{path}.person", "MISSING_FIELD", "every team member needs a person id")
            continue
        person[j] = people.setdefault(who, len(people))
        role[j] = roles.setdefault(r or "", len(roles))
        s = split_cache.get(sp)
        if s is None:
            s = splits.index.get(sp, -1)
            split_cache[sp] = s
        if s < 0:
            bad(j, d, f"{path}.split", "UNKNOWN_SPLIT",
                f"split type {sp!r} is not in the rule set "
                f"({', '.join(t.id for t in splits.types)})")  # fmt: skip
            continue
        split[j] = s
        has_ratio = rt is not None and rt != ""
        has_amount = amount is not None and amount != ""
        if has_ratio and has_amount:
            bad(j, d, path, "INVALID_SHARE", "give a ratio or an amount, not both")
        elif has_ratio:
            units = ratio_cache.get(rt)
            if units is None:
                try:
                    units = ratio_units(rt if isinstance(rt, Decimal) else Decimal(str(rt)))
                except (InvalidOperation, ValueError) as exc:
                    units = f"ratio {rt!r}: " + (
                        str(exc) if isinstance(exc, ValueError) else "is not a number"
                    )
                ratio_cache[rt] = units
            if isinstance(units, str):
                bad(j, d, f"{path}.ratio", "INVALID_SHARE", units)
            elif units >= _MAX_UNITS:
                bad(j, d, f"{path}.ratio", "INVALID_SHARE", f"ratio {rt} is too large")
            elif units < 0:
                bad(j, d, f"{path}.ratio", "NEGATIVE_SHARE", f"ratio {rt} is negative")
            else:
                basis[j] = Basis.RATIO
                ratio[j] = units
        elif has_amount:
            value = amount if isinstance(amount, int) and not isinstance(amount, bool) else None
            if value is None and isinstance(amount, str):
                try:
                    value = int(amount)
                except ValueError:
                    value = None
            if value is None or value >= _MAX_UNITS:
                bad(j, d, f"{path}.amount_minor", "INVALID_SHARE",
                    f"amount_minor must be an integer below 2**62, got {amount!r}")  # fmt: skip
            elif value < 0:
                bad(j, d, f"{path}.amount_minor", "NEGATIVE_SHARE", f"amount {value} is negative")
            else:
                basis[j] = Basis.AMOUNT
                fixed[j] = value
    keep = np.flatnonzero(ok)
    return TeamColumns(
        deal=deal[keep],
        person=person[keep],
        role=role[keep],
        split=split[keep],
        basis=basis[keep],
        ratio_units=ratio[keep],
        fixed_minor=fixed[keep],
        people=list(people),
        roles=list(roles),
        errors=errors,
        rows=keep,
    )


def _largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """:func:`~engine.credit.allocation.allocate` of one group, in Python integers."""
    den = sum(weights)
    if den == 0:
        return [0] * len(weights)
    shares = [divmod(total * w, den) for w in weights]
    out = [q for q, _ in shares]
    leftover = total - sum(out)
    for i in sorted(range(len(out)), key=lambda i: -shares[i][1])[:leftover]:  # stable: ties
        out[i] += 1  # to the earlier part
    return out


#: One deal's team as lists: people, roles, then per member its person and role codes, split
#: type index and ratio units.
_Members = tuple[list[str], list[str], list[int], list[int], list[int], list[int]]


def _one_deal_members(rules: CompiledRuleSet, team: TeamInput | TeamColumns) -> _Members | None:
    """One deal's team as lists, when every member has a person, a known split type and a valid
    ratio and nothing else (the codes :func:`read_team` gives); None otherwise."""
    if isinstance(team, TeamColumns):
        if team.errors or not all(b == Basis.RATIO for b in team.basis.tolist()):
            return None
        return (list(team.people), list(team.roles), team.person.tolist(),
                team.role.tolist(), team.split.tolist(), team.ratio_units.tolist())  # fmt: skip
    m = len(team)
    if any(d.__class__ is not int or d != 0 for d in team.deal) or any(
        a is not None and a != "" for a in team.amount_minor
    ):
        return None
    people: dict[str, int] = {}
    roles: dict[str, int] = {"": 0}
    person: list[int] = []
    role: list[int] = []
    split: list[int] = []
    ratio: list[int] = []
    index = rules.splits.index
    default = rules.splits.default_type
    for who, r, sp, rt in zip(
        team.person, _pad(team.role, m), _pad(team.split, m), _pad(team.ratio, m), strict=True
    ):
        if not who or not isinstance(who, str) or not isinstance(r, str | None):
            return None
        s = default if sp is None or sp == "" else index.get(sp, -1) if isinstance(sp, str) else -1
        units = _plain_ratio(rt) if isinstance(rt, str | Decimal) else None
        if s < 0 or units is None or units < 0:
            return None
        person.append(people.setdefault(who, len(people)))
        role.append(roles.setdefault(r or "", len(roles)))
        split.append(s)
        ratio.append(units)
    return list(people), list(roles), person, role, split, ratio


def _split_one(
    rules: CompiledRuleSet, deal: Mapping[str, Any], scores: ScoreResult, members: _Members
) -> SplitResult | None:
    """:func:`split_credits` of one deal in Python scalars, where the vectorised path's hundred
    and fifty numpy calls would be nearly all of the work: for a scored deal whose members all
    have a valid ratio, with nothing to refuse. Anything else (fixed amounts, shares from a
    policy, a problem to report) returns None, and the vectorised path decides. A test holds the
    two equal."""
    if not scores.valid[0]:
        return None
    splits = rules.splits
    types = splits.types
    people, roles, person, role, split, ratio = members
    source = [PartSource.TEAM] * len(split)
    default = splits.default_type
    owner_role = roles.index("owner") if "owner" in roles else len(roles)
    if owner_role == len(roles):
        roles.append("owner")
    owner = deal.get("owner")
    if owner and owner not in people:  # the owner is one of the people, credited or not
        people.append(owner)
    if default not in split:  # the owner gets the default split whole
        if not owner:
            return None
        split.append(default)
        person.append(people.index(owner))
        role.append(owner_role)
        ratio.append(RATIO_UNIT)
        source.append(PartSource.OWNER_DEFAULT)
    order = sorted(range(len(split)), key=split.__getitem__)  # by split type, team order within
    amount = deal["amount_minor"]
    weighted_amount = int(scores.weighted_amount_minor[0])
    win_ppm = int(scores.win_prob_ppm[0])
    credit = [0] * len(split)
    weighted = [0] * len(split)
    for s in dict.fromkeys(split[k] for k in order):
        parts = [k for k in order if split[k] == s]
        t = types[s]
        shares = [ratio[k] for k in parts]
        if (
            len({person[k] for k in parts}) < len(parts)
            or len(parts) > t.max_participants
            or min(shares) < t.min_share_units
        ):
            return None
        if t.kind is SplitKind.FULL:
            if sum(shares) != RATIO_UNIT:
                return None
            credits = _largest_remainder(amount, shares)
            weights = _largest_remainder(weighted_amount, credits)
        else:
            if sum(shares) > t.ceiling_units:
                return None
            credits = [divide_half_even(amount * r, RATIO_UNIT) for r in shares]
            weights = [divide_half_even(c * win_ppm, PPM) for c in credits]
        for k, c, w in zip(parts, credits, weights, strict=True):
            credit[k], weighted[k] = c, w
    m = len(order)
    return SplitResult(
        deal=np.zeros(m, dtype=np.int64),
        split=np.array([split[k] for k in order], dtype=np.int16),
        person_code=np.array([person[k] for k in order], dtype=np.int32),
        role_code=np.array([role[k] for k in order], dtype=np.int32),
        basis=np.zeros(m, dtype=np.int8),  # Basis.RATIO
        source=np.array([source[k] for k in order], dtype=np.int8),
        ratio_units=np.array([ratio[k] for k in order], dtype=np.int64),
        fixed_minor=np.zeros(m, dtype=np.int64),
        credit_minor=np.array([credit[k] for k in order], dtype=np.int64),
        weighted_credit_minor=np.array([weighted[k] for k in order], dtype=np.int64),
        policy_code=np.full(m, -1, dtype=np.int16),
        people=people,
        roles=roles,
        policies=[p.id for p in splits.policies],
        errors=[],
    )


def split_credits(
    rules: CompiledRuleSet,
    batch: DealBatch,
    scores: ScoreResult,
    team: TeamInput | TeamColumns,
) -> SplitResult:
    """Split every valid deal's amount and weighted amount among its team; see the module doc."""
    if isinstance(batch.frame, RowFrame):  # one deal (a CRM's call)
        members = _one_deal_members(rules, team)
        one = (
            None if members is None else _split_one(rules, batch.frame.one.values, scores, members)
        )
        if one is not None:
            return one
    if isinstance(team, TeamInput):
        team = read_team(rules, team, batch.n_deals)
    splits = rules.splits
    types = splits.types
    n_types = len(types)
    errors: dict[int, DealError] = {}
    valid = scores.valid.copy()

    def fail(d: int, path: str, reason: str, message: str) -> None:
        if valid[d] and d not in errors:
            errors[d] = DealError(d, path, reason, message)
        valid[d] = False

    def fail_rows(rows: np.ndarray, path: Any, reason: str, message: Any) -> None:
        for k in rows.tolist():
            fail(int(deal[k]), path(k), reason, message(k))

    for e in team.errors:
        fail(e.index, e.field, e.reason, e.message)
    people = list(team.people)
    roles = list(team.roles)
    member_row = team.rows if team.rows is not None else np.arange(team.deal.shape[0])
    deal = team.deal
    person = team.person.astype(np.int32)
    role = team.role.astype(np.int32)
    split = team.split.astype(np.int64)
    basis = team.basis.astype(np.int8)
    ratio = team.ratio_units.astype(np.int64)
    fixed = team.fixed_minor.astype(np.int64)
    source = np.full(deal.shape[0], PartSource.TEAM, dtype=np.int8)
    policy = np.full(deal.shape[0], -1, dtype=np.int16)
    path_of = lambda k: f"team[{int(member_row[k])}]"  # noqa: E731

    # Policies: members without a share get the share a matching policy gives their role.
    holder = basis == Basis.NONE
    if holder.any():
        role_index = {r: i for i, r in enumerate(roles)}
        for p_index, pol in enumerate(splits.policies):
            if pol.condition is None:
                match = np.ones(batch.n_deals, dtype=np.bool_)
            else:
                problems: list[tuple[np.ndarray, str, str]] = []
                match = evaluate_masked(pol.condition, batch.frame, problems)
                for bad_rows, reason, message in problems:
                    for d in bad_rows.tolist():
                        fail(int(d), f"splits.policies.{pol.id}", reason, message)
            s = splits.index[pol.split]
            for role_name, units in pol.participants:
                code = role_index.get(role_name)
                if code is None:
                    continue
                take = holder & (role == code) & match[deal]
                split[take], basis[take], ratio[take] = s, Basis.RATIO, units
                source[take], policy[take] = PartSource.POLICY, p_index
                holder &= ~take
        fail_rows(
            np.flatnonzero(holder),
            path_of,
            "MISSING_SHARE",
            lambda k: (
                f"{people[person[k]]} has no ratio or amount, and no policy gives role "
                f"{roles[role[k]] or '(none)'!r} a share"
            ),
        )

    # The owner: credited 100 % of the default full split until others are added.
    owner_col = batch.frame["owner"]
    owner_person = np.full(len(owner_col.dictionary) + 1, -1, dtype=np.int32)
    person_index = {p: i for i, p in enumerate(people)}
    for i, name in enumerate(owner_col.dictionary):
        if name not in person_index:
            person_index[name] = len(people)
            people.append(name)
        owner_person[i] = person_index[name]
    owner_of_deal = owner_person[owner_col.values.astype(np.int64)]  # code -1 picks the last -1
    default = splits.default_type
    in_default = np.zeros(batch.n_deals, dtype=np.bool_)
    in_default[deal[split == default]] = True
    lonely = valid & ~in_default
    no_owner = lonely & (owner_of_deal < 0)
    for d in np.flatnonzero(no_owner).tolist():
        fail(d, "owner", "MISSING_OWNER", "a deal with no team needs an owner to credit")
    added = np.flatnonzero(lonely & ~no_owner)
    owner_role = roles.index("owner") if "owner" in roles else len(roles)
    if owner_role == len(roles):
        roles.append("owner")
    k = added.shape[0]
    deal = np.concatenate([deal, added])
    person = np.concatenate([person, owner_of_deal[added]])
    role = np.concatenate([role, np.full(k, owner_role, dtype=np.int32)])
    split = np.concatenate([split, np.full(k, default, dtype=np.int64)])
    basis = np.concatenate([basis, np.full(k, Basis.RATIO, dtype=np.int8)])
    ratio = np.concatenate([ratio, np.full(k, RATIO_UNIT, dtype=np.int64)])
    fixed = np.concatenate([fixed, np.zeros(k, dtype=np.int64)])
    source = np.concatenate([source, np.full(k, PartSource.OWNER_DEFAULT, dtype=np.int8)])
    policy = np.concatenate([policy, np.full(k, -1, dtype=np.int16)])
    member_row = np.concatenate([member_row, np.full(k, -1, dtype=np.int64)])
    path_of = lambda k: f"team[{int(member_row[k])}]" if member_row[k] >= 0 else "owner"  # noqa: E731

    # Groups are (deal, split type). Parts are put in group order once (keeping team order inside
    # a group), so groups are contiguous runs from here on.
    key = deal * n_types + split
    order = np.argsort(key, kind="stable")
    deal, person, role, split = deal[order], person[order], role[order], split[order]
    basis, ratio, fixed = basis[order], ratio[order], fixed[order]
    source, policy, member_row = source[order], policy[order], member_row[order]
    key = key[order]
    boundary = np.ones(key.shape[0], dtype=np.bool_)
    boundary[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(boundary)
    n_groups = starts.shape[0]
    sizes = np.diff(np.append(starts, key.shape[0])).astype(np.int64)
    group = np.repeat(np.arange(n_groups), sizes)
    g_deal, g_split = deal[starts], split[starts]

    def per_group(values: np.ndarray) -> np.ndarray:
        if not n_groups:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(values.astype(np.int64, copy=False), starts)

    def group_fail(bad: np.ndarray, reason: str, message: Any) -> None:
        for g in np.flatnonzero(bad).tolist():
            fail(int(g_deal[g]), "team", reason, f"split {types[int(g_split[g])].id}: {message(g)}")

    # Governance: one part per person and split, participant count, minimum share.
    by_person = np.argsort(group * max(len(people), 1) + person, kind="stable")
    same = (group[by_person][1:] == group[by_person][:-1]) & (
        person[by_person][1:] == person[by_person][:-1]
    )
    fail_rows(
        by_person[1:][same],
        path_of,
        "DUPLICATE_PARTICIPANT",
        lambda k: f"{people[person[k]]} appears twice in split {types[int(split[k])].id}",
    )
    count = sizes
    max_parts = np.array([t.max_participants for t in types], dtype=np.int64)
    group_fail(
        count > max_parts[g_split],
        "TOO_MANY_PARTICIPANTS",
        lambda g: f"{count[g]} participants; the most allowed is {max_parts[g_split[g]]}",
    )
    min_share = np.array([t.min_share_units for t in types], dtype=np.int64)
    fail_rows(
        np.flatnonzero((basis == Basis.RATIO) & (ratio < min_share[split])),
        lambda k: f"{path_of(k)}.ratio",
        "SHARE_TOO_SMALL",
        lambda k: f"{people[person[k]]}'s share is below the split's minimum",
    )

    # Full splits: ratios make exactly 100 %, or fixed amounts leave a remainder to a receiver.
    kind_full = np.array([t.kind is SplitKind.FULL for t in types], dtype=np.bool_)
    g_full = kind_full[g_split]
    is_fixed = basis == Basis.AMOUNT
    ratio_sum = per_group(np.where(basis == Basis.RATIO, ratio, 0))
    fixed_sum = per_group(np.where(is_fixed, fixed, 0))
    has_fixed = per_group(is_fixed.astype(np.int64)) > 0
    amount = batch.frame["amount_minor"].values
    g_amount = amount[g_deal]
    group_fail(
        g_full & ~has_fixed & (ratio_sum != RATIO_UNIT),
        "RATIOS_NOT_100",
        lambda g: (
            "the ratios of a full split must add up to exactly 100 %; they add up to "
            f"{_percent(int(ratio_sum[g]))} %"
        ),
    )
    left, _ = muldiv(g_amount, np.maximum(RATIO_UNIT - ratio_sum, 0), RATIO_UNIT)
    group_fail(
        g_full & has_fixed & ((ratio_sum > RATIO_UNIT) | (fixed_sum > left)),
        "FIXED_EXCEEDS_AMOUNT",
        lambda g: (
            f"fixed amounts ({int(fixed_sum[g])}) and ratios exceed the deal amount "
            f"({int(g_amount[g])})"
        ),
    )
    receiver = np.full(n_groups, -1, dtype=np.int64)
    needs = g_full & has_fixed & valid[g_deal]
    if needs.any():
        rr = [t.remainder_role for t in types]
        rr_code = np.array([roles.index(r) if r in roles else -9 for r in rr], dtype=np.int64)
        by_owner = np.array([r == "owner" for r in rr], dtype=np.bool_)
        candidate = (
            np.where(by_owner[split], person == owner_of_deal[deal], role == rr_code[split])
            & needs[group]
        )
        cand_rows = np.flatnonzero(candidate)
        first_groups, first_idx = np.unique(group[cand_rows], return_index=True)
        receiver[first_groups] = cand_rows[first_idx]
        missing = np.flatnonzero(needs & (receiver < 0))
        can_add = missing[by_owner[g_split[missing]] & (owner_of_deal[g_deal[missing]] >= 0)]
        group_fail(
            np.isin(np.arange(n_groups), missing) & ~np.isin(np.arange(n_groups), can_add),
            "NO_REMAINDER_RECEIVER",
            lambda g: (
                f"fixed amounts but no {types[int(g_split[g])].remainder_role} to receive the rest"
            ),
        )
        k = can_add.shape[0]
        if k:
            base = deal.shape[0]
            deal = np.concatenate([deal, g_deal[can_add]])
            person = np.concatenate([person, owner_of_deal[g_deal[can_add]]])
            role = np.concatenate([role, np.full(k, owner_role, dtype=np.int32)])
            split = np.concatenate([split, g_split[can_add]])
            basis = np.concatenate([basis, np.full(k, Basis.REMAINDER, dtype=np.int8)])
            ratio = np.concatenate([ratio, np.zeros(k, dtype=np.int64)])
            fixed = np.concatenate([fixed, np.zeros(k, dtype=np.int64)])
            source = np.concatenate([source, np.full(k, PartSource.REMAINDER, dtype=np.int8)])
            policy = np.concatenate([policy, np.full(k, -1, dtype=np.int16)])
            group = np.concatenate([group, can_add])
            receiver[can_add] = np.arange(base, base + k)

    # Credits.
    g_ok = valid[g_deal]
    keep = valid[deal]
    m = deal.shape[0]
    is_receiver = np.zeros(m, dtype=np.bool_)
    is_receiver[receiver[(receiver >= 0) & g_ok]] = True
    weight = np.where(basis == Basis.RATIO, ratio, 0)
    weight = weight + np.where(is_receiver, RATIO_UNIT - ratio_sum[group], 0)
    credit = np.zeros(m, dtype=np.int64)
    weighted = np.zeros(m, dtype=np.int64)
    full_rows = keep & g_full[group]
    if full_rows.any():
        g_full_ok = g_full & g_ok
        run = starts if deal.shape[0] == key.shape[0] else None  # no receivers appended
        credit += allocate(
            np.where(g_full_ok, g_amount, 0), group, np.where(full_rows, weight, 0), starts=run
        )
        credit += np.where(full_rows & (basis == Basis.AMOUNT), fixed, 0)
        credit -= np.where(is_receiver, fixed_sum[group], 0)
        w_total = np.where(g_full_ok, scores.weighted_amount_minor[g_deal], 0)
        weighted += allocate(w_total, group, np.where(full_rows, credit, 0), starts=run)
    over_rows = keep & ~g_full[group]
    if over_rows.any():
        c = np.where(basis == Basis.RATIO, muldiv_half_even(amount[deal], ratio, RATIO_UNIT), fixed)
        c = np.where(over_rows, c, 0)
        credit += c
        weighted += np.where(over_rows, muldiv_half_even(c, scores.win_prob_ppm[deal], PPM), 0)
        # The ceiling bounds the shares, not the rounded credits: the ratios plus the fixed
        # amounts (as a share of the deal) add up to at most the ceiling.
        ceiling = np.array([t.ceiling_units for t in types], dtype=np.int64)
        room = np.maximum(ceiling[g_split] - ratio_sum, 0)
        fixed_room, _ = muldiv(g_amount, room, RATIO_UNIT)
        group_fail(
            ~g_full & g_ok & ((ratio_sum > ceiling[g_split]) | (fixed_sum > fixed_room)),
            "OVERAGE_CEILING",
            lambda g: (
                "the shares add up to more than the split's ceiling of "
                f"{_percent(int(ceiling[g_split[g]]))} % of the deal"
            ),
        )

    kept = np.flatnonzero(valid[deal])
    rows: np.ndarray | slice = kept
    if deal.shape[0] > key.shape[0]:  # remainder receivers were appended: put them in place
        rows = kept[np.lexsort((kept, split[kept], deal[kept]))]
    elif kept.shape[0] == deal.shape[0]:  # every part kept, in place: no copies
        rows = slice(None)
    return SplitResult(
        deal=deal[rows],
        split=split[rows].astype(np.int16),
        person_code=person[rows],
        role_code=role[rows],
        basis=basis[rows],
        source=source[rows],
        ratio_units=ratio[rows],
        fixed_minor=fixed[rows],
        credit_minor=credit[rows],
        weighted_credit_minor=weighted[rows],
        policy_code=policy[rows],
        people=people,
        roles=roles,
        policies=[p.id for p in splits.policies],
        errors=sorted([*errors.values(), *scores.errors], key=lambda e: e.index),
    )


__all__ = [
    "Basis",
    "PartSource",
    "SplitResult",
    "TeamColumns",
    "TeamInput",
    "read_team",
    "split_credits",
]
