"""Rule-set revisions in the shared database: immutable, numbered per rule set from 1.

Creating a revision runs in a write transaction (one writer at a time across every process
sharing the database), so the check of the current number and the insert of the next cannot race
another publisher, in this service instance or another; the primary key (name, revision) refuses
a second row with one number in any case. Triggers refuse UPDATE and DELETE of a revision row:
history is append-only by construction, not by convention.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import ConflictError, NotFoundError
from service.store.database import Connection, Database
from service.store.port import RevisionRecord

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


class RevisionStore:
    """Rule-set revisions in the shared database (see :class:`service.store.port.RuleSetStore`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _conn(self) -> Connection:
        return self.db.connection()

    def _write(self) -> Any:
        return self.db.transaction()

    def _current(self, conn: Connection, name: str) -> int:
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
        self.db.close()


__all__ = ["RevisionStore"]
