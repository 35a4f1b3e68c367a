"""ForecastService over real gRPC: what our work costs on top of gRPC itself.

Why this exists: a CRM calls ``ScoreDeals`` on every deal change (one deal per call, many callers
at once) and bulk jobs send batches of 10,000 deals or stream them. The in-process benchmark
(``bench.scoring``) measures the engine alone; this one measures the whole served path -
protobuf to columns, rule-set resolution, scoring, columns to protobuf, interceptors - through a
real server started in-process with ``server.start(config, clock=...)`` (a temporary SQLite store
with the sample rule set published), against a baseline measured in the same run:

* an **echo** server started the same way (``grpc.server`` with a ``ThreadPoolExecutor`` of the
  same size, the same channel options and concurrency limit) whose generic handlers for
  ``ScoreDeals`` and ``StreamScoreDeals`` return the request bytes untouched. Same payload, same
  client, same transport: the ratio quotient / echo is the share of gRPC's own throughput that
  survives our work. ``--serving asyncio`` serves quotient on gRPC's asyncio server
  (``QUOTIENT_SERVING``); the echo is then an asyncio server too, with coroutine handlers, unless
  ``--echo threads`` keeps the threaded one.

The load comes from a separate client process (spawned once) sending pre-serialised requests and
not parsing responses, so the server process does nothing but serve, as in production, and the
client costs the same for both servers. Scenarios: batched ``ScoreDeals`` (10,000 deals per call),
once as ``Deal`` messages and once as Arrow columns (``deal_columns``; the echo server then carries
the columns request), unary single-deal calls from 16 and 32 concurrent client threads (calls/s,
p50/p99 latency), and ``StreamScoreDeals`` with 10,000-deal messages. Every scenario alternates
echo and quotient over several rounds; throughput is the median over rounds, latency percentiles
pool all rounds.

Targets from the issue, reported (never asserted): batched deals/s >= 60 % of echo; unary
throughput >= 60 % of echo, p99 <= 15 ms.
Run ``.venv/bin/python -m bench.grpc_scoring --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from bench import (
    fmt_rate,
    fmt_ratio,
    machine_summary,
    median,
    percentile,
    print_table,
    write_json,
)
from bench.scoring import DEFAULT_SEED, generate_deals, slice_deals
from engine.forecast.deals import DealInput, build_deal_batch
from engine.forecast.scoring import score_deals
from engine.rules.compiler import compile_rule_set
from quotient.v1 import forecast_pb2, types_pb2
from server import start, tune_gc
from service.channel import with_token
from service.config import SAMPLE_RULE_SET, Config
from service.convert_arrow import deals_to_arrow, table_bytes, table_rows

SERVICE = "quotient.v1.ForecastService"
UNARY_METHOD = f"/{SERVICE}/ScoreDeals"
STREAM_METHOD = f"/{SERVICE}/StreamScoreDeals"
#: The server clock: scoring uses the revision in force on this day.
FIXED_NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)

#: Issue targets for unary single-deal calls (printed as met / not met, never asserted).
TARGET_UNARY_SHARE_OF_ECHO = 0.60
TARGET_UNARY_P99_MS = 15.0
#: Issue target for batched calls: deals/s >= this share of the echo server's.
TARGET_BATCHED_SHARE_OF_ECHO = 0.60


# --------------------------------------------------------------------------------------------
# Payloads.


def deals_to_proto(deals: DealInput) -> list[types_pb2.Deal]:
    """The generated deals as ``quotient.v1.Deal`` messages (None -> field not set)."""
    discount = deals.attributes.get("discount_pct") or [None] * len(deals)
    industry = deals.attributes.get("industry") or [None] * len(deals)
    out = []
    for i, a, c, s, r, o, d, disc, ind in zip(
        deals.id,
        deals.amount_minor,
        deals.currency,
        deals.stage,
        deals.region,
        deals.owner,
        deals.close_date,
        discount,
        industry,
        strict=True,
    ):
        attributes = {}
        if disc is not None:
            attributes["discount_pct"] = types_pb2.AttributeValue(decimal_value=disc)
        if ind is not None:
            attributes["industry"] = types_pb2.AttributeValue(string_value=ind)
        out.append(
            types_pb2.Deal(
                id=i,
                amount_minor=a,
                currency=c,
                stage=s,
                region=r or "",
                owner=o or "",
                close_date=d or "",
                attributes=attributes,
            )
        )
    return out


def request_bytes(deals: Sequence[types_pb2.Deal]) -> bytes:
    return forecast_pb2.ScoreDealsRequest(rule_set="default", deals=deals).SerializeToString()


def columns_request_bytes(deals: DealInput) -> bytes:
    """The same deals sent as Arrow columns (``deal_columns``)."""
    columns = table_bytes(deals_to_arrow(deals))
    return forecast_pb2.ScoreDealsRequest(
        rule_set="default", deal_columns=columns
    ).SerializeToString()


# --------------------------------------------------------------------------------------------
# Servers (in this process).


def server_options(config: Config) -> list[tuple[str, Any]]:
    """The channel options ``server.start`` uses (kept in step with server.py by hand)."""
    return [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.so_reuseport", 0),
    ]


def _echo_unary(request: bytes, context: grpc.ServicerContext) -> bytes:
    return request


def _echo_stream(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
    yield from requests


def _echo_handler(unary: Any, stream: Any) -> grpc.GenericRpcHandler:
    """ScoreDeals and StreamScoreDeals answered by ``unary`` and ``stream``. No (de)serialisers:
    the handlers see and return the raw message bytes."""
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "ScoreDeals": grpc.unary_unary_rpc_method_handler(unary),
            "StreamScoreDeals": grpc.stream_stream_rpc_method_handler(stream),
        },
    )


async def _echo_unary_async(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def _echo_stream_async(
    requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request


class AsyncioEcho:
    """The echo baseline on gRPC's asyncio server (coroutine handlers, its own loop thread)."""

    def __init__(self, config: Config) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        async def make() -> tuple[grpc.aio.Server, int]:
            server = grpc.aio.server(
                options=server_options(config),
                maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            )
            server.add_generic_rpc_handlers((_echo_handler(_echo_unary_async, _echo_stream_async),))
            port = server.add_insecure_port(config.address)
            await server.start()
            return server, port

        self.server, self.port = asyncio.run_coroutine_threadsafe(make(), self._loop).result()
        if self.port == 0:
            raise OSError(f"could not bind {config.address}")

    def stop(self, grace: float | None) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(grace), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def start_echo(config: Config) -> tuple[grpc.Server, int]:
    """Start the echo baseline: same pool, options and limit as ``server.start``, no work."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="echo"),
        options=server_options(config),
        maximum_concurrent_rpcs=config.max_concurrent_rpcs,
    )
    server.add_generic_rpc_handlers((_echo_handler(_echo_unary, _echo_stream),))
    port = server.add_insecure_port(config.address)
    if port == 0:
        raise OSError(f"could not bind {config.address}")
    server.start()
    return server, port


# --------------------------------------------------------------------------------------------
# The load generator (a separate process).


def _channel(target: str) -> grpc.Channel:
    channel = grpc.insecure_channel(
        target,
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    grpc.channel_ready_future(channel).result(timeout=30)
    # Every call carries the API key, to the echo server too (same bytes on the wire).
    return with_token(channel, os.environ.get("QUOTIENT_TOKEN"))


def _run_unary(
    target: str, payloads: list[bytes], concurrency: int, warmup_s: float, duration_s: float
) -> dict[str, Any]:
    """``concurrency`` threads call ScoreDeals back to back; calls that end inside the window
    count, with their latency."""
    channel = _channel(target)
    call = channel.unary_unary(UNARY_METHOD)  # bytes in, bytes out
    clock = time.perf_counter_ns
    begin = clock()
    window_start = begin + int(warmup_s * 1e9)
    window_end = window_start + int(duration_s * 1e9)
    latencies: list[list[int]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    response_bytes = [0] * concurrency

    def worker(k: int) -> None:
        i = k * 7919
        lat = latencies[k]
        while True:
            t0 = clock()
            if t0 >= window_end:
                return
            try:
                response = call(payloads[i % len(payloads)], timeout=120)
            except grpc.RpcError:
                errors[k] += 1
                continue
            finally:
                i += 1
            t1 = clock()
            if window_start <= t1 < window_end:
                lat.append(t1 - t0)
                response_bytes[k] += len(response)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    channel.close()
    all_lat = [x for lat in latencies for x in lat]
    return {
        "calls": len(all_lat),
        "duration_s": duration_s,
        "latencies_ns": all_lat,
        "errors": sum(errors),
        "response_bytes": sum(response_bytes),
    }


def _run_stream(
    target: str, payloads: list[bytes], warmup_s: float, duration_s: float
) -> dict[str, Any]:
    """One StreamScoreDeals call fed as fast as flow control allows; responses inside the window
    count."""
    channel = _channel(target)
    call = channel.stream_stream(STREAM_METHOD)
    clock = time.perf_counter_ns
    begin = clock()
    window_start = begin + int(warmup_s * 1e9)
    window_end = window_start + int(duration_s * 1e9)

    def requests() -> Iterator[bytes]:
        i = 0
        while clock() < window_end:
            yield payloads[i % len(payloads)]
            i += 1

    count = errors = size = 0
    try:
        for response in call(requests(), timeout=duration_s + warmup_s + 300):
            t = clock()
            if window_start <= t < window_end:
                count += 1
                size += len(response)
    except grpc.RpcError:
        errors += 1
    channel.close()
    return {
        "calls": count,
        "duration_s": duration_s,
        "latencies_ns": [],
        "errors": errors,
        "response_bytes": size,
    }


def client_main(conn: Connection) -> None:
    """Serve load jobs sent by the benchmark process until it sends None."""
    payload_sets: dict[str, list[bytes]] = {}
    while True:
        job = conn.recv()
        if job is None:
            return
        cpu0 = time.process_time()
        if job["op"] == "payloads":
            payload_sets[job["name"]] = job["data"]
            conn.send({"ok": True})
            continue
        if job["op"] == "unary":
            result = _run_unary(
                job["target"],
                payload_sets[job["payloads"]],
                job["concurrency"],
                job["warmup_s"],
                job["duration_s"],
            )
        else:
            result = _run_stream(
                job["target"], payload_sets[job["payloads"]], job["warmup_s"], job["duration_s"]
            )
        conn.send({**result, "client_cpu_s": time.process_time() - cpu0})


class LoadClient:
    """The client process and a pipe to it."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=client_main, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def call(self, job: dict[str, Any]) -> dict[str, Any]:
        self.conn.send(job)
        result: dict[str, Any] = self.conn.recv()
        return result

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(timeout=30)


