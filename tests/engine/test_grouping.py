"""Rows in group order: the counting pass equals a stable argsort (with its column carried), and
clipping runs at their limits equals the plain array expression."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.grouping import clip_runs, group_rows

I64 = np.int64


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(
    lambda g: st.tuples(st.just(g), st.lists(st.tuples(st.integers(0, g - 1),
                                                       st.integers(-(2**62), 2**62)),
                                             max_size=200))))  # fmt: skip
def test_group_rows_is_a_stable_argsort_with_the_column_carried(
    case: tuple[int, list[tuple[int, int]]],
) -> None:
    n_groups, rows = case
    codes = np.array([c for c, _ in rows], dtype=I64)
    values = np.array([v for _, v in rows], dtype=I64)
    order, bounds, carried = group_rows(codes, n_groups, values)
    want = np.argsort(codes, kind="stable")
    assert order.tolist() == want.tolist()
    assert carried.tolist() == values[want].tolist()
    assert bounds.tolist() == [0, *np.cumsum(np.bincount(codes, minlength=n_groups)).tolist()]


def test_codes_outside_the_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        group_rows(np.array([0, 3], dtype=I64), 3, np.zeros(2, dtype=I64))
    with pytest.raises(ValueError, match="outside"):
        group_rows(np.array([-1], dtype=I64), 3, np.zeros(1, dtype=I64))
    with pytest.raises(ValueError, match="one entry per row"):
        group_rows(np.array([0], dtype=I64), 1, np.array([1, 2], dtype=I64))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 50), st.lists(st.integers(-100, 100), max_size=8)),
                min_size=1, max_size=10))  # fmt: skip
def test_clip_runs_caps_each_row_and_returns_the_cut(groups: list[tuple[int, list[int]]]) -> None:
    values = np.array([v for _, vs in groups for v in vs], dtype=I64)
    bounds = np.array([0, *np.cumsum([len(vs) for _, vs in groups]).tolist()], dtype=I64)
    limit = np.array([lim for lim, _ in groups], dtype=I64)
    run = np.repeat(np.arange(len(groups)), np.diff(bounds))
    top = np.where(limit[run] >= 0, limit[run], np.iinfo(I64).max)
    want = np.minimum(values, top)
    cut = clip_runs(values, bounds, limit)
    assert values.tolist() == want.tolist()
    expected_cut = [int((want[bounds[g] : bounds[g + 1]] - np.array(vs, dtype=I64)).sum())
                    for g, (_, vs) in enumerate(groups)]  # fmt: skip
    assert cut.tolist() == expected_cut
