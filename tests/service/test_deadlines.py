"""Work done in parts stops between parts once the caller's deadline has passed."""

from __future__ import annotations

import pytest

from engine.errors import DeadlineExceededError
from service.deadlines import checked_map, deadline_after


def test_parts_run_in_order_while_there_is_time() -> None:
    run = checked_map("during the test")
    with deadline_after(None):
        assert run(lambda shared, p: shared + p, 10, [1, 2, 3]) == [11, 12, 13]
    with deadline_after(3600.0):
        assert run(lambda shared, p: shared * p, 2, [1, 2]) == [2, 4]


def test_no_part_starts_after_the_deadline() -> None:
    done: list[int] = []

    def part(shared: None, p: int) -> int:
        done.append(p)
        return p

    with deadline_after(-1.0), pytest.raises(DeadlineExceededError) as err:
        checked_map("during the backtest")(part, None, [1, 2, 3])
    assert done == []
    assert "during the backtest" in err.value.message
