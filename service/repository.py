"""Rule sets as the service sees them: publish (validate, compile, store) and resolve, cached.

Compiled rule sets are immutable and cached by (name, revision), so a CRM's per-deal calls never
recompile. Resolution follows DESIGN §4: an explicit revision, else the revision in force at the
as-of date (today by the injected clock).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable

from engine.errors import InvalidArgumentError
from engine.rules.compiler import COMPILER_VERSION, CompiledRuleSet, compile_rule_set
from service.store.port import RevisionRecord, RuleSetStore


class RuleSetRepository:
    """Publishes and resolves rule sets over a :class:`RuleSetStore`, with an LRU of compiled ones."""

    def __init__(
        self, store: RuleSetStore, clock: Callable[[], dt.datetime], cache_size: int = 64
    ) -> None:
        self.store = store
        self.clock = clock
        self._cache: OrderedDict[tuple[str, int], CompiledRuleSet] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

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
            return self.store.revision_as_of(name, as_of)
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
