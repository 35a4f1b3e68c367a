"""Rule-set revisions, on both backends: numbered and immutable, optimistic concurrency, as-of
resolution."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from engine.errors import ConflictError, NotFoundError
from service.store.database import Database, open_database
from service.store.revisions import RevisionStore

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def publish(store: RevisionStore, expected: int, effective: str, content: str = "x") -> int:
    return store.create_revision(
        name="default",
        expected_revision=expected,
        effective_from=dt.date.fromisoformat(effective),
        content=content,
        content_hash="h",
        compiler_version=1,
        now=NOW,
    ).revision


@pytest.fixture
def store(db: Database) -> RevisionStore:
    return RevisionStore(db)


def test_revisions_are_numbered_and_resolved(store: RevisionStore) -> None:
    assert publish(store, 0, "2026-01-01", "a") == 1
    assert publish(store, 1, "2027-01-01", "b") == 2
    assert publish(store, 2, "2026-06-01", "c") == 3
    assert store.latest_revision("default").content == "c"
    assert store.get_revision("default", 2).content == "b"
    assert store.revision_as_of("default", dt.date(2026, 3, 1)).revision == 1
    assert store.revision_as_of("default", dt.date(2026, 7, 1)).revision == 3
    assert store.revision_as_of("default", dt.date(2027, 1, 1)).revision == 3
    with pytest.raises(NotFoundError):
        store.revision_as_of("default", dt.date(2025, 12, 31))
    with pytest.raises(NotFoundError):
        store.latest_revision("nope")
    page = store.list_revisions("default", limit=2, before_revision=None)
    assert [r.revision for r in page] == [3, 2]
    assert [r.revision for r in store.list_revisions("default", limit=2, before_revision=2)] == [1]


def test_a_stale_expected_revision_is_refused(store: RevisionStore) -> None:
    publish(store, 0, "2026-01-01")
    with pytest.raises(ConflictError) as err:
        publish(store, 0, "2026-01-01")
    assert err.value.reason == "REVISION_CONFLICT"
    assert store.latest_revision("default").revision == 1


def test_revisions_cannot_be_edited(store: RevisionStore, db: Database) -> None:
    publish(store, 0, "2026-01-01")
    for sql in ("UPDATE rule_set_revisions SET content = 'evil'", "DELETE FROM rule_set_revisions"):
        with pytest.raises(Exception, match="immutable"), db.transaction() as conn:
            conn.execute(sql)
    assert store.latest_revision("default").content == "x"


def test_concurrent_publishers_never_both_win(store: RevisionStore) -> None:
    wins: list[int] = []
    losses: list[str] = []

    def attempt() -> None:
        try:
            wins.append(publish(store, 0, "2026-01-01"))
        except ConflictError as exc:
            losses.append(exc.reason)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins == [1]
    assert losses == ["REVISION_CONFLICT"] * 7


def test_two_instances_never_give_two_revisions_one_number(db_url: str) -> None:
    instances = [open_database(db_url), open_database(db_url)]
    try:
        stores = [RevisionStore(d) for d in instances]
        numbers: list[int] = []

        def publish_many(store: RevisionStore) -> None:
            for _ in range(10):  # read the latest, publish the next; retry when beaten to it
                while True:
                    current = store.latest_revision("default").revision if numbers else 0
                    try:
                        numbers.append(publish(store, current, "2026-01-01"))
                        break
                    except (ConflictError, NotFoundError):
                        continue

        threads = [threading.Thread(target=publish_many, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(numbers) == list(range(1, 21))
        listed = stores[0].list_revisions("default", limit=100, before_revision=None)
        assert [r.revision for r in listed] == list(range(20, 0, -1))
    finally:
        for d in instances:
            d.close()
