"""Rule sets as the service sees them: publish (validate, compile, store) and resolve, cached.

Compiled rule sets are immutable and cached by (name, revision), so a CRM's per-deal calls never
recompile. Resolution follows DESIGN §4: an explicit revision, else the revision in force at the
as-of date (today by the injected clock). Which revision is in force on a date is remembered for
``resolution_ttl_s`` seconds (and forgotten at once when this process publishes), so a per-deal
call does not query the store; another process publishing into the same store is seen within that
time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from engine.errors import InvalidArgumentError
from engine.rules.compiler import COMPILER_VERSION, CompiledRuleSet, compile_rule_set
from service.store.port import RevisionRecord, RuleSetStore


class RuleSetRepository:
    """Publishes and resolves rule sets over a :class:`RuleSetStore`, with an LRU of compiled ones."""

    def __init__(
        self,
        store: RuleSetStore,
        clock: Callable[[], dt.datetime],
        cache_size: int = 64,
        resolution_ttl_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self._cache: OrderedDict[tuple[str, int], CompiledRuleSet] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._in_force: dict[tuple[str, dt.date], tuple[float, RevisionRecord]] = {}
        self._ttl_s = resolution_ttl_s
        self._monotonic = monotonic

    def publish(self, content: str, expected_revision: int) -> RevisionRecord:
        """Validate and compile ``content``, then store it as the next revision.

        Raises RuleSetInvalidError (nothing stored) or ConflictError (stale expected revision).
        """
        if expected_revision < 0:
            raise InvalidArgumentError(
                "expected_revision must be 0 or more", reason="INVALID_EXPECTED_REVISION"
            )
        compiled = compile_rule_set(content)
        record = self.store.create_revision(
            name=compiled.name,
            expected_revision=expected_revision,
            effective_from=compiled.effective_from,
            content=content,
            content_hash=compiled.content_hash,
            compiler_version=COMPILER_VERSION,
            now=self.clock(),
        )
        self._remember(record, compiled)
        with self._lock:
            self._in_force.clear()
        return record

    def record(
        self, name: str, revision: int | None = None, as_of: dt.date | None = None
    ) -> RevisionRecord:
        """Return a stored revision: by number, in force at ``as_of``, or the latest."""
        if not name:
            raise InvalidArgumentError("a rule-set name is required", reason="MISSING_RULE_SET")
        if revision:
            return self.store.get_revision(name, revision)
        if as_of is not None:
            key = (name, as_of)
            now = self._monotonic()
            hit = self._in_force.get(key)
            if hit is not None and now - hit[0] < self._ttl_s:
                return hit[1]
            found = self.store.revision_as_of(name, as_of)
            with self._lock:
                if len(self._in_force) > 4096:
                    self._in_force.clear()
                self._in_force[key] = (now, found)
            return found
        return self.store.latest_revision(name)

    def resolve(
        self, name: str, revision: int | None = None, as_of: dt.date | None = None
    ) -> tuple[RevisionRecord, CompiledRuleSet]:
        """Return the revision that applies and its compiled form (compiled once, then cached).

        With neither ``revision`` nor ``as_of``, the revision in force today (by the clock).
        """
        if not revision and as_of is None:
            as_of = self.clock().date()
        record = self.record(name, revision, as_of)
        key = (record.name, record.revision)
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is not None:
                self._cache.move_to_end(key)
                return record, compiled
        compiled = compile_rule_set(record.content)
        self._remember(record, compiled)
        return record, compiled

    def _remember(self, record: RevisionRecord, compiled: CompiledRuleSet) -> None:
        with self._lock:
            self._cache[(record.name, record.revision)] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


__all__ = ["RuleSetRepository"]
