"""The error table: every domain error has a status code, and statuses carry their details."""

from __future__ import annotations

import inspect

import grpc
from google.rpc import error_details_pb2, status_pb2

import engine.errors as domain
from engine.errors import InvalidArgumentError, NotFoundError, QuotientError, Violation
from quotient.v1 import types_pb2
from service.errors import DOMAIN, STATUS_CODES, internal_status, status_code_for, to_status
from tests.conftest import decode_details


def test_every_domain_error_maps_to_a_deliberate_status() -> None:
    classes = [
        c
        for _, c in inspect.getmembers(domain, inspect.isclass)
        if issubclass(c, QuotientError) and c is not QuotientError
    ]
    assert len(classes) >= 7
    for cls in classes:
        assert any(base in STATUS_CODES for base in cls.__mro__ if base is not QuotientError), cls
        exc = cls.__new__(cls)
        assert status_code_for(exc) is not grpc.StatusCode.INTERNAL, cls


def test_an_unreachable_store_is_unavailable() -> None:
    from service.store.database import StoreUnavailableError

    exc = StoreUnavailableError("the database at postgresql://db/q is unavailable")
    assert status_code_for(exc) is grpc.StatusCode.UNAVAILABLE
    assert unpack(to_status(exc))["code"] == grpc.StatusCode.UNAVAILABLE.value[0]


def unpack(status: grpc.Status) -> dict[str, object]:
    (_, value), *_ = [m for m in status.trailing_metadata if m[0] == "grpc-status-details-bin"]
    decoded = status_pb2.Status.FromString(value)
    return {"code": decoded.code, "message": decoded.message, **decode_details(decoded)}


def test_violations_become_bad_request_and_a_violation_list() -> None:
    exc = InvalidArgumentError(
        "two problems",
        violations=[
            Violation("a.b", 3, 7, "X_REASON", "bad a.b"),
            Violation("c", 0, 0, "Y", "bad c"),
        ],
    )
    status = to_status(exc, request_id="r-1")
    assert status.code is grpc.StatusCode.INVALID_ARGUMENT
    got = unpack(status)
    info = got["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.domain, info.metadata["request_id"]) == (DOMAIN, "r-1")
    bad = got["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [(v.field, v.reason, v.description) for v in bad.field_violations] == [
        ("a.b", "X_REASON", "line 3: bad a.b"),
        ("c", "Y", "bad c"),
    ]
    vl = got["ViolationList"]
    assert isinstance(vl, types_pb2.ViolationList)
    assert [(v.path, v.line, v.column) for v in vl.violations] == [("a.b", 3, 7), ("c", 0, 0)]


def test_not_found_has_only_error_info_and_internal_hides_the_cause() -> None:
    got = unpack(to_status(NotFoundError("no rule set 'x'")))
    assert got["code"] == grpc.StatusCode.NOT_FOUND.value[0] and "BadRequest" not in got
    internal = internal_status("req-9")
    assert internal.code is grpc.StatusCode.INTERNAL
    assert "req-9" in internal.details
