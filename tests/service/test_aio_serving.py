"""Synchronous handlers on gRPC's asyncio server: where each call runs, and what a handler sets
(codes, details, trailing metadata, aborts, callbacks) reaching the caller as on the threaded
server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from service.aio_serving import AsyncioServer, _Requests

SERVICE = "test.Echo"
UNARY, STREAM = f"/{SERVICE}/Unary", f"/{SERVICE}/Stream"


class Handlers:
    """Byte handlers that record the thread they ran on and do what the request says."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.closed = threading.Event()
        self.ended = threading.Event()
        self.remaining: list[float | None] = []

    def unary(self, request: bytes, context: Any) -> bytes:
        self.threads.append(threading.current_thread().name)
        self.remaining.append(context.time_remaining())
        if request in (b"!", b"abort"):  # b"!" runs on the loop, b"abort" in the pool
            context.set_trailing_metadata((("x-note", "before"),))
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "aborted on purpose")
        if request == b"not-found":
            context.set_code(grpc.StatusCode.NOT_FOUND)
            context.set_details("no such thing")
            return b""
        if request == b"raise":
            raise RuntimeError("unexpected")
        context.set_trailing_metadata((("x-note", "ok"),))
        return request.upper()

    def count(self, requests: Iterator[bytes], context: Any) -> bytes:
        self.threads.append(threading.current_thread().name)
        n = sum(1 for _ in requests)
        context.set_trailing_metadata((("x-count", str(n)),))
        return str(n).encode()

    def stream(self, requests: Iterator[bytes], context: Any) -> Iterator[bytes]:
        context.add_callback(self.closed.set)
        try:
            for request in requests:
                if request == b"wait":
                    self.closed.wait(10)  # until the caller goes away
                    return
                yield request[::-1]
        finally:
            self.ended.set()


@pytest.fixture
def served() -> Iterator[tuple[Handlers, grpc.Channel]]:
    handlers = Handlers()
    server = AsyncioServer(workers=4, inline={UNARY: lambda request: len(request) <= 3})
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(handlers.unary),
        "Count": grpc.stream_unary_rpc_method_handler(handlers.count),
        "Stream": grpc.stream_stream_rpc_method_handler(handlers.stream),
    }),))  # fmt: skip
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield handlers, channel
    stopped = server.stop(0)
    assert stopped.wait(10) and server.wait_for_termination(0)


def test_small_requests_run_on_the_loop_and_others_in_the_pool(
    served: tuple[Handlers, grpc.Channel],
) -> None:
    handlers, channel = served
    call = channel.unary_unary(UNARY)
    response, state = call.with_call(b"abc", timeout=5)
    assert response == b"ABC" and ("x-note", "ok") in state.trailing_metadata()
    assert call(b"abcdef") == b"ABCDEF"
    assert handlers.threads[0] == "grpc-asyncio" and handlers.threads[1].startswith("rpc")
    first, second = handlers.remaining
    assert first is not None and 4 < first < 6  # the caller's 5 s, less what has passed
    assert second is None  # no deadline given


@pytest.mark.parametrize(("payload", "thread"), [(b"!", "grpc-asyncio"), (b"abort", "rpc")])
def test_an_abort_ends_the_call_with_its_status(
    served: tuple[Handlers, grpc.Channel], payload: bytes, thread: str
) -> None:
    handlers, channel = served
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary(UNARY)(payload)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details() == "aborted on purpose"
    assert handlers.threads[-1].startswith(thread)


def test_a_code_set_without_abort_reaches_the_caller(
    served: tuple[Handlers, grpc.Channel],
) -> None:
    _, channel = served
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary(UNARY)(b"not-found")
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.NOT_FOUND, "no such thing")


def test_an_unexpected_error_is_unknown_to_the_caller(
    served: tuple[Handlers, grpc.Channel],
) -> None:
    _, channel = served
    with pytest.raises(grpc.RpcError) as err:
        channel.unary_unary(UNARY)(b"raise")
    assert err.value.code() == grpc.StatusCode.UNKNOWN


def test_a_stream_of_requests_answers_in_order(served: tuple[Handlers, grpc.Channel]) -> None:
    _, channel = served
    answers = channel.stream_stream(STREAM)(iter([b"ab", b"cd", b"ef"]), timeout=10)
    assert list(answers) == [b"ba", b"dc", b"fe"]


def test_a_stream_of_requests_gets_one_answer(served: tuple[Handlers, grpc.Channel]) -> None:
    handlers, channel = served
    answer, state = channel.stream_unary(f"/{SERVICE}/Count").with_call(iter([b"a"] * 5))
    assert answer == b"5" and ("x-count", "5") in state.trailing_metadata()
    assert handlers.threads[-1].startswith("rpc")


def test_a_caller_going_away_runs_the_handlers_callbacks(
    served: tuple[Handlers, grpc.Channel],
) -> None:
    handlers, channel = served
    answers = channel.stream_stream(STREAM)(iter([b"ab", b"wait"]))
    assert next(answers) == b"ba"
    answers.cancel()
    assert handlers.closed.wait(10)


def test_a_handler_waiting_for_requests_ends_when_the_caller_goes_away(
    served: tuple[Handlers, grpc.Channel],
) -> None:
    handlers, channel = served
    more = threading.Event()

    def requests() -> Iterator[bytes]:
        yield b"ab"
        more.wait(10)  # the caller neither sends more nor closes its side

    answers = channel.stream_stream(STREAM)(requests())
    assert next(answers) == b"ba"
    answers.cancel()
    assert handlers.ended.wait(10)  # the worker thread is free again
    more.set()


def test_stopping_the_server_frees_a_handler_waiting_for_requests() -> None:
    handlers = Handlers()
    server = AsyncioServer(workers=2)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
        "Stream": grpc.stream_stream_rpc_method_handler(handlers.stream),
    }),))  # fmt: skip
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    more = threading.Event()

    def requests() -> Iterator[bytes]:
        yield b"ab"
        more.wait(10)

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        answers = channel.stream_stream(STREAM)(requests())
        assert next(answers) == b"ba"
        assert server.stop(0).wait(10)
        assert handlers.ended.wait(10)
        with pytest.raises(grpc.RpcError):
            next(answers)
        more.set()


class _Call:
    """What a request stream asks of its call: whether it is still on."""

    def __init__(self) -> None:
        self.active = True

    def is_active(self) -> bool:
        return self.active


async def _never() -> AsyncIterator[bytes]:
    await asyncio.Event().wait()  # a caller that keeps its stream open and sends nothing
    yield b""


@pytest.mark.parametrize("ending", ["call over", "loop closed"])
def test_a_handler_waiting_for_a_request_that_never_comes_is_freed(ending: str) -> None:
    # The server may stop its loop before the loop finishes reading a request; the handler
    # thread must not wait for that read for ever.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    call = _Call()
    requests = _Requests(_never(), loop, call)  # type: ignore[arg-type]
    raised = threading.Event()

    def handler() -> None:
        with pytest.raises(grpc.RpcError):
            next(requests)
        raised.set()

    worker = threading.Thread(target=handler, daemon=True)
    worker.start()
    assert not raised.wait(0.3)  # still waiting: the call is on
    if ending == "call over":
        call.active = False
    else:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert raised.wait(5)
    worker.join(5)
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(asyncio.sleep(0.01))  # the cancelled read ends
        loop.close()
