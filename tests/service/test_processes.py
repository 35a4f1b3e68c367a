"""``quotient serve --processes N``: one address served by N worker processes sharing the store.

The end-to-end tests run the real command in a child process and talk to it over real channels:
both workers bind the one port, calls reach the shared store through either, a worker killed
with SIGKILL is replaced while the other serves on, SIGTERM stops them all, and a worker that
cannot start stops the command with its reason.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from server import ConfigError, check_security
from service.config import ROOT, Config
from service.processes import reserved_address, split_address

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_split_address() -> None:
    assert split_address("127.0.0.1:50051") == ("127.0.0.1", 50051)
    assert split_address("[::1]:0") == ("[::1]", 0)
    for bad in ("localhost", "localhost:http", ":"):
        with pytest.raises(ValueError, match="host:port"):
            split_address(bad)


def test_a_reserved_port_is_free_for_the_workers_and_given_back() -> None:
    with reserved_address("127.0.0.1:0") as address:
        host, port = split_address(address)
        assert host == "127.0.0.1" and port > 0
        # A worker binds the same port with SO_REUSEPORT and listens on it.
        with socket.socket() as worker:
            worker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            worker.bind(("127.0.0.1", port))
            worker.listen()
    with socket.socket() as later:  # released: anyone may bind it now
        later.bind(("127.0.0.1", port))
    with reserved_address("127.0.0.1:50999") as address:  # a given port is kept as it is
        assert address == "127.0.0.1:50999"


def test_the_number_of_processes_is_checked() -> None:
    for bad in (0, -1, 65):
        with pytest.raises(ConfigError, match="QUOTIENT_PROCESSES"):
            check_security(Config(processes=bad, auth="off", address="127.0.0.1:0"))


class Served:
    """A running ``quotient serve --processes``: its process, port and log so far."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.log: list[str] = []
        self.port = 0
        self._lines = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lines:
                self.log.append(line)
                self._lines.notify_all()

    def wait_for(self, pattern: str, count: int = 1, timeout_s: float = 90) -> list[re.Match[str]]:
        """The first ``count`` log lines matching ``pattern``, once there are that many."""
        deadline = time.monotonic() + timeout_s
        with self._lines:
            while True:
                found = [m for m in (re.search(pattern, line) for line in self.log) if m]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no {count} x {pattern!r} in:\n{''.join(self.log)}")
                self._lines.wait(min(left, 0.5))

    def workers(self) -> dict[int, int]:
        """Worker number -> pid, as last reported serving."""
        return {int(m[1]): int(m[2]) for line in list(self.log)
                if (m := re.search(r"worker (\d+) serving \(pid (\d+)\)", line))}  # fmt: skip


@contextmanager
def serve_processes(tmp_path: Path, *flags: str) -> Iterator[Served]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--address", "127.0.0.1:0",
         "--db", str(tmp_path / "q.sqlite3"), *flags],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", "QUOTIENT_AUTH": "off"},
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    served = Served(proc)
    try:
        yield served
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        # Workers do not outlive their server (those that do are killed before failing).
        leftovers = [pid for pid in served.workers().values() if not _gone_within(pid, 30)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        served._reader.join(30)  # the workers held the log's pipe too
        assert proc.stderr is not None
        proc.stderr.close()
        assert not leftovers, f"workers {leftovers} outlived their server"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def _gone_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _channel(port: int) -> grpc.Channel:
    # A connection of its own: the kernel gives each new connection to one worker.
    return grpc.insecure_channel(f"127.0.0.1:{port}",
                                 options=[("grpc.use_local_subchannel_pool", 1)])  # fmt: skip


def _created(deal_id: str, minutes: int) -> credit_pb2.DealEvent:
    when = Timestamp()
    when.FromDatetime(T0 + dt.timedelta(minutes=minutes))
    return credit_pb2.DealEvent(
        event_id=f"{deal_id}-created", deal_id=deal_id, event_time=when,
        kind=credit_pb2.DEAL_EVENT_KIND_CREATED,
        deal=types_pb2.Deal(amount_minor=1_000_000, currency="CNY", stage="quote",
                            owner="li.wei",
                            team=[types_pb2.TeamMember(person="li.wei", ratio="0.7"),
                                  types_pb2.TeamMember(person="zhang.min", ratio="0.3")]),
    )  # fmt: skip


def _record_from_many_connections(port: int, prefix: str, connections: int) -> None:
    for c in range(connections):
        with _channel(port) as channel:
            reply = credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
                credit_pb2.RecordDealEventsRequest(
                    rule_set="default", events=[_created(f"{prefix}{c}", c)]),
                timeout=30,
            )  # fmt: skip
            assert reply.recorded_count == 1


