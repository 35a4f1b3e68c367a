"""Credit splits: the 70/30 example, exact 100 %, largest remainder, fixed amounts and the remainder
receiver, overage with its ceiling, policies by role, governance errors, and property tests."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.credit.splits import (
    Basis,
    PartSource,
    SplitResult,
    TeamInput,
    _one_deal_members,
    _split_one,
    read_team,
    read_team_members,
    split_credits,
)
from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.scoring import score_deals
from engine.frame import RowFrame
from engine.rules.compiler import CompiledRuleSet, compile_rule_set
from tests.conftest import EXAMPLES

# The sample without its own splits section, which these tests replace.
SAMPLE = (EXAMPLES / "default.yaml").read_text(encoding="utf-8").split("\nsplits:")[0]
SPLITS = """
splits:
  types:
    - {id: revenue, kind: full, max_participants: 4, min_share: 0.05}
    - {id: overlay, kind: overage, ceiling: 2}
    - {id: channel, kind: full, remainder_role: partner_manager}
  policies:
    - id: presales_on_big_quotes
      when: amount >= 1000000
      split: overlay
      participants: [{role: presales, ratio: 1}]
"""
RULES = compile_rule_set(SAMPLE + SPLITS)
PLAIN = compile_rule_set(SAMPLE)
MILLION = 100_000_000


def run(
    deals: list[dict[str, Any]],
    team: list[dict[str, Any]],
    rules: CompiledRuleSet = RULES,
) -> SplitResult:
    batch = build_deal_batch(deal_input_from_records(deals), rules)
    scores = score_deals(rules, batch)
    columns: dict[str, list[Any]] = {
        k: [m.get(k) for m in team]
        for k in ("deal", "person", "role", "split", "ratio", "amount_minor")
    }
    return split_credits(rules, batch, scores, TeamInput(**columns))


def deal(**kw: Any) -> dict[str, Any]:
    base = {"id": "d", "amount_minor": MILLION, "currency": "CNY", "stage": "initial_contact"}
    return {**base, "owner": "li.wei", **kw}


def rows(r: SplitResult) -> list[tuple[Any, ...]]:
    return [
        (int(r.deal[i]), RULES.splits.types[int(r.split[i])].id, r.person[i],
         int(r.credit_minor[i]), int(r.weighted_credit_minor[i]))
        for i in range(len(r))
    ]  # fmt: skip


def test_the_example_follows_the_stage() -> None:
    team = [
        {"deal": 0, "person": "li.wei", "ratio": "0.7"},
        {"deal": 0, "person": "zhang.min", "ratio": "0.3"},
    ]
    early = run([deal()], team)
    assert rows(early) == [
        (0, "revenue", "li.wei", 70_000_000, 7_000_000),
        (0, "revenue", "zhang.min", 30_000_000, 3_000_000),
    ]
    won = run([deal(stage="won")], team)
    assert [r[4] for r in rows(won)] == [70_000_000, 30_000_000]


def test_the_owner_gets_everything_until_others_are_added() -> None:
    r = run([deal(), deal(owner="wang.fang", stage="quote", amount_minor=100)], [], rules=PLAIN)
    assert [(p, int(c), int(w)) for p, c, w in zip(
        r.person, r.credit_minor, r.weighted_credit_minor, strict=True)] == [
        ("li.wei", MILLION, 10_000_000), ("wang.fang", 100, 50)]  # fmt: skip
    assert r.source.tolist() == [PartSource.OWNER_DEFAULT] * 2
    assert r.ratio_units.tolist() == [100_000_000] * 2


def test_exact_decimals_that_add_up_to_100_are_accepted() -> None:
    shares = ["0.7268", "0.1093", "0.0273", "0.1366"]
    team = [{"deal": 0, "person": f"p{i}", "ratio": s} for i, s in enumerate(shares)]
    r = run([deal(amount_minor=10_000)], team, rules=PLAIN)
    assert r.errors == []
    assert r.credit_minor.tolist() == [7268, 1093, 273, 1366]


def test_thirds_add_up_to_the_cent() -> None:
    team = [
        {"deal": 0, "person": "a", "ratio": "0.33333333"},
        {"deal": 0, "person": "b", "ratio": "0.33333333"},
        {"deal": 0, "person": "c", "ratio": "0.33333334"},
    ]
    r = run([deal(amount_minor=10_000, stage="won")], team, rules=PLAIN)
    assert r.credit_minor.tolist() == [3333, 3333, 3334]
    assert int(r.credit_minor.sum()) == 10_000 == int(r.weighted_credit_minor.sum())
    # Equal remainders: the member listed first gets the extra cent, every time.
    team = [{"deal": 0, "person": p, "ratio": "0.5"} for p in ("a", "b")]
    r = run([deal(amount_minor=3, stage="won")], team, rules=PLAIN)
    assert r.credit_minor.tolist() == [2, 1]


def test_weighted_credits_of_a_full_split_add_up_to_the_weighted_deal() -> None:
    team = [{"deal": 0, "person": p, "ratio": "0.33333333"} for p in "ab"] + [
        {"deal": 0, "person": "c", "ratio": "0.33333334"}
    ]
    r = run([deal(amount_minor=1001, stage="needs_confirmed")], team, rules=PLAIN)
    # 1001 x 0.3 = 300.3 -> 300, shared by credit
    assert int(r.weighted_credit_minor.sum()) == 300
    assert sorted(r.weighted_credit_minor.tolist()) == [100, 100, 100]


def test_fixed_amounts_leave_the_rest_to_the_owner() -> None:
    team = [
        {"deal": 0, "person": "zhang.min", "amount_minor": 20_000_000},
        {"deal": 0, "person": "chen.jie", "ratio": "0.1"},
    ]
    r = run([deal(stage="won")], team)
    assert rows(r) == [
        (0, "revenue", "zhang.min", 20_000_000, 20_000_000),
        (0, "revenue", "chen.jie", 10_000_000, 10_000_000),
        (0, "revenue", "li.wei", 70_000_000, 70_000_000),
    ]
    assert r.basis.tolist() == [Basis.AMOUNT, Basis.RATIO, Basis.REMAINDER]
    assert r.source.tolist()[-1] == PartSource.REMAINDER


def test_the_remainder_role_can_be_another_member() -> None:
    team = [
        {"deal": 0, "person": "li.wei", "ratio": "1"},
        {"deal": 0, "person": "reseller", "split": "channel", "amount_minor": 1_000},
        {"deal": 0, "person": "pm", "role": "partner_manager", "split": "channel", "ratio": "0"},
    ]
    r = run([deal(amount_minor=5_000, stage="won")], team)
    assert [(p, int(c)) for p, c in zip(r.person, r.credit_minor, strict=True)] == [
        ("li.wei", 5_000), ("reseller", 1_000), ("pm", 4_000)]  # fmt: skip


def test_overage_parts_may_exceed_the_deal_up_to_the_ceiling() -> None:
    team = [
        {"deal": 0, "person": "li.wei", "ratio": "1"},
        {"deal": 0, "person": "ops", "split": "overlay", "ratio": "1"},
        {"deal": 0, "person": "sme", "split": "overlay", "ratio": "0.5"},
        {"deal": 1, "person": "li.wei", "ratio": "1"},
        {"deal": 1, "person": "x", "split": "overlay", "ratio": "2.5"},
    ]
    r = run([deal(), deal(id="e")], team)
    assert rows(r) == [
        (0, "revenue", "li.wei", MILLION, 10_000_000),
        (0, "overlay", "ops", MILLION, 10_000_000),
        (0, "overlay", "sme", MILLION // 2, 5_000_000),
    ]
    assert [(e.index, e.reason) for e in r.errors] == [(1, "OVERAGE_CEILING")]


def test_a_policy_credits_role_holders_on_matching_deals() -> None:
    team = [
        {"deal": 0, "person": "li.wei", "ratio": "1"},
        {"deal": 0, "person": "sun.yu", "role": "presales"},
        {"deal": 1, "person": "sun.yu", "role": "presales"},
    ]
    r = run([deal(), deal(id="small", amount_minor=1_000)], team)
    assert rows(r)[:2] == [
        (0, "revenue", "li.wei", MILLION, 10_000_000),
        (0, "overlay", "sun.yu", MILLION, 10_000_000),
    ]
    assert r.policy[1] == "presales_on_big_quotes" and r.source[1] == PartSource.POLICY
    # On the small deal no policy gives presales a share.
    assert [(e.index, e.reason, e.field) for e in r.errors] == [(1, "MISSING_SHARE", "team[2]")]


def test_bad_teams_are_refused_deal_by_deal() -> None:
    deals = [deal(id=str(i)) for i in range(10)]
    team = [
        {"deal": 0, "person": "a", "ratio": "0.6"},
        {"deal": 0, "person": "b", "ratio": "0.3"},  # 90 %
        {"deal": 1, "person": "a", "ratio": "-0.1"},
        {"deal": 2, "person": "a", "ratio": "0.5"},
        {"deal": 2, "person": "a", "ratio": "0.5"},
        {"deal": 3, "person": "a", "amount_minor": MILLION + 1},
        {"deal": 4, "person": "a", "split": "nope", "ratio": "1"},
        {"deal": 5, "person": "a", "ratio": "0.5", "amount_minor": 1},
        {"deal": 6, "person": "a", "ratio": "0.123456789"},
        {"deal": 7, "person": "a", "ratio": "0.97"},
        {"deal": 7, "person": "b", "ratio": "0.03"},  # below min_share 0.05
        *({"deal": 8, "person": f"p{i}", "ratio": "0.2"} for i in range(5)),
        {"deal": 9, "person": "a", "ratio": "1"},
    ]
    r = run(deals, team)
    assert [(e.index, e.reason) for e in r.errors] == [
        (0, "RATIOS_NOT_100"),
        (1, "NEGATIVE_SHARE"),
        (2, "DUPLICATE_PARTICIPANT"),
        (3, "FIXED_EXCEEDS_AMOUNT"),
        (4, "UNKNOWN_SPLIT"),
        (5, "INVALID_SHARE"),
        (6, "INVALID_SHARE"),
        (7, "SHARE_TOO_SMALL"),
        (8, "TOO_MANY_PARTICIPANTS"),
    ]
    assert "90 %" in r.errors[0].message
    assert set(r.deal.tolist()) == {9}


def test_deals_that_could_not_be_scored_get_no_credit() -> None:
    r = run([deal(stage="nowhere"), deal()], [{"deal": 0, "person": "a", "ratio": "1"}])
    assert [(e.index, e.reason) for e in r.errors] == [(0, "UNKNOWN_STAGE")]
    assert r.deal.tolist() == [1]


# --- properties --------------------------------------------------------------------------------

team_strategy = st.lists(
    st.one_of(
        st.integers(1, 10**8).map(lambda u: ("ratio", u)),
        st.integers(0, 10**9).map(lambda a: ("amount", a)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**13),
            st.sampled_from(["initial_contact", "quote", "won", "lost"]),
            team_strategy,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_full_splits_add_up_exactly_for_any_amounts_and_shares(
    cases: list[tuple[int, str, list[tuple[str, int]]]],
) -> None:
    deals, team = [], []
    for d, (amount, stage, parts) in enumerate(cases):
        deals.append(deal(id=str(d), amount_minor=amount, stage=stage))
        ratio_units = [u for kind, u in parts if kind == "ratio"]
        fixed = [a for kind, a in parts if kind == "amount"]
        if not fixed:  # make the ratios add up to exactly 100 %: the last one takes the rest
            ratio_units[-1] = 0
            ratio_units[-1] = max(10**8 - sum(ratio_units), 0)
            if sum(ratio_units) != 10**8:
                ratio_units = [10**8]
        for i, u in enumerate(ratio_units):
            team.append({"deal": d, "person": f"r{i}", "ratio": str(Decimal(u).scaleb(-8))})
        for i, a in enumerate(fixed):
            team.append({"deal": d, "person": f"f{i}", "amount_minor": a})
    r = run(deals, team, rules=PLAIN)
    batch = build_deal_batch(deal_input_from_records(deals), PLAIN)
    scores = score_deals(PLAIN, batch)
    refused = {e.index for e in r.errors}
    for d, (amount, _, _parts) in enumerate(cases):
        mine = r.deal == d
        if d in refused:
            assert not mine.any()
            assert {e.reason for e in r.errors if e.index == d} <= {"FIXED_EXCEEDS_AMOUNT"}
            continue
        assert int(r.credit_minor[mine].sum()) == amount
        assert int(r.weighted_credit_minor[mine].sum()) == int(scores.weighted_amount_minor[d])
        assert (r.credit_minor[mine] >= 0).all()
        # Ratio parts are within one minor unit of the exact share.
        for k in np.flatnonzero(mine & (r.basis == Basis.RATIO)).tolist():
            exact = Decimal(amount) * Decimal(int(r.ratio_units[k])).scaleb(-8)
            assert abs(Decimal(int(r.credit_minor[k])) - exact) < 1
        for k in np.flatnonzero(mine & (r.basis == Basis.AMOUNT)).tolist():
            assert r.credit_minor[k] == r.fixed_minor[k]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10**12), min_size=1, max_size=5),
    st.lists(st.integers(0, 2 * 10**8), min_size=1, max_size=4),
)
def test_overage_parts_round_half_even_each(amounts: list[int], units: list[int]) -> None:
    deals = [deal(id=str(i), amount_minor=a, stage="quote") for i, a in enumerate(amounts)]
    team = [{"deal": i, "person": "li.wei", "ratio": "1"} for i in range(len(amounts))] + [
        {"deal": i, "person": f"o{j}", "split": "overlay", "ratio": str(Decimal(u).scaleb(-8))}
        for i in range(len(amounts))
        for j, u in enumerate(units)
    ]
    if sum(units) > 2 * 10**8:  # over the ceiling: every deal refused
        assert {e.reason for e in run(deals, team).errors} == {"OVERAGE_CEILING"}
        return
    r = run(deals, team)
    assert r.errors == []
    overlay = r.split == RULES.splits.index["overlay"]
    for k in np.flatnonzero(overlay).tolist():
        a = Decimal(amounts[int(r.deal[k])])
        exact = a * Decimal(int(r.ratio_units[k])).scaleb(-8)
        assert int(r.credit_minor[k]) == int(exact.quantize(Decimal(1), ROUND_HALF_EVEN))


_MEMBER_VALUES = {
    "person": st.sampled_from(["a", "b", "c", "", None, 0]),
    "role": st.sampled_from([None, "", "presales", "partner_manager"]),
    "split": st.sampled_from([None, "", "revenue", "overlay", "nope"]),
    "ratio": st.sampled_from(
        [
            None,
            "",
            "0.5",
            "0.50",
            "1",
            "0.3",
            Decimal("0.2"),
            "-0.1",
            "0.123456789",
            "x",
            1,
            True,
            "1e999",
            "-1e999",
        ]
    ),
    "amount_minor": st.sampled_from([None, None, None, "", 5, "7", -1, "x"]),
}


@given(
    st.lists(
        st.fixed_dictionaries(
            {"deal": st.integers(0, 3) | st.sampled_from([4, -1, 1.0]), **_MEMBER_VALUES}
        ),
        min_size=1,
        max_size=12,
    )
)
def test_plain_teams_read_as_member_by_member(team: list[dict[str, Any]]) -> None:
    """The column-by-column reading of a plainly valid team (and the fallback for any other)
    gives exactly the member-by-member reading, errors included."""
    columns = TeamInput(**{k: [m[k] for m in team] for k in team[0]})
    try:
        slow = read_team_members(RULES, columns, 4)
    except IndexError:  # a member of a deal outside the batch
        with pytest.raises(IndexError):
            read_team(RULES, columns, 4)
        return
    fast = read_team(RULES, columns, 4)
    for name in ("deal", "person", "role", "split", "basis", "ratio_units", "fixed_minor", "rows"):
        assert getattr(fast, name).tolist() == getattr(slow, name).tolist(), name
    assert (fast.people, fast.roles, fast.errors) == (slow.people, slow.roles, slow.errors)


def test_a_plain_team_is_read_without_the_member_by_member_checks(monkeypatch: Any) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("read member by member")

    monkeypatch.setattr("engine.credit.splits.read_team_members", refuse)
    team = TeamInput([0, 0, 1], ["a", "b", "a"], [None, "presales", None], [None] * 3,
                     ["0.7", "0.3", None], [None] * 3)  # fmt: skip
    columns = read_team(RULES, team, 2)
    assert columns.ratio_units.tolist() == [70_000_000, 30_000_000, 0]
    assert columns.basis.tolist() == [Basis.RATIO, Basis.RATIO, Basis.NONE]
    assert (columns.people, columns.roles) == (["a", "b"], ["", "presales"])


plain_member = st.fixed_dictionaries(
    {
        "person": st.sampled_from(["li.wei", "wang.fang"]),
        "ratio": st.sampled_from(["1", "0.5", "0.7", "0.3", "0.01"]),
    },
    optional={
        "split": st.sampled_from(["revenue", "overlay"]),
        "role": st.sampled_from(["presales", "owner", ""]),
    },
)
any_member = st.fixed_dictionaries(
    {"person": st.sampled_from(["li.wei", "wang.fang", "zhang.min", ""])},
    optional={
        "role": st.sampled_from(["presales", "owner", "partner_manager", ""]),
        "split": st.sampled_from(["revenue", "overlay", "channel", "nope", ""]),
        "ratio": st.sampled_from(["1", "0.7", "0.3", "0.5", "0.25", "0.01", "1.5", "-0.1", "x"]),
        "amount_minor": st.sampled_from([0, 5_000, MILLION, "7", -3]),
    },
)


def parts(r: SplitResult) -> dict[str, Any]:
    """Everything a split result says, arrays as (dtype, values)."""
    out: dict[str, Any] = {}
    for name, value in vars(r).items():
        out[name] = (value.dtype, value.tolist()) if isinstance(value, np.ndarray) else value
    return out


@settings(max_examples=500, deadline=None)
@given(
    st.integers(0, 10**13),
    st.sampled_from(["initial_contact", "quote", "won", "lost", "nope"]),
    st.sampled_from(["li.wei", "chen.jie", None]),
    st.lists(st.one_of(plain_member, any_member), max_size=4),
)
def test_one_deal_splits_in_scalars_as_in_columns(
    amount: int, stage: str, owner: str | None, team: list[dict[str, Any]]
) -> None:
    """A lone deal (held as a row, split in Python scalars where it can be) gets the same parts,
    credits and errors as the same deal split by the vectorised path."""
    record = {**deal(amount_minor=amount, stage=stage), "owner": owner}
    columns = {
        k: [m.get(k) for m in team] for k in ("person", "role", "split", "ratio", "amount_minor")
    }
    members = TeamInput(deal=[0] * len(team), **columns)
    alone = build_deal_batch(deal_input_from_records([record]), RULES)
    as_columns = build_deal_batch(deal_input_from_records([record, record]), RULES).take(
        np.array([0])
    )
    assert not isinstance(as_columns.frame, RowFrame)
    scalars = split_credits(RULES, alone, score_deals(RULES, alone), members)
    vectorised = split_credits(RULES, as_columns, score_deals(RULES, as_columns), members)
    assert parts(scalars) == parts(vectorised)


@pytest.mark.parametrize(
    "team",
    [
        [],  # the owner alone
        [{"person": "li.wei", "ratio": "0.7"}, {"person": "wang.fang", "ratio": "0.3"}],
        [{"person": "zhang.min", "split": "overlay", "ratio": "1"}],
    ],
)
def test_plain_teams_of_one_deal_take_the_scalar_path(team: list[dict[str, Any]]) -> None:
    """The usual teams do not fall back to the vectorised path (which the test above compares
    against), so that comparison is not of the vectorised path with itself."""
    batch = build_deal_batch(deal_input_from_records([deal(stage="quote")]), RULES)
    columns = {k: [m.get(k) for m in team] for k in ("person", "role", "split", "ratio")}
    members = TeamInput(deal=[0] * len(team), **columns)
    for sent in (members, read_team(RULES, members, 1)):  # as sent, or already read
        lists = _one_deal_members(RULES, sent)
        assert lists is not None
        one = _split_one(RULES, batch.frame.one.values, score_deals(RULES, batch), lists)
        assert one is not None
        assert int(one.credit_minor[one.split == 0].sum()) == MILLION
