"""API keys and the audit log in the store (SQLite or PostgreSQL).

A key is shown once, when created: ``qk_<key id>_<secret>``. The store keeps the key id, its name,
its roles and the SHA-256 of the secret (the secret is 32 random bytes, so a plain hash is as
strong as a slow one), never the secret. A revoked key stays listed with its revocation time.

A verified key is trusted for :data:`VERIFIED_TTL_S` seconds without asking the store again, so a
CRM's per-deal calls do not each read the database (a read per call cost a unary call about a
third of its throughput). A revocation made in this process (through any :class:`KeyStore` of the
same database object) takes effect at once; one made by another process (``quotient keys
revoke``), within that time. Unknown and revoked tokens are never remembered.

The audit log is append-only: who (key id and name) did what (the method), to what (a rule set and
revision, a model, a run key), when, and whether it was allowed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.errors import InvalidArgumentError, NotFoundError
from service.access import Role
from service.store.database import Database

PREFIX = "qk_"

#: How long a verified key is trusted without reading the store again (see the module).
VERIFIED_TTL_S = 1.0


class _Verified:
    """Keys verified lately in one database: token -> (monotonic time verified, key). A
    revocation bumps ``generation``, so a read that began before it is not remembered."""

    MAX = 4096

    def __init__(self) -> None:
        self.keys: dict[str, tuple[float, ApiKey]] = {}
        self.generation = 0

    def forget(self) -> None:
        self.generation += 1
        self.keys.clear()


_VERIFIED: weakref.WeakKeyDictionary[Database, _Verified] = weakref.WeakKeyDictionary()
_VERIFIED_LOCK = threading.Lock()


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

    def __init__(
        self,
        db: Database,
        *,
        verified_ttl_s: float = VERIFIED_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self._ttl_s = verified_ttl_s
        self._monotonic = monotonic
        with _VERIFIED_LOCK:
            self._verified = _VERIFIED.setdefault(db, _Verified())

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
        self._verified.forget()
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
        """The live key a token belongs to, or None (malformed, unknown, wrong or revoked); a key
        verified less than ``verified_ttl_s`` ago is not read again (see the module)."""
        verified = self._verified
        now = self._monotonic()
        hit = verified.keys.get(token)
        if hit is not None and now - hit[0] < self._ttl_s:
            return hit[1]
        generation = verified.generation
        key = self._read(token)
        if key is not None and generation == verified.generation:
            if len(verified.keys) >= _Verified.MAX:
                verified.keys.clear()
            verified.keys[token] = (now, key)
        return key

    def _read(self, token: str) -> ApiKey | None:
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
