"""The deal-event store and credit ledger, on both backends: batches are atomic and idempotent,
late events append corrections, rows refuse edits, and reads come back in one order."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine.credit.ledger import DealEvent, EventKind
from engine.errors import AlreadyExistsError, FailedPreconditionError
from service.config import SAMPLE_RULE_SET
from service.credit_ledger import CreditLedger, RecordResult
from service.repository import RuleSetRepository
from service.store.database import Database, open_database
from service.store.ledger import LedgerBatch, LedgerStore
from service.store.revisions import RevisionStore

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
TEAM = [{"person": "li.wei", "ratio": "0.7"}, {"person": "zhang.min", "ratio": "0.3"}]


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def created(deal_id: str, minutes: int = 0, amount: int = 100_000_000) -> DealEvent:
    changes = {"amount_minor": amount, "currency": "CNY", "stage": "initial_contact",
               "owner": "li.wei", "team": TEAM}  # fmt: skip
    return DealEvent(f"{deal_id}-c", deal_id, at(minutes), EventKind.CREATED, changes)


def credit_ledger(db: Database) -> CreditLedger:
    repository = RuleSetRepository(RevisionStore(db), lambda: NOW, 8)
    try:
        repository.record("default")
    except Exception:
        repository.publish(SAMPLE_RULE_SET.read_text(encoding="utf-8"), expected_revision=0)
    return CreditLedger(LedgerStore(db), repository, lambda: NOW)


def lines(ledger: LedgerStore, deal_id: str) -> list[tuple[Any, ...]]:
    return [(ln.event_id, ln.person, ln.credit_delta_minor, ln.weighted_delta_minor,
             ln.correction) for ln in ledger.lines(deal_id=deal_id)]  # fmt: skip


def test_events_in_order_late_and_repeated(db: Database) -> None:
    credits = credit_ledger(db)
    store = credits.ledger
    first = credits.record("default", [created("d1"), DealEvent(
        "d1-w", "d1", at(30), EventKind.STAGE_CHANGED, {"stage": "won"})])  # fmt: skip
    assert (first.recorded, first.duplicates) == (2, 0)
    # 1,000,000.00 split 70/30: 10 % at initial contact, then won.
    assert lines(store, "d1") == [
        ("d1-c", "li.wei", 70_000_000, 7_000_000, False),
        ("d1-c", "zhang.min", 30_000_000, 3_000_000, False),
        ("d1-w", "li.wei", 0, 63_000_000, False),
        ("d1-w", "zhang.min", 0, 27_000_000, False),
    ]
    # The same batch again: nothing new.
    again = credits.record("default", [created("d1")])
    assert (again.recorded, again.duplicates, again.lines) == (0, 1, [])
    # A late event (before the win): the deal replays and corrections are appended.
    before = lines(store, "d1")
    late = DealEvent("d1-a", "d1", at(10), EventKind.AMOUNT_CHANGED, {"amount_minor": 200_000_000})
    credits.record("default", [late])
    rows = lines(store, "d1")
    assert rows[: len(before)] == before and len(rows) > len(before)  # appended, nothing edited
    total = {p: sum(r[2] for r in rows if r[1] == p) for p in ("li.wei", "zhang.min")}
    assert total == {"li.wei": 140_000_000, "zhang.min": 60_000_000}
    assert any(r[4] for r in rows)  # corrections are marked
    assert [e.event_id for e in store.events("default")] == ["d1-c", "d1-a", "d1-w"]
    assert store.last_seq() == 3
    assert store.credit_totals("default", at(60)) == [
        ("d1", "revenue", "li.wei", "CNY", 140_000_000),
        ("d1", "revenue", "zhang.min", "CNY", 60_000_000),
    ]
    (state,) = store.deal_states("default")
    assert (state["stage"], state["amount_minor"]) == ("won", 200_000_000)


def test_a_reply_built_while_the_batch_commits_sees_the_batch(db: Database) -> None:
    credits = credit_ledger(db)
    seen: list[RecordResult] = []
    result = credits.record("default", [created("d1"), created("d2")], while_committing=seen.append)
    assert (result.recorded, result.duplicates, len(result.lines)) == (2, 0, 4)
    assert seen == [result]  # once, with the batch's result
    assert credits.ledger.last_seq() == 2  # and the batch is stored
    assert lines(credits.ledger, "d2") == [
        ("d2-c", "li.wei", 70_000_000, 7_000_000, False),
        ("d2-c", "zhang.min", 30_000_000, 3_000_000, False),
    ]
    again = credits.record("default", [created("d1")], while_committing=seen.append)
    assert seen[1] == again and (again.recorded, again.duplicates, again.lines) == (0, 1, [])


def test_a_bad_batch_stores_nothing(db: Database) -> None:
    credits = credit_ledger(db)
    credits.record("default", [created("d1")])
    reused = DealEvent("d1-c", "d1", at(0), EventKind.CREATED, {"amount_minor": 5})
    with pytest.raises(AlreadyExistsError):
        credits.record("default", [created("d2"), reused])
    assert [e.deal_id for e in credits.ledger.events("default")] == ["d1"]
    assert credits.ledger.lines(deal_id="d2") == []


def test_ledger_rows_refuse_edits(db: Database) -> None:
    credit_ledger(db).record("default", [created("d1")])
    for sql, word in (("UPDATE credit_ledger SET credit_delta_minor = 0", "append-only"),
                      ("DELETE FROM credit_ledger", "append-only"),
                      ("UPDATE deal_events SET kind = 'won'", "immutable"),
                      ("DELETE FROM deal_events", "immutable")):  # fmt: skip
        with pytest.raises(Exception, match=word), db.transaction() as conn:
            conn.execute(sql)
    assert len(LedgerStore(db).lines(deal_id="d1")) == 2


def test_two_instances_on_one_database_apply_each_event_once(db_url: str) -> None:
    # Two service instances (each its own connections) record overlapping batches at once,
    # each batch twice: every event is applied once and the ledger equals one instance's.
    first, second = open_database(db_url), open_database(db_url)
    try:
        ledgers = [credit_ledger(first), credit_ledger(second)]
        batches = [[created(f"d{b}-{i}", minutes=b, amount=1_000_000 + i) for i in range(20)]
                   for b in range(10)]  # fmt: skip
        errors: list[BaseException] = []

        def send(which: int) -> None:
            try:
                for batch in batches if which == 0 else batches[::-1]:
                    ledgers[which].record("default", batch)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=send, args=(w,)) for w in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        store = LedgerStore(first)
        assert len(store.events("default")) == 200
        assert store.last_seq() == 200
        totals = store.credit_totals("default", at(60))
        assert len(totals) == 400
        # A full split credits each deal's whole amount, once.
        assert sum(t[4] for t in totals) == 10 * sum(1_000_000 + i for i in range(20))
    finally:
        first.close()
        second.close()


class _Overlaps(LedgerStore):
    """A ledger store that counts how many batches are being worked out at once (a read
    snapshot open), holding each snapshot a little while."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.open = 0
        self.most = 0
        self._count = threading.Lock()

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        with self._count:
            self.open += 1
            self.most = max(self.most, self.open)
        try:
            with super().snapshot() as reads:
                time.sleep(0.05)  # lets the interpreter go, as a batch's reads do
                yield reads
        finally:
            with self._count:
                self.open -= 1


