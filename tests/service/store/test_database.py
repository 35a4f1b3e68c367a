"""Opening a database, on both backends: versioned migrations applied once and recorded, a
database newer than the code refused, an unreachable server named without its password."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine.errors import FailedPreconditionError
from service.store.database import (
    SQLITE_PAGE_SIZE_BYTES,
    WRITER_CHECKPOINT_PAGES,
    Database,
    SqliteDatabase,
    StoreUnavailableError,
    _Checkpointer,
    _WriterQueue,
    migrations,
    open_database,
    redact,
)
from tests.conftest import ROOT

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def applied(db: Database) -> list[tuple[int, str]]:
    rows = db.connection().execute("SELECT version, name FROM schema_migrations ORDER BY version")
    return [(int(v), str(n)) for v, n in rows]


def test_migrations_apply_once_and_are_recorded(db: Database, db_url: str) -> None:
    expected = [(m.version, m.name) for m in migrations(db.dialect)]
    assert expected and expected[0] == (1, "initial")
    assert applied(db) == expected
    again = open_database(db_url)
    try:
        assert again.migrate() == []  # nothing pending: nothing applied twice
        assert applied(again) == expected
    finally:
        again.close()


def test_both_backends_have_the_same_migrations() -> None:
    names = {d: [(m.version, m.name) for m in migrations(d)] for d in ("sqlite", "postgresql")}
    assert names["sqlite"] == names["postgresql"]


def test_a_database_newer_than_the_code_is_refused(db: Database, db_url: str) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (999, "future", "t"))
    with pytest.raises(FailedPreconditionError, match="upgrade the service"):
        open_database(db_url).close()


def schema_1_file(path: Path, *statements: str) -> Path:
    """A SQLite store file with the first migration's schema, then ``statements``."""
    conn = sqlite3.connect(path)
    conn.executescript(migrations("sqlite")[0].sql)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


def test_a_new_file_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    def page_size(path: Path) -> int:
        db = open_database(str(path))
        try:
            db.connection().execute("SELECT COUNT(*) FROM deal_events").fetchone()
            return int(db.connection().execute("PRAGMA page_size").fetchone()[0])
        finally:
            db.close()

    assert page_size(tmp_path / "new.sqlite3") == SQLITE_PAGE_SIZE_BYTES == 16_384
    old = schema_1_file(tmp_path / "old.sqlite3")  # made with SQLite's default pages
    assert page_size(old) == 4096
    assert page_size(old) == 4096  # opening it again changes nothing


def test_a_file_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    # A store file made before schema_migrations existed already holds the tables.
    path = schema_1_file(tmp_path / "old.sqlite3",
                         "INSERT INTO payments VALUES ('p', 'rs', 'd', '2026-01-01', 1, 'CNY', "
                         "'PAYMENT', 't')")  # fmt: skip
    db = open_database(str(path))
    try:
        assert applied(db) == [(1, "initial"), (2, "leaner_ledger_indexes")]
        assert db.connection().execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 1
    finally:
        db.close()


def test_a_ledger_from_schema_1_reads_the_same_after_the_index_migration(tmp_path: Path) -> None:
    from engine.credit.ledger import DealEvent, EventKind, LedgerLine
    from service.store.ledger import LedgerStore, head_texts, line_rows, time_text

    path = schema_1_file(
        tmp_path / "v1.sqlite3",
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)",
        "INSERT INTO schema_migrations VALUES (1, 'initial', 't')",
    )
    t = [NOW + dt.timedelta(days=d) for d in (3, 1, 2)]  # lines out of time order
    lines = [LedgerLine("d-1", f"e-{k}", when, "revenue", person, 100 * (k + 1), 10 * (k + 1),
                        "CNY", False, "default", 1)
             for k, (when, person) in enumerate(zip(t, ("a", "b", "a"), strict=True))]  # fmt: skip
    events = [DealEvent(f"e-{k}", "d-1", when, EventKind.STAGE_CHANGED, {"stage": "won"}, k + 1)
              for k, when in enumerate(t)]  # fmt: skip
    old = LedgerStore(open_database(str(path), migrate=False))
    with old.batch() as tx:
        tx.insert_events([(e, "default", "hash", '{"stage":"won"}') for e in events], NOW)
        tx.insert_line_rows(line_rows(lines, NOW))
        tx.put_head_rows([("d-1", "default", time_text(t[0]), 3, *head_texts({"id": "d-1"}, {}))])

    def read(store: LedgerStore) -> list[Any]:
        with store.batch() as tx:
            of_deal = tx.events_of("d-1")
        return [store.lines(person="a"), store.lines(deal_id="d-1", until=t[2]), of_deal,
                store.events("default"), store.deal_states("default"), store.last_seq()]  # fmt: skip

    before = read(old)
    old.db.close()
    db = open_database(str(path))
    try:
        assert [v for v, _ in applied(db)] == [1, 2]
        after = LedgerStore(db)
        assert read(after) == before
        assert [r.event_id for r in before[0]] == ["e-0", "e-2"]  # in line order
        assert [r.event_id for r in before[1]] == ["e-1", "e-2"]
        assert [e.event_id for e in before[2]] == ["e-1", "e-2", "e-0"]  # in time order
        with pytest.raises(sqlite3.DatabaseError, match="append-only"), after.batch() as tx:
            tx.conn.execute("DELETE FROM credit_ledger")
        with pytest.raises(sqlite3.DatabaseError, match="immutable"), after.batch() as tx:
            tx.conn.execute("UPDATE deal_events SET kind = 'won'")
    finally:
        db.close()


