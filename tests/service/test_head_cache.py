"""The deal heads a recording instance keeps: forgotten when another writer records an event of
their deal, current up to the arrival number last seen, bounded in number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from engine.credit.ledger import Credits, DealEvent, EventKind, State
from service.head_cache import HeadCache
from service.store.ledger import DealHead

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def head(deal_id: str, seq: int) -> tuple[str, DealEvent, State, Credits]:
    """A batch's new head of ``deal_id``, its last event numbered ``seq``."""
    last = DealEvent(f"e{seq}", deal_id, T0, EventKind.STAGE_CHANGED, {"stage": "quote"}, seq)
    return deal_id, last, {"id": deal_id, "stage": "quote"}, {("revenue", "li.wei"): (100, 50)}


class Reads:
    """The one read the cache makes: ``(event_id, deal_id)`` of events numbered from ``seq``."""

    def __init__(self, events: Sequence[tuple[int, str]]) -> None:
        self.events = events
        self.asked: list[int] = []

    def recorded_since(self, seq: int) -> list[tuple[str, str]]:
        self.asked.append(seq)
        return [(f"e{s}", d) for s, d in self.events if s >= seq]


def test_other_writers_events_make_their_deals_forgotten() -> None:
    cache = HeadCache(10)
    cache.stored("default", [head("d1", 1), head("d2", 2), head("d3", 3)], next_seq=4)
    assert cache.current_to == 4
    # Another instance recorded events 4 and 5 of d2 and of a deal not kept.
    reads = Reads([(1, "d1"), (2, "d2"), (3, "d3"), (4, "d2"), (5, "d9")])
    cache.catch_up(reads, next_seq=6)  # type: ignore[arg-type]
    assert reads.asked == [4]
    found, missing = cache.get(["d1", "d2", "d3", "d4"])
    assert sorted(found) == ["d1", "d3"] and missing == ["d2", "d4"]
    assert cache.current_to == 6
    cache.catch_up(reads, next_seq=6)  # type: ignore[arg-type]  # nothing new: no read
    assert reads.asked == [4]


def test_events_read_already_are_used_when_they_start_where_the_cache_is_current() -> None:
    cache = HeadCache(10)
    cache.stored("default", [head("d1", 1), head("d2", 2)], next_seq=3)
    reads = Reads([])
    cache.catch_up(reads, 5, read=(3, [("e3", "d1")]))  # type: ignore[arg-type]
    assert reads.asked == [] and cache.get(["d1", "d2"])[1] == ["d1"]
    # Read from elsewhere: not trusted, the cache reads for itself.
    reads = Reads([(5, "d2")])
    cache.catch_up(reads, 6, read=(4, []))  # type: ignore[arg-type]
    assert reads.asked == [5] and cache.get(["d2"])[1] == ["d2"]


def test_too_far_behind_it_starts_again_and_an_empty_cache_reads_nothing() -> None:
    cache = HeadCache(2)
    cache.stored("default", [head("d1", 1)], next_seq=2)
    reads = Reads([])
    cache.catch_up(reads, 10, None)  # type: ignore[arg-type]  # 8 events > 2 heads: forget all
    assert len(cache) == 0 and reads.asked == [] and cache.current_to == 10
    cache.catch_up(reads, 20, None)  # type: ignore[arg-type]
    assert reads.asked == [] and cache.current_to == 20


def test_the_longest_unused_heads_go_first() -> None:
    cache = HeadCache(3)
    cache.stored("default", [head("d1", 1), head("d2", 2), head("d3", 3)], next_seq=4)
    cache.stored("default", [head("d1", 4)], next_seq=5)  # d1 used again
    cache.stored("default", [head("d4", 5)], next_seq=6)
    found, missing = cache.get(["d1", "d2", "d3", "d4"])
    assert sorted(found) == ["d1", "d3", "d4"] and missing == ["d2"]
    assert found["d1"] == DealHead("d1", "default", T0, 4, {"id": "d1", "stage": "quote"},
                                   {("revenue", "li.wei"): (100, 50)})  # fmt: skip
    assert HeadCache(0).get(["d1"]) == ({}, ["d1"])
    none = HeadCache(0)
    none.stored("default", [head("d1", 1)], next_seq=2)
    assert len(none) == 0 and none.current_to == 2
