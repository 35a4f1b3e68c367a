"""A target split down a hierarchy, exactly: company -> region -> team -> person.

Each parent's target is shared among its children by weights from a method per level:

* ``even``: equal weights;
* ``history``: each child's bookings of a prior period (or trailing twelve months);
* ``pipeline``: each child's (weighted) open pipeline;
* ``custom``: a balancing metric given per node, e.g. the number and size of customer accounts in
  a region ("regions rich in customer resources carry more");
* ``blend``: a weighted mix of the above, each method's weights first turned into shares.

A metric of a parent that has none of its own is the sum of its children's. Children with a manual
target keep it (the rest re-balances around them); floors and ceilings per node bind by water
filling: children whose share would fall outside their bounds are set to the bound and the rest
is shared again among the others, until every child is within its bounds. Amounts are integer
minor units and every split is exact: a parent's children add up to it to the unit, by largest
remainder (ties to the earlier child). Weights are exact fractions.

Each node reports its weight, its share of its parent, and how balanced the split is: the target
per unit of the balancing metric (the level's ``custom`` metric, else its method's metric), and
across each set of siblings the spread of that figure (max / min). Seasonality phases a node's
target over periods by weights, exactly, by the same rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

import numpy as np

from engine.credit.allocation import allocate
from engine.errors import InvalidArgumentError, Violation

METHODS = ("even", "history", "pipeline", "custom", "blend")


@dataclass(frozen=True)
class PlanNode:
    """A node of the hierarchy; metrics are optional (a parent without one sums its children)."""

    id: str
    parent: str | None  # None: the root (the company)
    history_minor: int | None = None
    pipeline_minor: int | None = None
    custom: Fraction | None = None
    floor_minor: int | None = None
    ceiling_minor: int | None = None
    manual_minor: int | None = None  # a target set by hand: kept, the rest re-balances


@dataclass(frozen=True)
class LevelMethod:
    """How a level's nodes share their parent's target (level 1: the root's children)."""

    method: str = "even"
    blend: Mapping[str, Fraction] = field(default_factory=dict)  # method -> weight, for blend


@dataclass(frozen=True)
class NodeTarget:
    id: str
    parent: str | None
    level: int
    target_minor: int
    weight: Fraction  # the node's weight among its siblings (after water filling)
    share: Fraction  # of its parent's target, exact (target / parent target)
    bound: str  # "", "FLOOR", "CEILING" or "MANUAL": what set the target
    metric: Fraction | None  # the balancing metric
    target_per_metric: Fraction | None  # target / metric (None without a metric)
    sibling_spread: Fraction | None  # max / min of target_per_metric among the siblings
    phased_minor: tuple[int, ...] = ()  # by period, with seasonality


@dataclass(frozen=True)
class Decomposition:
    nodes: tuple[NodeTarget, ...]  # parents before children, siblings in the order given
    periods: tuple[str, ...]

    def by_id(self) -> dict[str, NodeTarget]:
        return {n.id: n for n in self.nodes}


def _fail(problems: list[Violation]) -> None:
    if problems:
        raise InvalidArgumentError("the decomposition cannot be made", reason="INVALID_PLAN",
                                   violations=problems)  # fmt: skip


def _tree(nodes: Sequence[PlanNode]) -> tuple[str, dict[str, list[str]], dict[str, int]]:
    """The root, each node's children in order, and each node's index; cycles, orphans, a
    missing or second root and duplicate ids are INVALID_ARGUMENT with paths."""
    problems: list[Violation] = []
    index: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if not n.id:
            problems.append(Violation(f"nodes[{i}].id", 0, 0, "REQUIRED", "give every node an id"))
        elif n.id in index:
            problems.append(Violation(f"nodes[{i}].id", 0, 0, "DUPLICATE_ID",
                                      f"{n.id!r} is also nodes[{index[n.id]}]"))  # fmt: skip
        index.setdefault(n.id, i)
    roots = [n.id for n in nodes if not n.parent]
    if len(roots) != 1:
        problems.append(Violation("nodes", 0, 0, "ONE_ROOT",
                                  f"exactly one node has no parent (found {len(roots)})"))  # fmt: skip
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for i, n in enumerate(nodes):
        if n.parent:
            if n.parent not in index:
                problems.append(Violation(f"nodes[{i}].parent", 0, 0, "ORPHAN",
                                          f"no node {n.parent!r}"))  # fmt: skip
            else:
                children[n.parent].append(n.id)
    _fail(problems)
    # Every node must be reached from the root exactly once: what is not is in a cycle.
    seen, stack = set(), [roots[0]]
    while stack:
        node = stack.pop()
        seen.add(node)
        stack.extend(children[node])
    for i, n in enumerate(nodes):
        if n.id not in seen:
            problems.append(Violation(f"nodes[{i}].parent", 0, 0, "CYCLE",
                                      f"{n.id!r} is not below the root (a cycle)"))  # fmt: skip
    _fail(problems)
    return roots[0], children, index


def _metrics(nodes: Sequence[PlanNode], root: str, children: Mapping[str, list[str]],
             index: Mapping[str, int]) -> dict[str, dict[str, Fraction | None]]:  # fmt: skip
    """Each node's history, pipeline and custom metric; a parent without one sums its children
    (None when any child lacks it)."""
    out: dict[str, dict[str, Fraction | None]] = {}

    def visit(node_id: str) -> dict[str, Fraction | None]:
        node = nodes[index[node_id]]
        kids = [visit(c) for c in children[node_id]]
        own: dict[str, Fraction | None] = {
            "history": None if node.history_minor is None else Fraction(node.history_minor),
            "pipeline": None if node.pipeline_minor is None else Fraction(node.pipeline_minor),
            "custom": node.custom,
        }
        for key, value in own.items():
            parts = [k[key] for k in kids]
            if value is None and kids and all(p is not None for p in parts):
                own[key] = sum((p for p in parts if p is not None), Fraction(0))
        out[node_id] = own
        return own

    visit(root)
    return out


def _weights(method: LevelMethod, kids: list[str], metrics: Mapping[str, Mapping[str,
             Fraction | None]], path: str, problems: list[Violation]) -> list[Fraction]:  # fmt: skip
    """The children's weights under ``method`` (exact)."""

    def of(name: str) -> list[Fraction] | None:
        if name == "even":
            return [Fraction(1)] * len(kids)
        values = [metrics[k][name] for k in kids]
        missing = [k for k, v in zip(kids, values, strict=True) if v is None]
        if missing:
            problems.append(Violation(path, 0, 0, "MISSING_METRIC",
                                      f"no {name} for {', '.join(missing)}"))  # fmt: skip
            return None
        if any(v < 0 for v in values):  # type: ignore[operator]
            problems.append(Violation(path, 0, 0, "NEGATIVE_METRIC", f"a {name} is negative"))
            return None
        return values  # type: ignore[return-value]

    if method.method not in METHODS:
        problems.append(Violation(path, 0, 0, "UNKNOWN_METHOD",
                                  f"{method.method!r}: use one of {', '.join(METHODS)}"))  # fmt: skip
        return [Fraction(1)] * len(kids)
    if method.method != "blend":
        return of(method.method) or [Fraction(1)] * len(kids)
    if not method.blend or any(k not in METHODS[:4] for k in method.blend):
        problems.append(Violation(f"{path}.blend", 0, 0, "INVALID_BLEND",
                                  "blend weights of even, history, pipeline or custom"))  # fmt: skip
        return [Fraction(1)] * len(kids)
    total = [Fraction(0)] * len(kids)
    for name, w in method.blend.items():
        values = of(name)
        if values is None:
            continue
        s = sum(values, Fraction(0))
        if s == 0:
            problems.append(Violation(f"{path}.blend.{name}", 0, 0, "ALL_ZERO",
                                      f"every child's {name} is zero"))  # fmt: skip
            continue
        total = [t + w * v / s for t, v in zip(total, values, strict=True)]
    return total


def _split(amount: int, weights: list[Fraction]) -> list[int]:
    """``amount`` by ``weights``, exact to the unit (largest remainder, ties to the earlier);
    all-zero weights share evenly."""
    if not weights:
        return []
    if not any(weights):
        weights = [Fraction(1)] * len(weights)
    den = lcm(*(w.denominator for w in weights))
    ints = np.array([w.numerator * (den // w.denominator) for w in weights], dtype=object)
    if max(ints) < 2**62 // max(amount, 1) and amount < 2**62:
        parts = allocate(np.array([amount], np.int64), np.zeros(len(weights), np.int64),
                         ints.astype(np.int64))  # fmt: skip
        return [int(p) for p in parts]
    # Huge weights: the same rule on Python integers.
    total = int(sum(ints))
    exact = [amount * int(v) for v in ints]
    floors = [e // total for e in exact]
    left = amount - sum(floors)
    order = sorted(range(len(ints)), key=lambda i: (-(exact[i] - floors[i] * total), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def _share_bounded(amount: int, weights: list[Fraction], floors: list[int | None],
                   ceilings: list[int | None]) -> tuple[list[int], list[str]]:  # fmt: skip
    """Share ``amount`` by weight within bounds: each child gets ``clamp(l x weight, floor,
    ceiling)`` for the one ``l`` at which they add up to ``amount`` (the sum only grows with
    ``l``, so ``l`` is found exactly between two breakpoints); the children strictly inside their
    bounds then share what the bound ones leave, by largest remainder. A child inside its bounds
    stays inside after rounding, as bounds are whole units. When every child with a weight is at
    its ceiling, what is left is shared evenly among the others (within their bounds)."""
    n = len(weights)
    if sum(weights, Fraction(0)) == 0:
        weights = [Fraction(1)] * n  # nothing to weigh by: even
    lo = [Fraction(f) if f is not None else Fraction(0) for f in floors]
    hi = [Fraction(c) if c is not None else None for c in ceilings]

    def value(i: int, lam: Fraction) -> Fraction:
        v = max(lam * weights[i], lo[i])
        cap = hi[i]
        return v if cap is None else min(v, cap)

    def total(lam: Fraction) -> Fraction:
        return sum((value(i, lam) for i in range(n)), Fraction(0))

    points = sorted({Fraction(0)} | {b / weights[i] for i in range(n) if weights[i] > 0
                                     for b in (lo[i], hi[i]) if b is not None})  # fmt: skip
    target = Fraction(amount)
    lam = points[-1]
    for left, right in itertools.pairwise(points):
        if total(right) >= target:  # linear on [left, right]: solve
            t0, t1 = total(left), total(right)
            lam = left if t1 == t0 else left + (right - left) * (target - t0) / (t1 - t0)
            break
    else:  # beyond the last breakpoint only the unbounded children grow
        slope = sum((weights[i] for i in range(n)
                     if (cap := hi[i]) is None or lam * weights[i] < cap), Fraction(0))  # fmt: skip
        if slope > 0:
            lam = lam + (target - total(lam)) / slope
    exact = [value(i, lam) for i in range(n)]
    # At a floor: pushed up to it (a child exactly at its floor can still take more); at a
    # ceiling: held down to it.
    bound = ["FLOOR" if floors[i] is not None and lam * weights[i] < lo[i]
             else "CEILING" if (cap := hi[i]) is not None and lam * weights[i] >= cap
             else "" for i in range(n)]  # fmt: skip
    out = [int(exact[i]) if bound[i] else 0 for i in range(n)]
    free = [i for i in range(n) if not bound[i]]
    rest = amount - sum(out)
    if rest and not any(weights[i] for i in free):
        # Every child with a weight is at its ceiling: what is left goes evenly to the children
        # below their ceilings, within their own bounds.
        takers = [i for i in range(n) if bound[i] != "CEILING"]
        pool = rest + sum(out[i] for i in takers)
        parts, inner = _share_bounded(pool, [Fraction(1)] * len(takers),
                                      [floors[i] for i in takers], [ceilings[i] for i in takers])  # fmt: skip
        for i, part, b in zip(takers, parts, inner, strict=True):
            out[i], bound[i] = part, b
        return out, bound
    for i, part in zip(free, _split(rest, [weights[i] for i in free]), strict=True):
        out[i] = part
    return out, bound


def decompose(
    nodes: Sequence[PlanNode],
    target_minor: int,
    levels: Sequence[LevelMethod],
    seasonality: Sequence[tuple[str, Fraction]] = (),
) -> Decomposition:
    """Split ``target_minor`` (the root's target) down the tree (see the module). ``levels[k]``
    is the method of depth ``k + 1`` (the last one serves any deeper level)."""
    if target_minor < 0:
        _fail([Violation("target_minor", 0, 0, "NEGATIVE", "a target is not negative")])
    if not levels:
        levels = [LevelMethod()]
    root, children, index = _tree(nodes)
    metrics = _metrics(nodes, root, children, index)
    problems: list[Violation] = []
    for i, n in enumerate(nodes):
        if (
            n.floor_minor is not None
            and n.ceiling_minor is not None
            and n.ceiling_minor < n.floor_minor
        ):
            problems.append(Violation(f"nodes[{i}].ceiling_minor", 0, 0, "CEILING_BELOW_FLOOR",
                                      "the ceiling is below the floor"))  # fmt: skip
    for j, (label, w) in enumerate(seasonality):
        if w < 0:
            problems.append(Violation(f"seasonality[{j}].weight", 0, 0, "NEGATIVE",
                                      f"{label}: a weight is not negative"))  # fmt: skip
    if seasonality and sum((w for _, w in seasonality), Fraction(0)) == 0:
        problems.append(Violation("seasonality", 0, 0, "ALL_ZERO", "every period weighs 0"))
    _fail(problems)
    targets: dict[str, int] = {root: target_minor}
    detail: dict[str, tuple[int, Fraction, str]] = {root: (0, Fraction(1), "")}
    order = [root]
    queue = [(root, 0)]
    while queue:
        parent, depth = queue.pop(0)
        kids = children[parent]
        if not kids:
            continue
        method = levels[min(depth, len(levels) - 1)]
        path = f"levels[{min(depth, len(levels) - 1)}]"
        weights = _weights(method, kids, metrics, path, problems)
        _fail(problems)
        kid_nodes = [nodes[index[k]] for k in kids]
        manual = [n.manual_minor for n in kid_nodes]
        fixed_total = sum(m for m in manual if m is not None)
        rest = targets[parent] - fixed_total
        where = [f"nodes[{index[k]}]" for k in kids]
        if rest < 0:
            problems.append(Violation(f"{where[0]}.manual_minor", 0, 0, "MANUAL_ABOVE_PARENT",
                                      f"manual targets under {parent!r} exceed its target"))  # fmt: skip
        free = [i for i, m in enumerate(manual) if m is None]
        if not free and rest != 0:
            problems.append(Violation(f"{where[0]}.manual_minor", 0, 0, "MANUAL_MISMATCH",
                                      f"every child of {parent!r} is set by hand and they do not "
                                      "add up to its target"))  # fmt: skip
        low = sum(kid_nodes[i].floor_minor or 0 for i in free)
        high = [kid_nodes[i].ceiling_minor for i in free]
        if low > rest >= 0:
            problems.append(Violation(f"{where[free[0]]}.floor_minor", 0, 0, "FLOORS_ABOVE_PARENT",
                                      f"the floors under {parent!r} add up to more than there is "
                                      "to share"))  # fmt: skip
        if free and all(h is not None for h in high) and sum(high) < rest:  # type: ignore[arg-type]
            problems.append(Violation(f"{where[free[0]]}.ceiling_minor", 0, 0,
                                      "CEILINGS_BELOW_PARENT",
                                      f"the ceilings under {parent!r} add up to less than its "
                                      "target"))  # fmt: skip
        free_weights = [weights[i] for i in free]
        if free and sum(free_weights, Fraction(0)) == 0 and method.method != "even":
            problems.append(Violation(path, 0, 0, "ALL_ZERO",
                                      f"every weight under {parent!r} is zero"))  # fmt: skip
        _fail(problems)
        parts, bounds = _share_bounded(rest, free_weights, [kid_nodes[i].floor_minor for i in free],
                                       high)  # fmt: skip
        for i, k in enumerate(kids):
            if manual[i] is not None:
                targets[k], bound = manual[i], "MANUAL"  # type: ignore[assignment]
            else:
                j = free.index(i)
                targets[k], bound = parts[j], bounds[j]
            detail[k] = (depth + 1, weights[i], bound)
            order.append(k)
            queue.append((k, depth + 1))
    return Decomposition(_report(nodes, order, targets, detail, children, metrics, levels, index,
                                 seasonality), tuple(label for label, _ in seasonality))  # fmt: skip


def _balancing(level: int, levels: Sequence[LevelMethod]) -> str:
    method = levels[min(max(level - 1, 0), len(levels) - 1)]
    if method.method in ("history", "pipeline", "custom"):
        return method.method
    if method.method == "blend" and "custom" in method.blend:
        return "custom"
    return ""


def _report(nodes: Sequence[PlanNode], order: list[str], targets: Mapping[str, int],
            detail: Mapping[str, tuple[int, Fraction, str]], children: Mapping[str, list[str]],
            metrics: Mapping[str, Mapping[str, Fraction | None]], levels: Sequence[LevelMethod],
            index: Mapping[str, int],
            seasonality: Sequence[tuple[str, Fraction]]) -> tuple[NodeTarget, ...]:  # fmt: skip
    per_metric: dict[str, Fraction | None] = {}
    metric_of: dict[str, Fraction | None] = {}
    for node_id in order:
        level = detail[node_id][0]
        name = _balancing(level, levels)
        m = metrics[node_id][name] if name else None
        metric_of[node_id] = m
        per_metric[node_id] = Fraction(targets[node_id]) / m if m else None
    out = []
    weights = [w for _, w in seasonality]
    for node_id in order:
        node = nodes[index[node_id]]
        level, weight, bound = detail[node_id]
        parent_target = targets[node.parent] if node.parent else targets[node_id]
        share = Fraction(targets[node_id], parent_target) if parent_target else Fraction(0)
        siblings = children[node.parent] if node.parent else [node_id]
        figures = [per_metric[s] for s in siblings]
        spread = None
        if all(f is not None and f > 0 for f in figures) and len(figures) > 1:
            spread = max(figures) / min(figures)  # type: ignore[type-var, operator]
        phased = tuple(_split(targets[node_id], weights)) if weights else ()
        out.append(NodeTarget(node_id, node.parent, level, targets[node_id], weight, share, bound,
                              metric_of[node_id], per_metric[node_id], spread, phased))  # fmt: skip
    return tuple(out)


__all__ = ["METHODS", "Decomposition", "LevelMethod", "NodeTarget", "PlanNode", "decompose"]