def test_an_unreachable_server_is_named_without_its_password() -> None:
    url = "postgresql://quotient:s3cret@127.0.0.1:1/quotient"
    with pytest.raises(StoreUnavailableError) as err:
        open_database(url)
    assert "127.0.0.1:1" in err.value.message and "s3cret" not in err.value.message
    assert redact(url) == "postgresql://quotient:***@127.0.0.1:1/quotient"
    with pytest.raises(FailedPreconditionError, match="scheme"):
        open_database("mysql://localhost/q")


def test_the_server_refuses_to_start_without_its_database(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--address", "127.0.0.1:0",
         "--database-url", "postgresql://q:pw@127.0.0.1:1/q"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "QUOTIENT_AUTH": "off"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot connect to the database at postgresql://q:***@127.0.0.1:1/q" in proc.stderr


def test_the_migrate_command(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    flag = ["--database-url", db_url] if "://" in db_url else ["--db", db_url]
    assert main(["migrate", *flag]) == 0
    assert "schema version 0 -> 2 (applied 1, 2)" in capsys.readouterr().out
    assert main(["migrate", *flag]) == 0
    assert "schema version 2 -> 2 (up to date)" in capsys.readouterr().out


def test_a_connection_lost_mid_transaction_writes_nothing(db: Database, db_url: str) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a lost server connection is PostgreSQL's")
    import psycopg

    from service.store.payments import Payment, PaymentStore

    payments = PaymentStore(db)
    p1 = Payment("p-1", "d-1", dt.date(2026, 4, 10), 100, "CNY", "PAYMENT")
    with pytest.raises(StoreUnavailableError, match="unavailable"), db.transaction() as conn:
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     ("p-0", "default", "d-0", "2026-04-01", 1, "CNY", "PAYMENT", "t"))  # fmt: skip
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(db_url, autocommit=True) as killer:  # the server drops us
            killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        conn.execute("SELECT 1")
    # Nothing of the broken transaction is there, and the same call again succeeds.
    assert db.connection().execute("SELECT COUNT(*) FROM payments").fetchone()[0] == 0
    assert payments.add("default", [p1], NOW) == (1, 0)
    assert payments.through("default", dt.date(2026, 12, 31)) == [p1]


PAYMENT = ("p-0", "default", "d-0", "2026-04-01", 1, "CNY", "PAYMENT", "t")


def payments_seen_by_another_connection(db_url: str) -> int:
    other = open_database(db_url, migrate=False)  # migrating would wait for the open write
    try:
        return int(other.connection().execute("SELECT COUNT(*) FROM payments").fetchone()[0])
    finally:
        other.close()


def test_commit_while_commits_and_returns_what_the_work_returned(db: Database, db_url: str) -> None:
    ran: list[str] = []
    with db.transaction() as conn:
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        assert payments_seen_by_another_connection(db_url) == 0  # not committed yet
        assert db.commit_while(conn, lambda: ran.append("reply") or "reply") == "reply"
        assert ran == ["reply"]
        assert payments_seen_by_another_connection(db_url) == 1  # committed inside the block
    assert payments_seen_by_another_connection(db_url) == 1  # and not twice, nor undone


def test_work_failing_during_the_commit_leaves_the_transaction_committed(
    db: Database, db_url: str
) -> None:
    def fail() -> None:
        raise RuntimeError("the reply could not be built")

    with pytest.raises(RuntimeError, match="reply"), db.transaction() as conn:
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        db.commit_while(conn, fail)
    assert payments_seen_by_another_connection(db_url) == 1
    with db.transaction() as conn:  # the connection is usable again
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     ("p-1", *PAYMENT[1:]))  # fmt: skip
    assert payments_seen_by_another_connection(db_url) == 2


