"""What a commission run reads from the store, as of its as-of date: deals, credits, payments,
cancellations, and the runs before it.

* **deals**: every deal's state at the end of the as-of day (its fields feed the plans' segment
  and SPIFF conditions), the day it was first won, and the day it was cancelled (when its last
  cancellation was not undone by a reopening);
* **credits**: each person's credit per deal and split type, from the credit ledger;
* **payments**: cash received and refunds per deal, dated;
* **the chain**: the run before (the caller's ``previous_run_key``, else the latest stored run of
  the rule set for a period ending before this one) opens the balances, and the runs before it
  tell what commission each deal has paid each person, for clawbacks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.credit.ledger import EventKind, state_history
from engine.errors import FailedPreconditionError
from engine.forecast.deals import DealBatch, build_deal_batch, deal_input_from_records
from engine.forecast.history import NO_DAY, history_from_records
from engine.frame import date_to_days
from engine.rules.compiler import CompiledRuleSet
from service.store.ledger import LedgerStore
from service.store.payments import Payment
from service.store.runs import RunStore, StoredRun

#: How many earlier runs a clawback may look back through.
MAX_CHAIN = 240


@dataclass(frozen=True)
class Deals:
    """The deals as of the as-of day: ids, their states' frame, amounts, won and cancel days."""

    ids: list[str]
    index: dict[str, int]
    batch: DealBatch
    records: list[dict[str, Any]]
    amount_minor: np.ndarray
    won_day: np.ndarray  # NO_DAY: never won
    cancel_day: np.ndarray  # NO_DAY: not cancelled


@dataclass(frozen=True)
class Inputs:
    deals: Deals
    credits: list[tuple[str, str, str, str, int]]  # (deal, split, person, currency, minor)
    payments: list[Payment]
    previous: StoredRun | None
    previous_result: Mapping[str, Any]


def load_deals(ledger: LedgerStore, rules: CompiledRuleSet, rule_set: str,
               end: dt.datetime) -> Deals:  # fmt: skip
    """Every deal recorded under ``rule_set`` as it stood just before ``end``."""
    events = [e for e in ledger.events(rule_set) if e.event_time < end]
    rows = state_history(events, rules)
    history = history_from_records(rows, rules, path="stored_history")
    ids = list(history.deal_ids)
    index = {d: i for i, d in enumerate(ids)}
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        latest[row["deal_id"]] = row
    records = []
    for d in ids:
        record = {k: v for k, v in latest[d].items() if k not in ("deal_id", "date")}
        record["id"] = d
        records.append(record)
    cancel_day = np.full(len(ids), NO_DAY, dtype=np.int64)
    for e in sorted(events, key=lambda e: (e.deal_id, *e.order_key)):
        i = index.get(e.deal_id)
        if i is None:
            continue
        if e.kind is EventKind.CANCELLED:
            cancel_day[i] = date_to_days(e.event_time.date())
        elif e.kind is EventKind.REOPENED:
            cancel_day[i] = NO_DAY
    batch = build_deal_batch(deal_input_from_records(records), rules,
                             keep_fields=tuple(rules.schema))  # fmt: skip
    amount = np.array([int(r.get("amount_minor") or 0) for r in records], dtype=np.int64)
    return Deals(ids, index, batch, records, amount, history.won_day.copy(), cancel_day)


def previous_run(runs: RunStore, rule_set: str, first: dt.date,
                 previous_run_key: str) -> StoredRun | None:  # fmt: skip
    """The run whose closing balances open this one (see the module)."""
    if previous_run_key:
        run = runs.get(previous_run_key)
        if run.rule_set != rule_set or run.last_date >= first.isoformat():
            raise FailedPreconditionError(
                f"run {previous_run_key!r} is not of rule set {rule_set!r} for an earlier period",
                reason="PREVIOUS_RUN_MISMATCH",
            )
        return run
    return runs.latest_before(rule_set, first.isoformat())


def paid_by_deal(
    runs: RunStore, start: StoredRun | None, deals: set[str], since: dt.date
) -> dict[tuple[str, str], int]:
    """Commission (deal lines and SPIFFs) net of clawbacks that the chain of runs from ``start``
    back paid each person on each of ``deals``; runs for periods ending before ``since`` are not
    read."""
    paid: dict[tuple[str, str], int] = {}
    run, seen = start, set()
    while run is not None and run.run_key not in seen and len(seen) < MAX_CHAIN:
        if run.last_date < since.isoformat():
            break
        seen.add(run.run_key)
        result = json.loads(run.result)
        for s in result["statements"]:
            for d in s.get("deals", []):
                if d["deal_id"] in deals:
                    key = (s["person"], d["deal_id"])
                    paid[key] = paid.get(key, 0) + d["commission_minor"] + d.get("spiff_minor", 0)
            for c in s.get("clawbacks", []):
                if c["deal_id"] in deals:
                    key = (s["person"], c["deal_id"])
                    paid[key] = paid.get(key, 0) - c["amount_minor"]
        key = result.get("previous_run_key") or ""
        run = runs.get(key) if key else None
    return paid


def paid_to_date(payments: Sequence[Payment], deals: Mapping[str, int], before: dt.date,
                 through: dt.date) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per deal (by index): cash received before ``before`` and through ``through``."""
    early = np.zeros(len(deals), dtype=np.int64)
    late = np.zeros(len(deals), dtype=np.int64)
    for p in payments:
        i = deals.get(p.deal_id)
        if i is None or p.kind != "PAYMENT":
            continue
        if p.paid_date < before:
            early[i] += p.amount_minor
        if p.paid_date <= through:
            late[i] += p.amount_minor
    return early, late


__all__ = ["MAX_CHAIN", "Deals", "Inputs", "load_deals", "paid_by_deal", "paid_to_date",
           "previous_run"]  # fmt: skip
