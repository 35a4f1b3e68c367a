"""Batch jobs in-process against a two-worker ``distributed.LocalCluster``, in the same run: what
a cluster costs per partition, and where it would start to pay.

Why this exists: batch jobs run on a Dask cluster when one is named (``service.batch``), with the
same engine function mapped over partitions. On a machine with two cores the two workers share
the cores with the client that splits the job and gathers the results (and with the scheduler),
so two workers can at best halve the partitions' compute and no more; what matters is the
overhead each partition adds, measured here, and from it how large a partition must be before
N workers on N machines win.

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which stops glibc reusing
freed memory for large blocks: the Monte Carlo kernel, which allocates and frees arrays of a
few hundred kilobytes per chunk, then runs about half as fast on a worker as in-process.
``--malloc-trim 134217728`` starts the workers with a larger threshold (see the README for
real workers); run the bench with and without it to see the difference.

Two jobs, each run whole in-process (one partition, nothing copied: what the service does
without a cluster) and split into P partitions on the cluster, the results checked identical
before any time is printed:

1. **a commission run**: the data of ``bench.commission`` (1,000,000 credit lines over 10,000
   people, two tiered plans with caps, every fifth person bringing a negative balance), split by
   payee (``service.commission_batch.run_payees``: ``commission_run``, ``settle`` and each
   person's statement as stored); the statements and closing balances must be the same bytes;
2. **a 10,000-trial scenario**: 100,000 open deals over 500 owners, the baseline and a scenario
   (quote win rates x 1.2, deal sizes x 1.1) drawn with one seed, every owner a row (1,000
   Monte Carlo outcomes, ``engine.forecast.distribution.monte_carlo_many``, 2 x 10^9 draws); the
   outcomes must be equal.

Measured per job: the in-process time; the cluster time for each P; each partition's compute
(run alone in-process); and from them the overhead per partition, ``(cluster - ideal) / P``,
where ``ideal`` is the partitions' compute spread evenly over the workers. The overhead is
fitted as ``h(P) = h0 + o x units / P`` from the smallest and largest P (a fixed cost per task
plus the cost of shipping a partition and its result, which grows with its size), and the
crossover follows: split into P = N partitions of s units each, N workers win when
``c x s > (h0 + o x s) x N / (N - 1)`` with ``c`` the compute per unit, that is from
``s* = h0 x N / (N - 1) / (c - o x N / (N - 1))`` units per partition on, and never when
``o x N / (N - 1) >= c`` (shipping a unit costs more than computing it). A no-op task's round
trip is printed beside ``h0`` as a check.

Run ``.venv/bin/python -m bench.batch --help``; ``--quick`` is a smoke run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from distributed.protocol import deserialize, serialize

from bench import fmt_ratio, machine_summary, median, print_table, write_json
from bench.commission import PERIOD_LAST_DAY, make_data, plans
from bench.planning import STAGES
from bench.planning import make_data as make_pipeline
from engine.commission.run import Awards
from engine.forecast.distribution import Outcome, Sample, monte_carlo_many
from engine.planning.scenario import DealSizeLever, WinRateLever, apply_deal_size, apply_win_rates
from engine.rules.plans import CompiledPlan
from service.batch import DaskCluster, Executor, InProcess, partition_map
from service.commission_batch import CommissionJob, Payees, run_payees, split_payees


def commission_inputs(lines: int, people: int, seed: int) -> tuple[CommissionJob, Payees]:
    data = make_data(lines, people, np.random.default_rng(seed))
    specs = plans()
    compiled = tuple(
        CompiledPlan(spec, frozenset(), frozenset(), frozenset(), frozenset(), "revenue", "CNY",
                     5_000_000, path=f"plans[{i}]")
        for i, spec in enumerate(specs.values())
    )  # fmt: skip
    index = {p.spec.id: i for i, p in enumerate(compiled)}
    names = data["names"]
    n = len(data["deal"])
    carry = zip(names, data["carry"].tolist(), strict=True)
    everyone = Payees(
        people=tuple(names),
        plan={p: index[data["plan_of"][p]] for p in names},
        line_person=[names[i] for i in data["person"].tolist()],
        line_deal=data["deal"],
        credit_minor=data["credit"],
        base_minor=data["credit"],
        segment=np.full(n, -1, np.int64),
        awards=Awards(np.zeros(0, np.int64), [], np.zeros(0, np.int64)),
        payees=tuple(names),
        targets=data["targets"],
        closing_in={p: {"carry_minor": int(c)} for p, c in carry if c},
        clawbacks={},
    )
    return CommissionJob(compiled, PERIOD_LAST_DAY), everyone


def commission(executor: Executor, job: CommissionJob, parts: list[Payees]) -> str:
    """The run's statements and closing balances as the service stores them (canonical JSON)."""
    statements: dict[str, Any] = {}
    closing: dict[str, Any] = {}
    for s, c in executor.map_partitions(run_payees, parts, shared=job, label="bench-commission"):
        statements.update(s)
        closing.update(c)
    return json.dumps({"statements": [statements[p] for p in sorted(statements)],
                       "closing": closing}, sort_keys=True, separators=(",", ":"))  # fmt: skip


