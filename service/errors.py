"""The one table that maps domain errors to gRPC status codes, with ``google.rpc`` details.

Every error reaches callers as a status code plus an ``ErrorInfo`` whose ``reason`` is stable
(UPPER_SNAKE) and, for bad input, a ``BadRequest`` with one field violation per problem and a
``quotient.v1.ViolationList`` carrying lines and columns. Anything unexpected becomes INTERNAL with
a request id to quote to support: never a stack trace.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from engine.errors import (
    AlreadyExistsError,
    ConflictError,
    DeadlineExceededError,
    EvaluationError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    QuotientError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)
from quotient.v1 import types_pb2

#: ErrorInfo domain of every error this service raises.
DOMAIN = "quotient.v1"

#: Domain error class -> gRPC status code. Subclasses map through their nearest listed base.
STATUS_CODES: dict[type[QuotientError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    AlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    ConflictError: grpc.StatusCode.ABORTED,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    ResourceExhaustedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    EvaluationError: grpc.StatusCode.INVALID_ARGUMENT,
    UnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
    QuotientError: grpc.StatusCode.INTERNAL,
}


def status_code_for(exc: QuotientError) -> grpc.StatusCode:
    """Return the status code of a domain error (by its class, through the MRO)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]  # type: ignore[index]
    return grpc.StatusCode.INTERNAL


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status(exc: QuotientError, request_id: str = "") -> grpc.Status:
    """Build the rich status for a domain error."""
    code = status_code_for(exc)
    metadata = {"request_id": request_id} if request_id else {}
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=exc.reason, domain=DOMAIN, metadata=metadata))
    ]
    violations = getattr(exc, "violations", None)
    if violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.path,
                            reason=v.reason,
                            description=(f"line {v.line}: " if v.line else "") + v.message,
                        )
                        for v in violations
                    ]
                )
            )
        )
        details.append(
            _pack(
                types_pb2.ViolationList(
                    violations=[
                        types_pb2.Violation(
                            path=v.path,
                            line=v.line,
                            column=v.column,
                            reason=v.reason,
                            message=v.message,
                        )
                        for v in violations
                    ]
                )
            )
        )
    status = status_pb2.Status(code=code.value[0], message=exc.message, details=details)
    return rpc_status.to_status(status)


def internal_status(request_id: str) -> grpc.Status:
    """The status for an unexpected failure: INTERNAL, with the request id and nothing else."""
    info = error_details_pb2.ErrorInfo(
        reason="INTERNAL", domain=DOMAIN, metadata={"request_id": request_id}
    )
    status = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error; quote request id {request_id} when reporting it",
        details=[_pack(info)],
    )
    return rpc_status.to_status(status)


__all__ = ["DOMAIN", "STATUS_CODES", "internal_status", "status_code_for", "to_status"]
