"""Batch latency of RecordDealEvents' work in-process, with SQLite's log copied into the file in
the background (the service's way) against inline by the commit that crosses 1,000 log pages
(SQLite's own way, the baseline, measured in the same run).

Why this exists: throughput hides a tail. Left to SQLite, one commit in nine or so also copies
the log back into the database file and takes ten times as long; a CRM waiting on that call
sees it. This records batches of 1,000 created-deal events, then moves each deal to the next
stage, through :meth:`CreditLedger.record` into a fresh SQLite file per round (requests decoded
from their bytes, the reply built while the batch commits, as the servicer does), rounds
alternating the two ways, after a warm-up of each. Per batch it times the whole call and the
*commit wait*: how long the commit kept the call waiting once the reply was built. Latency
percentiles pool the rounds.

Run ``.venv/bin/python -m bench.commits --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench import fmt_rate, fmt_ratio, machine_summary, percentile, print_table, write_json
from bench.credit import event_batch, stage_batch
from quotient.v1 import credit_pb2
from server import publish_sample, tune_gc
from service.convert_credit import add_lines, events_from_proto
from service.credit_ledger import CreditLedger, RecordResult
from service.repository import RuleSetRepository
from service.store.database import SqliteDatabase
from service.store.ledger import LedgerStore
from service.store.revisions import RevisionStore

_T = TypeVar("_T")

#: A commit wait above this is a spike (the issue's p99 bound for a single call).
SPIKE_MS = 15.0

MODES = {"inline (SQLite's)": False, "background": True}


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def one_round(
    background: bool, requests: Sequence[bytes], tmp: Path, name: str
) -> tuple[list[float], list[float], float]:
    """Batch times and commit waits (ms) of recording ``requests`` into a fresh file, and the
    seconds it took."""
    db = SqliteDatabase(tmp / f"{name}.sqlite3", background_checkpoints=background)
    waits: list[float] = []
    commit_while = db.commit_while

    def timed_commit(conn: Any, work: Callable[[], _T]) -> _T:
        built: list[float] = []

        def timed_work() -> _T:
            out = work()
            built.append(time.perf_counter())
            return out

        out = commit_while(conn, timed_work)
        waits.append((time.perf_counter() - built[0]) * 1000)
        return out

    db.commit_while = timed_commit  # type: ignore[method-assign]
    try:
        repository = RuleSetRepository(RevisionStore(db), clock)
        publish_sample(repository)
        ledger = CreditLedger(LedgerStore(db), repository, clock)
        tune_gc()
        batch_ms: list[float] = []
        t0 = time.perf_counter()
        for data in requests:
            t = time.perf_counter()
            request = credit_pb2.RecordDealEventsRequest.FromString(data)
            response = credit_pb2.RecordDealEventsResponse()

            def reply(result: RecordResult, out: Any = response) -> None:
                add_lines(result.lines, out.lines)

            ledger.record(
                request.rule_set, events_from_proto(request.events), while_committing=reply
            )
            response.SerializeToString()
            batch_ms.append((time.perf_counter() - t) * 1000)
        seconds = time.perf_counter() - t0
    finally:
        db.close()
    return batch_ms, waits, seconds


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.commits", description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=60, help="batches of created events (60)")
    p.add_argument("--batch-size", type=int, default=1000, help="events per batch (1,000)")
    p.add_argument("--rounds", type=int, default=2, help="rounds of each way, alternating (2)")
    p.add_argument("--quick", action="store_true", help="12 batches, one round")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.quick:
        args.batches, args.rounds = 12, 1
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    machine = machine_summary()
    print(f"bench.commits on {machine['platform']}, {machine['cpus']} CPUs, {machine['date']}")
    requests = [event_batch(b, args.batch_size).SerializeToString() for b in range(args.batches)]
    requests += [stage_batch(b, args.batch_size).SerializeToString() for b in range(args.batches)]
    n_events = len(requests) * args.batch_size
    batches: dict[str, list[float]] = {m: [] for m in MODES}
    waits: dict[str, list[float]] = {m: [] for m in MODES}
    seconds: dict[str, float] = dict.fromkeys(MODES, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for i, background in enumerate(MODES.values()):  # warm-up: imports, compiled loops
            one_round(background, requests[:2], Path(tmp), f"warm{i}")
        for r in range(args.rounds):
            for i, (mode, background) in enumerate(MODES.items()):
                b, w, s = one_round(background, requests, Path(tmp), f"r{r}m{i}")
                batches[mode] += b
                waits[mode] += w
                seconds[mode] += s
                print(f"  round {r + 1}, {mode}: {len(requests) * args.batch_size / s:,.0f} "
                      f"events/s, slowest commit wait {max(w):.1f} ms", file=sys.stderr)  # fmt: skip
    rows = []
    figures: dict[str, dict[str, float]] = {}
    for mode in MODES:
        b, w = sorted(batches[mode]), sorted(waits[mode])
        figures[mode] = {
            "events_per_s": n_events * args.rounds / seconds[mode],
            "batch_p50_ms": percentile(b, 50),
            "batch_p99_ms": percentile(b, 99),
            "batch_max_ms": b[-1],
            "wait_p50_ms": percentile(w, 50),
            "wait_p99_ms": percentile(w, 99),
            "wait_max_ms": w[-1],
            "spikes": sum(x > SPIKE_MS for x in w),
        }
    base = figures["inline (SQLite's)"]
    for mode, f in figures.items():
        rows.append([
            mode, fmt_rate(f["events_per_s"]), f"{f['batch_p50_ms']:.1f}",
            f"{f['batch_p99_ms']:.1f}", f"{f['batch_max_ms']:.1f}", f"{f['wait_p50_ms']:.2f}",
            f"{f['wait_p99_ms']:.2f}", f"{f['wait_max_ms']:.1f}",
            f"{int(f['spikes'])} of {len(waits[mode])}",
            fmt_ratio(f["wait_p99_ms"] / base["wait_p99_ms"]),
        ])  # fmt: skip
    print_table(
        f"RecordDealEvents in-process: {args.batches} batches of {args.batch_size:,} created events "
        f"then as many stage changes, x{args.rounds} rounds (ms)",
        ["log copied", "events/s", "batch p50", "p99", "max", "commit wait p50", "p99", "max",
         f"waits > {SPIKE_MS:g} ms", "wait p99 vs inline"],
        rows,
    )  # fmt: skip
    if args.json:
        write_json(args.json, {"machine": machine, "figures": figures})


if __name__ == "__main__":
    main()