def scenario_samples(deals: int, owners: int, seed: int) -> list[Sample]:
    """Each owner's open deals before and after the levers: 2 x owners outcomes."""
    data = make_pipeline(deals, owners, np.random.default_rng(seed))
    is_open = np.ones(deals, dtype=np.bool_)
    prob = apply_win_rates(data["prob"], data["stage"], is_open,
                           [WinRateLever(Fraction(6, 5), "quote")],
                           {s: i for i, s in enumerate(STAGES)})  # fmt: skip
    amount = apply_deal_size(data["amount"], is_open, DealSizeLever(Fraction(11, 10)))
    order = np.argsort(data["owner"], kind="stable")
    bounds = np.searchsorted(data["owner"][order], np.arange(owners + 1))
    rows = [order[bounds[k] : bounds[k + 1]] for k in range(owners)]
    return [Sample(a[r], p[r]) for a, p in ((data["amount"], data["prob"]), (amount, prob))
            for r in rows]  # fmt: skip


def scenario(
    executor: Executor, samples: list[Sample], trials: int, seed: int, parts: int
) -> list[Outcome]:
    return monte_carlo_many(samples, seed=seed, trials=trials, partitions=parts,
                            map_partitions=partition_map(executor, label="bench-scenario"))  # fmt: skip


def noop(shared: None, part: int) -> int:
    return part


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls, and the last call's result."""
    seconds, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - t0)
    return median(seconds), out


