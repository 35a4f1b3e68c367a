"""Cash received against deals' invoices, and refunds, in the store (SQLite or PostgreSQL).

Plans that pay on collections read the payments; refunds give commission back (clawbacks). Rows
are append-only and idempotent by the caller's payment id: the same id with the same payload is
recorded once, with another payload it is refused, and nothing of that batch is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import AlreadyExistsError
from service.store.database import Database


@dataclass(frozen=True)
class Payment:
    payment_id: str
    deal_id: str
    paid_date: dt.date
    amount_minor: int  # > 0 (a refund's amount is what was given back)
    currency: str
    kind: str  # PAYMENT or REFUND

    def payload(self) -> tuple[str, str, int, str, str]:
        return (self.deal_id, self.paid_date.isoformat(), self.amount_minor, self.currency,
                self.kind)  # fmt: skip


class PaymentStore:
    """Payments and refunds in the shared database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, rule_set: str, payments: Sequence[Payment], now: dt.datetime) -> tuple[int, int]:
        """Record ``payments`` in one transaction: ``(recorded, duplicates)``. An id already
        recorded with another payload refuses the whole batch (ALREADY_EXISTS)."""
        with self.db.transaction() as conn:
            recorded = duplicates = 0
            for p in payments:
                row = conn.execute(
                    "SELECT rule_set, deal_id, paid_date, amount_minor, currency, kind "
                    "FROM payments WHERE payment_id = ?",
                    (p.payment_id,),
                ).fetchone()
                if row is not None:
                    if tuple(row) != (rule_set, *p.payload()):
                        raise AlreadyExistsError(
                            f"payment {p.payment_id!r} was recorded with other values",
                            reason="PAYMENT_ID_REUSED",
                        )
                    duplicates += 1
                    continue
                conn.execute(
                    "INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (p.payment_id, rule_set, *p.payload(), now.isoformat()),
                )
                recorded += 1
        return recorded, duplicates

    def through(self, rule_set: str, last: dt.date) -> list[Payment]:
        """Every payment and refund of the rule set dated on or before ``last``, by date and id."""
        rows = self.db.connection().execute(
            "SELECT payment_id, deal_id, paid_date, amount_minor, currency, kind FROM payments "
            "WHERE rule_set = ? AND paid_date <= ? ORDER BY paid_date, payment_id",
            (rule_set, last.isoformat()),
        )
        return [
            Payment(pid, deal, dt.date.fromisoformat(day), int(amount), currency, kind)
            for pid, deal, day, amount, currency, kind in rows
        ]


__all__ = ["Payment", "PaymentStore"]
