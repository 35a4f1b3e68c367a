"""Every unary RPC of every ``quotient.v1`` service, sent requests whose fields hold arbitrary
values (extreme integers, malformed or far-off dates, invalid timestamps, garbage bytes, nested
messages): the answer is a result or a status naming the caller's problem, never INTERNAL or
UNKNOWN (a bug reported as a server fault)."""

from __future__ import annotations

import random
from typing import Any

import grpc
import pytest
from google.protobuf import symbol_database
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotient.v1 import (
    analytics_pb2,
    commission_pb2,
    credit_pb2,
    forecast_pb2,
    planning_pb2,
    rulesets_pb2,
    winrates_pb2,
)

TEXT = ["", "default", "x", "-1", "1e999", "NaN", "Infinity", "0.5", "-0.0000001", "2026-13-45",
        "2026-03", "won", "quote", "li.wei", "CNY", "month", "owner", "revenue", "é中", "\x00",
        "a" * 300, "1" * 40]  # fmt: skip
DATES = ["2026-03-01", "2025-12-31", "0001-01-01", "9998-12-31", "9999-12-31"]
INTEGERS = [0, 1, -1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 10**12, 100_000_000]
_SIGNED_32 = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SFIXED32,
}
_UNSIGNED_32 = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32}
_UNSIGNED_64 = {FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64}


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        if "rule_set" in field.name and rng.random() < 0.8:
            return "default"  # past the rule-set lookup, into the service
        if "date" in field.name and rng.random() < 0.7:
            return rng.choice(DATES)
        if field.name == "stage" and rng.random() < 0.7:
            return rng.choice(["initial_contact", "quote", "won", "lost"])
        return rng.choice(TEXT)
    if kind == FieldDescriptor.TYPE_BYTES:
        return rng.choice([b"", b"\x00\x01garbage", rng.randbytes(40)])
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_ENUM:
        return rng.choice([v.number for v in field.enum_type.values])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice([0.0, -1.0, 0.5, 1e300, float("nan"), float("inf")])
    values = INTEGERS
    if kind in _SIGNED_32:
        values = [v for v in INTEGERS if -(2**31) <= v < 2**31]
    elif kind in _UNSIGNED_32:
        values = [v for v in INTEGERS if 0 <= v < 2**32]
    elif kind in _UNSIGNED_64:
        values = [v for v in INTEGERS if v >= 0]
    return rng.choice(values)


def fill(message: Message, rng: random.Random, depth: int = 0) -> None:
    """Set a random subset of ``message``'s fields, nested messages to depth 3."""
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.4:
            continue
        target = getattr(message, field.name)
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
            for _ in range(rng.randint(0, 2)):
                key = _scalar(key_field, rng)
                if value_field.message_type is None:
                    target[key] = _scalar(value_field, rng)
                elif depth < 3:
                    fill(target[key], rng, depth + 1)
            continue
        for _ in range(rng.randint(0, 3) if field.is_repeated else 1):
            if entry is not None:
                if depth < 3:
                    fill(target.add() if field.is_repeated else target, rng, depth + 1)
            elif field.is_repeated:
                target.append(_scalar(field, rng))
            else:
                setattr(message, field.name, _scalar(field, rng))


def _unary_methods() -> list[tuple[str, type[Message], type[Message]]]:
    out = []
    database = symbol_database.Default()
    for module in (analytics_pb2, commission_pb2, credit_pb2, forecast_pb2, planning_pb2,
                   rulesets_pb2, winrates_pb2):  # fmt: skip
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                if not (method.client_streaming or method.server_streaming):
                    out.append((f"/{service.full_name}/{method.name}",
                                database.GetSymbol(method.input_type.full_name),
                                database.GetSymbol(method.output_type.full_name)))  # fmt: skip
    return out


METHODS = _unary_methods()


def test_every_service_is_reached() -> None:
    services = {path.split("/")[1] for path, _, _ in METHODS}
    assert services == {f"quotient.v1.{name}Service" for name in (
        "Analytics", "Commission", "Credit", "Forecast", "Planning", "RuleSet", "WinRate")}  # fmt: skip
    assert "/quotient.v1.CreditService/RecordDealEvents" in {m for m, _, _ in METHODS}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_arbitrary_requests_never_fail_as_the_servers_fault(
    channel: grpc.Channel, seed: int
) -> None:
    rng = random.Random(seed)
    for path, request_type, response_type in METHODS:
        call = channel.unary_unary(path, request_serializer=request_type.SerializeToString,
                                   response_deserializer=response_type.FromString)  # fmt: skip
        request = request_type()
        fill(request, rng)
        try:
            call(request, timeout=60)
        except grpc.RpcError as err:
            assert err.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
                f"{path}: {err.code().name} {err.details()}\n{request}"
            )


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/quotient.v1.ForecastService/ComputeForecast", "as_of_date", "9999-12-31"),
        ("/quotient.v1.CreditService/SplitCredits", "as_of_date", "9999-12-31"),
    ],
)
def test_the_last_day_of_the_calendar_is_refused_naming_it(
    channel: grpc.Channel, path: str, field: str, value: str
) -> None:
    request_type, response_type = next((q, r) for p, q, r in METHODS if p == path)
    request = request_type(rule_set="default", **{field: value})
    call = channel.unary_unary(path, request_serializer=request_type.SerializeToString,
                               response_deserializer=response_type.FromString)  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "9998-12-31" in (err.value.details() or "")
