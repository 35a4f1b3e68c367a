"""Exact money arithmetic for splits: products past int64, half-even rounding, largest remainder."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.credit.allocation import allocate, muldiv, muldiv_half_even

I64 = np.int64


def test_muldiv_is_exact_past_int64() -> None:
    a = np.array([7, 10**15, 2**62], dtype=I64)
    b = np.array([3, 10**9, 3], dtype=I64)
    q, r = muldiv(a, b, np.array([2, 7 * 10**8, 4], dtype=I64))
    assert q.tolist() == [10, 10**24 // (7 * 10**8), 3 * 2**60]
    assert r.tolist() == [1, 10**24 % (7 * 10**8), 0]


def test_a_quotient_past_int64_is_refused() -> None:
    with pytest.raises(OverflowError):
        muldiv(np.array([2**62], dtype=I64), np.array([8], dtype=I64), 2)


# Operands across every magnitude, the edges of int64 and of the float estimate's bounds among them.
magnitude = st.one_of(
    st.integers(0, 2**63 - 1),
    st.integers(0, 2**53).map(lambda x: x * 2 ** (x % 11)).filter(lambda x: x < 2**63),
    st.sampled_from([0, 1, 2**31, 2**53 - 1, 2**53 + 1, 2**60, 2**62, 2**63 - 1]),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(magnitude, magnitude, magnitude.map(lambda x: max(x, 1))),
                min_size=1, max_size=30))  # fmt: skip
def test_muldiv_equals_python_integers(rows: list[tuple[int, int, int]]) -> None:
    a, b, d = (np.array(c, dtype=I64) for c in zip(*rows, strict=True))
    if any(x * y // z >= 2**63 for x, y, z in rows):
        with pytest.raises(OverflowError):
            muldiv(a, b, d)
        return
    q, r = muldiv(a, b, d)
    assert list(zip(q.tolist(), r.tolist(), strict=True)) == [divmod(x * y, z) for x, y, z in rows]


@pytest.mark.parametrize("a, b, d", [
    # Remainders a unit short of a multiple of a divisor past 2**53: the float quotient of the
    # correction rounds up to the multiple, and only the final compare puts it right.
    (1345979388743977822, 1, 122361762613088893),
    (375169716016954249, 2, 250113144011302833),
    (579236170502657894, 3, 115847234100531579),
    (161876745174939535, 7, 1133137216224576750),
])  # fmt: skip
def test_muldiv_at_the_float_estimates_edge(a: int, b: int, d: int) -> None:
    q, r = muldiv(np.array([a], dtype=I64), np.array([b], dtype=I64), np.array([d], dtype=I64))
    assert (int(q[0]), int(r[0])) == divmod(a * b, d)


@given(
    st.lists(
        st.tuples(st.integers(0, 2**62), st.integers(0, 10**10), st.integers(1, 10**12)),
        min_size=1,
        max_size=20,
    )
)
def test_muldiv_half_even_matches_decimal(rows: list[tuple[int, int, int]]) -> None:
    rows = [(a, b, d) for a, b, d in rows if a * b // d < 2**63]
    if not rows:
        return
    a, b, d = (np.array(c, dtype=I64) for c in zip(*rows, strict=True))
    got = muldiv_half_even(a, b, d).tolist()
    expected = [
        int((Decimal(x) * Decimal(y) / Decimal(z)).quantize(Decimal(1), ROUND_HALF_EVEN))
        for x, y, z in rows
    ]
    # Decimal's default 28 digits are not enough for every row; compare with exact fractions.
    exact = [(x * y * 2 + z) // (2 * z) for x, y, z in rows]
    for i, (x, y, z) in enumerate(rows):
        if (x * y * 2) % (2 * z) == z:  # a tie: round to even
            exact[i] = x * y // z + ((x * y // z) % 2)
    assert got == exact
    assert all(
        g == e for g, e, (x, y, _) in zip(got, expected, rows, strict=True) if x * y < 10**27
    )


def test_thirds_add_up_and_the_extra_cent_is_deterministic() -> None:
    # 100.00 split 0.333333 / 0.333333 / 0.333334: the largest remainder takes the extra cent.
    parts = allocate(
        np.array([10_000], dtype=I64),
        np.zeros(3, dtype=I64),
        np.array([333_333, 333_333, 333_334], dtype=I64),
    )
    assert parts.tolist() == [3333, 3333, 3334]
    # Equal remainders: the first listed part gets the cent.
    parts = allocate(np.array([100], dtype=I64), np.zeros(3, dtype=I64), np.ones(3, dtype=I64))
    assert parts.tolist() == [34, 33, 33]


def test_groups_are_independent_and_empty_weights_give_nothing() -> None:
    parts = allocate(
        np.array([101, 0, 7], dtype=I64),
        np.array([0, 0, 1, 2, 2], dtype=I64),
        np.array([1, 1, 0, 2, 5], dtype=I64),
    )
    assert parts.tolist() == [51, 50, 0, 2, 5]


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**16),
            st.lists(st.integers(0, 10**10), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_parts_always_add_up_and_stay_within_a_unit_of_the_exact_share(
    groups: list[tuple[int, list[int]]],
) -> None:
    totals = np.array([t for t, _ in groups], dtype=I64)
    group = np.array([g for g, (_, ws) in enumerate(groups) for _ in ws], dtype=I64)
    weight = np.array([w for _, ws in groups for w in ws], dtype=I64)
    parts = allocate(totals, group, weight)
    offset = 0
    for total, ws in groups:
        mine = parts[offset : offset + len(ws)].tolist()
        offset += len(ws)
        assert sum(mine) == total
        for p, w in zip(mine, ws, strict=True):
            floor = total * w // sum(ws)
            assert p in (floor, floor + 1)


@settings(max_examples=100)
@given(
    st.integers(1, 6),
    st.lists(st.integers(0, 10**12), min_size=1, max_size=12),
    st.data(),
)
def test_groups_in_order_give_the_same_parts_with_or_without_their_starts(
    size: int, totals: list[int], data: st.DataObject
) -> None:
    n_groups = len(totals)
    weight = np.array(
        data.draw(
            st.lists(st.integers(1, 10**8), min_size=size * n_groups, max_size=size * n_groups)
        ),
        dtype=I64,
    )
    group = np.repeat(np.arange(n_groups), size)
    total = np.array(totals, dtype=I64)
    starts = np.arange(0, size * n_groups, size)
    assert (
        allocate(total, group, weight, starts=starts).tolist()
        == allocate(total, group, weight).tolist()
    )


def largest_remainder_reference(total: int, weights: list[int]) -> list[int]:
    """Floors, then one unit each to the parts with the largest remainders, earlier first."""
    den = sum(weights) or 1  # no weight: no floors (a zero total)
    floors = [total * w // den for w in weights]
    rems = [total * w % den for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-rems[i], i))
    out = floors[:]
    for i in order[: total - sum(floors)]:
        out[i] += 1
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**9),
            # Few distinct weights (equal remainders, whose tie goes to the earlier part) mixed
            # with many; up to 120 parts: more leftover units than a scan takes, so remainders
            # go through the buckets too, with ties inside the bucket that is cut.
            st.lists(st.integers(1, 4) | st.integers(1, 10**6), min_size=1, max_size=120),
        ),
        min_size=1,
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_leftover_units_go_to_the_largest_remainders_earlier_part_first(
    groups: list[tuple[int, list[int]]], shuffle: random.Random
) -> None:
    totals = np.array([t for t, _ in groups], dtype=I64)
    parts = [(g, i, w) for g, (_, ws) in enumerate(groups) for i, w in enumerate(ws)]
    shuffled = parts[:]
    shuffle.shuffle(shuffled)
    # The groups' parts interleaved at random, each group's parts still in their own order.
    by_group = {g: [p for p in parts if p[0] == g] for g in range(len(groups))}
    mixed = [by_group[g].pop(0) for g, _, _ in shuffled]
    got = allocate(totals, np.array([g for g, _, _ in mixed], dtype=I64),
                   np.array([w for _, _, w in mixed], dtype=I64))  # fmt: skip
    mine: dict[int, list[int]] = {}
    for (g, _, _), p in zip(mixed, got.tolist(), strict=True):
        mine.setdefault(g, []).append(p)
    for g, (total, ws) in enumerate(groups):
        assert mine[g] == largest_remainder_reference(total, ws)
    # In group order, with the runs' starts given: the same parts.
    ordered = allocate(totals, np.array([g for g, _, _ in parts], dtype=I64),
                       np.array([w for _, _, w in parts], dtype=I64),
                       starts=np.array([0, *np.cumsum([len(ws) for _, ws in groups])[:-1]],
                                       dtype=I64))  # fmt: skip
    assert ordered.tolist() == [p for g in range(len(groups)) for p in mine[g]]


_WIDE = st.one_of(st.integers(0, 1_000), st.integers(0, 2**40), st.integers(0, 2**62))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_WIDE, st.lists(_WIDE, min_size=1, max_size=12)), min_size=1,
                max_size=8), st.booleans())  # fmt: skip
def test_allocation_equals_python_integers_over_the_whole_int64_range(
    groups: list[tuple[int, list[int]]], in_order: bool
) -> None:
    """Small products (int64), large ones (the float estimate corrected) and products past its
    bounds (Python integers) all give the exact largest-remainder parts."""
    groups = [(t, [w % (2**62 // len(ws)) for w in ws]) for t, ws in groups]  # sums fit int64
    groups = [(t if sum(ws) else 0, ws) for t, ws in groups]
    totals = np.array([t for t, _ in groups], dtype=I64)
    group = np.array([g for g, (_, ws) in enumerate(groups) for _ in ws], dtype=I64)
    weight = np.array([w for _, ws in groups for w in ws], dtype=I64)
    starts = np.array([0, *np.cumsum([len(ws) for _, ws in groups])[:-1]], dtype=I64)
    got = allocate(totals, group, weight, starts=starts if in_order else None)
    want = [p for t, ws in groups for p in largest_remainder_reference(t, ws)]
    assert got.tolist() == want
