"""RecordDealEvents throughput by store: the SQLite file against PostgreSQL, with one service
instance and with two instances sharing the database.

Why this exists: the PostgreSQL store is for when one machine or one instance is not enough; this
shows what it costs per event and what a second instance brings. Every server is a separate
``quotient serve`` process (as in production, each with its own interpreter), started on a fresh
database; PostgreSQL is a private server started for the run (``tests/postgres.py``: the
distribution's binaries on loopback, ``fsync=off`` like a disposable test server, so disk flushes
do not decide the figures; SQLite runs with its usual ``synchronous=FULL``, so the comparison
favours PostgreSQL on durability cost and is stated as such). The client sends batches of 1,000
created-deal events (a 70/30 split each) from one thread per instance (``--callers N``: N
threads per instance), each thread on a connection of its own and taking the next batch when
its last one is answered, as a steady feed would. Then as many events again move each of those
deals to the next stage (in-order events continued from the deals' stored heads, as in
``bench.credit``), sent the same way.

One more SQLite row serves one address from several processes (``quotient serve --processes
2``): the kernel spreads connections over the processes at random, so the client sends from
four threads per process, each on a connection of its own, and how the connections fell is
printed for each half of the run (a process with one connection idles while its caller turns
round; one with none idles throughout).

Every row also prints the service's CPU time per event in each half (all its processes; not a
PostgreSQL server's) and how busy each process was (CPU time over the two halves' wall time).
The CPU per event follows the machine's spells (and, for stage changes, how many deal heads a
process finds kept in memory); set beside how busy each process was, it tells a slow spell from
a poor spread of the load.

With ``--omit-lines`` every batch asks for a reply without its ledger lines (the counts only,
as a feed that needs only the acknowledgement would).

Baseline: one instance on SQLite, measured in the same run; ratios are against it. Each row's
ledger is checked afterwards: every event recorded once, two lines per event.

Run ``.venv/bin/python -m bench.stores --help``.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from bench import ROOT, fmt_rate, fmt_ratio, machine_summary, print_table, write_json
from bench.credit import event_batch, stage_batch
from quotient.v1 import credit_pb2, credit_pb2_grpc
from service.channel import open_channel
from tests.postgres import postgres_server

#: The target for RecordDealEvents into SQLite, in batches of 1,000 (as ``bench.credit``).
TARGET_EVENTS_PER_S = 20_000


#: Connections per worker process to a server of several processes (``quotient serve
#: --processes``): the kernel gives each new connection to one of them, at random. With four per
#: worker (8 connections to two workers), all land on one worker in 0.8 % of halves of a run,
#: and one worker gets at most one in 7 % (with three per worker: 3 % and 22 %).
CONNECTIONS_PER_PROCESS = 4


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) used so far by process ``pid``."""
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")


def connections_by_process(port: int, pids: Sequence[int]) -> list[int]:
    """How many established TCP connections to local ``port`` each of ``pids`` holds (read
    from ``/proc``: the sockets each process has open, and the kernel's TCP tables)."""
    owner: dict[str, int] = {}
    for k, pid in enumerate(pids):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    owner[target[8:-1]] = k
    counts = [0] * len(pids)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01" and fields[9] in owner:  # ESTABLISHED
                    counts[owner[fields[9]]] += 1
    return counts


def note_spread(port: int, pids: Sequence[int], into: list[list[int]]) -> None:
    """Append :func:`connections_by_process` to ``into``."""
    into.append(connections_by_process(port, pids))


@dataclass
class Server:
    """A running ``quotient serve``: its port and process id."""

    port: int
    pid: int

    def serving_pids(self) -> list[int]:
        """The processes that serve: its worker processes, or itself when it has none."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        out = []
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                out.append(int(pid))
        return out or [self.pid]


@contextmanager
def server(store: list[str], log: Path) -> Iterator[Server]:
    """A ``quotient serve`` child process on a free port with ``store`` flags (and any others,
    such as ``--processes``)."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--address", "127.0.0.1:0",
             "--log-level", "INFO", *store],
            cwd=ROOT, stderr=out, stdout=out,
            env={**os.environ, "QUOTIENT_AUTH": "off", "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"serving on .* \(port (\d+)\)", log.read_text())
            if found:
                yield Server(int(found.group(1)), proc.pid)
                return
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()}")
            time.sleep(0.05)
        raise RuntimeError("the server did not report its port")
    finally:
        proc.terminate()
        proc.wait(30)


