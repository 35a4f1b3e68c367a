"""Serving one address from several processes, and keeping them running.

A Python process runs Python code on one core at a time (the interpreter lock), so one server
process uses about one core however many threads it has. ``quotient serve --processes N`` starts
N server processes instead, each a whole server (its own interpreter, gRPC server, store
connections and caches) listening on the same port with ``SO_REUSEPORT``: the kernel hands each
new connection to one of them. They share the store as separate instances do (see the README,
"Several instances"), so one address serves as much as N instances.

The parent process serves nothing itself. It prepares the store once (migrations, the first API
key, the sample rule set), so the workers never race for them; reserves the port when the address
asks for any free one (port 0); starts the workers with ``spawn`` (a fresh interpreter each: gRPC
must not be forked once it runs); and reports the address once every worker serves. A worker that
cannot start stops everything with its reason. A worker that dies while serving is replaced (its
open calls fail UNAVAILABLE and its clients reconnect to another). SIGTERM or SIGINT is passed on to
every worker, which drains its calls as a single server does; the parent waits for them. A
worker whose parent is gone (killed outright) stops by itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType

from service.config import Config

LOG = logging.getLogger("quotient.processes")

#: Seconds a worker gets to start serving (imports, the store, compiling the sample rule set).
START_TIMEOUT_S = 120.0

#: A worker's entry point: (its config, its number, the end of the pipe it reports on, the
#: parent's logging level). It sends ``("ready", port)`` once it serves, or ``("failed",
#: reason)``, then serves until SIGTERM.
Target = Callable[[Config, int, Connection, int], None]


class WorkerStartError(Exception):
    """A worker could not start serving; the message is its reason."""


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:port`` for IPv6) as host and port."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{address!r} is not host:port")
    return host, int(port)


@contextmanager
def reserved_address(address: str) -> Iterator[str]:
    """``address`` with a concrete port: a free one, held meanwhile, when its port is 0.

    The port is held by a socket bound with ``SO_REUSEPORT`` and never listening, so the workers
    can bind it too and the kernel gives it no connections; it is released on exit, once the
    workers listen."""
    host, port = split_address(address)
    if port != 0:
        yield address
        return
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        host.strip("[]"), 0, type=socket.SOCK_STREAM
    )[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(sockaddr)
        yield f"{host}:{sock.getsockname()[1]}"


@dataclass
class _Worker:
    number: int
    process: BaseProcess
    pid: int


class _Stopped(Exception):
    """A stop was asked for while workers were starting."""


class Supervisor:
    """Starts ``config.processes`` workers on one address and keeps that many running."""

    def __init__(self, config: Config, target: Target) -> None:
        self.config = config
        self.target = target
        self.context = multiprocessing.get_context("spawn")
        #: What every worker is started with: the concrete address, once :meth:`start` has it.
        self.worker_config = replace(config, publish_sample=False)
        self.workers: list[_Worker] = []
        self.starting: list[BaseProcess] = []
        self.stopping = threading.Event()

    def _spawn(self, number: int) -> tuple[BaseProcess, Connection]:
        ours, theirs = self.context.Pipe(duplex=False)
        level = logging.getLogger().getEffectiveLevel()
        args = (self.worker_config, number, theirs, level)
        process = self.context.Process(target=self.target, args=args,
                                       name=f"quotient-worker-{number}")  # fmt: skip
        process.start()
        theirs.close()
        self.starting.append(process)
        return process, ours

    def _await(self, number: int, process: BaseProcess, ours: Connection) -> _Worker:
        """Wait until worker ``number`` serves. Raises :class:`WorkerStartError` if it cannot,
        :class:`_Stopped` if a stop is asked for meanwhile."""
        deadline = time.monotonic() + START_TIMEOUT_S
        report: tuple[str, object] | None = None
        timed_out = False
        try:
            while not wait([ours, process.sentinel], timeout=0.25):
                if self.stopping.is_set():
                    raise _Stopped
                if time.monotonic() > deadline:
                    timed_out = True
                    break
            if not timed_out and ours.poll():
                report = ours.recv()
        except EOFError:  # ended without a word
            pass
        finally:
            ours.close()
        if report is None or report[0] != "ready":
            process.join(0 if timed_out else 10)  # a worker that failed exits by itself
            if process.is_alive():
                process.kill()
                process.join()
            if report is not None:
                why = str(report[1])
            elif timed_out:
                why = f"did not serve within {START_TIMEOUT_S:.0f} s"
            else:
                why = f"exited with code {process.exitcode} before serving"
            raise WorkerStartError(f"worker {number}: {why}")
        assert process.pid is not None
        LOG.info("worker %d serving (pid %d)", number, process.pid)
        self.starting.remove(process)
        return _Worker(number, process, process.pid)

    def start(self, address: str) -> None:
        """Start every worker on ``address`` (a concrete port) at once and wait until they all
        serve."""
        self.worker_config = replace(self.worker_config, address=address)
        numbers = range(1, self.config.processes + 1)
        spawned = [(n, *self._spawn(n)) for n in numbers]
        for number, process, ours in spawned:
            self.workers.append(self._await(number, process, ours))

    def run(self) -> None:
        """Keep every worker running until :meth:`request_stop`."""
        while not self.stopping.is_set():
            exited = wait([w.process.sentinel for w in self.workers], timeout=0.5)
            if self.stopping.is_set():
                break
            for sentinel in exited:
                k = next(i for i, w in enumerate(self.workers) if w.process.sentinel == sentinel)
                gone = self.workers[k]
                gone.process.join()
                LOG.error("worker %d (pid %d) exited with code %s; starting another",
                          gone.number, gone.pid, gone.process.exitcode)  # fmt: skip
                self.workers[k] = self._await(gone.number, *self._spawn(gone.number))

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        if not self.stopping.is_set():
            LOG.info("signal %d: stopping the workers", signum)
        self.stopping.set()

    def stop(self) -> None:
        """SIGTERM every worker (each drains its calls), then wait; kill any still running after
        the grace period and ten seconds more."""
        processes = [w.process for w in self.workers] + self.starting
        for process in processes:
            if process.is_alive():
                assert process.pid is not None
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(self.config.shutdown_grace_s + 10)
            if process.is_alive():
                LOG.error("%s (pid %s) did not stop; killing it", process.name, process.pid)
                process.kill()
                process.join()
        self.workers = []
        self.starting = []


def stop_with_parent(interval_s: float = 1.0) -> threading.Thread:
    """In a worker: SIGTERM this process (drain, stop) once its parent is gone, so workers never
    outlive a supervisor killed outright (SIGKILL, the out-of-memory killer). The parent is
    checked every ``interval_s`` from a daemon thread."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        LOG.error("the supervising process (pid %d) is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def serve_processes(config: Config, target: Target, on_serving: Callable[[int], None]) -> None:
    """Serve ``config.address`` from ``config.processes`` workers running ``target`` until
    SIGTERM or SIGINT; ``on_serving(port)`` once all serve. Raises :class:`WorkerStartError`."""
    supervisor = Supervisor(config, target)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    try:
        with reserved_address(config.address) as address:
            supervisor.start(address)
        on_serving(split_address(address)[1])
        supervisor.run()
    except _Stopped:
        pass
    finally:
        supervisor.stop()


__all__ = [
    "START_TIMEOUT_S",
    "Supervisor",
    "WorkerStartError",
    "reserved_address",
    "serve_processes",
    "split_address",
    "stop_with_parent",
]
