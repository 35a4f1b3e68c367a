"""The interceptors wrap each method's handler once; what differs per call comes from the call."""

from __future__ import annotations

import re
from typing import Any

import grpc

from service.interceptors import REQUEST_ID_KEY, ErrorInterceptor, HandlerCache


class _Details:
    method = "/quotient.v1.ForecastService/ScoreDeals"
    invocation_metadata = ()


class _Context:
    def __init__(self, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.metadata = metadata
        self.trailing: tuple[tuple[str, str], ...] = ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata


def test_a_handler_is_wrapped_once_and_again_when_it_changes() -> None:
    made: list[grpc.RpcMethodHandler] = []

    def wrap(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        made.append(handler)
        return handler._replace(unary_unary=lambda request, context: ("wrapped", request))  # type: ignore[attr-defined]

    cache = HandlerCache(wrap)
    first = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    a = cache.get("/m", first)
    assert cache.get("/m", first) is a and made == [first]
    second = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    b = cache.get("/m", second)
    assert b is not a and made == [first, second]
    assert cache.get("/other", first) is not a  # per method


def test_each_call_gets_its_own_request_id() -> None:
    interceptor = ErrorInterceptor()
    inner = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    handler = interceptor.intercept_service(lambda details: inner, _Details())
    assert handler is not None
    assert interceptor.intercept_service(lambda details: inner, _Details()) is handler
    ids: list[Any] = []
    for metadata in [(), (), ((REQUEST_ID_KEY, "req-1"),), ()]:
        context = _Context(metadata)
        assert handler.unary_unary(7, context) == 7
        ids.append(dict(context.trailing)[REQUEST_ID_KEY])
    assert ids[2] == "req-1"
    generated = [ids[0], ids[1], ids[3]]
    assert len(set(generated)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in generated)
