"""The embedded store: one SQLite file in WAL mode, safe for the server's worker threads.

Each thread gets its own connection. Writes run in ``BEGIN IMMEDIATE`` transactions so the
check-then-insert of a new revision cannot race another writer, and triggers refuse any UPDATE or
DELETE of a revision row: history is append-only by construction, not by convention.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import ConflictError, NotFoundError
from service.store.port import RevisionRecord

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rule_set_revisions (
    name             TEXT    NOT NULL,
    revision         INTEGER NOT NULL CHECK (revision >= 1),
    effective_from   TEXT    NOT NULL,
    content          TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    compiler_version INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    PRIMARY KEY (name, revision)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rule_set_revisions_effective
    ON rule_set_revisions (name, effective_from, revision);
CREATE TRIGGER IF NOT EXISTS rule_set_revisions_no_update
    BEFORE UPDATE ON rule_set_revisions
    BEGIN SELECT RAISE(ABORT, 'rule-set revisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS rule_set_revisions_no_delete
    BEFORE DELETE ON rule_set_revisions
    BEGIN SELECT RAISE(ABORT, 'rule-set revisions are immutable'); END;
"""

_COLUMNS = "name, revision, effective_from, content, content_hash, compiler_version, created_at"


def _record(row: tuple[object, ...]) -> RevisionRecord:
    name, revision, eff, content, chash, cver, created = row
    return RevisionRecord(
        name=str(name),
        revision=int(revision),  # type: ignore[call-overload]
        effective_from=dt.date.fromisoformat(str(eff)),
        content=str(content),
        content_hash=str(chash),
        compiler_version=int(cver),  # type: ignore[call-overload]
        created_at=dt.datetime.fromisoformat(str(created)),
    )


#: How long a writer waits for the write lock before the call fails.
WRITE_WAIT_S = 30.0


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, polling every half millisecond while another writer holds it.

    SQLite's own busy handler sleeps in steps that grow to 100 ms, so under steady concurrent
    writes a few calls waited most of a second while the lock was free again within
    milliseconds; polling keeps the wait close to the holder's transaction time.
    """
    deadline = time.monotonic() + WRITE_WAIT_S
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
                    raise
                time.sleep(delay)
                delay = min(delay * 1.5, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(WRITE_WAIT_S * 1000)}")


class SqliteStore:
    """Rule-set revisions in a SQLite file (``":memory:"`` is not supported: use a temp file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            # Reads and commits wait in SQLite's busy handler; the write lock is polled for in
            # _begin_immediate.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: reads see the latest committed data)."""
        return self._conn()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
        with self._write() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        _begin_immediate(conn)
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _current(self, conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute(
            "SELECT MAX(revision) FROM rule_set_revisions WHERE name = ?", (name,)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def create_revision(
        self,
        *,
        name: str,
        expected_revision: int,
        effective_from: dt.date,
        content: str,
        content_hash: str,
        compiler_version: int,
        now: dt.datetime,
    ) -> RevisionRecord:
        with self._write() as conn:
            current = self._current(conn, name)
            if current != expected_revision:
                raise ConflictError(
                    f"rule set {name!r} is at revision {current}, not {expected_revision}: "
                    "read the latest revision and publish again",
                    reason="REVISION_CONFLICT",
                )
            record = RevisionRecord(
                name, current + 1, effective_from, content, content_hash, compiler_version, now
            )
            conn.execute(
                f"INSERT INTO rule_set_revisions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    record.revision,
                    effective_from.isoformat(),
                    content,
                    content_hash,
                    compiler_version,
                    now.isoformat(),
                ),
            )
        return record

    def _one(self, sql: str, args: tuple[object, ...], missing: str) -> RevisionRecord:
        row = self._conn().execute(sql, args).fetchone()
        if row is None:
            raise NotFoundError(missing, reason="RULE_SET_NOT_FOUND")
        return _record(row)

    def get_revision(self, name: str, revision: int) -> RevisionRecord:
        return self._one(
            f"SELECT {_COLUMNS} FROM rule_set_revisions WHERE name = ? AND revision = ?",
            (name, revision),
            f"rule set {name!r} has no revision {revision}",
        )

    def latest_revision(self, name: str) -> RevisionRecord:
        return self._one(
            f"SELECT {_COLUMNS} FROM rule_set_revisions WHERE name = ? "
            "ORDER BY revision DESC LIMIT 1",
            (name,),
            f"rule set {name!r} does not exist",
        )

    def revision_as_of(self, name: str, date: dt.date) -> RevisionRecord:
        return self._one(
            f"SELECT {_COLUMNS} FROM rule_set_revisions WHERE name = ? AND effective_from <= ? "
            "ORDER BY revision DESC LIMIT 1",
            (name, date.isoformat()),
            f"rule set {name!r} has no revision in force on {date.isoformat()}",
        )

    def list_revisions(
        self, name: str, *, limit: int, before_revision: int | None
    ) -> list[RevisionRecord]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_COLUMNS} FROM rule_set_revisions WHERE name = ? AND revision < ? "
                "ORDER BY revision DESC LIMIT ?",
                (name, before_revision if before_revision is not None else 2**62, limit),
            )
            .fetchall()
        )
        return [_record(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


__all__ = ["SCHEMA_VERSION", "SqliteStore"]