class Recorder(InProcess):
    """In-process, timing each partition alone (its compute, without any shipping), and what
    serializing each partition and its result there and back costs as ``distributed`` does it
    (the least that shipping them can cost)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.pickling_s = 0.0

    def map_partitions(self, fn: Any, partitions: Sequence[Any], *, shared: Any,
                       progress: Any = None, label: str = "batch") -> list[Any]:  # fmt: skip
        out = []
        for part in partitions:
            t0 = time.perf_counter()
            out.append(fn(shared, part))
            self.seconds.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for value in (part, out[-1]):  # as distributed sends a task's argument and result
                deserialize(*serialize(value))
            self.pickling_s += time.perf_counter() - t0
        return out


def overheads(serial_s: float, cluster_s: dict[int, float], compute: dict[int, list[float]],
              workers: int) -> dict[int, float]:  # fmt: skip
    """Per partition: (cluster - ideal) / P, ideal = what the job does outside its partitions
    plus the partitions' compute spread over the workers (no worker can take less than the
    largest partition)."""
    out = {}
    for p, seconds in cluster_s.items():
        ideal = serial_s + max(sum(compute[p]) / min(workers, p), max(compute[p]))
        out[p] = (seconds - ideal) / p
    return out


def crossover(units: int, h: dict[int, float], floor: float) -> tuple[float, float]:
    """Fit h(P) = h0 + o x units / P from the smallest and largest P: ``(h0, o)``, with ``h0``
    at least ``floor`` (a no-op task's round trip: no partition costs less)."""
    lo, hi = min(h), max(h)
    if lo == hi:
        return max(h[lo], floor), 0.0
    o = (h[lo] - h[hi]) / (units / lo - units / hi)
    h0 = h[hi] - o * units / hi
    if o < 0:  # noise: no size-dependent part to fit
        return max(min(h.values()), floor), 0.0
    return max(h0, floor), o


def wins(c: float, h0: float, o: float) -> dict[int, float | None]:
    """Units per partition from which N workers win, N = 2, 4, 8, 16 (None: never)."""
    out: dict[int, float | None] = {}
    for n in (2, 4, 8, 16):
        k = n / (n - 1)
        out[n] = None if o * k >= c else h0 * k / (c - o * k)
    return out


def run_job(name: str, unit: str, units: int, local: Callable[[], Any],
            on: Callable[[Executor, int], Any], cluster: DaskCluster, counts: list[int],
            repeats: int, workers: int, noop_s: float) -> dict[str, Any]:  # fmt: skip
    print(f"\n{name}: in-process ...", flush=True)
    local_s, expected = timed(local, repeats)
    whole = Recorder()
    on(whole, 1)
    serial_s = max(local_s - whole.seconds[0], 0.0)  # splitting, joining, writing the result
    cluster_s: dict[int, float] = {}
    compute: dict[int, list[float]] = {}
    pickling: dict[int, float] = {}
    for p in counts:
        rec = Recorder()
        if on(rec, p) != expected:
            raise SystemExit(f"{name}: {p} partitions in-process differ from one")
        compute[p], pickling[p] = rec.seconds, rec.pickling_s
        print(f"{name}: {p} partitions on the cluster ...", flush=True)
        on(cluster, p)  # warm up: the workers import the job's modules once
        cluster_s[p], got = timed(lambda p=p: on(cluster, p), repeats)  # type: ignore[misc]
        if got != expected:
            raise SystemExit(f"{name}: {p} partitions on the cluster differ from in-process")
    h = overheads(serial_s, cluster_s, compute, workers)
    c = whole.seconds[0] / units
    h0, o = crossover(units, h, noop_s)
    o_pickle = pickling[max(counts)] / units
    return {"name": name, "unit": unit, "units": units, "local_s": local_s,
            "partition_s": whole.seconds[0], "serial_s": serial_s, "cluster_s": cluster_s,
            "compute_s": compute, "overhead_s": h, "compute_s_per_unit": c,
            "fit": {"h0_s": h0, "o_s_per_unit": o, "win_units": wins(c, h0, o)},
            "pickling_only": {"h0_s": noop_s, "o_s_per_unit": o_pickle,
                              "win_units": wins(c, noop_s, o_pickle)}}  # fmt: skip


def report(job: dict[str, Any], workers: int) -> None:
    rows = [["in-process, 1 partition", f"{job['local_s']:.2f}", "1.00x",
             f"{job['partition_s']:.3f} / {job['partition_s']:.2f}", "-"]]  # fmt: skip
    for p, s in job["cluster_s"].items():
        comp = job["compute_s"][p]
        rows.append([f"cluster, {p} partitions", f"{s:.2f}", fmt_ratio(job["local_s"] / s),
                     f"{max(comp):.3f} / {sum(comp):.2f}",
                     f"{job['overhead_s'][p] * 1e3:,.0f} ms"])  # fmt: skip
    unit = job["unit"][:-1]
    print_table(f"{job['name']} ({job['units']:,} {job['unit']}; {workers} workers, results "
                "checked identical)",
                ["what", "seconds", "speed-up", "partition compute max / sum (s)",
                 "overhead per partition"], rows)  # fmt: skip
    c = job["compute_s_per_unit"]
    print(f"compute {c * 1e9:,.1f} ns per {unit} in the partitions, {job['serial_s']:.2f} s "
          "outside them (split, join, write: the same either way)")  # fmt: skip
    for key, what in (("fit", "measured here (fitted to the two partition counts; the client, "
                              "scheduler and workers share the CPUs)"),
                      ("pickling_only", "if shipping cost only a no-op task and serializing the "
                                        "partition and its result (workers on other machines)")):  # fmt: skip
        x = job[key]
        print(f"overhead per partition {what}: {x['h0_s'] * 1e3:,.1f} ms + "
              f"{x['o_s_per_unit'] * 1e9:,.1f} ns per {unit}")  # fmt: skip
        for n, s in x["win_units"].items():
            verdict = ("never: shipping a unit costs more than computing it" if s is None
                       else f"from {s:,.0f} {job['unit']} per partition "
                            f"({s * c:.2f} s of compute each), {s * n:,.0f} in all")  # fmt: skip
            print(f"  {n:>2} workers on {n} machines win {verdict}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--deals", type=int, default=100_000)
    p.add_argument("--owners", type=int, default=500)
    p.add_argument("--trials", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", default="2,8", help="partition counts on the cluster")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--malloc-trim", type=int, default=None, metavar="BYTES",
                   help="MALLOC_TRIM_THRESHOLD_ of the worker processes (default: Dask's, "
                   "65,536, which makes allocation-heavy numpy code slower)")  # fmt: skip
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--quick", action="store_true",
                   help="100,000 lines, 1,000 people, 10,000 deals, 50 owners")  # fmt: skip
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.quick:
        args.lines, args.people, args.deals, args.owners = 100_000, 1_000, 10_000, 50
    return args


