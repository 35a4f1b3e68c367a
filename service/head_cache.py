"""Deal heads kept in memory by the instance that recorded them, so that recording an in-order
event does not read and parse its deal's stored head again.

A deal's head (its latest state and credits, stored as JSON beside its last event's time and
arrival number) is what an in-order event continues from. Reading it back means a query, two
JSON documents parsed and a timestamp read per deal. An instance that wrote a head already holds
it in memory, as objects, and can keep it for the next event of that deal.

A kept head is good for as long as no other writer (another instance of the database) recorded an
event of its deal since. Events are numbered in the order their batches are stored, so the cache
keeps the number up to which it is current; before a batch uses it, the cache reads the ids and
deals of every event stored from that number on (none at all when this instance is the only
writer) and forgets their deals. That read is made inside the batch's read snapshot or write
transaction, so it sees exactly what the batch sees.

Kept heads are those stored by a batch that committed; a batch refused or rolled back leaves the
cache as it was, less any deals it forgot. The cache holds at most ``max_deals`` heads, dropping
the longest unused first. It is not thread-safe: :class:`~service.credit_ledger.CreditLedger`
uses it from one batch at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import islice

from engine.credit.ledger import Credits, DealEvent, State
from service.store.ledger import DealHead, LedgerReads

#: A kept head: rule set, last event time, its arrival number, state, credits (a tuple, not a
#: :class:`DealHead`: cheaper to make for every deal of every batch; heads are made on a hit).
_Kept = tuple[str, dt.datetime, int, State, Credits]


class HeadCache:
    """Deal heads by deal id, current for every event numbered below :attr:`current_to`."""

    def __init__(self, max_deals: int) -> None:
        self.max_deals = max_deals
        self._heads: dict[str, _Kept] = {}
        #: Every event numbered below this is reflected here, or its deal is not kept.
        self.current_to = 0

    def __len__(self) -> int:
        return len(self._heads)

    def catch_up(
        self,
        reads: LedgerReads,
        next_seq: int,
        read: tuple[int, Sequence[tuple[str, str]]] | None = None,
    ) -> None:
        """Forget the deals of events stored from :attr:`current_to` up to ``next_seq`` (the
        next arrival number as ``reads`` sees it). ``read``: ``(from_seq, events)``, the events
        (as ``(event_id, deal_id)``) the caller has already read from ``from_seq`` on through
        ``reads``, used when ``from_seq`` is :attr:`current_to`."""
        if next_seq <= self.current_to:
            return
        if next_seq - self.current_to > self.max_deals:  # more to read than to keep
            self._heads.clear()
        elif self._heads:
            if read is not None and read[0] == self.current_to:
                recorded_since = read[1]
            else:
                recorded_since = reads.recorded_since(self.current_to)
            pop = self._heads.pop
            for _, deal_id in recorded_since:
                pop(deal_id, None)
        self.current_to = next_seq

    def get(self, deal_ids: Iterable[str]) -> tuple[dict[str, DealHead], list[str]]:
        """The kept heads of ``deal_ids``, and the ids of those not kept."""
        found: dict[str, DealHead] = {}
        missing: list[str] = []
        heads = self._heads
        for deal_id in deal_ids:
            kept = heads.get(deal_id)
            if kept is None:
                missing.append(deal_id)
            else:
                found[deal_id] = DealHead(deal_id, *kept)
        return found, missing

    def stored(
        self,
        rule_set: str,
        heads: Iterable[tuple[str, DealEvent, State, Credits]],
        next_seq: int,
    ) -> None:
        """Keep the heads a batch of ``rule_set`` has just committed, given as (deal id, its
        last event, state, credits); ``next_seq`` is the number after the batch's last event
        (every event below it is then reflected)."""
        kept = self._heads
        pop = kept.pop
        for deal_id, last, state, credits in heads:
            pop(deal_id, None)  # to the end of the order: the most recently used
            kept[deal_id] = (rule_set, last.event_time, last.seq, state, credits)
        excess = len(kept) - self.max_deals
        if excess > 0:
            for deal_id in list(islice(kept, excess)):
                del kept[deal_id]
        self.current_to = max(self.current_to, next_seq)


__all__ = ["HeadCache"]
