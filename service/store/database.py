"""The database the stores share: the embedded SQLite file, or a PostgreSQL server, by URL.

Every store (revisions, ledger, runs, payments, keys, models) speaks to a :class:`Database` through
two calls and one SQL dialect: ``connection()`` for reads that see the latest committed data, and
``transaction()`` for writes, which run one at a time across every process sharing the database
(SQLite's write lock; on PostgreSQL a transaction-level advisory lock), so a check-then-insert
(the next revision number, an event already recorded) can never race another writer, even in
another service instance. Statements are written once with ``?`` placeholders and portable SQL
(``INSERT ... ON CONFLICT``); the PostgreSQL adapter turns the placeholders into psycopg's.

Schemas are versioned migrations per backend (``service/store/migrations/<dialect>/NNNN_*.sql``),
applied in order at open (or by ``quotient migrate``) and recorded in ``schema_migrations``; a
database newer than this code is refused rather than written to.

A lost PostgreSQL connection raises :class:`StoreUnavailableError` (UNAVAILABLE to the caller):
the write transaction is rolled back whole, so the call is safe to retry.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from engine.errors import FailedPreconditionError, UnavailableError

MIGRATIONS = Path(__file__).parent / "migrations"

#: How long a writer waits for the write lock before the call fails.
WRITE_WAIT_S = 30.0

#: The page size of a new SQLite file. A batch of a thousand deal events dirties pages all over
#: the events, ledger and heads tables and their indexes; with 16 KiB pages instead of SQLite's
#: 4 KiB, committing and checkpointing it took a third of the writes and a quarter of the reads
#: (system calls counted with strace), and recording was about a tenth faster. A file keeps the
#: page size it was made with: in WAL mode not even VACUUM changes it.
SQLITE_PAGE_SIZE_BYTES = 16_384

_T = TypeVar("_T")
log = logging.getLogger(__name__)

#: Log pages past which a writer copies the SQLite log back into the file itself, in its own
#: commit. Normally the background checkpointer (:class:`_Checkpointer`) has done so long before:
#: this is a bound on the log should it fall behind.
WRITER_CHECKPOINT_PAGES = 8192

#: The least time between two background checkpoints. Each one syncs the log and the file to
#: disk; checkpointing after every commit made those syncs crowd the commits' own.
CHECKPOINT_INTERVAL_S = 0.25

#: The advisory lock every PostgreSQL write transaction holds (one writer at a time, as SQLite).
_WRITE_LOCK = 0x51554F54  # "QUOT"


class StoreUnavailableError(UnavailableError):
    """The database cannot be reached (down, or the connection was lost): retry later."""

    reason = "STORE_UNAVAILABLE"


class Cursor(Protocol):
    """What a statement returns: its rows, and how many rows it changed."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection as the stores use it (``sqlite3.Connection`` is one)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Any: ...


class Database(Protocol):
    """A database the stores share (see the module)."""

    dialect: str
    url: str

    def connection(self) -> Connection:
        """For reads: each statement sees the latest committed data."""
        ...

    def transaction(self) -> Any:
        """A context manager: a write transaction, committed on success, rolled back on error."""
        ...

    def snapshot(self) -> Any:
        """A context manager: a read-only transaction, whose statements all see the data as
        committed when its first one ran. It takes no write lock: work read from it may be
        done outside :meth:`transaction` and checked there."""
        ...

    def commit_while(self, conn: Any, work: Callable[[], _T]) -> _T:
        """Commit the write transaction ``conn`` (from :meth:`transaction`, before its block
        ends) while ``work`` runs in this thread, and return what ``work`` returned once both
        are done. A failed commit raises, whatever ``work`` did: the block then rolls back."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: str) -> list[Migration]:
    """The migrations of a backend, in version order."""
    out = []
    for path in sorted((MIGRATIONS / dialect).glob("*.sql")):
        number, _, name = path.stem.partition("_")
        out.append(Migration(int(number), name, path.read_text(encoding="utf-8")))
    return out


def _too_new(applied: int, known: int, url: str) -> FailedPreconditionError:
    return FailedPreconditionError(
        f"the database at {url} has schema version {applied}, newer than this service's "
        f"{known}: upgrade the service", reason="SCHEMA_TOO_NEW")  # fmt: skip


def _write_lock_timeout(path: Path) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"the write lock of {path} was not free within {WRITE_WAIT_S:g} s: other writers hold "
        "it; nothing was written, retry later"
    )


class _WriterQueue:
    """The writers of one process, let into SQLite's write lock one at a time in the order
    they came.

    Writers polling SQLite's lock side by side take it in no order: whichever looks first after
    it is freed. Under eight concurrent callers of RecordDealEvents a call waited up to 0.84 s
    (p99 0.20 s) for a lock held 1-3 ms at a time. Queued here, each is handed the turn by the
    one before it, so only writers of other processes still poll.
    """

    _new_turn = threading.Lock  # what a waiter waits on; released to hand it the turn

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None  # the thread whose turn it is
        self._waiting: deque[tuple[int, Any]] = deque()

    def enter(self, timeout_s: float) -> bool:
        """Wait for this thread's turn; False if it did not come within ``timeout_s``."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner is None:
                self._owner = me
                return True
            if self._owner == me:  # as SQLite refuses a transaction within a transaction
                raise RuntimeError("this thread already holds the write lock")
            turn = self._new_turn()
            turn.acquire()
            self._waiting.append((me, turn))
        if turn.acquire(timeout=timeout_s):
            return True
        with self._mutex:
            if self._owner == me:  # handed the turn just as the wait timed out
                return True
            self._waiting.remove((me, turn))
        return False

    def leave(self) -> None:
        """End this thread's turn and hand it to the writer waiting longest, if any."""
        with self._mutex:
            if self._waiting:
                self._owner, turn = self._waiting.popleft()
                turn.release()
            else:
                self._owner = None