def main(argv: Sequence[str] | None = None) -> None:
    import dask
    from distributed import LocalCluster

    args = parse_args(argv)
    if args.malloc_trim is not None:
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_":
                         args.malloc_trim})  # fmt: skip
    trim = dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_")
    counts = [int(x) for x in args.partitions.split(",")]
    machine = machine_summary()
    print(f"{machine['cpus']} CPUs, Python {machine['python']}, numpy {machine['numpy']}, "
          f"{machine['date']}; seed {args.seed}", flush=True)  # fmt: skip
    job, everyone = commission_inputs(args.lines, args.people, args.seed)
    samples = scenario_samples(args.deals, args.owners, args.seed)
    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local_cluster:  # fmt: skip
        cluster = DaskCluster(local_cluster.scheduler_address)
        start_s = time.perf_counter() - t0
        try:
            cluster.map_partitions(noop, list(range(args.workers * 4)), shared=None)  # warm up
            noop_s, _ = timed(lambda: cluster.map_partitions(noop, list(range(64)), shared=None),
                              args.repeats)  # fmt: skip
            noop_s /= 64
            jobs = [
                run_job("commission run", "lines", args.lines,
                        lambda: commission(InProcess(), job, [everyone]),
                        lambda ex, p: commission(ex, job, split_payees(everyone, p)),
                        cluster, counts, args.repeats, args.workers, noop_s),
                run_job(f"{args.trials:,}-trial scenario", "draws",
                        args.trials * sum(int(np.count_nonzero((s.prob_ppm > 0)
                                                               & (s.prob_ppm < 1_000_000)))
                                          for s in samples),
                        lambda: scenario(InProcess(), samples, args.trials, args.seed, 1),
                        lambda ex, p: scenario(ex, samples, args.trials, args.seed, p),
                        cluster, counts, args.repeats, args.workers, noop_s),
            ]  # fmt: skip
        finally:
            cluster.close()
    print(f"\nLocalCluster of {args.workers} worker processes (1 thread each, "
          f"MALLOC_TRIM_THRESHOLD_={trim}) started in {start_s:.1f} s; a no-op task's round "
          f"trip {noop_s * 1e3:.1f} ms")  # fmt: skip
    for j in jobs:
        report(j, args.workers)
    if args.json:
        write_json(args.json, {"machine": machine, "noop_task_s": noop_s, "malloc_trim": trim,
                               "cluster_start_s": start_s, "jobs": jobs,
                               **{k: v for k, v in vars(args).items() if k != "json"}})  # fmt: skip


if __name__ == "__main__":
    main()