# --------------------------------------------------------------------------------------------
# Scenarios.


@dataclass
class Cell:
    """One scenario on one server, over the rounds."""

    throughput: list[float] = field(default_factory=list)  # calls/s per round
    latencies_ns: list[int] = field(default_factory=list)
    server_cpu_s: list[float] = field(default_factory=list)  # per round, window share
    client_cpu_s: list[float] = field(default_factory=list)  # per round, window share
    calls: list[int] = field(default_factory=list)
    errors: int = 0
    response_bytes: int = 0

    def summary(self, units_per_call: int) -> dict[str, float]:
        lat = sorted(x / 1e6 for x in self.latencies_ns)
        calls = sum(self.calls)
        return {
            "calls_per_s": median(self.throughput),
            "units_per_s": median(self.throughput) * units_per_call,
            "p50_ms": percentile(lat, 50),
            "p99_ms": percentile(lat, 99),
            "server_cpu_us_per_call": sum(self.server_cpu_s) / calls * 1e6 if calls else 0.0,
            "client_cpu_us_per_call": sum(self.client_cpu_s) / calls * 1e6 if calls else 0.0,
            "calls": calls,
            "errors": self.errors,
            "response_bytes_per_call": self.response_bytes / calls if calls else 0.0,
        }


def run_scenario(
    client: LoadClient,
    targets: dict[str, str],
    job: dict[str, Any],
    rounds: int,
) -> dict[str, Cell]:
    """Run ``job`` against each server ``rounds`` times, alternating which goes first."""
    cells = {name: Cell() for name in targets}
    names = list(targets)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            cpu0 = time.process_time()
            result = client.call({**job, "target": targets[name]})
            # This process only serves while the client runs: its CPU time is the server's.
            cpu = time.process_time() - cpu0
            cell = cells[name]
            cell.throughput.append(result["calls"] / result["duration_s"])
            cell.latencies_ns.extend(result["latencies_ns"])
            cell.calls.append(result["calls"])
            cell.errors += result["errors"]
            cell.response_bytes += result["response_bytes"]
            # CPU over warm-up + window, pro-rated to the window (the calls counted).
            share = result["duration_s"] / (result["duration_s"] + job["warmup_s"])
            cell.server_cpu_s.append(cpu * share)
            cell.client_cpu_s.append(result["client_cpu_s"] * share)
    return cells


