"""Serving on gRPC's asyncio server: the same servicers and interceptors, with one-deal scoring
answered on the event loop itself.

gRPC's threaded server hands every call to a worker thread. A one-deal ScoreDeals takes tens of
microseconds to score, and with sixteen threads handing calls to one another it spends most of
its time being handed over. The asyncio server reads and answers calls on one event-loop thread.
:class:`AsyncioServer` runs that loop in a thread of its own and offers the threaded server's
interface (``add_insecure_port``, ``add_secure_port``, ``start``, ``stop``,
``wait_for_termination`` and handler registration), so ``server.py`` wires both alike
(``QUOTIENT_SERVING=asyncio``).

Every handler stays the synchronous function it is (the servicer method inside the error and
access interceptors, looked up through the same interceptor chain). A call named in ``inline``
whose request passes its test (one deal, say) runs on the loop; every other call runs in a pool
of worker threads, its request stream read from the loop and its response stream handed back
to it. A handler sees a :class:`CallContext`: the call's metadata and deadline, read on the
loop before it starts; the trailing metadata, code and details it sets are applied on the loop
when it returns, and an abort there ends the call with that status.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import grpc
import grpc.aio

_T = TypeVar("_T")
_END = object()


class _Aborted(Exception):
    """A synchronous handler aborted its call: the status to end it with."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Sequence[Any]) -> None:
        super().__init__(details)
        self.code = code
        self.details = details
        self.trailing = tuple(trailing)


