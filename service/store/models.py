"""Win-probability models in the store (SQLite or PostgreSQL): versioned per rule set,
append-only.

Each row holds a model's skops bytes and its card as JSON. Versions count up per rule set inside
one write transaction, so two trainings never get the same number; rows refuse UPDATE and DELETE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.errors import NotFoundError
from service.store.database import Database


@dataclass(frozen=True)
class StoredModel:
    rule_set: str
    version: int
    created_at: dt.datetime
    card_json: str
    artifact: bytes


class ModelStore:
    """Model versions in the shared database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, rule_set: str, card_json: str, data_sha256: str, artifact: bytes, now: dt.datetime
    ) -> int:
        """Store a model as the rule set's next version; return the version."""
        with self.db.transaction() as conn:
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
                self.db.connection()
                .execute(sql + "WHERE rule_set = ? AND version = ?", (rule_set, version))
                .fetchone()
            )
        else:
            row = (
                self.db.connection()
                .execute(sql + "WHERE rule_set = ? ORDER BY version DESC LIMIT 1", (rule_set,))
                .fetchone()
            )
        if row is None:
            which = f"version {version}" if version else "any model"
            raise NotFoundError(f"rule set {rule_set!r} has no {which}", reason="MODEL_NOT_FOUND")
        return StoredModel(row[0], int(row[1]), dt.datetime.fromisoformat(row[2]), row[3],
                           bytes(row[4]))  # fmt: skip


__all__ = ["ModelStore", "StoredModel"]