def check_servers(
    quotient_target: str,
    echo_target: str,
    deals: DealInput,
    protos: Sequence[types_pb2.Deal],
) -> None:
    """Prove the servers do what the ratios assume, before timing anything.

    The quotient server's scores for one batch must equal the engine's in-process scores (so the
    benchmark measures real scoring); the echo server must return the request bytes.
    """
    rules = compile_rule_set(SAMPLE_RULE_SET.read_text(encoding="utf-8"))
    expected = score_deals(rules, build_deal_batch(deals, rules))
    payload = request_bytes(protos)
    with _channel(quotient_target) as channel:
        raw = channel.unary_unary(UNARY_METHOD)(payload, timeout=120)
    response = forecast_pb2.ScoreDealsResponse.FromString(raw)
    if response.failed_count or len(response.scores) != len(deals):
        raise AssertionError(
            f"server scored {len(response.scores)} deals with {response.failed_count} failures"
        )
    got = [(s.win_prob_ppm, s.weighted_amount_minor) for s in response.scores]
    want = list(
        zip(expected.win_prob_ppm.tolist(), expected.weighted_amount_minor.tolist(), strict=True)
    )
    if got != want:
        bad = sum(a != b for a, b in zip(got, want, strict=True))
        raise AssertionError(f"server scores differ from the engine's on {bad} deals")
    columns = columns_request_bytes(deals)
    with _channel(quotient_target) as channel:
        raw = channel.unary_unary(UNARY_METHOD)(columns, timeout=120)
    response = forecast_pb2.ScoreDealsResponse.FromString(raw)
    rows = table_rows(response.score_columns)
    got = [(r["win_prob_ppm"], r["weighted_amount_minor"]) for r in rows]
    if response.failed_count or got != want:
        raise AssertionError("server scores of the deals sent as columns differ from the engine's")
    with grpc.insecure_channel(
        echo_target, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    ) as channel:
        if channel.unary_unary(UNARY_METHOD)(payload, timeout=120) != payload:
            raise AssertionError("echo server did not return the request bytes")


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    rules = compile_rule_set(SAMPLE_RULE_SET.read_text(encoding="utf-8"))
    n_batches = args.batches
    total = args.batch_size * n_batches + args.single_payloads
    deals = generate_deals(total, rng, rules.stage_ids)
    protos = deals_to_proto(deals)
    batch_payloads = [
        request_bytes(protos[k * args.batch_size : (k + 1) * args.batch_size])
        for k in range(n_batches)
    ]
    first = n_batches * args.batch_size
    single_payloads = [
        request_bytes(protos[first + k : first + k + 1]) for k in range(args.single_payloads)
    ]
    column_payloads = [
        columns_request_bytes(slice_deals(deals, k * args.batch_size, (k + 1) * args.batch_size))
        for k in range(n_batches)
    ]

    with tempfile.TemporaryDirectory(prefix="quotient-bench-") as tmp:
        # Config defaults (not the environment), a fresh store, the sample rule set published.
        config = replace(
            Config(),
            address="127.0.0.1:0",
            db_path=Path(tmp) / "bench.sqlite3",
            publish_sample=True,
            **({"serving": args.serving} if args.serving else {}),
            **({"workers": args.workers} if args.workers else {}),
        )
        app = start(config, clock=lambda: FIXED_NOW)
        tune_gc()  # as ``quotient serve`` does after start-up
        # Authentication is on, as in production: the load generator (a child process, which
        # inherits the environment) sends the bootstrap key.
        os.environ["QUOTIENT_TOKEN"] = config.token_file.read_text(encoding="utf-8").strip()
        try:
            echo: grpc.Server | AsyncioEcho
            if args.echo == "asyncio":
                echo = AsyncioEcho(config)
                echo_port = echo.port
            else:
                echo, echo_port = start_echo(config)
            try:
                return _run_servers(
                    args,
                    config,
                    app.port,
                    echo_port,
                    deals,
                    protos,
                    batch_payloads,
                    single_payloads,
                    column_payloads,
                )
            finally:
                echo.stop(0)
        finally:
            app.stop(0)