class CallContext:
    """What a synchronous handler sees of an asyncio call: the ``grpc.ServicerContext`` methods
    this service's handlers, health and reflection use (see the module)."""

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._metadata = tuple(context.invocation_metadata() or ())
        remaining = context.time_remaining()
        self._deadline = None if remaining is None else time.monotonic() + remaining
        self._peer = context.peer()
        self._cancelled = False
        self.trailing: tuple[Any, ...] = ()
        self.status_code: grpc.StatusCode | None = None
        self.status_details: str | None = None
        self.callbacks: list[Callable[[], None]] = []

    def invocation_metadata(self) -> tuple[Any, ...]:
        return self._metadata

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def peer(self) -> str:
        return self._peer

    def is_active(self) -> bool:
        return not self._cancelled

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self.callbacks.append(callback)
        return True

    def set_trailing_metadata(self, metadata: Sequence[Any]) -> None:
        self.trailing = tuple(metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.status_code = code

    def set_details(self, details: str) -> None:
        self.status_details = details

    def code(self) -> grpc.StatusCode | None:
        return self.status_code

    def details(self) -> str | None:
        return self.status_details

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _Aborted(code, details, self.trailing)

    def abort_with_status(self, status: Any) -> None:
        # As the threaded server does: the status's trailing metadata replaces what was set.
        raise _Aborted(status.code, status.details, status.trailing_metadata)

    def cancel(self) -> None:
        """The call is over before its handler finished: run the handler's callbacks."""
        self._cancelled = True
        for callback in self.callbacks:
            callback()


async def _finish(context: grpc.aio.ServicerContext, call: CallContext) -> None:
    """Apply what the handler set; a code other than OK ends the call with that status."""
    if call.status_code not in (None, grpc.StatusCode.OK):
        await context.abort(call.status_code, call.status_details or "", call.trailing)
    if call.trailing:
        context.set_trailing_metadata(call.trailing)


#: How often a handler waiting for the next request checks that its call is still on.
_REQUEST_POLL_S = 0.05


class _Requests:
    """A request stream read from the loop, for a handler running in a worker thread.

    Once the call is over (the caller went away, the server stopped) a handler waiting for a
    request gets ``grpc.RpcError``, as from the threaded server's request iterator, even if the
    loop never finishes reading: the server may stop its loop first."""

    def __init__(
        self, requests: AsyncIterator[Any], loop: asyncio.AbstractEventLoop, call: CallContext
    ) -> None:
        self._requests = requests
        self._loop = loop
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if not self._call.is_active() or self._loop.is_closed():
            raise grpc.RpcError()
        future = asyncio.run_coroutine_threadsafe(_next_request(self._requests), self._loop)
        while True:
            try:
                item = future.result(timeout=_REQUEST_POLL_S)
                break
            except TimeoutError:
                if not self._call.is_active() or self._loop.is_closed():
                    if not self._loop.is_closed():
                        future.cancel()
                    raise grpc.RpcError() from None
            except concurrent.futures.CancelledError:  # the loop cancelled the reading
                raise grpc.RpcError() from None
        if item is _END:
            raise StopIteration
        return item


async def _next_request(requests: AsyncIterator[Any]) -> Any:
    try:
        return await requests.__anext__()
    except StopAsyncIteration:
        return _END


class _Adapter:
    """Turns synchronous method handlers into the asyncio server's (see the module)."""

    def __init__(
        self,
        find: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        pool: concurrent.futures.ThreadPoolExecutor,
        inline: Mapping[str, Callable[[Any], bool]],
    ) -> None:
        self._find = find
        self._pool = pool
        self._inline = inline
        self._made: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def handler(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        found = self._find(details)
        if found is None:
            return None
        method: str = details.method  # type: ignore[attr-defined]
        made = self._made.get(method)
        if made is None or made[0] is not found:
            made = (found, self._adapt(method, found))
            self._made[method] = made
        return made[1]

    def _run(self, fn: Callable[..., _T], *args: Any) -> Awaitable[_T]:
        return asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    def _adapt(self, method: str, h: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        codecs = {"request_deserializer": h.request_deserializer,
                  "response_serializer": h.response_serializer}  # fmt: skip
        if h.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(h.unary_unary, self._inline.get(method)), **codecs
            )
        if h.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(self._stream_in(h.stream_unary), **codecs)
        if h.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(self._stream_out(h.unary_stream), **codecs)
        assert h.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(self._streams(h.stream_stream), **codecs)

    async def _respond(
        self,
        context: grpc.aio.ServicerContext,
        call: CallContext,
        work: Callable[[], Any],
        inline: bool,
    ) -> Any:
        """The answer ``work()`` gives, on the loop or in the pool, with its status applied."""
        try:
            response = work() if inline else await self._run(work)
        except _Aborted as aborted:
            await context.abort(aborted.code, aborted.details, aborted.trailing)
        except asyncio.CancelledError:
            call.cancel()
            raise
        await _finish(context, call)
        return response

    def _unary(
        self, behavior: Callable[[Any, Any], Any], inline: Callable[[Any], bool] | None
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            call = CallContext(context)
            here = inline is not None and inline(request)
            return await self._respond(context, call, lambda: behavior(request, call), here)

        return handle

    def _stream_in(
        self, behavior: Callable[[Any, Any], Any]
    ) -> Callable[[AsyncIterator[Any], grpc.aio.ServicerContext], Awaitable[Any]]:
        async def handle(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
            call = CallContext(context)
            sync_requests = _Requests(requests, asyncio.get_running_loop(), call)
            return await self._respond(context, call, lambda: behavior(sync_requests, call), False)

        return handle

    def _stream_out(
        self, behavior: Callable[[Any, Any], Any]
    ) -> Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            call = CallContext(context)
            async for item in self._relay(lambda: behavior(request, call), call, context):
                yield item

        return handle

    def _streams(
        self, behavior: Callable[[Any, Any], Any]
    ) -> Callable[[AsyncIterator[Any], grpc.aio.ServicerContext], AsyncIterator[Any]]:
        async def handle(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            call = CallContext(context)
            sync_requests = _Requests(requests, asyncio.get_running_loop(), call)
            async for item in self._relay(lambda: behavior(sync_requests, call), call, context):
                yield item

        return handle

    async def _relay(
        self, start: Callable[[], Any], call: CallContext, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        """The items of the response iterator ``start()`` returns, each taken in the pool."""
        try:
            responses = await self._run(lambda: iter(start()))
            while True:
                item = await self._run(next, responses, _END)
                if item is _END:
                    break
                yield item
        except _Aborted as aborted:
            await context.abort(aborted.code, aborted.details, aborted.trailing)
        except (asyncio.CancelledError, GeneratorExit):
            call.cancel()
            raise
        await _finish(context, call)


class _Handlers(grpc.GenericRpcHandler):
    def __init__(self, adapter: Callable[[], _Adapter]) -> None:
        self._adapter = adapter

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        return self._adapter().handler(handler_call_details)


class AsyncioServer:
    """gRPC's asyncio server on a loop thread of its own, with the threaded server's interface
    (see the module)."""

    def __init__(
        self,
        *,
        workers: int,
        interceptors: Sequence[grpc.ServerInterceptor] = (),
        options: Sequence[tuple[str, Any]] = (),
        maximum_concurrent_rpcs: int | None = None,
        inline: Mapping[str, Callable[[Any], bool]] | None = None,
    ) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="rpc"
        )
        self._generic: list[grpc.GenericRpcHandler] = []
        self._registered: dict[str, grpc.RpcMethodHandler] = {}
        self._interceptors = tuple(interceptors)
        self._inline = dict(inline or {})
        self._adapter: _Adapter | None = None
        self._stopped = threading.Event()  # what ``stop`` returns, as the threaded server's
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="grpc-asyncio", daemon=True
        )
        self._thread.start()

        async def make() -> grpc.aio.Server:
            return grpc.aio.server(
                handlers=[_Handlers(self._ready_adapter)],
                options=list(options),
                maximum_concurrent_rpcs=maximum_concurrent_rpcs,
            )

        self._server = self._await(make())

    def _await(self, coroutine: Awaitable[_T]) -> _T:
        return asyncio.run_coroutine_threadsafe(_awaited(coroutine), self._loop).result()

    def _on_loop(self, fn: Callable[..., _T], *args: Any) -> _T:
        async def call() -> _T:
            return fn(*args)

        return self._await(call())

    # Registration, as grpc.Server (generated ``add_*_to_server`` functions call both).
    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._generic.extend(handlers)

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            self._registered[f"/{service}/{name}"] = handler

    def add_insecure_port(self, address: str) -> int:
        return self._on_loop(self._server.add_insecure_port, address)

    def add_secure_port(self, address: str, credentials: grpc.ServerCredentials) -> int:
        return self._on_loop(self._server.add_secure_port, address, credentials)

    def _lookup(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        found = self._registered.get(details.method)  # type: ignore[attr-defined]
        if found is not None:
            return found
        for generic in self._generic:
            found = generic.service(details)
            if found is not None:
                return found
        return None

    def _ready_adapter(self) -> _Adapter:
        assert self._adapter is not None, "the server has not started"
        return self._adapter

    def start(self) -> None:
        find: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None] = self._lookup
        for interceptor in reversed(self._interceptors):
            find = functools.partial(interceptor.intercept_service, find)
        self._adapter = _Adapter(find, self._pool, self._inline)
        self._await(self._server.start())

    def stop(self, grace: float | None) -> threading.Event:
        """Refuse new calls, let calls in flight finish for up to ``grace`` seconds, then end
        them; the returned event is set once the server, its pool and its loop have stopped."""
        if self._stopped.is_set():
            return self._stopped

        async def stop() -> None:
            await self._server.stop(grace)

        def run() -> None:
            try:
                self._await(stop())
            finally:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join()
                self._loop.close()
                self._stopped.set()

        threading.Thread(target=run, name="grpc-asyncio-stop", daemon=True).start()
        return self._stopped

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)


async def _awaited(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


__all__ = ["AsyncioServer", "CallContext"]
