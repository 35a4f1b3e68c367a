"""The repository: publish validates before storing; resolution follows the clock; compiled rule
sets are cached by (name, revision) and evicted least recently used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import InvalidArgumentError, NotFoundError, RuleSetInvalidError
from service.config import SAMPLE_RULE_SET
from service.repository import RuleSetRepository
from service.store.database import open_database
from service.store.revisions import RevisionStore

SAMPLE = SAMPLE_RULE_SET.read_text(encoding="utf-8")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def repo(tmp_path: Path, clock: Clock) -> Iterator[RuleSetRepository]:
    db = open_database(str(tmp_path / "q.sqlite3"))
    yield RuleSetRepository(RevisionStore(db), clock, cache_size=2)
    db.close()


def test_compiled_rule_sets_are_cached_and_evicted(repo: RuleSetRepository) -> None:
    repo.publish(SAMPLE, 0)
    repo.publish(SAMPLE.replace("win_rate: 0.10", "win_rate: 0.11"), 1)
    repo.publish(SAMPLE.replace("win_rate: 0.10", "win_rate: 0.12"), 2)
    _, first = repo.resolve("default", 3)
    assert repo.resolve("default", 3)[1] is first  # cached
    _, one = repo.resolve("default", 1)  # compiled again from the store: it was evicted
    assert int(one.stage_rate_ppm[0]) == 100_000
    assert repo.resolve("default", 1)[1] is one
    repo.resolve("default", 2)  # evicts revision 3, the least recently used
    assert repo.resolve("default", 3)[1] is not first


def test_resolution_follows_the_clock(repo: RuleSetRepository, clock: Clock) -> None:
    repo.publish(SAMPLE, 0)
    repo.publish(SAMPLE.replace("effective_from: 2026-01-01", "effective_from: 2027-01-01"), 1)
    assert repo.resolve("default")[0].revision == 1
    clock.now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert repo.resolve("default")[0].revision == 2
    assert repo.resolve("default", as_of=dt.date(2026, 6, 1))[0].revision == 1
    with pytest.raises(NotFoundError):
        repo.resolve("default", as_of=dt.date(2025, 1, 1))


def test_an_invalid_publish_stores_nothing(repo: RuleSetRepository) -> None:
    repo.publish(SAMPLE, 0)
    with pytest.raises(RuleSetInvalidError):
        repo.publish(SAMPLE.replace("win_rate: 0.10", "win_rate: 1.10"), 1)
    with pytest.raises(InvalidArgumentError):
        repo.publish(SAMPLE, -1)
    assert repo.record("default").revision == 1
    with pytest.raises(InvalidArgumentError):
        repo.record("")


def test_the_revision_in_force_is_remembered_briefly(tmp_path: Path, clock: Clock) -> None:
    store = RevisionStore(open_database(str(tmp_path / "q.sqlite3")))
    ticks = [0.0]
    repo = RuleSetRepository(store, clock, resolution_ttl_s=1.0, monotonic=lambda: ticks[0])
    other = RuleSetRepository(store, clock)  # another process publishing into the same store
    try:
        repo.publish(SAMPLE, 0)
        assert repo.resolve("default")[0].revision == 1
        other.publish(SAMPLE.replace("win_rate: 0.10", "win_rate: 0.11"), 1)
        assert repo.resolve("default")[0].revision == 1  # still remembered
        ticks[0] = 1.5
        assert repo.resolve("default")[0].revision == 2  # looked up again
        repo.publish(SAMPLE.replace("win_rate: 0.10", "win_rate: 0.12"), 2)
        assert repo.resolve("default")[0].revision == 3  # its own publish is seen at once
    finally:
        store.close()