def _run_servers(
    args: argparse.Namespace,
    config: Config,
    quotient_port: int,
    echo_port: int,
    deals: DealInput,
    protos: Sequence[types_pb2.Deal],
    batch_payloads: list[bytes],
    single_payloads: list[bytes],
    column_payloads: list[bytes],
) -> dict[str, Any]:
    n_batches = len(batch_payloads)
    targets = {"echo": f"127.0.0.1:{echo_port}", "quotient": f"127.0.0.1:{quotient_port}"}
    settings = {
        "seed": args.seed,
        "workers": config.workers,
        "max_concurrent_rpcs": config.max_concurrent_rpcs,
        "batch_size": args.batch_size,
        "batches": n_batches,
        "batch_concurrency": args.batch_concurrency,
        "concurrency": args.concurrency,
        "single_payloads": args.single_payloads,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "request_bytes_single": sum(map(len, single_payloads)) / len(single_payloads),
        "request_bytes_batch": sum(map(len, batch_payloads)) / len(batch_payloads),
        "request_bytes_columns": sum(map(len, column_payloads)) / len(column_payloads),
        "machine": machine_summary(),
    }
    print(
        f"Quotient over gRPC ({config.serving}) vs echo ({args.echo}): server workers "
        f"{config.workers}, max concurrent RPCs "
        f"{config.max_concurrent_rpcs}, seed {args.seed}\n"
        f"payloads: {n_batches} x {args.batch_size:,}-deal requests "
        f"({settings['request_bytes_batch'] / 1e6:.2f} MB each as messages, "
        f"{settings['request_bytes_columns'] / 1e6:.2f} MB as columns), {args.single_payloads:,} "
        f"single-deal requests ({settings['request_bytes_single']:.0f} B each); "
        f"{args.rounds} rounds x ({args.warmup:g}s warm-up + {args.duration:g}s) per cell",
        flush=True,
    )
    results: dict[str, Any] = {"settings": settings}
    client = LoadClient()
    try:
        check_servers(
            targets["quotient"],
            targets["echo"],
            slice_deals(deals, 0, args.batch_size),
            protos[: args.batch_size],
        )
        print("checked: quotient scores = in-process engine; echo returns the request", flush=True)
        client.call({"op": "payloads", "name": "batch", "data": batch_payloads})
        client.call({"op": "payloads", "name": "single", "data": single_payloads})
        client.call({"op": "payloads", "name": "columns", "data": column_payloads})
        timing = {"warmup_s": args.warmup, "duration_s": args.duration}

        batched = run_scenario(
            client,
            targets,
            {"op": "unary", "payloads": "batch", "concurrency": args.batch_concurrency, **timing},
            args.rounds,
        )
        results["batched"] = {k: c.summary(args.batch_size) for k, c in batched.items()}
        print("batched: done", flush=True)
        columns = run_scenario(
            client,
            targets,
            {"op": "unary", "payloads": "columns", "concurrency": args.batch_concurrency,
             **timing},
            args.rounds,
        )  # fmt: skip
        results["columns"] = {k: c.summary(args.batch_size) for k, c in columns.items()}
        print("batched columns: done", flush=True)

        results["unary"] = {}
        for conc in args.concurrency:
            cells = run_scenario(
                client,
                targets,
                {"op": "unary", "payloads": "single", "concurrency": conc, **timing},
                args.rounds,
            )
            results["unary"][str(conc)] = {k: c.summary(1) for k, c in cells.items()}
            print(f"unary x{conc}: done", flush=True)

        if not args.no_stream:
            stream = run_scenario(
                client, targets, {"op": "stream", "payloads": "batch", **timing}, args.rounds
            )
            results["stream"] = {k: c.summary(args.batch_size) for k, c in stream.items()}
            stream = run_scenario(
                client, targets, {"op": "stream", "payloads": "columns", **timing}, args.rounds
            )
            results["stream_columns"] = {k: c.summary(args.batch_size) for k, c in stream.items()}
            print("stream: done", flush=True)
    finally:
        client.close()
    return results


