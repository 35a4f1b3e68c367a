"""Load and soak on loopback: a served process under a mixed, steady load for a while.

Why this exists: a CRM backend calls on every deal change, all day. This starts ``quotient serve``
in a child process (authentication on, as in production: the calls carry the bootstrap key),
then drives it from client threads for ``--seconds`` with a mix of calls: ScoreDeals (10 deals),
SplitCredits (10 deals with a 70/30 team) and RecordDealEvents (10 ``created`` events of new
deals), in equal shares. It reports per call kind the calls, throughput, p50 and p99 latency and
errors (target: none), and the server's resident memory at the start of the load, a third of the
way and at the end (target: flat once warm; the store grows with the recorded events, so a slow
rise of a few MiB is the ledger's page cache, not a leak).

Baseline: health checks (``grpc.health.v1.Health/Check``, the cheapest call through the same
stack) from the same threads for the first few seconds, so the ratio shows what each call costs
above the transport.

Run ``.venv/bin/python -m bench.load --help``; ``--quick`` runs 8 seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import ROOT, fmt_rate, machine_summary, percentile, print_table, write_json
from quotient.v1 import credit_pb2, credit_pb2_grpc, forecast_pb2, forecast_pb2_grpc, types_pb2
from service.channel import open_channel


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB (Linux /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _deals(n: int, seq: int) -> list[types_pb2.Deal]:
    team = [types_pb2.TeamMember(person="li.wei", ratio="0.7"),
            types_pb2.TeamMember(person="zhang.min", ratio="0.3")]  # fmt: skip
    stages = ["initial_contact", "needs_confirmed", "quote", "contract_drafted", "won"]
    return [types_pb2.Deal(id=f"d{seq}-{i}", amount_minor=1_000_000 + 37 * i + seq % 1000,
                           currency="CNY", stage=stages[(seq + i) % 5], owner="li.wei",
                           region="North", team=team) for i in range(n)]  # fmt: skip


def _events(n: int, seq: int) -> credit_pb2.RecordDealEventsRequest:
    when = Timestamp()
    when.FromDatetime(dt.datetime(2026, 3, 2, tzinfo=dt.UTC) + dt.timedelta(seconds=seq))
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=[
        credit_pb2.DealEvent(event_id=f"load-{seq}-{i}", deal_id=f"load-{seq}-{i}",
                             event_time=when, kind=credit_pb2.DEAL_EVENT_KIND_CREATED, deal=d)
        for i, d in enumerate(_deals(n, seq))])  # fmt: skip


def serve(db: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--address", "127.0.0.1:0", "--db", str(db)],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", "QUOTIENT_AUTH": "tokens"},
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"serving on .* \(port (\d+)\)", line)
        if m:
            # Keep reading the log, so the server never blocks on a full pipe.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(m.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the server did not start")


def drive(port: int, token_file: Path, seconds: float, threads: int,
          kinds: dict[str, Callable[[Any, int], Any]], pid: int) -> dict[str, Any]:  # fmt: skip
    """Call ``kinds`` round robin from ``threads`` threads for ``seconds``; latencies per kind."""
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, list[str]] = {k: [] for k in kinds}
    counter = itertools.count()
    stop = time.monotonic() + seconds
    memory = [rss_mib(pid)]
    env = {"QUOTIENT_TOKEN_FILE": str(token_file)}

    def worker(offset: int) -> None:
        with open_channel(f"127.0.0.1:{port}", env) as channel:
            stubs = {"health": health_pb2_grpc.HealthStub(channel),
                     "forecast": forecast_pb2_grpc.ForecastServiceStub(channel),
                     "credit": credit_pb2_grpc.CreditServiceStub(channel)}  # fmt: skip
            names = list(kinds)
            i = offset
            while time.monotonic() < stop:
                kind = names[i % len(names)]
                i += 1
                t0 = time.perf_counter()
                try:
                    kinds[kind](stubs, next(counter))
                except grpc.RpcError as exc:
                    errors[kind].append(f"{exc.code().name}: {exc.details()}")
                    continue
                latencies[kind].append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    time.sleep(seconds / 3)
    memory.append(rss_mib(pid))
    for t in pool:
        t.join()
    memory.append(rss_mib(pid))
    return {"latencies": latencies, "errors": errors, "memory_mib": memory, "seconds": seconds}


KINDS: dict[str, Callable[[Any, int], Any]] = {
    "ScoreDeals (10 deals)": lambda s, n: s["forecast"].ScoreDeals(
        forecast_pb2.ScoreDealsRequest(rule_set="default", deals=_deals(10, n)), timeout=30),
    "SplitCredits (10 deals)": lambda s, n: s["credit"].SplitCredits(
        credit_pb2.SplitCreditsRequest(rule_set="default", deals=_deals(10, n)), timeout=30),
    "RecordDealEvents (10 events)": lambda s, n: s["credit"].RecordDealEvents(
        _events(10, n), timeout=30),
}  # fmt: skip
HEALTH = {"Health/Check (baseline)": lambda s, n: s["health"].Check(
    health_pb2.HealthCheckRequest(), timeout=30)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of the mixed load (60)")
    p.add_argument("--threads", type=int, default=8, help="client threads (8)")
    p.add_argument("--quick", action="store_true", help="8 seconds")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.quick:
        args.seconds = 8.0
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = serve(Path(tmp) / "load.sqlite3")
        token = Path(tmp) / "admin.token"
        try:
            base = drive(port, token, min(5.0, args.seconds / 4), args.threads, HEALTH, proc.pid)
            load = drive(port, token, args.seconds, args.threads, KINDS, proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    rows, out = [], {}
    for result in (base, load):
        for kind, values in result["latencies"].items():
            values.sort()
            errors = result["errors"][kind]
            rate = len(values) / result["seconds"]
            out[kind] = {"calls": len(values), "per_s": rate, "errors": len(errors),
                         "mean_ms": sum(values) / len(values) * 1e3 if values else None,
                         "p50_ms": percentile(values, 50) * 1e3 if values else None,
                         "p99_ms": percentile(values, 99) * 1e3 if values else None,
                         "max_ms": values[-1] * 1e3 if values else None,
                         "first_errors": errors[:3]}  # fmt: skip
            rows.append([kind, f"{len(values):,}", fmt_rate(rate),
                         *(f"{out[kind][k]:.2f}" if values else "-"
                           for k in ("mean_ms", "p50_ms", "p99_ms", "max_ms")),
                         len(errors)])  # fmt: skip
    print_table(f"Mixed load for {load['seconds']:.0f} s from {args.threads} threads on loopback "
                "(authentication on)",
                ["call", "calls", "per s", "mean ms", "p50 ms", "p99 ms", "max ms", "errors"],
                rows)  # fmt: skip
    memory = load["memory_mib"]
    total_errors = sum(v["errors"] for v in out.values())
    print(f"server RSS: {memory[0]:.1f} MiB at the start of the load, {memory[1]:.1f} MiB a third "
          f"in, {memory[2]:.1f} MiB at the end ({memory[2] - memory[1]:+.1f} MiB over the last two "
          f"thirds)")  # fmt: skip
    print(f"Targets (issue): zero errors: {'MET' if total_errors == 0 else 'NOT MET'} "
          f"({total_errors}); memory flat: see the RSS figures above")  # fmt: skip
    for kind, v in out.items():
        for e in v["first_errors"]:
            print(f"  {kind}: {e}")
    if args.json:
        write_json(args.json, {"machine": machine_summary(), "calls": out, "memory_mib": memory,
                               "seconds": load["seconds"], "threads": args.threads})  # fmt: skip


if __name__ == "__main__":
    main()
