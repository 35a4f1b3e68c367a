"""The access interceptor: who is calling, may they, is there still time, and the audit log.

Every call but the public ones (:data:`service.access.PUBLIC`) must carry ``authorization: Bearer
<token>``: no token or an unknown or revoked one is UNAUTHENTICATED; a key none of whose roles
the access table lists for the method is PERMISSION_DENIED (and a method missing from the table is
refused the same way: deny by default). A call whose deadline has already passed is answered
DEADLINE_EXCEEDED before any work; for the others the deadline is recorded where long work checks
it between stages (:mod:`service.deadlines`). Audited methods (:data:`service.access.AUDITED`) are written
to the audit log with the caller, the target and the outcome, refusals included.

With authentication off (local development, loopback only), calls are let through as
``local`` and still audited.

The interceptor sits inside the error interceptor: it raises domain errors, which that one turns
into statuses with ``google.rpc`` details like any other.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc

from engine.errors import DeadlineExceededError, PermissionDeniedError, UnauthenticatedError
from service.access import ACCESS, AUDITED, PUBLIC, allowed
from service.deadlines import deadline_after
from service.interceptors import HandlerCache, wrap_handler
from service.store.keys import ApiKey, KeyStore

LOG = logging.getLogger("quotient.access")
LOCAL = ApiKey("-", "local (authentication off)", frozenset(), "", None)


def bearer_token(metadata: Sequence[tuple[str, Any]] | None) -> str | None:
    """The token of a call's ``authorization: Bearer <token>`` metadata, if it has one."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _target(method: str, request: Any, response: Any) -> str:
    """What an audited call acted on, from its request and response."""
    name = method.rsplit("/", 1)[-1]
    if name == "CreateRuleSetRevision" and response is not None:
        return f"rule set {response.name} revision {response.revision}"
    if name == "TrainWinRateModel" and response is not None:
        return f"model {response.rule_set} version {response.version}"
    if name == "RunCommission" and request is not None:
        kind = "dry run" if request.dry_run else f"run {request.run_key}"
        return f"commission {kind} of {request.rule_set} {request.period}"
    if name == "RecordPayments" and request is not None:
        return f"{len(request.payments)} payments of {request.rule_set}"
    return ""


class AccessInterceptor(grpc.ServerInterceptor):
    """Authenticates, authorizes, checks deadlines and audits (see the module docstring)."""

    def __init__(
        self, keys: KeyStore, clock: Callable[[], dt.datetime], *, enabled: bool = True
    ) -> None:
        self.keys = keys
        self.clock = clock
        self.enabled = enabled
        self._handlers = HandlerCache(self._wrap)

    def _caller(self, method: str, context: grpc.ServicerContext) -> ApiKey:
        if not self.enabled:
            return LOCAL
        token = bearer_token(context.invocation_metadata())
        key = self.keys.verify(token) if token else None
        if key is None:
            raise UnauthenticatedError(
                "give an API key: metadata 'authorization: Bearer <token>'"
                if token is None else "the API key is unknown or revoked"
            )  # fmt: skip
        if not allowed(method, key.roles):
            if method in AUDITED:
                self.keys.audit(self.clock(), key.key_id, key.name, method, "", "DENIED")
            roles = ", ".join(sorted(r.value for r in ACCESS.get(method, ()))) or "none"
            raise PermissionDeniedError(
                f"key {key.key_id} ({key.name}) may not call {method} (roles allowed: {roles})"
            )
        return key

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or method in PUBLIC:
            return handler
        return self._handlers.get(method, handler)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        audited = method in AUDITED

        def check(context: grpc.ServicerContext) -> ApiKey:
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceededError("the call's deadline passed before it started")
            return self._caller(method, context)

        def record(key: ApiKey, request: Any, response: Any) -> None:
            if audited:
                self.keys.audit(self.clock(), key.key_id, key.name, method,
                                _target(method, request, response), "OK")  # fmt: skip

        def unary(behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                key = check(context)
                with deadline_after(context.time_remaining()):
                    return audit(key, request, context)

            def audit(key: ApiKey, request: Any, context: grpc.ServicerContext) -> Any:
                if not audited:
                    return behavior(request, context)
                if not hasattr(request, "DESCRIPTOR"):  # a request stream: keep the first
                    first: list[Any] = []

                    def tee(it: Iterator[Any]) -> Iterator[Any]:
                        for item in it:
                            if not first:
                                first.append(item)
                            yield item

                    response = behavior(tee(request), context)
                    record(key, first[0] if first else None, response)
                    return response
                response = behavior(request, context)
                record(key, request, response)
                return response

            return wrapped

        def streaming(
            behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]],
        ) -> Callable[..., Iterator[Any]]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                check(context)
                for item in behavior(request, context):
                    yield item
                    remaining = context.time_remaining()
                    if remaining is not None and remaining <= 0:
                        raise DeadlineExceededError("the call's deadline passed mid-stream")

            return wrapped

        return wrap_handler(handler, unary, streaming)


__all__ = ["LOCAL", "AccessInterceptor", "bearer_token"]
