"""One error hierarchy for the domain core, with stable UPPER_SNAKE reasons.

Every error the core raises is a :class:`QuotientError`. The service layer maps each *class* to a
gRPC status code in one table (``service/errors.py``); the ``reason`` goes into ``google.rpc.ErrorInfo``
and never changes once published, so callers can branch on it. Messages are for people.

    QuotientError
    ├── InvalidArgumentError          bad input the caller can fix
    │   └── RuleSetInvalidError       a rule set with violations (all of them, sorted)
    ├── NotFoundError                 a named thing does not exist
    ├── AlreadyExistsError            a caller-supplied id is taken by something else
    ├── ConflictError                 optimistic concurrency: a stale expected revision
    ├── FailedPreconditionError       the system is not in a state that allows the call
    ├── ResourceExhaustedError        a size or batch limit was exceeded
    └── EvaluationError               a rule could not be evaluated for some input
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Violation:
    """One problem found in a rule set or a request.

    Ordered by (path, line, column, reason, message) so that a sorted list is stable.
    ``path`` is a dotted path into the document, e.g. ``win_rates.overrides[2].rows[0].when``.
    ``line`` and ``column`` are 1-based positions in the source document when known (0 when not).
    """

    path: str
    line: int = 0
    column: int = 0
    reason: str = "INVALID"
    message: str = field(default="", compare=True)

    def __str__(self) -> str:
        where = self.path or "<document>"
        if self.line:
            where += f" (line {self.line}" + (f", column {self.column})" if self.column else ")")
        return f"{where}: {self.message} [{self.reason}]"


def sorted_violations(violations: list[Violation]) -> list[Violation]:
    """Return the violations de-duplicated and sorted by path, line, column, reason, message."""
    return sorted(set(violations))


class QuotientError(Exception):
    """Base of every error raised by the domain core."""

    reason: str = "QUOTIENT_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidArgumentError(QuotientError):
    """Input the caller can correct; ``violations`` name the offending fields."""

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        violations: list[Violation] | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.violations: list[Violation] = sorted_violations(list(violations or []))


class RuleSetInvalidError(InvalidArgumentError):
    """A rule set failed validation; carries every violation found, sorted and de-duplicated."""

    reason = "RULE_SET_INVALID"

    def __init__(self, violations: list[Violation], message: str | None = None) -> None:
        violations = sorted_violations(violations)
        n = len(violations)
        super().__init__(
            message or f"rule set has {n} problem{'s' if n != 1 else ''}",
            violations=violations,
        )


class NotFoundError(QuotientError):
    """A rule set, revision or other named thing does not exist."""

    reason = "NOT_FOUND"


class AlreadyExistsError(QuotientError):
    """A caller-supplied identifier is already used for something different."""

    reason = "ALREADY_EXISTS"


class ConflictError(QuotientError):
    """The caller's expected state is stale (e.g. an expected revision that is no longer current)."""

    reason = "CONFLICT"


class FailedPreconditionError(QuotientError):
    """The call is valid but the system is not in a state that allows it."""

    reason = "FAILED_PRECONDITION"


class UnavailableError(QuotientError):
    """Something the call needs is unreachable for now; nothing was half-done: retry later."""

    reason = "UNAVAILABLE"


class ResourceExhaustedError(QuotientError):
    """A size, batch or rate limit was exceeded."""

    reason = "RESOURCE_EXHAUSTED"


class UnauthenticatedError(QuotientError):
    """The caller did not say who they are, or the credential is unknown or revoked."""

    reason = "UNAUTHENTICATED"


class PermissionDeniedError(QuotientError):
    """The caller is known but none of their roles may make this call."""

    reason = "PERMISSION_DENIED"


class DeadlineExceededError(QuotientError):
    """The caller's deadline passed before the work was done; the work was stopped."""

    reason = "DEADLINE_EXCEEDED"


class EvaluationError(QuotientError):
    """A rule could not be evaluated for some input (never silently treated as "no match")."""

    reason = "EVALUATION_ERROR"


__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "DeadlineExceededError",
    "EvaluationError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotientError",
    "ResourceExhaustedError",
    "RuleSetInvalidError",
    "UnauthenticatedError",
    "UnavailableError",
    "Violation",
    "sorted_violations",
]
