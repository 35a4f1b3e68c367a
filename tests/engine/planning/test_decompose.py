"""Targets split down a hierarchy, worked by hand: even, history, custom (customer resources),
blend; manual targets kept; floors and ceilings; seasonality; the balance report; bad trees.
Hypothesis: children always add up to their parent exactly, and bounds hold."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from engine.planning.decompose import LevelMethod, PlanNode, decompose


def tree() -> list[PlanNode]:
    return [
        PlanNode("company", None),
        PlanNode("north", "company", custom=F(30)),  # 30 key accounts
        PlanNode("south", "company", custom=F(10)),
        PlanNode("li.wei", "north", history_minor=600),
        PlanNode("zhang.min", "north", history_minor=300),
        PlanNode("wang.fang", "south", history_minor=100),
    ]


def test_custom_then_history_by_hand() -> None:
    # 1,000,000 by customer resources 30:10 -> 750,000 / 250,000; north by history 600:300
    # -> 500,000 / 250,000; south's one person takes all of it.
    d = decompose(tree(), 1_000_000, [LevelMethod("custom"), LevelMethod("history")]).by_id()
    assert [d[k].target_minor for k in ("north", "south", "li.wei", "zhang.min", "wang.fang")] == [
        750_000, 250_000, 500_000, 250_000, 250_000]  # fmt: skip
    assert d["north"].share == F(3, 4) and d["li.wei"].share == F(2, 3)
    # Balance: 25,000 per key account in both regions: spread 1.
    assert d["north"].target_per_metric == d["south"].target_per_metric == 25_000
    assert d["north"].sibling_spread == 1
    # People by history: li.wei 500,000 / 600 = 833.3..., zhang.min 250,000 / 300 the same.
    assert d["li.wei"].sibling_spread == 1


def test_even_splits_to_the_unit_by_largest_remainder() -> None:
    nodes = [PlanNode("all", None), *[PlanNode(f"p{i}", "all") for i in range(3)]]
    d = decompose(nodes, 100, [LevelMethod("even")]).by_id()
    assert [d[f"p{i}"].target_minor for i in range(3)] == [34, 33, 33]


def test_a_manual_target_stays_and_the_rest_rebalances() -> None:
    nodes = tree()
    nodes[1] = PlanNode("north", "company", custom=F(30), manual_minor=600_000)
    d = decompose(nodes, 1_000_000, [LevelMethod("custom"), LevelMethod("history")]).by_id()
    assert (d["north"].target_minor, d["north"].bound) == (600_000, "MANUAL")
    assert d["south"].target_minor == 400_000
    assert d["li.wei"].target_minor + d["zhang.min"].target_minor == 600_000
    assert d["north"].sibling_spread == F(40_000, 20_000)  # 20,000 vs 40,000 per account


def test_floors_and_ceilings_bind_and_the_rest_shares() -> None:
    nodes = [PlanNode("all", None), PlanNode("a", "all", history_minor=90, ceiling_minor=500),
             PlanNode("b", "all", history_minor=5, floor_minor=300),
             PlanNode("c", "all", history_minor=5)]  # fmt: skip
    d = decompose(nodes, 1000, [LevelMethod("history")]).by_id()
    # By history a would get 900: capped at 500. b and c would share the other 500 evenly, 250
    # each, but b's floor is 300: b 300, c the 200 left.
    assert [(d[k].target_minor, d[k].bound) for k in "abc"] == [
        (500, "CEILING"), (300, "FLOOR"), (200, "")]  # fmt: skip


def test_blend_and_seasonality() -> None:
    nodes = [PlanNode("all", None), PlanNode("a", "all", history_minor=100, pipeline_minor=0),
             PlanNode("b", "all", history_minor=300, pipeline_minor=100)]  # fmt: skip
    blend = LevelMethod("blend", {"history": F(1, 2), "pipeline": F(1, 2)})
    quarters = [("Q1", F(1)), ("Q2", F(2)), ("Q3", F(3)), ("Q4", F(4))]
    d = decompose(nodes, 1000, [blend], quarters)
    a, b = d.by_id()["a"], d.by_id()["b"]
    # a: half of 1/4 (history) + half of 0 (pipeline) = 1/8 -> 125; b 875.
    assert (a.target_minor, b.target_minor) == (125, 875)
    assert d.periods == ("Q1", "Q2", "Q3", "Q4")
    assert a.phased_minor == (13, 25, 37, 50) and sum(b.phased_minor) == 875


@pytest.mark.parametrize(
    ("nodes", "reason"),
    [
        ([PlanNode("a", None), PlanNode("b", None)], "ONE_ROOT"),
        ([PlanNode("a", None), PlanNode("b", "x")], "ORPHAN"),
        ([PlanNode("a", None), PlanNode("b", "c"), PlanNode("c", "b")], "CYCLE"),
        ([PlanNode("a", None), PlanNode("a", "a")], "DUPLICATE_ID"),
        ([PlanNode("a", None), PlanNode("b", "a", floor_minor=2000)], "FLOORS_ABOVE_PARENT"),
        ([PlanNode("a", None), PlanNode("b", "a", floor_minor=5, ceiling_minor=4)],
         "CEILING_BELOW_FLOOR"),
        ([PlanNode("a", None), PlanNode("b", "a", ceiling_minor=4)], "CEILINGS_BELOW_PARENT"),
        ([PlanNode("a", None), PlanNode("b", "a", manual_minor=1001)], "MANUAL_ABOVE_PARENT"),
    ],
)  # fmt: skip
def test_bad_trees_and_bounds(nodes: list[PlanNode], reason: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        decompose(nodes, 1000, [LevelMethod("even")])
    assert reason in {v.reason for v in exc.value.violations}


def test_bad_methods() -> None:
    for method, reason in ((LevelMethod("guess"), "UNKNOWN_METHOD"),
                           (LevelMethod("history"), "MISSING_METRIC"),
                           (LevelMethod("blend", {"vibes": F(1)}), "INVALID_BLEND")):  # fmt: skip
        with pytest.raises(InvalidArgumentError) as exc:
            decompose([PlanNode("a", None), PlanNode("b", "a")], 10, [method])
        assert reason in {v.reason for v in exc.value.violations}
    zero = [PlanNode("a", None), PlanNode("b", "a", history_minor=0),
            PlanNode("c", "a", history_minor=0)]  # fmt: skip
    with pytest.raises(InvalidArgumentError) as exc:
        decompose(zero, 10, [LevelMethod("history")])
    assert {v.reason for v in exc.value.violations} == {"ALL_ZERO"}


def test_when_the_weighted_children_are_capped_the_rest_goes_to_the_others() -> None:
    nodes = [PlanNode("all", None), PlanNode("a", "all", history_minor=0),
             PlanNode("b", "all", history_minor=1, ceiling_minor=0),
             PlanNode("c", "all", history_minor=0, ceiling_minor=4)]  # fmt: skip
    d = decompose(nodes, 9, [LevelMethod("history")]).by_id()  # a and c: 4.5 each, c capped
    assert [(d[k].target_minor, d[k].bound) for k in "abc"] == [
        (5, ""), (0, "CEILING"), (4, "CEILING")]  # fmt: skip
    d = decompose(nodes, 20, [LevelMethod("history")]).by_id()
    assert [(d[k].target_minor, d[k].bound) for k in "abc"] == [
        (16, ""), (0, "CEILING"), (4, "CEILING")]  # fmt: skip


children = st.lists(
    st.tuples(st.integers(0, 10**9), st.one_of(st.none(), st.integers(0, 400)),
              st.one_of(st.none(), st.integers(0, 2000))),
    min_size=1, max_size=8,
)  # fmt: skip


@settings(max_examples=400)
@given(children, st.integers(0, 10**6))
def test_children_add_up_exactly_and_bounds_hold(kids: list[tuple[int, int | None, int | None]],
                                                 target: int) -> None:  # fmt: skip
    nodes = [PlanNode("root", None)] + [
        PlanNode(f"k{i}", "root", history_minor=h, floor_minor=f,
                 ceiling_minor=None if c is None else max(c, f or 0))
        for i, (h, f, c) in enumerate(kids)
    ]  # fmt: skip
    try:
        d = decompose(nodes, target, [LevelMethod("history")])
    except InvalidArgumentError as exc:  # infeasible bounds or all-zero weights: said so
        assert {v.reason for v in exc.violations} <= {
            "FLOORS_ABOVE_PARENT", "CEILINGS_BELOW_PARENT", "ALL_ZERO"}  # fmt: skip
        return
    got = [n for n in d.nodes if n.parent == "root"]
    assert sum(n.target_minor for n in got) == target
    for n, node in zip(got, nodes[1:], strict=True):
        assert node.floor_minor is None or n.target_minor >= node.floor_minor
        assert node.ceiling_minor is None or n.target_minor <= node.ceiling_minor