def _zhang_min_deals(port: int) -> set[str]:
    with _channel(port) as channel:
        reply = credit_pb2_grpc.CreditServiceStub(channel).GetCredits(
            credit_pb2.GetCreditsRequest(person="zhang.min"), timeout=30
        )
    return {t.deal_id for t in reply.totals}


def test_workers_share_the_port_and_the_store_and_are_replaced_and_stopped(
    tmp_path: Path,
) -> None:
    with serve_processes(tmp_path, "--processes", "2") as served:
        (serving,) = served.wait_for(r"serving on .* \(port (\d+)\).*, 2 processes")
        port = int(serving[1])
        workers = served.workers()
        assert sorted(workers) == [1, 2] and len(set(workers.values())) == 2
        assert set(workers.values()) <= _children(served.proc.pid)
        with _channel(port) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=30
            )
        assert health.status == health_pb2.HealthCheckResponse.SERVING

        # Twelve connections: whichever worker each reaches, all record into the one store.
        _record_from_many_connections(port, "d", 12)
        assert _zhang_min_deals(port) == {f"d{c}" for c in range(12)}

        # A worker that dies is replaced; the service answers meanwhile and after.
        os.kill(workers[1], signal.SIGKILL)
        served.wait_for(r"worker 1 \(pid \d+\) exited with code -9; starting another")
        _record_from_many_connections(port, "e", 4)
        served.wait_for(r"worker 1 serving \(pid \d+\)", count=2)
        replaced = served.workers()
        assert replaced[2] == workers[2] and replaced[1] != workers[1]
        assert set(replaced.values()) <= _children(served.proc.pid)
        _record_from_many_connections(port, "f", 4)
        assert len(_zhang_min_deals(port)) == 20

        # SIGTERM: every worker drains and stops, then the server exits 0.
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(60) == 0
        served.wait_for(r"\[worker \d\] stopped", count=2)
        assert all(_gone_within(pid, 30) for pid in replaced.values())


def test_workers_stop_when_their_supervisor_is_killed_outright(tmp_path: Path) -> None:
    with serve_processes(tmp_path, "--processes", "2") as served:
        served.wait_for(r"serving on .* \(port (\d+)\).*, 2 processes")
        workers = served.workers()
        served.proc.kill()  # SIGKILL: nothing is passed on
        served.proc.wait()
        assert all(_gone_within(pid, 30) for pid in workers.values())
        served.wait_for(r"supervising process \(pid \d+\) is gone; stopping", count=2)


def test_a_worker_that_cannot_start_stops_the_command_with_its_reason(tmp_path: Path) -> None:
    # The port is taken by a listener that does not share it: no worker can bind it.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", "serve", "--address", f"127.0.0.1:{port}",
             "--db", str(tmp_path / "q.sqlite3"), "--processes", "2"],
            cwd=ROOT, env={**os.environ, "QUOTIENT_AUTH": "off"}, capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert re.search(rf"quotient serve: worker \d: .*127\.0\.0\.1:{port}", proc.stderr)
    assert "serving on" not in proc.stderr
