"""Deal histories for the services that learn from the past: given in a request (``DealChange``
rows) or else the store's (the states its recorded deal events produce)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.credit.ledger import state_history
from engine.forecast.history import DealHistory, history_from_records
from engine.rules.compiler import CompiledRuleSet
from quotient.v1 import forecast_pb2
from service.convert_forecast import history_from_proto
from service.servicers.limits import check_batch_size
from service.store.ledger import LedgerStore

#: History rows a request may carry, per deal the batch limit allows.
ROWS_PER_DEAL = 10


def load_history(
    ledger: LedgerStore | None,
    rule_set: str,
    rules: CompiledRuleSet,
    changes: Sequence[forecast_pb2.DealChange],
    max_batch_deals: int,
) -> tuple[DealHistory, int]:
    """The history to learn from, and the rows read. INVALID_ARGUMENT names any bad row."""
    if changes:
        check_batch_size(len(changes), max_batch_deals * ROWS_PER_DEAL, "history changes",
                         "learn from the store's history instead")  # fmt: skip
        records = history_from_proto(changes)
        path = "history.changes"
    else:
        events = ledger.events(rule_set) if ledger is not None else []
        records = state_history(events, rules)
        path = "stored_history"
    return history_from_records(records, rules, path=path), len(records)


__all__ = ["load_history"]
