"""Commission runs in the store (SQLite or PostgreSQL): immutable snapshots keyed by the caller's
run key.

A run row records its inputs (rule set, revision, period, as-of date, the hashes of the credit
data and of all inputs) and its results as canonical JSON, so the same inputs always give the
same bytes. Rows refuse UPDATE and DELETE: re-running a period is a new run under a new key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.errors import NotFoundError
from service.store.database import Database

_COLUMNS = (
    "run_key, rule_set, revision, period, first_date, last_date, as_of_date, inputs_sha256, "
    "credit_sha256, result, result_sha256, created_at"
)


@dataclass(frozen=True)
class StoredRun:
    run_key: str
    rule_set: str
    revision: int
    period: str
    first_date: str
    last_date: str
    as_of_date: str
    inputs_sha256: str
    credit_sha256: str
    result: str
    result_sha256: str
    created_at: dt.datetime


def _run(row: tuple[object, ...]) -> StoredRun:
    values = list(row)
    values[2] = int(str(values[2]))
    values[11] = dt.datetime.fromisoformat(str(values[11]))
    return StoredRun(*values)  # type: ignore[arg-type]


class RunStore:
    """Commission runs in the shared database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, run: StoredRun) -> tuple[StoredRun, bool]:
        """Store ``run`` and return it with True; if its key is taken, return the run stored
        under it, with False."""
        with self.db.transaction() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM commission_runs WHERE run_key = ?", (run.run_key,)
            ).fetchone()
            if row is not None:
                return _run(row), False
            conn.execute(
                f"INSERT INTO commission_runs ({_COLUMNS}) VALUES ({','.join('?' * 12)})",
                (run.run_key, run.rule_set, run.revision, run.period, run.first_date,
                 run.last_date, run.as_of_date, run.inputs_sha256, run.credit_sha256,
                 run.result, run.result_sha256, run.created_at.isoformat()),
            )  # fmt: skip
        return run, True

    def get(self, run_key: str) -> StoredRun:
        row = (
            self.db.connection()
            .execute(f"SELECT {_COLUMNS} FROM commission_runs WHERE run_key = ?", (run_key,))
            .fetchone()
        )
        if row is None:
            raise NotFoundError(f"no commission run {run_key!r}", reason="RUN_NOT_FOUND")
        return _run(row)

    def latest_before(self, rule_set: str, first_date: str) -> StoredRun | None:
        """The run that opens a period starting on ``first_date``: the latest stored run of the
        rule set for a period that ended before it (the latest period, then the latest run)."""
        row = (
            self.db.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM commission_runs WHERE rule_set = ? AND last_date < ? "
                "ORDER BY last_date DESC, created_at DESC, run_key DESC LIMIT 1",
                (rule_set, first_date),
            )
            .fetchone()
        )
        return None if row is None else _run(row)


__all__ = ["RunStore", "StoredRun"]