def test_batches_given_to_one_ledger_at_once_take_turns(db: Database) -> None:
    base = credit_ledger(db)
    store = _Overlaps(db)
    ledger = CreditLedger(store, base.repository, lambda: NOW)
    errors: list[BaseException] = []

    def send(b: int) -> None:
        try:
            ledger.record("default", [created(f"t{b}-{i}", minutes=i) for i in range(5)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(b,)) for b in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.most == 1  # never two batches of one ledger at once
    assert len(store.events("default")) == 20


# --- a batch worked out from a snapshot, then checked under the write lock ----------------------


class _Meanwhile(LedgerStore):
    """A ledger store that runs ``meanwhile`` once: after a batch was worked out from its
    snapshot, before the batch takes the write lock (where another writer could come first)."""

    def __init__(self, db: Database, meanwhile: Callable[[], object]) -> None:
        super().__init__(db)
        self.meanwhile: Callable[[], object] | None = meanwhile

    @contextmanager
    def batch(self) -> Iterator[LedgerBatch]:
        run, self.meanwhile = self.meanwhile, None
        if run is not None:
            run()
        with super().batch() as tx:
            yield tx


def _dump(db: Database) -> tuple[list[Any], ...]:
    """Everything the ledger holds, in a comparable form (no recording times)."""
    conn = db.connection()
    events = conn.execute(
        "SELECT seq, event_id, deal_id, event_time, kind, changes, payload_hash FROM deal_events "
        "ORDER BY seq"
    ).fetchall()
    lines = conn.execute(
        "SELECT line_id, deal_id, event_id, event_time, split, person, credit_delta_minor, "
        "weighted_delta_minor, currency, correction, rule_set, revision FROM credit_ledger "
        "ORDER BY line_id"
    ).fetchall()
    heads = conn.execute(
        "SELECT deal_id, rule_set, last_time, last_seq, state, credits FROM deal_heads "
        "ORDER BY deal_id"
    ).fetchall()
    return [tuple(r) for r in events], [tuple(r) for r in lines], [tuple(r) for r in heads]


def _stage(deal_id: str, minutes: int, stage: str, suffix: str = "") -> DealEvent:
    return DealEvent(f"{deal_id}-{stage}{suffix}", deal_id, at(minutes), EventKind.STAGE_CHANGED,
                     {"stage": stage})  # fmt: skip


#: (what is stored first, what another writer stores meanwhile, the batch, times worked out)
_INTERLEAVINGS = {
    # Other deals only: the batch is renumbered after them, worked out once.
    "other deals": ([created("d1")], [created("d2"), _stage("d2", 5, "quote")],
                    [_stage("d1", 10, "quote"), created("d3")], 1),
    # An in-order event of one of the batch's deals: the head it read is stale.
    "the deal moved on": ([created("d1")], [_stage("d1", 5, "quote")],
                          [_stage("d1", 10, "won"), created("d3")], 2),
    # A late event of the batch's deal: its lines and head were replayed meanwhile.
    "a late event": ([created("d1"), _stage("d1", 20, "quote")],
                     [DealEvent("d1-a", "d1", at(10), EventKind.AMOUNT_CHANGED,
                                {"amount_minor": 300_000_000})],
                     [_stage("d1", 30, "won")], 2),
    # One of the batch's events, the same payload: a duplicate, not stored twice.
    "the same event": ([created("d1")], [_stage("d1", 10, "quote")],
                       [_stage("d1", 10, "quote"), created("d3")], 2),
    # Refused as read (no deal d3 yet), accepted as it stands under the lock.
    "created meanwhile": ([created("d1")], [created("d3")], [_stage("d3", 10, "quote")], 2),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(_INTERLEAVINGS))
def test_a_batch_worked_out_before_the_lock_equals_one_recorded_after(
    db: Database, tmp_path: Path, case: str
) -> None:
    first, other, batch, times = _INTERLEAVINGS[case]
    # The reference: the same batches recorded one after the other, nothing in between.
    reference = open_database(str(tmp_path / "reference.sqlite3"))
    try:
        serial = credit_ledger(reference)
        for events in (first, other, batch):
            serial.record("default", events)
        expected = _dump(reference)
    finally:
        reference.close()
    credits = credit_ledger(db)
    credits.record("default", first)
    writer = credit_ledger(db)
    credits.ledger = _Meanwhile(db, lambda: writer.record("default", other))
    priced = []
    work_out = credits._price

    def counted(*args: Any) -> Any:
        priced.append(args[0])
        return work_out(*args)

    credits._price = counted  # type: ignore[method-assign]
    result = credits.record("default", batch)
    assert len(priced) == times  # once from the snapshot, again under the lock if it changed
    assert _dump(db) == expected
    assert result.recorded == len(batch) - (case == "the same event")


def test_an_event_id_taken_meanwhile_with_another_payload_refuses_the_batch(db: Database) -> None:
    credits = credit_ledger(db)
    credits.record("default", [created("d1")])
    writer = credit_ledger(db)
    taken = DealEvent("e-7", "d2", at(5), EventKind.CREATED, created("d2").changes)
    mine = DealEvent("e-7", "d1", at(10), EventKind.STAGE_CHANGED, {"stage": "won"})  # other deal
    credits.ledger = _Meanwhile(db, lambda: writer.record("default", [taken]))
    with pytest.raises(AlreadyExistsError):
        credits.record("default", [created("d3"), mine])
    assert [e.event_id for e in LedgerStore(db).events("default")] == ["d1-c", "e-7"]


# --- heads kept in memory (service.head_cache) ---------------------------------------------------


def test_a_head_kept_by_one_instance_is_not_used_after_another_moved_the_deal(
    db: Database, tmp_path: Path
) -> None:
    batches = [[created("d1"), created("d2")], [_stage("d1", 5, "quote")],
               [_stage("d1", 10, "won"), _stage("d2", 10, "quote")]]  # fmt: skip
    reference = open_database(str(tmp_path / "reference.sqlite3"))
    try:
        serial = credit_ledger(reference)
        for events in batches:
            serial.record("default", events)
        expected = _dump(reference)
    finally:
        reference.close()
    first, second = credit_ledger(db), credit_ledger(db)
    first.record("default", batches[0])  # first keeps the heads of d1 and d2
    assert len(first._heads) == 2
    second.record("default", batches[1])  # d1 moves on where first does not see it
    first.record("default", batches[2])  # must continue d1 from quote, not initial contact
    assert _dump(db) == expected
    # The won line of d1 is the step from quote (50 %) to won: 1,000,000.00 x 70 % x 50 %.
    won = [ln for ln in first.ledger.lines(deal_id="d1") if ln.event_id == "d1-won"]
    assert {(ln.person, ln.weighted_delta_minor) for ln in won} == {
        ("li.wei", 35_000_000), ("zhang.min", 15_000_000)}  # fmt: skip


def test_a_refused_batch_leaves_the_kept_heads_as_they_were(db: Database) -> None:
    credits = credit_ledger(db)
    credits.record("default", [created("d1")])
    bad = DealEvent("x-1", "nowhere", at(7), EventKind.STAGE_CHANGED, {"stage": "won"})
    with pytest.raises(FailedPreconditionError):
        credits.record("default", [_stage("d1", 5, "won"), bad])
    credits.record("default", [_stage("d1", 10, "quote")])
    # From initial contact (10 %) to quote (50 %), as if the refused batch had never been sent.
    step = [ln for ln in credits.ledger.lines(deal_id="d1") if ln.event_id == "d1-quote"]
    assert {(ln.person, ln.weighted_delta_minor) for ln in step} == {
        ("li.wei", 28_000_000), ("zhang.min", 12_000_000)}  # fmt: skip


def test_heads_kept_in_memory_give_the_ledger_a_store_read_gives(
    db: Database, tmp_path: Path
) -> None:
    # Many in-order events of a few deals, through one ledger that keeps heads and one that
    # keeps none (every head read back from the store): the same rows.
    events = [created(f"d{i}", minutes=i) for i in range(4)]
    stages = ["needs_confirmed", "quote", "contract_drafted", "won"]
    moves = [[_stage(f"d{i}", 10 * k + i, stage) for i in range(4)] for k, stage in
             enumerate(stages, start=1)]  # fmt: skip
    other = open_database(str(tmp_path / "no-cache.sqlite3"))
    try:
        uncached = credit_ledger(other)
        uncached._heads.max_deals = 0
        for batch in ([events[:2]], [events[2:]], moves):
            for b in batch:
                uncached.record("default", b)
        expected = _dump(other)
        assert len(uncached._heads) == 0
    finally:
        other.close()
    cached = credit_ledger(db)
    for batch in ([events[:2]], [events[2:]], moves):
        for b in batch:
            cached.record("default", b)
    assert len(cached._heads) == 4
    assert _dump(db) == expected
