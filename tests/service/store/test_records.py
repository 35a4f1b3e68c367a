"""Commission runs, payments, API keys with the audit log, and win-rate models, on both backends:
keyed or numbered as documented, idempotent where they say so, and never edited."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import AlreadyExistsError, NotFoundError
from service.access import Role
from service.store.database import Database
from service.store.keys import KeyStore
from service.store.models import ModelStore
from service.store.payments import Payment, PaymentStore
from service.store.runs import RunStore, StoredRun

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def run(key: str, last: str, result: str = "{}", created: int = 0) -> StoredRun:
    return StoredRun(key, "default", 1, last[:7], last[:8] + "01", last, last, "i", "c", result,
                     "r", NOW + dt.timedelta(minutes=created))  # fmt: skip


def test_runs_are_kept_by_key_and_never_replaced(db: Database) -> None:
    runs = RunStore(db)
    stored, fresh = runs.add(run("march-1", "2026-03-31", '{"total": 1}'))
    assert fresh and stored.result == '{"total": 1}'
    again, fresh = runs.add(run("march-1", "2026-03-31", '{"total": 2}'))
    assert not fresh and again.result == '{"total": 1}'  # the first run under the key stays
    assert runs.get("march-1") == stored
    with pytest.raises(NotFoundError):
        runs.get("nope")
    runs.add(run("feb-1", "2026-02-28", created=1))
    runs.add(run("feb-2", "2026-02-28", created=2))
    opener = runs.latest_before("default", "2026-03-01")
    assert opener is not None and opener.run_key == "feb-2"
    assert runs.latest_before("default", "2026-02-01") is None
    with pytest.raises(Exception, match="immutable"), db.transaction() as conn:
        conn.execute("UPDATE commission_runs SET result = 'x'")


def test_payments_are_idempotent_by_id(db: Database) -> None:
    payments = PaymentStore(db)
    p1 = Payment("p-1", "d-1", dt.date(2026, 4, 10), 40_000_000, "CNY", "PAYMENT")
    p2 = Payment("p-2", "d-1", dt.date(2026, 4, 2), 1_000, "CNY", "REFUND")
    assert payments.add("default", [p1, p2], NOW) == (2, 0)
    assert payments.add("default", [p1], NOW) == (0, 1)
    changed = Payment("p-1", "d-1", dt.date(2026, 4, 10), 1, "CNY", "PAYMENT")
    p3 = Payment("p-3", "d-2", dt.date(2026, 4, 1), 5, "CNY", "PAYMENT")
    with pytest.raises(AlreadyExistsError):
        payments.add("default", [p3, changed], NOW)
    assert payments.through("default", dt.date(2026, 4, 30)) == [p2, p1]  # p-3 not kept
    assert payments.through("default", dt.date(2026, 4, 5)) == [p2]
    with pytest.raises(Exception, match="append-only"), db.transaction() as conn:
        conn.execute("DELETE FROM payments")


def test_a_verified_key_is_remembered_for_a_second_and_forgotten_on_revocation(
    db: Database,
) -> None:
    clock = [100.0]
    keys = KeyStore(db, verified_ttl_s=1.0, monotonic=lambda: clock[0])
    key, token = keys.create("crm-prod", frozenset({Role.CRM}), NOW)
    assert keys.verify(token) == key
    # Revoked by another process (the CLI): the row changes behind this store's back.
    with db.transaction() as conn:
        conn.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?",
                     (NOW.isoformat(), key.key_id))  # fmt: skip
    clock[0] += 0.5
    assert keys.verify(token) == key  # remembered, not read again
    clock[0] += 0.6
    assert keys.verify(token) is None  # read again after the second: revoked
    assert keys.verify(token) is None  # and a revoked key is never remembered

    other, other_token = keys.create("crm-test", frozenset({Role.CRM}), NOW)
    assert keys.verify(other_token) == other
    KeyStore(db).revoke(other.key_id, NOW)  # another store of the same database, this process
    assert keys.verify(other_token) is None  # at once


def test_keys_verify_revoke_and_audit(db: Database) -> None:
    keys = KeyStore(db)
    key, token = keys.create("crm-prod", frozenset({Role.CRM}), NOW)
    assert keys.verify(token) == key
    assert keys.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert keys.count() == 1 and [k.key_id for k in keys.list()] == [key.key_id]
    revoked = keys.revoke(key.key_id, NOW)
    assert revoked.revoked_at is not None and keys.verify(token) is None
    with pytest.raises(NotFoundError):
        keys.revoke("nope", NOW)
    keys.audit(NOW, key.key_id, "crm-prod", "RecordDealEvents", "default", "OK")
    keys.audit(NOW, key.key_id, "crm-prod", "RunCommission", "march-1", "OK")
    assert [(e.action, e.target) for e in keys.audit_log()] == [
        ("RecordDealEvents", "default"),
        ("RunCommission", "march-1"),
    ]  # oldest first
    with pytest.raises(Exception, match="never deleted"), db.transaction() as conn:
        conn.execute("DELETE FROM api_keys")
    with pytest.raises(Exception, match="append-only"), db.transaction() as conn:
        conn.execute("UPDATE audit_log SET outcome = 'x'")


def test_models_are_numbered_per_rule_set(db: Database) -> None:
    models = ModelStore(db)
    blob = bytes(range(256)) * 4  # every byte value survives the round trip
    assert models.add("default", '{"v": 1}', "sha", blob, NOW) == 1
    assert models.add("default", '{"v": 2}', "sha", b"two", NOW) == 2
    assert models.add("other", "{}", "sha", b"x", NOW) == 1
    latest = models.get("default")
    assert (latest.version, latest.card_json, latest.artifact) == (2, '{"v": 2}', b"two")
    assert models.get("default", 1).artifact == blob
    with pytest.raises(NotFoundError):
        models.get("default", 3)
    with pytest.raises(Exception, match="immutable"), db.transaction() as conn:
        conn.execute("DELETE FROM win_rate_models")