def report(results: dict[str, Any]) -> dict[str, Any]:
    s = results["settings"]
    ratios: dict[str, float] = {}

    def ratio(key: str, q: float, e: float) -> str:
        ratios[key] = q / e if e else float("nan")
        return fmt_ratio(ratios[key])

    for key, form in (("batched", "Deal messages"), ("columns", "Arrow columns")):
        b = results[key]
        rows = [
            [
                name,
                fmt_rate(b[name]["units_per_s"]),
                f"{b[name]['calls_per_s']:.2f}",
                f"{b[name]['p50_ms']:.1f}",
                f"{b[name]['p99_ms']:.1f}",
                f"{b[name]['server_cpu_us_per_call'] / 1e3:.2f}",
                f"{b[name]['response_bytes_per_call'] / 1e6:.2f}",
                b[name]["errors"],
            ]
            for name in ("echo", "quotient")
        ]
        print_table(
            f"Batched ScoreDeals, {form}: {s['batch_size']:,} deals per call, "
            f"{s['batch_concurrency']} client thread(s)",
            [
                "server",
                "deals/s",
                "calls/s",
                "p50 ms",
                "p99 ms",
                "srv cpu ms/call",
                "resp MB",
                "errors",
            ],
            rows,
        )
        print(
            "quotient / echo deals/s: "
            + ratio(key, b["quotient"]["units_per_s"], b["echo"]["units_per_s"])
        )

    rows = []
    targets: dict[str, dict[str, Any]] = {}
    for conc, cell in results["unary"].items():
        e, q = cell["echo"], cell["quotient"]
        share = q["calls_per_s"] / e["calls_per_s"] if e["calls_per_s"] else float("nan")
        ratios[f"unary_{conc}"] = share
        for name in ("echo", "quotient"):
            c = cell[name]
            rows.append(
                [
                    f"{name} x{conc}",
                    f"{c['calls_per_s']:,.0f}",
                    f"{c['p50_ms']:.2f}",
                    f"{c['p99_ms']:.2f}",
                    f"{c['server_cpu_us_per_call']:.0f}",
                    f"{c['client_cpu_us_per_call']:.0f}",
                    "" if name == "echo" else f"{share:.0%}",
                    c["errors"],
                ]
            )
        targets[conc] = {
            "share_of_echo": share,
            "share_met": share >= TARGET_UNARY_SHARE_OF_ECHO,
            "p99_ms": q["p99_ms"],
            "p99_met": q["p99_ms"] <= TARGET_UNARY_P99_MS,
        }
    print_table(
        "Unary ScoreDeals, one deal per call",
        [
            "server x threads",
            "calls/s",
            "p50 ms",
            "p99 ms",
            "srv cpu us/call",
            "client cpu us/call",
            "of echo",
            "errors",
        ],
        rows,
    )

    for key, form in (("stream", "Deal messages"), ("stream_columns", "Arrow columns")):
        if key not in results:
            continue
        st = results[key]
        print_table(
            f"StreamScoreDeals, {form}: {s['batch_size']:,} deals per message, one stream",
            ["server", "deals/s", "msgs/s", "srv cpu ms/msg", "errors"],
            [
                [
                    name,
                    fmt_rate(st[name]["units_per_s"]),
                    f"{st[name]['calls_per_s']:.2f}",
                    f"{st[name]['server_cpu_us_per_call'] / 1e3:.1f}",
                    st[name]["errors"],
                ]
                for name in ("echo", "quotient")
            ],
        )
        print(
            "quotient / echo deals/s: "
            + ratio(key, st["quotient"]["units_per_s"], st["echo"]["units_per_s"])
        )

    print("\nTargets (issue), batched calls (the same deals and form to both servers):")
    for key, form in (("batched", "Deal messages"), ("columns", "Arrow columns")):
        share = ratios[key]
        verdict = "MET" if share >= TARGET_BATCHED_SHARE_OF_ECHO else "NOT MET"
        print(f"  {form}: deals/s >= {TARGET_BATCHED_SHARE_OF_ECHO:.0%} of echo: {verdict} "
              f"({share:.0%})")  # fmt: skip
    print("Targets (issue), unary single-deal calls:")
    for conc, t in targets.items():
        print(
            f"  x{conc} threads: throughput >= {TARGET_UNARY_SHARE_OF_ECHO:.0%} of echo: "
            f"{'MET' if t['share_met'] else 'NOT MET'} ({t['share_of_echo']:.0%}); "
            f"p99 <= {TARGET_UNARY_P99_MS:g} ms: {'MET' if t['p99_met'] else 'NOT MET'} "
            f"({t['p99_ms']:.2f} ms)"
        )
    return {**results, "ratios": ratios, "targets": targets}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.grpc_scoring",
        description="ForecastService over a real in-process gRPC server against an echo server "
        "with the same settings: batched ScoreDeals, unary single-deal calls at several "
        "concurrencies, StreamScoreDeals. Prints rates and same-run ratios.",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"numpy Generator seed ({DEFAULT_SEED})"
    )
    p.add_argument("--batch-size", type=int, default=10_000, help="deals per batch (10,000)")
    p.add_argument("--batches", type=int, default=4, help="distinct batch payloads (4)")
    p.add_argument(
        "--batch-concurrency", type=int, default=2, help="client threads for batched calls (2)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[16, 32],
        help="client threads for unary single-deal calls (16 32)",
    )
    p.add_argument(
        "--single-payloads", type=int, default=2_000, help="distinct single-deal requests (2,000)"
    )
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario (3)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before each window (1)")
    p.add_argument("--duration", type=float, default=5.0, help="seconds measured per cell (5)")
    p.add_argument(
        "--workers", type=int, default=0, help="server worker threads (0: Config default)"
    )
    p.add_argument(
        "--serving",
        choices=("threads", "asyncio"),
        help="quotient's gRPC server (default: the Config default)",
    )
    p.add_argument(
        "--echo",
        choices=("threads", "asyncio"),
        help="the echo server's kind (default: the same as quotient's)",
    )
    p.add_argument("--no-stream", action="store_true", help="skip StreamScoreDeals")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run of a few seconds (1 round, 0.2s warm-up, 0.8s windows, "
        "2 batches of at most 2,000 deals)",
    )
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.warmup, args.duration = 1, 0.2, 0.8
        args.batches = min(args.batches, 2)
        args.batch_size = min(args.batch_size, 2_000)
        args.single_payloads = min(args.single_payloads, 500)
    args.echo = args.echo or args.serving or Config().serving
    if min(args.batch_size, args.batches, args.batch_concurrency, args.rounds) < 1:
        p.error("--batch-size, --batches, --batch-concurrency and --rounds must be at least 1")
    if min(args.concurrency) < 1 or args.single_payloads < 1 or args.duration <= 0:
        p.error("--concurrency, --single-payloads and --duration must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    payload = report(run(args))
    if args.json:
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