def record(
    ports: Sequence[int],
    requests: Sequence[Any],
    callers: int = 1,
    on_ready: Callable[[], object] | None = None,
) -> float:
    """Send ``requests`` to ``ports`` from ``callers`` client threads per port, each with a
    channel and a connection of its own, each taking the next request when its last one is
    answered (a steady feed, however the connections fall on a server's processes); seconds
    taken once every connection is open and has sent a first small batch (``on_ready`` runs
    then, before the clock starts)."""
    targets = [port for _ in range(callers) for port in ports]
    queue = collections.deque(requests)
    errors: list[BaseException] = []
    ready = threading.Barrier(len(targets) + 1)

    def send(number: int, port: int) -> None:
        try:
            # Channels to one address share one connection unless each keeps its own.
            options = [("grpc.use_local_subchannel_pool", 1),
                       ("grpc.max_receive_message_length", 64 << 20)]  # fmt: skip
            with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
                stub = credit_pb2_grpc.CreditServiceStub(channel)
                # Warm up: open the connection, compile the rule set in the process it reached.
                stub.RecordDealEvents(event_batch(10**6 + number, 10), timeout=600)
                ready.wait()
                while True:
                    try:
                        request = queue.popleft()
                    except IndexError:
                        return
                    stub.RecordDealEvents(request, timeout=600)
        except BaseException as exc:
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate(targets)]
    for t in threads:
        t.start()
    with suppress(threading.BrokenBarrierError):
        ready.wait()
        if on_ready is not None:
            on_ready()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return seconds