def _begin_immediate(conn: sqlite3.Connection, path: Path, deadline: float) -> None:
    """Take SQLite's write lock by ``deadline`` (monotonic), polling every half millisecond
    while a writer of another process holds it.

    SQLite's own busy handler sleeps in steps that grow to 100 ms, so under steady concurrent
    writes a few calls waited most of a second while the lock was free again within
    milliseconds; polling keeps the wait close to the holder's transaction time.
    """
    delay = 0.0005
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise _write_lock_timeout(path) from exc
                time.sleep(delay)
                delay = min(delay * 1.5, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(WRITE_WAIT_S * 1000)}")


class _Checkpointer:
    """Copies the SQLite log (WAL) back into the database file on a thread of its own, after
    commits, so no write call pays for it.

    Left to SQLite, the commit that takes the log past 1,000 pages does it itself: with batches
    of a thousand deal events, one commit in 17 to 36 took 15-35 ms instead of about 3
    (``bench.commits``). A passive checkpoint runs beside readers and writers alike. It runs at
    most every :data:`CHECKPOINT_INTERVAL_S`, for the commits made since the last one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA synchronous = FULL")  # the file is synced after copying
            last = -CHECKPOINT_INTERVAL_S
            while True:
                self._wake.wait()
                if self._closing.is_set():
                    return
                pause = last + CHECKPOINT_INTERVAL_S - time.monotonic()
                if pause > 0 and self._closing.wait(pause):  # closed meanwhile
                    return
                self._wake.clear()  # commits from here on wait for the next checkpoint
                if self._closing.is_set():  # closed since the wait: the clear took its wake-up
                    return
                last = time.monotonic()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next commit tries again
                    log.warning("checkpointing %s failed: %s", self._path, exc)
        finally:
            conn.close()

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join()


class SqliteDatabase:
    """One SQLite file in WAL mode; a connection per thread (``":memory:"`` is not supported).

    ``background_checkpoints=False`` leaves copying the log into the file to SQLite, inline in
    the commit that takes the log past 1,000 pages (``bench.commits`` compares the two)."""

    dialect = "sqlite"

    def __init__(
        self, path: str | Path, *, migrate: bool = True, background_checkpoints: bool = True
    ) -> None:
        self.path = Path(path)
        self.background_checkpoints = background_checkpoints
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._committer: ThreadPoolExecutor | None = None
        self._checkpointer: _Checkpointer | None = None
        self._writers = _WriterQueue()
        if migrate:
            self.migrate()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=WRITE_WAIT_S
            )
            # Reads and commits wait in SQLite's busy handler; the write lock is polled for in
            # _begin_immediate.
            conn.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE_BYTES}")  # a new file only
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            if self.background_checkpoints:
                conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        return self._conn()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        deadline = time.monotonic() + WRITE_WAIT_S
        if not self._writers.enter(WRITE_WAIT_S):
            raise _write_lock_timeout(self.path)
        try:
            _begin_immediate(conn, self.path, deadline)
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # not after a commit_while whose work failed
                    conn.execute("ROLLBACK")
                raise
            if conn.in_transaction:  # not committed by commit_while
                conn.execute("COMMIT")
                self._committed()
        finally:
            self._writers.leave()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """See :meth:`Database.snapshot`: a deferred transaction (SQLite's read snapshot in WAL
        mode, taken by its first read) on a connection that refuses writes meanwhile."""
        conn = self._conn()
        if conn.in_transaction:  # as SQLite refuses a transaction within a transaction
            raise RuntimeError("this thread already has a transaction open")
        conn.execute("PRAGMA query_only = ON")
        try:
            conn.execute("BEGIN DEFERRED")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")
        finally:
            conn.execute("PRAGMA query_only = OFF")

    def _committed(self) -> None:
        """After a write: have the log copied back into the file, in the background."""
        if not self.background_checkpoints:
            return
        checkpointer = self._checkpointer
        if checkpointer is None:
            with self._lock:
                if self._checkpointer is None:
                    self._checkpointer = _Checkpointer(self.path)
                checkpointer = self._checkpointer
        checkpointer.wake()

    def commit_while(self, conn: sqlite3.Connection, work: Callable[[], _T]) -> _T:
        """See :meth:`Database.commit_while`. The commit runs on a thread of its own: SQLite
        writes the transaction's pages to the log and waits for the disk without holding the
        interpreter, so ``work`` (say, building a reply) costs no time of its own. One thread
        does: only one write transaction is open on the file at a time."""
        with self._lock:
            if self._committer is None:
                self._committer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-commit")
            committer = self._committer
        commit = committer.submit(conn.execute, "COMMIT")
        try:
            out = work()
        finally:
            commit.result()  # the commit's error, if any, is the one the caller sees
        self._committed()
        return out

    def schema_version(self) -> int:
        conn = self._conn()
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at TEXT NOT NULL)")  # fmt: skip
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        return int(row[0])

    def migrate(self) -> list[int]:
        """Apply the pending migrations, each in one transaction; return their versions."""
        todo = migrations(self.dialect)
        applied = self.schema_version()
        if todo and applied > todo[-1].version:
            raise _too_new(applied, todo[-1].version, self.url)
        done = []
        for m in todo:
            if m.version <= applied:
                continue
            conn = self._conn()
            # executescript commits what is pending, then runs the script as given, leaving
            # its transaction open: the migration and its record commit together.
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{m.sql}")
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                             (m.version, m.name, dt.datetime.now(dt.UTC).isoformat()))  # fmt: skip
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            done.append(m.version)
        return done

    def close(self) -> None:
        with self._lock:
            if self._committer is not None:
                self._committer.shutdown()
                self._committer = None
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


#: An INSERT of one row of placeholders: its table, column list and what follows VALUES.
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*(\([\w\s,]*\))?\s*VALUES\s*\([?,\s]*\)(.*)$",
                     re.IGNORECASE | re.DOTALL)  # fmt: skip


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """A statement with ``?`` placeholders in psycopg's form (no literal ``%`` or ``?`` in ours)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Rows:
    """A read's rows, fetched before its connection went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _PgTransaction:
    """A PostgreSQL connection inside a write transaction, speaking the stores' SQL."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        return self._conn.execute(_pg_sql(sql), tuple(parameters) or None)

    def commit(self) -> None:
        """Commit now (the pool's block then finds nothing to commit)."""
        self._conn.commit()

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]]) -> Any:
        """Many rows of an INSERT through COPY (one stream, not a statement per row); with an
        ``ON CONFLICT`` clause, copied into a temporary table first and inserted from it (so the
        rows of one call must not repeat a key the clause names)."""
        rows = [tuple(p) for p in seq_of_parameters]
        cur = self._conn.cursor()
        found = _INSERT.match(sql)
        if found is None or not rows:
            cur.executemany(_pg_sql(sql), rows)
            return cur
        table, columns, tail = found.group(1), found.group(2) or "", found.group(3).strip()
        target = table
        if tail:
            target = f"quotient_load_{table}"
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE {table}) "
                        "ON COMMIT DELETE ROWS")  # fmt: skip
        with cur.copy(f"COPY {target} {columns} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if tail:
            names = columns.strip("()") if columns else "*"
            cur.execute(f"INSERT INTO {table} {columns} SELECT {names} FROM {target} {tail}")
            cur.execute(f"DELETE FROM {target}")  # for the next call in this transaction
        return cur


class _PgReader:
    """Reads through the pool: each statement borrows a connection and returns it at once."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Rows:
        with self._db._borrow() as conn:
            cur = conn.execute(_pg_sql(sql), tuple(parameters) or None)
            rows = cur.fetchall() if cur.description is not None else []
            return _Rows(rows, cur.rowcount)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]]) -> _Rows:
        raise TypeError("writes go through transaction()")


def redact(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase:
    """A PostgreSQL server through a psycopg connection pool."""

    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 16,
                 connect_timeout_s: float = 10.0, migrate: bool = True) -> None:  # fmt: skip
        import psycopg
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = redact(url)
        timeout = max(1, int(connect_timeout_s))
        try:  # one connection first: a refused or unknown server fails now, with its reason
            psycopg.connect(url, connect_timeout=timeout).close()
        except psycopg.Error as exc:
            raise StoreUnavailableError(
                f"cannot connect to the database at {self.url}: {exc}") from exc  # fmt: skip
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                   kwargs={"connect_timeout": timeout},
                                   name="quotient")  # fmt: skip
        try:
            self.pool.open(wait=True, timeout=connect_timeout_s)
        except Exception as exc:  # the pool's own timeout, or a refused connection
            self.pool.close()
            raise StoreUnavailableError(
                f"cannot connect to the database at {self.url}: {exc}") from exc  # fmt: skip
        if migrate:
            self.migrate()

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        """A pooled connection; a lost connection or server is StoreUnavailableError."""
        psycopg = self._psycopg
        try:
            with self.pool.connection(timeout=WRITE_WAIT_S) as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreUnavailableError(
                f"the database at {self.url} is unavailable: {exc}"
            ) from exc
        except Exception as exc:
            if type(exc).__name__ == "PoolTimeout":
                raise StoreUnavailableError(
                    f"no connection to the database at {self.url}: {exc}") from exc  # fmt: skip
            raise

    def connection(self) -> _PgReader:
        return _PgReader(self)

    @contextmanager
    def transaction(self) -> Iterator[_PgTransaction]:
        # The pool commits when the block ends cleanly and rolls back on an exception.
        with self._borrow() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            yield _PgTransaction(conn)

    @contextmanager
    def snapshot(self) -> Iterator[_PgTransaction]:
        """See :meth:`Database.snapshot`: a read-only, repeatable-read transaction."""
        with self._borrow() as conn:
            try:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _PgTransaction(conn)
            finally:
                conn.rollback()

    def commit_while(self, conn: _PgTransaction, work: Callable[[], _T]) -> _T:
        """See :meth:`Database.commit_while`: here the commit, then the work (the commit is one
        round trip to the server)."""
        conn.commit()
        return work()

    def schema_version(self) -> int:
        with self._borrow() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                         "KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")  # fmt: skip
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        return int(row[0])

    def migrate(self) -> list[int]:
        """Apply the pending migrations, each in one transaction under the write lock (two
        instances starting at once apply each migration once)."""
        todo = migrations(self.dialect)
        done = []
        with self._borrow() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_WRITE_LOCK,))
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                             "PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")  # fmt: skip
                conn.commit()
                row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                applied = int(row.fetchone()[0])
                conn.commit()  # each migration below is a transaction of its own
                if todo and applied > todo[-1].version:
                    raise _too_new(applied, todo[-1].version, self.url)
                for m in todo:
                    if m.version <= applied:
                        continue
                    with conn.transaction():
                        conn.execute(m.sql.encode())  # several statements, no parameters
                        conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                                     (m.version, m.name, dt.datetime.now(dt.UTC).isoformat()))  # fmt: skip
                    done.append(m.version)
            finally:
                conn.rollback()
                conn.execute("SELECT pg_advisory_unlock(%s)", (_WRITE_LOCK,))
                conn.commit()
        return done

    def close(self) -> None:
        self.pool.close()


def open_database(url: str, *, migrate: bool = True) -> SqliteDatabase | PostgresDatabase:
    """The database a URL names: ``postgresql://...`` (or ``postgres://``), ``sqlite:///PATH``,
    or a plain path to a SQLite file."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url, migrate=migrate)
    if scheme == "sqlite":
        return SqliteDatabase(re.sub(r"^sqlite:///", "", url, flags=re.I), migrate=migrate)
    if scheme:
        raise FailedPreconditionError(f"unknown database URL scheme {scheme!r}: use "
                                      "postgresql://... or sqlite:///PATH",
                                      reason="BAD_DATABASE_URL")  # fmt: skip
    return SqliteDatabase(url, migrate=migrate)


__all__ = [
    "Connection",
    "Cursor",
    "Database",
    "Migration",
    "PostgresDatabase",
    "SqliteDatabase",
    "StoreUnavailableError",
    "migrations",
    "open_database",
    "redact",
]
