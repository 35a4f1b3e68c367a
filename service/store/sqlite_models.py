"""Win-probability models in the embedded SQLite store: versioned per rule set, append-only.

Each row holds a model's skops bytes and its card as JSON. Versions count up per rule set inside
one write transaction, so two trainings never get the same number; rows refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.errors import NotFoundError
from service.store.sqlite import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS win_rate_models (
    rule_set    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    data_sha256 TEXT    NOT NULL,
    card        TEXT    NOT NULL,
    artifact    BLOB    NOT NULL,
    PRIMARY KEY (rule_set, version)
);
CREATE TRIGGER IF NOT EXISTS win_rate_models_no_update BEFORE UPDATE ON win_rate_models
    BEGIN SELECT RAISE(ABORT, 'models are immutable'); END;
CREATE TRIGGER IF NOT EXISTS win_rate_models_no_delete BEFORE DELETE ON win_rate_models
    BEGIN SELECT RAISE(ABORT, 'models are immutable'); END;
"""


@dataclass(frozen=True)
class StoredModel:
    rule_set: str
    version: int
    created_at: dt.datetime
    card_json: str
    artifact: bytes


class SqliteModels:
    """Model versions in the store's SQLite file."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        store.connection().executescript(_SCHEMA)

    def add(
        self, rule_set: str, card_json: str, data_sha256: str, artifact: bytes, now: dt.datetime
    ) -> int:
        """Store a model as the rule set's next version; return the version."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM win_rate_models WHERE rule_set = ?",
                (rule_set,),
            ).fetchone()
            version = int(row[0]) + 1
            conn.execute(
                "INSERT INTO win_rate_models VALUES (?, ?, ?, ?, ?, ?)",
                (rule_set, version, now.isoformat(), data_sha256, card_json, artifact),
            )
        return version

    def get(self, rule_set: str, version: int | None = None) -> StoredModel:
        """A model version (the latest when ``version`` is None); NOT_FOUND when there is none."""
        sql = "SELECT rule_set, version, created_at, card, artifact FROM win_rate_models "
        if version:
            row = (
                self.store.connection()
                .execute(sql + "WHERE rule_set = ? AND version = ?", (rule_set, version))
                .fetchone()
            )
        else:
            row = (
                self.store.connection()
                .execute(sql + "WHERE rule_set = ? ORDER BY version DESC LIMIT 1", (rule_set,))
                .fetchone()
            )
        if row is None:
            which = f"version {version}" if version else "any model"
            raise NotFoundError(f"rule set {rule_set!r} has no {which}", reason="MODEL_NOT_FOUND")
        return StoredModel(row[0], int(row[1]), dt.datetime.fromisoformat(row[2]), row[3],
                           bytes(row[4]))  # fmt: skip


__all__ = ["SqliteModels", "StoredModel"]
