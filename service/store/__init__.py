"""Storage adapters. ``RuleSetStore`` is the port the servicers use; SQLite is the embedded default."""

from service.store.port import RevisionRecord, RuleSetStore

__all__ = ["RevisionRecord", "RuleSetStore"]