def check(port: int, batches: int, batch_size: int) -> None:
    """Every event once: li.wei is credited on each sent deal once, 70 % of its amount."""
    with open_channel(f"127.0.0.1:{port}", env={}) as channel:
        r = credit_pb2_grpc.CreditServiceStub(channel).GetCredits(
            credit_pb2.GetCreditsRequest(person="li.wei"), timeout=600)  # fmt: skip
    sent = {t.deal_id: t.credit_minor for t in r.totals
            if int(t.deal_id[1:].split("-")[0]) < batches}  # fmt: skip
    # 70 % of each amount to the unit; the largest remainder decides which side gets the odd one.
    want = {f"d{b}-{j}": 7 * (100_000 + j) // 10 for b in range(batches) for j in range(batch_size)}
    if sent.keys() != want.keys() or any(not 0 <= sent[d] - w <= 1 for d, w in want.items()):
        raise SystemExit(f"ledger check failed: {len(sent)} deals credited, {len(want)} sent")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=40, help="batches of events (40)")
    p.add_argument("--batch-size", type=int, default=1000, help="events per batch (1,000)")
    p.add_argument(
        "--callers",
        type=int,
        default=1,
        help="client threads per instance, each sending its share of the batches (1)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=2,
        help="worker processes of the one-address row (quotient serve --processes; 2)",
    )
    p.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    p.add_argument(
        "--omit-lines",
        action="store_true",
        help="send every batch with omit_lines: replies carry the counts, not the lines",
    )
    p.add_argument("--quick", action="store_true", help="8 batches")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.quick:
        args.batches = 8
    requests = [event_batch(b, args.batch_size) for b in range(args.batches)]
    moves = [stage_batch(b, args.batch_size) for b in range(args.batches)]
    for r in (*requests, *moves):
        r.omit_lines = args.omit_lines
    n = args.batches * args.batch_size
    machine = machine_summary()
    print(f"bench.stores on {machine['platform']}, {machine['cpus']} CPUs, {machine['date']}")
    results: dict[str, float] = {}
    stage_results: dict[str, float] = {}
    cpu_us: dict[str, float] = {}  # the service's CPU per event, both halves together
    details: dict[str, str] = {}
    several = f"SQLite, 1 instance of {args.processes} processes"
    sqlite_rows = ["SQLite, 1 instance", several, "SQLite, 2 instances on one file"]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as databases:
        pg = None if args.sqlite_only else databases.enter_context(postgres_server())
        if pg is None and not args.sqlite_only:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        # name -> (one list of flags per instance, client threads per instance)
        setups = {
            sqlite_rows[0]: ([["--db", f"{tmp}/one.sqlite3"]], args.callers),
            several: (
                [["--db", f"{tmp}/several.sqlite3", "--processes", str(args.processes)]],
                max(args.callers, CONNECTIONS_PER_PROCESS) * args.processes,
            ),
            sqlite_rows[2]: ([["--db", f"{tmp}/two.sqlite3"]] * 2, args.callers),
        }
        if pg is not None:
            setups["PostgreSQL, 1 instance"] = ([["--database-url", pg.new_database()]],
                                                args.callers)  # fmt: skip
            shared = pg.new_database()
            setups["PostgreSQL, 2 instances on one database"] = (
                [["--database-url", shared]] * 2, args.callers)  # fmt: skip
        for name, (stores, callers) in setups.items():
            with ExitStack() as stack:
                servers = [stack.enter_context(server(flags, Path(tmp) / f"{name[:3]}{i}.log"))
                           for i, flags in enumerate(stores)]  # fmt: skip
                ports = [s.port for s in servers]
                pids = [pid for s in servers for pid in s.serving_pids()]
                spreads: list[list[int]] = []  # connections per worker, in each half
                spread = (functools.partial(note_spread, ports[0], pids, spreads)
                          if len(pids) > len(ports) else None)  # fmt: skip
                cpu = [[process_cpu_s(pid) for pid in pids]]
                seconds = record(ports, requests, callers, spread)
                cpu.append([process_cpu_s(pid) for pid in pids])
                moved = record(ports, moves, callers, spread)
                cpu.append([process_cpu_s(pid) for pid in pids])
                used = [b - a for a, b in zip(cpu[0], cpu[2], strict=True)]
                check(ports[0], args.batches, args.batch_size)  # after: its long read is no load
            results[name] = n / seconds
            stage_results[name] = n / moved
            cpu_us[name] = sum(used) / (2 * n) * 1e6
            halves = [(sum(cpu[k + 1]) - sum(cpu[k])) / n * 1e6 for k in (0, 1)]
            details[name] = (
                f"service CPU per event {halves[0]:.0f} us created, {halves[1]:.0f} us stage "
                "changes; each process busy "
                + " / ".join(f"{u / (seconds + moved):.0%}" for u in used)
                + ("; connections per worker process, created "
                   + ", stage changes ".join("/".join(map(str, c)) for c in spreads)
                   if spreads else "")
            )  # fmt: skip
            print(f"  {name}: {n / seconds:,.0f} events/s, then stage changes "
                  f"{n / moved:,.0f} events/s, {callers} client thread(s) per instance; "
                  f"{details[name]}", file=sys.stderr)  # fmt: skip
    base = results["SQLite, 1 instance"]
    print_table(f"RecordDealEvents: {n:,} events in batches of {args.batch_size:,}, separate "
                f"server processes, {args.callers} client thread(s) per instance "
                f"({max(args.callers, CONNECTIONS_PER_PROCESS)} per process of the "
                f"{args.processes}-process instance)"
                + ("; replies without lines (omit_lines)" if args.omit_lines else ""),
                ["store", "created/s", "vs SQLite, 1 instance", "stage changes/s"],
                [[k, fmt_rate(v), fmt_ratio(v / base), fmt_rate(stage_results[k])]
                 for k, v in results.items()])  # fmt: skip
    for name, detail in details.items():
        print(f"  {name}: {detail}")
    if pg is not None:
        print("  (the PostgreSQL server's own CPU is not in the service CPU of its rows)")
    for name in sqlite_rows:
        both = min(results[name], stage_results[name])
        verdict = "met" if both >= TARGET_EVENTS_PER_S else "NOT met"
        print(
            f"  {name}: created and stage changes >= {TARGET_EVENTS_PER_S:,} events/s: "
            f"{verdict} ({fmt_rate(results[name])} / {fmt_rate(stage_results[name])})"
        )
    if args.json:
        write_json(args.json, {"machine": machine, "events": n, "callers": args.callers,
                               "omit_lines": args.omit_lines,
                               "events_per_s": results,
                               "stage_events_per_s": stage_results,
                               "service_cpu_us_per_event": cpu_us})  # fmt: skip


if __name__ == "__main__":
    main()
