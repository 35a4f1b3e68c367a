"""The partition map's helpers: even, contiguous splits of costed work, and the in-process map;
a backtest mapped any way gives the same rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bench.histories import generate_history
from engine.forecast.backtest import backtest
from engine.forecast.history import history_from_records
from engine.forecast.rollup import PeriodKind, calendar_periods
from engine.partition import local_map, split_even
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES


@given(st.lists(st.integers(0, 1_000), max_size=60), st.integers(1, 20))
def test_splits_cover_every_index_once_in_order(costs: list[int], parts: int) -> None:
    ranges = split_even(costs, parts)
    assert [i for r in ranges for i in r] == list(range(len(costs)))
    assert all(len(r) > 0 for r in ranges)
    assert len(ranges) == min(parts, len(costs)) or not costs


def test_splits_balance_the_cost() -> None:
    assert split_even([1] * 10, 3) == [range(0, 3), range(3, 7), range(7, 10)]
    assert split_even([100, 1, 1, 1, 1], 2) == [range(0, 1), range(1, 5)]
    assert split_even([5, 5, 5, 5], 1) == [range(0, 4)]
    assert split_even([], 4) == []


def test_the_local_map_keeps_order() -> None:
    assert local_map(lambda s, p: s * p, 3, [1, 2, 3]) == [3, 6, 9]


def test_a_backtest_mapped_out_of_order_gives_the_same_rows() -> None:
    rules = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))
    history = history_from_records(generate_history(300, np.random.default_rng(5)), rules)
    periods = calendar_periods(PeriodKind.QUARTER, dt.date(2024, 7, 1), dt.date(2025, 12, 31))
    seen: list[object] = []

    def backwards(fn: Any, shared: Any, parts: Sequence[Any]) -> list[Any]:
        seen.extend(parts)
        return [fn(shared, p) for p in reversed(parts)][::-1]

    mapped = backtest(history, rules, periods, ["region"], map_partitions=backwards)
    assert mapped == backtest(history, rules, periods, ["region"])
    assert seen == sorted(periods, key=lambda p: p.start)  # one period per partition
    assert len(mapped.rows) > len(periods)