def test_a_commit_that_fails_raises_and_the_transaction_stores_nothing(
    db: Database, db_url: str
) -> None:
    with db.transaction() as conn:  # a constraint checked only at commit
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) "
                     "DEFERRABLE INITIALLY DEFERRED)")  # fmt: skip
    ran: list[str] = []
    with pytest.raises(Exception, match=r"(?i)foreign key"), db.transaction() as conn:
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        conn.execute("INSERT INTO child VALUES (?)", (7,))  # no parent 7
        db.commit_while(conn, lambda: ran.append("reply"))
    assert payments_seen_by_another_connection(db_url) == 0
    if db.dialect == "sqlite":
        assert ran == ["reply"]  # it ran meanwhile; the caller throws it away
    with db.transaction() as conn:  # the failed transaction is gone: writing works again
        conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
    assert payments_seen_by_another_connection(db_url) == 1


def checkpointer_threads() -> int:
    return sum(t.name == "sqlite-checkpoint" for t in threading.enumerate())


def payments_in_the_file_alone(path: Path) -> int:
    """Payments in the database file itself, its log (WAL) ignored: 0 while even the table is
    only in the log, or while a checkpoint is halfway through copying (an immutable reader
    takes no locks)."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0])
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()


def test_sqlite_copies_its_log_into_the_file_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    before = checkpointer_threads()
    db = open_database(str(path))
    try:
        writer = db.connection()
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WRITER_CHECKPOINT_PAGES
        with db.transaction() as conn:
            conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        assert checkpointer_threads() == before + 1
        deadline = time.monotonic() + 30
        while payments_in_the_file_alone(path) == 0:
            assert time.monotonic() < deadline, "the log was not copied into the file"
            time.sleep(0.05)
    finally:
        db.close()
    assert checkpointer_threads() == before  # closing stops it


def test_without_background_checkpoints_sqlite_keeps_its_own(tmp_path: Path) -> None:
    before = checkpointer_threads()
    db = SqliteDatabase(tmp_path / "q.sqlite3", background_checkpoints=False)
    try:
        assert db.connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        with db.transaction() as conn:
            conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)", PAYMENT)
        assert checkpointer_threads() == before
        assert payments_seen_by_another_connection(str(tmp_path / "q.sqlite3")) == 1
    finally:
        db.close()


def test_a_close_that_lands_just_before_a_checkpoint_still_stops_the_thread(
    tmp_path: Path,
) -> None:
    """``close`` sets "closing" and wakes the thread. If it lands after the thread woke for a
    commit but before it cleared that wake-up, the clear swallows the close's: the thread must
    still see "closing" instead of waiting forever (a test-suite hang showed it)."""
    path = tmp_path / "q.sqlite3"
    sqlite3.connect(path).close()

    class CloseBeforeClear(threading.Event):
        def clear(self) -> None:
            checkpointer._closing.set()  # what close() does, at the worst moment
            self.set()
            super().clear()

    # Built as __init__ builds it, with the wake-up event that lets close() land there.
    checkpointer = _Checkpointer.__new__(_Checkpointer)
    checkpointer._path = path
    checkpointer._wake = CloseBeforeClear()
    checkpointer._closing = threading.Event()
    checkpointer._thread = threading.Thread(target=checkpointer._run, daemon=True)
    checkpointer._thread.start()
    checkpointer.wake()  # a commit wakes the thread
    checkpointer._thread.join(timeout=10)
    stuck = checkpointer._thread.is_alive()
    checkpointer._wake.set()  # lets a stuck thread go, so the suite does not hang
    checkpointer._thread.join(timeout=10)
    assert not stuck, "the checkpoint thread missed the close and waits forever"


def test_writers_of_one_process_take_the_write_lock_in_the_order_they_came(
    tmp_path: Path,
) -> None:
    """Writers polling SQLite's lock side by side took it in no order (one call waited 0.84 s
    for a lock held 1-3 ms at a time); queued, each writer gets its turn after the ones that
    came before it."""
    db = SqliteDatabase(tmp_path / "q.sqlite3")
    order: list[int] = []

    def write(k: int) -> None:
        with db.transaction() as conn:
            order.append(k)
            conn.execute("SELECT 1").fetchall()

    try:
        threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
        with db.transaction():  # holds the lock while the others line up
            for k, thread in enumerate(threads):
                thread.start()
                while len(db._writers._waiting) < k + 1:  # k in line before k + 1 comes
                    time.sleep(0.001)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        db.close()
    assert order == list(range(6))


def test_a_writer_that_waits_too_long_is_told_to_retry_and_leaves_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.store.database.WRITE_WAIT_S", 0.05)
    db = SqliteDatabase(tmp_path / "q.sqlite3")
    failed: list[Exception] = []

    def write() -> None:
        try:
            with db.transaction():
                pass
        except StoreUnavailableError as exc:
            failed.append(exc)

    try:
        with db.transaction():
            thread = threading.Thread(target=write)
            thread.start()
            thread.join(timeout=30)
            assert not db._writers._waiting  # it left the line
            assert db._writers._owner == threading.get_ident()  # and took nobody's turn
        with db.transaction() as conn:  # and the lock is free again afterwards
            conn.execute("SELECT 1").fetchall()
    finally:
        db.close()
    assert len(failed) == 1
    assert failed[0].reason == "STORE_UNAVAILABLE"
    assert "retry later" in failed[0].message


def test_a_writer_of_another_process_holding_the_lock_too_long_means_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.store.database.WRITE_WAIT_S", 0.05)
    db = SqliteDatabase(tmp_path / "q.sqlite3")
    other = sqlite3.connect(tmp_path / "q.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError), db.transaction():
            pass
        other.execute("ROLLBACK")
        with db.transaction() as conn:  # the line was left too
            conn.execute("SELECT 1").fetchall()
    finally:
        other.close()
        db.close()


def test_the_writer_queue_hands_the_turn_over_and_refuses_a_second_entry() -> None:
    queue = _WriterQueue()
    assert queue.enter(1.0)
    with pytest.raises(RuntimeError, match="already holds"):
        queue.enter(1.0)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(queue.enter(30.0)))
    waiter.start()
    while not queue._waiting:
        time.sleep(0.001)
    queue.leave()  # handed to the waiter, never free in between
    waiter.join(timeout=30)
    assert got == [True]
    assert queue._owner == waiter.ident
    assert not queue.enter(0.01)  # the waiter holds it now
    assert not queue._waiting


def test_a_turn_handed_over_just_as_the_wait_times_out_is_kept() -> None:
    """The writer ahead leaves at the moment the wait gives up: the waiter owns the lock then,
    and must say so, or nobody would ever release it."""
    queue = _WriterQueue()
    queue._owner = -1  # another thread's turn

    class LeaveAsTheWaitTimesOut:
        def __init__(self) -> None:
            self.lock = threading.Lock()

        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            if timeout == -1:
                return self.lock.acquire()
            queue.leave()  # as the writer ahead would, from its thread
            return False

        def release(self) -> None:
            self.lock.release()

    queue._new_turn = LeaveAsTheWaitTimesOut  # type: ignore[assignment]
    assert queue.enter(0.01)
    assert queue._owner == threading.get_ident()
    assert not queue._waiting
    queue.leave()
    assert queue._owner is None


def test_upserts_of_many_rows_twice_in_one_transaction(db: Database) -> None:
    # PostgreSQL copies such rows through a temporary table: the second call writes its own.
    upsert = ("INSERT INTO deal_heads (deal_id, rule_set, last_time, last_seq, state, credits) "
              "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (deal_id) DO UPDATE SET "
              "last_seq = excluded.last_seq, state = excluded.state")  # fmt: skip
    with db.transaction() as conn:
        conn.executemany(upsert, [("d-1", "default", "t", 1, "{}", "[]"),
                                  ("d-2", "default", "t", 2, "{}", "[]")])  # fmt: skip
        conn.executemany(upsert, [("d-1", "default", "t", 3, '{"a":1}', "[]")])
    rows = db.connection().execute(
        "SELECT deal_id, last_seq, state FROM deal_heads ORDER BY deal_id"
    )
    assert [tuple(r) for r in rows] == [("d-1", 3, '{"a":1}'), ("d-2", 2, "{}")]


def test_a_snapshot_reads_the_store_as_it_was_at_its_first_read(db: Database) -> None:
    def add(payment_id: str) -> None:
        with db.transaction() as conn:
            conn.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (payment_id, "default", "d-0", "2026-04-01", 1, "CNY", "PAYMENT", "t"))  # fmt: skip

    count = "SELECT COUNT(*) FROM payments"
    add("p-1")
    with db.snapshot() as snap:
        assert snap.execute(count).fetchone()[0] == 1
        writer = threading.Thread(target=add, args=("p-2",))  # its own connection
        writer.start()
        writer.join()
        assert snap.execute(count).fetchone()[0] == 1  # not the write committed meanwhile
    assert db.connection().execute(count).fetchone()[0] == 2
    with db.snapshot() as snap, pytest.raises(Exception, match=r"read-only|readonly"):
        snap.execute("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     ("p-3", "default", "d-0", "2026-04-01", 1, "CNY", "PAYMENT", "t"))  # fmt: skip
    add("p-3")  # and the connection writes again afterwards
