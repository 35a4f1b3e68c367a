"""Credit splits in-process, and deal events recorded into the ledger over gRPC.

Why this exists: splits run on every deal change and over every deal for attainment, and the
ledger takes every CRM event. Two measurements, each beside a baseline from the same run:

1. In-process: split 1,000,000 deals x 3 participants (a 50/30/20 full split, amounts over several
   orders of magnitude, every stage) with :func:`engine.credit.splits.split_credits` on prepared
   columns (the hot path), and separately the reading of the team values (the service boundary).
   Baseline: a per-deal Python implementation with ``Decimal`` and the same largest-remainder rule,
   on a subsample; its credits and weighted credits are checked to be identical before any ratio
   is printed. Target from the issue: >= 2M deals/s.
2. Over gRPC: ``RecordDealEvents`` in batches of 1,000 (each event creates a deal with a 70/30
   split) into a fresh SQLite file, through a real channel to an in-process server. Baseline: the
   same events written straight into SQLite with ``executemany`` (no validation, no credits), so
   the ratio shows what checking, splitting and the ledger cost on top of storing. A second line
   writes exactly the rows the service wrote (events, ledger lines, deal heads, one transaction
   per batch, the lines' and heads' rows as made before the write lock) into a fresh store with
   nothing else: the floor RecordDealEvents cannot go below. (``bench.stores`` measures one and
   two service instances as separate processes on one file.)
   Target from the issue: >= 20,000 events/s. Then the same number of events moves each of
   those deals to the next stage: in-order events continued from the deals' stored heads, the
   steady state of a CRM feed (same baseline).
3. Over gRPC: ``SplitCredits`` with 10,000 deals x 3 participants per call, the deals sent as
   ``Deal`` messages and as Arrow columns (``deal_columns`` with a ``team`` column); the two
   answers are checked to give the same parts before the ratio is printed.

Run ``.venv/bin/python -m bench.credit --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from google.protobuf.timestamp_pb2 import Timestamp

from bench import ROOT, fmt_rate, fmt_ratio, machine_summary, median, print_table, write_json
from engine.credit.splits import TeamInput, read_team, split_credits
from engine.forecast.deals import DealInput, build_deal_batch
from engine.forecast.scoring import score_deals
from engine.rules.compiler import compile_rule_set
from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from server import publish_sample, start, tune_gc
from service.channel import open_channel
from service.config import Config
from service.convert_arrow import deals_to_arrow, table_bytes, table_rows
from service.convert_credit import events_from_proto
from service.credit_ledger import CreditLedger
from service.repository import RuleSetRepository
from service.store.database import open_database
from service.store.ledger import LedgerBatch, LedgerStore
from service.store.revisions import RevisionStore

RULE_SET = ROOT / "examples" / "rulesets" / "default.yaml"
SHARES = ("0.5", "0.3", "0.2")


def make_deals(n: int, rng: np.random.Generator, stages: Sequence[str]) -> DealInput:
    amounts = (10 ** rng.uniform(2, 10, n)).astype(np.int64).tolist()
    stage = [stages[i] for i in rng.integers(0, len(stages), n).tolist()]
    return DealInput(
        id=[f"d{i}" for i in range(n)],
        amount_minor=amounts,
        currency=["CNY"] * n,
        stage=stage,
        owner=[f"rep{i % 997}" for i in range(n)],
    )


def make_team(n: int) -> TeamInput:
    return TeamInput(
        deal=[i for i in range(n) for _ in SHARES],
        person=[f"rep{(i + k * 331) % 997}" for i in range(n) for k in range(len(SHARES))],
        ratio=list(SHARES) * n,
    )


def loop_split(
    amounts: Sequence[int], win_ppm: Sequence[int], n: int
) -> list[list[tuple[int, int]]]:
    """The baseline: each deal on its own, ``Decimal`` shares, largest remainder by hand."""
    shares = [Decimal(s) for s in SHARES]
    out = []
    for i in range(n):
        amount = Decimal(amounts[i])
        weighted_total = (amount * Decimal(win_ppm[i]) / Decimal(1_000_000)).quantize(
            Decimal(1), rounding=ROUND_HALF_EVEN
        )

        def largest_remainder(total: Decimal, weights: list[Decimal]) -> list[int]:
            whole = sum(weights)
            exact = [total * w / whole if whole else Decimal(0) for w in weights]
            parts = [int(e) for e in exact]  # floor: every value is non-negative
            left = int(total) - sum(parts)
            by_rem = sorted(range(len(weights)), key=lambda k: (-(exact[k] - parts[k]), k))
            for k in by_rem[:left]:
                parts[k] += 1
            return parts

        credits = largest_remainder(amount, shares)
        weighted = largest_remainder(weighted_total, [Decimal(c) for c in credits])
        out.append(list(zip(credits, weighted, strict=True)))
    return out


def bench_splits(args: argparse.Namespace) -> dict[str, Any]:
    rules = compile_rule_set(RULE_SET.read_text(encoding="utf-8"))
    rng = np.random.default_rng(args.seed)
    n = args.deals
    deals = make_deals(n, rng, rules.stage_ids)
    batch = build_deal_batch(deals, rules)
    scores = score_deals(rules, batch)
    team = make_team(n)
    read_s = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        columns = read_team(rules, team, n)
        read_s.append(time.perf_counter() - t0)
    split_s = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = split_credits(rules, batch, scores, columns)
        split_s.append(time.perf_counter() - t0)
    assert not result.errors and len(result) == 3 * n

    m = min(args.baseline_deals, n)
    t0 = time.perf_counter()
    expected = loop_split(deals.amount_minor, scores.win_prob_ppm.tolist(), m)  # type: ignore[arg-type]
    loop_s = time.perf_counter() - t0
    credit = result.credit_minor.reshape(n, 3)[:m].tolist()
    weighted = result.weighted_credit_minor.reshape(n, 3)[:m].tolist()
    got = [list(zip(c, w, strict=True)) for c, w in zip(credit, weighted, strict=True)]
    mismatches = sum(a != b for a, b in zip(expected, got, strict=True))
    if mismatches:
        raise SystemExit(f"the baseline and the engine disagree on {mismatches} of {m} deals")
    split_rate = n / median(split_s)
    loop_rate = m / loop_s
    return {
        "deals": n,
        "participants_per_deal": 3,
        "read_team_deals_per_s": n / median(read_s),
        "split_deals_per_s": split_rate,
        "split_seconds": split_s,
        "loop_deals": m,
        "loop_deals_per_s": loop_rate,
        "split_vs_loop": split_rate / loop_rate,
    }


def _event_time(day: dt.datetime, b: int, size: int, j: int) -> Timestamp:
    """Event ``j`` of batch ``b``: a millisecond after the one before, from ``day`` on."""
    when = Timestamp()
    when.FromDatetime(day + dt.timedelta(milliseconds=b * size + j))
    return when


def event_batch(b: int, size: int) -> credit_pb2.RecordDealEventsRequest:
    events = []
    day = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    for j in range(size):
        events.append(
            credit_pb2.DealEvent(
                event_id=f"e{b}-{j}",
                deal_id=f"d{b}-{j}",
                event_time=_event_time(day, b, size, j),
                kind=credit_pb2.DEAL_EVENT_KIND_CREATED,
                deal=types_pb2.Deal(
                    amount_minor=100_000 + j,
                    currency="CNY",
                    stage="quote",
                    owner="li.wei",
                    team=[
                        types_pb2.TeamMember(person="li.wei", ratio="0.7"),
                        types_pb2.TeamMember(person=f"p{j % 50}", ratio="0.3"),
                    ],
                ),
            )
        )
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)


def stage_batch(b: int, size: int) -> credit_pb2.RecordDealEventsRequest:
    """Batch ``b`` of :func:`event_batch`'s deals moved on to ``contract_drafted`` a day later:
    in-order events on deals the ledger knows, continued from their stored heads."""
    day = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    events = [
        credit_pb2.DealEvent(
            event_id=f"s{b}-{j}",
            deal_id=f"d{b}-{j}",
            event_time=_event_time(day, b, size, j),
            kind=credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED,
            deal=types_pb2.Deal(stage="contract_drafted"),
        )
        for j in range(size)
    ]
    return credit_pb2.RecordDealEventsRequest(rule_set="default", events=events)


def bench_events(args: argparse.Namespace) -> dict[str, Any]:
    requests = [event_batch(b, args.batch_size) for b in range(args.batches)]
    moves = [stage_batch(b, args.batch_size) for b in range(args.batches)]
    n_events = args.batches * args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        app = start(
            Config(address="127.0.0.1:0", db_path=Path(tmp) / "bench.sqlite3"),
            clock=lambda: dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
        )
        tune_gc()  # as ``quotient serve`` does after start-up
        try:
            token_env = {"QUOTIENT_TOKEN_FILE": str(Path(tmp) / "admin.token")}
            with open_channel(f"127.0.0.1:{app.port}", token_env) as channel:
                stub = credit_pb2_grpc.CreditServiceStub(channel)
                stub.RecordDealEvents(event_batch(10**6, 10))  # warm-up: compile, cache
                t0 = time.perf_counter()
                lines = 0
                for request in requests:
                    lines += len(stub.RecordDealEvents(request).lines)
                grpc_s = time.perf_counter() - t0
                stage_lines = 0
                t0 = time.perf_counter()
                for request in moves:
                    stage_lines += len(stub.RecordDealEvents(request).lines)
                moves_s = time.perf_counter() - t0
        finally:
            app.stop(0)
        # Baseline: the same events stored as rows, nothing else.
        conn = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE ev (id TEXT PRIMARY KEY, deal TEXT, t TEXT, payload BLOB)")
        t0 = time.perf_counter()
        for request in requests:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO ev VALUES (?, ?, ?, ?)",
                [
                    (e.event_id, e.deal_id, e.event_time.ToJsonString(), e.SerializeToString())
                    for e in request.events
                ],
            )
            conn.execute("COMMIT")
        raw_s = time.perf_counter() - t0
        conn.close()
        store_s = store_writes_seconds(requests, Path(tmp))
    return {
        "events": n_events,
        "batch_size": args.batch_size,
        "ledger_lines": lines,
        "stage_ledger_lines": stage_lines,
        "grpc_events_per_s": n_events / grpc_s,
        "grpc_stage_events_per_s": n_events / moves_s,
        "raw_sqlite_events_per_s": n_events / raw_s,
        "grpc_vs_raw": raw_s / grpc_s,
        "store_events_per_s": n_events / store_s,
        "store_vs_raw": raw_s / store_s,
    }


class _Captured(LedgerStore):
    """A ledger store that keeps what each batch writes (events, lines, heads), to write again."""

    def __init__(self, db: Any) -> None:
        super().__init__(db)
        self.writes: list[dict[str, Any]] = []

    @contextmanager
    def batch(self) -> Iterator[LedgerBatch]:
        writes: dict[str, Any] = {}
        with super().batch() as tx:
            for name in ("insert_events", "insert_line_rows", "put_head_rows"):
                setattr(tx, name, _keep(getattr(tx, name), name, writes))
            yield tx
        self.writes.append(writes)


def _keep(write: Any, name: str, into: dict[str, Any]) -> Any:
    def kept(*args: Any) -> None:
        into[name] = args
        write(*args)

    return kept


def store_writes_seconds(requests: Sequence[Any], tmp: Path) -> float:
    """Seconds the store takes to write exactly the rows the batches write (their events, ledger
    lines and deal heads, one transaction per batch, the same SQLite settings), with no checking,
    replay or splitting: what RecordDealEvents cannot go below on this machine."""
    clock = lambda: dt.datetime(2026, 11, 22, tzinfo=dt.UTC)  # noqa: E731
    db = open_database(str(tmp / "capture.sqlite3"))
    repository = RuleSetRepository(RevisionStore(db), clock)
    publish_sample(repository)
    captured = _Captured(db)
    ledger = CreditLedger(captured, repository, clock)
    for request in requests:
        ledger.record(request.rule_set, events_from_proto(request.events))
    db.close()
    again = LedgerStore(open_database(str(tmp / "writes.sqlite3")))
    t0 = time.perf_counter()
    for writes in captured.writes:
        with again.batch() as tx:
            tx.insert_events(*writes["insert_events"])
            tx.insert_line_rows(*writes["insert_line_rows"])
            tx.put_head_rows(*writes["put_head_rows"])
    seconds = time.perf_counter() - t0
    again.db.close()
    return seconds


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.credit", description=__doc__.splitlines()[0])
    p.add_argument("--deals", type=int, default=1_000_000, help="deals to split (1,000,000)")
    p.add_argument("--baseline-deals", type=int, default=50_000, help="deals for the loop (50,000)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each phase (5)")
    p.add_argument("--split-batch", type=int, default=10_000,
                   help="deals per SplitCredits call (10,000)")  # fmt: skip
    p.add_argument("--split-calls", type=int, default=7, help="timed SplitCredits calls (7)")
    p.add_argument("--batches", type=int, default=100, help="event batches to record (100)")
    p.add_argument("--batch-size", type=int, default=1000, help="events per batch (1,000)")
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--quick", action="store_true", help="a few seconds: small sizes")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    if args.quick:
        args.deals, args.baseline_deals, args.repeats, args.batches = 50_000, 5_000, 2, 5
        args.split_batch, args.split_calls = 2_000, 3
    return args


def split_requests(n: int, seed: int) -> tuple[bytes, bytes]:
    """The same ``n`` deals x 3 participants as a SplitCredits request of Deal messages and as
    one of Arrow columns (``deal_columns`` with a ``team`` column), both serialised."""
    rules = compile_rule_set(RULE_SET.read_text(encoding="utf-8"))
    deals = make_deals(n, np.random.default_rng(seed), rules.stage_ids)
    team = make_team(n)
    messages = credit_pb2.SplitCreditsRequest(rule_set="default")
    for i in range(n):
        d = messages.deals.add(
            id=deals.id[i],
            amount_minor=deals.amount_minor[i],
            currency="CNY",
            stage=deals.stage[i],
            owner=deals.owner[i],
        )
        for k in range(len(SHARES)):
            j = 3 * i + k
            d.team.add(person=team.person[j], ratio=str(team.ratio[j]))
    member = pa.struct([("person", pa.string()), ("ratio", pa.string())])
    members = [
        [
            {"person": team.person[3 * i + k], "ratio": str(team.ratio[3 * i + k])}
            for k in range(len(SHARES))
        ]
        for i in range(n)
    ]
    table = deals_to_arrow(deals).append_column("team", pa.array(members, pa.list_(member)))
    columns = credit_pb2.SplitCreditsRequest(rule_set="default", deal_columns=table_bytes(table))
    return messages.SerializeToString(), columns.SerializeToString()  # fmt: skip


def bench_split_calls(args: argparse.Namespace) -> dict[str, Any]:
    """SplitCredits over gRPC, the same deals as messages and as columns (answers checked equal)."""
    messages, columns = split_requests(args.split_batch, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        app = start(
            Config(address="127.0.0.1:0", db_path=Path(tmp) / "bench.sqlite3", auth="off"),
            clock=lambda: dt.datetime(2026, 11, 22, tzinfo=dt.UTC),
        )
        tune_gc()
        try:
            with open_channel(f"127.0.0.1:{app.port}", {}) as channel:
                call = channel.unary_unary("/quotient.v1.CreditService/SplitCredits")
                by_message = credit_pb2.SplitCreditsResponse.FromString(call(messages))
                by_column = credit_pb2.SplitCreditsResponse.FromString(call(columns))
                want = [(p.person, p.credit_minor, p.weighted_credit_minor)
                        for d in by_message.deals for p in d.parts]  # fmt: skip
                got = [(r["person"], r["credit_minor"], r["weighted_credit_minor"])
                       for r in table_rows(by_column.part_columns)]  # fmt: skip
                if got != want or by_message.failed_count != by_column.failed_count:
                    raise AssertionError("the columns answer differs from the messages answer")
                seconds = {}
                for name, payload in (("messages", messages), ("columns", columns)):
                    seconds[name] = median([_timed(call, payload) for _ in range(args.split_calls)])
        finally:
            app.stop(0)
    n = args.split_batch
    return {
        "deals_per_call": n,
        "messages_deals_per_s": n / seconds["messages"],
        "columns_deals_per_s": n / seconds["columns"],
        "columns_vs_messages": seconds["messages"] / seconds["columns"],
    }


def _timed(call: Any, payload: bytes) -> float:
    t0 = time.perf_counter()
    call(payload)
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    machine = machine_summary()
    print(f"bench.credit on {machine['platform']}, {machine['cpus']} CPUs, {machine['date']}")
    splits = bench_splits(args)
    print_table(
        f"Splitting {splits['deals']:,} deals x 3 participants in-process",
        ["what", "deals/s", "vs loop"],
        [
            ["split_credits (hot path)", fmt_rate(splits["split_deals_per_s"]),
             fmt_ratio(splits["split_vs_loop"])],
            ["read_team (boundary)", fmt_rate(splits["read_team_deals_per_s"]), ""],
            [f"Decimal loop ({splits['loop_deals']:,} deals)", fmt_rate(splits["loop_deals_per_s"]),
             "1.00x"],
        ],
    )  # fmt: skip
    target = "met" if splits["split_deals_per_s"] >= 2e6 else "NOT met"
    print(f"target >= 2M deals/s: {target}")
    calls = bench_split_calls(args)
    print_table(
        f"SplitCredits over gRPC: {calls['deals_per_call']:,} deals x 3 participants per call "
        f"(median of {args.split_calls})",
        ["deals sent as", "deals/s", "vs messages"],
        [
            ["Deal messages", fmt_rate(calls["messages_deals_per_s"]), "1.00x"],
            ["Arrow columns", fmt_rate(calls["columns_deals_per_s"]),
             fmt_ratio(calls["columns_vs_messages"])],
        ],
    )  # fmt: skip
    events = bench_events(args)
    print_table(
        f"RecordDealEvents: {events['events']:,} events in batches of {events['batch_size']:,}",
        ["what", "events/s", "vs raw insert"],
        [
            ["gRPC -> checks, splits, ledger", fmt_rate(events["grpc_events_per_s"]),
             fmt_ratio(events["grpc_vs_raw"])],
            ["  then each deal's stage changed", fmt_rate(events["grpc_stage_events_per_s"]),
             fmt_ratio(events["grpc_stage_events_per_s"] / events["raw_sqlite_events_per_s"])],
            ["the store's writes alone (same rows)", fmt_rate(events["store_events_per_s"]),
             fmt_ratio(events["store_vs_raw"])],
            ["raw SQLite executemany", fmt_rate(events["raw_sqlite_events_per_s"]), "1.00x"],
        ],
    )  # fmt: skip
    target = "met" if events["grpc_events_per_s"] >= 20_000 else "NOT met"
    print(f"target >= 20,000 events/s: {target} (one instance; two on one file: bench.stores)")
    if args.json:
        write_json(args.json, {"machine": machine, "splits": splits, "split_calls": calls,
                               "events": events})  # fmt: skip


if __name__ == "__main__":
    main()
