"""Server interceptors: request ids and the single place where errors become statuses.

Servicers raise domain errors and never build statuses themselves; this interceptor turns a
:class:`engine.errors.QuotientError` into its rich status (``service.errors``) and anything else into
INTERNAL with a request id, after logging the stack trace on the server side only. Every call gets a
request id (the caller's ``x-request-id`` metadata, or a new one): sent back in the trailing
metadata of a successful call (free, unlike initial metadata, which costs a separate send per call)
and in the ``ErrorInfo`` of a failed one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from engine.errors import QuotientError
from service.errors import internal_status, to_status

LOG = logging.getLogger("quotient.rpc")
REQUEST_ID_KEY = "x-request-id"


def _request_id(details: grpc.HandlerCallDetails) -> str:
    for key, value in details.invocation_metadata or ():  # type: ignore[attr-defined]
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return uuid.uuid4().hex


def _fail(context: grpc.ServicerContext, exc: Exception, method: str, request_id: str) -> None:
    """Abort the call with the status for ``exc``; re-raise if the call was already aborted."""
    if context.code() not in (None, grpc.StatusCode.OK):  # type: ignore[attr-defined]
        raise exc  # the servicer aborted on purpose (or the call was cancelled)
    if isinstance(exc, QuotientError):
        LOG.info("%s failed: %s [%s] request_id=%s", method, exc.message, exc.reason, request_id)
        context.abort_with_status(to_status(exc, request_id))
    LOG.error("%s raised unexpectedly; request_id=%s", method, request_id, exc_info=exc)
    context.abort_with_status(internal_status(request_id))


class ErrorInterceptor(grpc.ServerInterceptor):
    """Adds request ids and maps every exception to a status (see the module docstring)."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        request_id = _request_id(handler_call_details)

        def unary(behavior: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
                try:
                    return behavior(request, context)
                except Exception as exc:
                    _fail(context, exc, method, request_id)
                    raise

            return wrapped

        def streaming(
            behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]],
        ) -> Callable[..., Iterator[Any]]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
                try:
                    yield from behavior(request, context)
                except Exception as exc:
                    _fail(context, exc, method, request_id)
                    raise

            return wrapped

        return wrap_handler(handler, unary, streaming)


def wrap_handler(
    handler: grpc.RpcMethodHandler,
    unary: Callable[[Callable[..., Any]], Callable[..., Any]],
    streaming: Callable[[Callable[..., Iterator[Any]]], Callable[..., Iterator[Any]]],
) -> grpc.RpcMethodHandler:
    """``handler`` with its behavior wrapped: ``unary`` for calls that return one response,
    ``streaming`` for calls that stream responses."""
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=unary(handler.unary_unary))  # type: ignore[attr-defined]
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=unary(handler.stream_unary))  # type: ignore[attr-defined]
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=streaming(handler.unary_stream))  # type: ignore[attr-defined]
    if handler.stream_stream is not None:
        return handler._replace(stream_stream=streaming(handler.stream_stream))  # type: ignore[attr-defined]
    return handler


__all__ = ["REQUEST_ID_KEY", "ErrorInterceptor", "wrap_handler"]
