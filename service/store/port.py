"""The storage port for rule-set revisions: what the service needs, whatever the database.

Revisions are immutable and numbered per rule-set name from 1. Creating one names the revision the
caller believes is current; if another publisher got there first the store refuses with
:class:`engine.errors.ConflictError`, so no publish silently overwrites another.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RevisionRecord:
    """One stored revision of a rule set."""

    name: str
    revision: int
    effective_from: dt.date
    content: str
    content_hash: str
    compiler_version: int
    created_at: dt.datetime


class RuleSetStore(Protocol):
    """Append-only storage of rule-set revisions."""

    def create_revision(
        self,
        *,
        name: str,
        expected_revision: int,
        effective_from: dt.date,
        content: str,
        content_hash: str,
        compiler_version: int,
        now: dt.datetime,
    ) -> RevisionRecord:
        """Store revision ``expected_revision + 1``; ConflictError when that is not the next one."""
        ...

    def get_revision(self, name: str, revision: int) -> RevisionRecord:
        """Return one revision; NotFoundError when it does not exist."""
        ...

    def latest_revision(self, name: str) -> RevisionRecord:
        """Return the highest revision; NotFoundError when the rule set does not exist."""
        ...

    def revision_as_of(self, name: str, date: dt.date) -> RevisionRecord:
        """Return the highest revision whose effective_from is on or before ``date``."""
        ...

    def list_revisions(
        self, name: str, *, limit: int, before_revision: int | None
    ) -> list[RevisionRecord]:
        """Return up to ``limit`` revisions, newest first, below ``before_revision`` if given."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
