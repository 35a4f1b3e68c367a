"""API keys and the audit log in the store (SQLite or PostgreSQL).

A key is shown once, when created: ``qk_<key id>_<secret>``. The store keeps the key id, its name,
its roles and the SHA-256 of the secret (the secret is 32 random bytes, so a plain hash is as
strong as a slow one), never the secret. A revoked key stays listed with its revocation time.

The audit log is append-only: who (key id and name) did what (the method), to what (a rule set and
revision, a model, a run key), when, and whether it was allowed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from engine.errors import InvalidArgumentError, NotFoundError
from service.access import Role
from service.store.database import Database

PREFIX = "qk_"


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    roles: frozenset[Role]
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    key_id: str
    key_name: str
    action: str
    target: str
    outcome: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles by name; an unknown one is INVALID_ARGUMENT."""
    out = set()
    for name in names:
        try:
            out.add(Role(name.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidArgumentError(f"unknown role {name!r} (known: {known})",
                                       reason="UNKNOWN_ROLE") from None  # fmt: skip
    if not out:
        raise InvalidArgumentError("give at least one role", reason="NO_ROLE")
    return frozenset(out)


class KeyStore:
    """API keys and the audit log in the shared database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, roles: frozenset[Role], now: dt.datetime) -> tuple[ApiKey, str]:
        """A new key and its token (shown once)."""
        if not name.strip():
            raise InvalidArgumentError("name the key (who or what will use it)",
                                       reason="NO_KEY_NAME")  # fmt: skip
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        text = ",".join(sorted(r.value for r in roles))
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                         (key_id, name, text, _digest(secret), now.isoformat()))  # fmt: skip
        return ApiKey(key_id, name, roles, now.isoformat(), None), f"{PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str, now: dt.datetime) -> ApiKey:
        with self.db.transaction() as conn:
            updated = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (now.isoformat(), key_id),
            ).rowcount
        key = self.get(key_id)
        if key is None:
            raise NotFoundError(f"no key {key_id!r}", reason="KEY_NOT_FOUND")
        if not updated and key.revoked_at is None:  # pragma: no cover (raced)
            raise NotFoundError(f"no key {key_id!r}", reason="KEY_NOT_FOUND")
        return key

    def get(self, key_id: str) -> ApiKey | None:
        row = (
            self.db.connection()
            .execute(
                "SELECT key_id, name, roles, created_at, revoked_at FROM api_keys WHERE key_id = ?",
                (key_id,),
            )
            .fetchone()
        )
        return None if row is None else _key(row)

    def list(self) -> list[ApiKey]:
        rows = self.db.connection().execute(
            "SELECT key_id, name, roles, created_at, revoked_at FROM api_keys "
            "ORDER BY created_at, key_id"
        )
        return [_key(r) for r in rows]

    def count(self) -> int:
        return int(self.db.connection().execute("SELECT COUNT(*) FROM api_keys").fetchone()[0])

    def verify(self, token: str) -> ApiKey | None:
        """The live key a token belongs to, or None (malformed, unknown, wrong or revoked)."""
        if not token.startswith(PREFIX):
            return None
        key_id, sep, secret = token[len(PREFIX) :].partition("_")
        if not sep or not key_id or not secret:
            return None
        row = (
            self.db.connection()
            .execute(
                "SELECT key_id, name, roles, created_at, revoked_at, secret_sha256 FROM api_keys "
                "WHERE key_id = ?",
                (key_id,),
            )
            .fetchone()
        )
        if row is None or not hmac.compare_digest(row[5], _digest(secret)):
            return None
        key = _key(row[:5])
        return None if key.revoked_at is not None else key

    def audit(self, at: dt.datetime, key_id: str, key_name: str, action: str, target: str,
              outcome: str) -> None:  # fmt: skip
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit_log (at, key_id, key_name, action, target, outcome) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at.isoformat(), key_id, key_name, action, target, outcome),
            )

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        rows = self.db.connection().execute(
            "SELECT seq, at, key_id, key_name, action, target, outcome FROM audit_log "
            "ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*r) for r in rows][::-1]


@functools.lru_cache(maxsize=1024)
def _key(row: tuple[object, ...]) -> ApiKey:
    """The key a stored row describes; cached by the row itself (every call verifies a key, and
    a revoked key's row differs from its live one)."""
    key_id, name, roles, created, revoked = row
    return ApiKey(str(key_id), str(name), frozenset(Role(r) for r in str(roles).split(",") if r),
                  str(created), None if revoked is None else str(revoked))  # fmt: skip


__all__ = ["PREFIX", "ApiKey", "AuditEntry", "KeyStore", "parse_roles"]
