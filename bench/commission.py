"""A commission run in-process: 10,000 people over 1,000,000 credit lines, tiered plans and caps,
beside a straightforward per-line Python implementation with ``Decimal`` in the same run.

Why this exists: finance runs commission over every credit line of a period; the issue asks for
such a run in at most 2 s, at least 50 times the per-line ``Decimal`` loop.

The data (seeded ``numpy.random.Generator``): 1,000,000 credit lines (amounts 10.00 to
100,000.00) spread over 10,000 people, each with a target between 1,000,000.00 and 10,000,000.00
and a target incentive of 50,000.00; two plans: the 50 %-unlock attainment plan (5 % / 10 %
retroactive from 50 % / 15 % above target, nothing under 20 %, capped at 3 x the incentive) for
even people, and a marginal amount plan (1 % / 2 % / 3 % over 1M / 5M, capped at 120,000.00) for
odd ones. People come coded (codes into a list of names), as a store or frame holds them.

Measured: :func:`engine.commission.run.commission_run` (bases, plans, caps, deal lines by
largest remainder) against the loop, which sums each person's base line by line in ``Decimal``,
pays it tier by tier with the same rules, rounds half-even and caps, and splits the pay over the
person's lines in proportion to credit (largest remainder). Every person's pay and every line's
commission must be equal before a ratio is printed.

Run ``.venv/bin/python -m bench.commission --help``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np

from bench import fmt_rate, fmt_ratio, machine_summary, median, print_table, write_json
from engine.commission.plans import PlanSpec
from engine.commission.run import commission_run
from engine.commission.tiers import TierBasis, TierMode, compile_tiers

D = Decimal
M, R = TierMode.MARGINAL, TierMode.RETROACTIVE
UNLOCK = [
    (D(0), D("0.5"), D("0.05"), M),
    (D("0.5"), D(1), D("0.10"), R),
    (D(1), None, D("0.15"), M),
]
AMOUNT = [(D(0), D(1_000_000), D("0.01"), M), (D(1_000_000), D(5_000_000), D("0.02"), M),
          (D(5_000_000), None, D("0.03"), M)]  # fmt: skip


def plans() -> dict[str, PlanSpec]:
    return {
        "unlock": PlanSpec("unlock", compile_tiers(TierBasis.ATTAINMENT, UNLOCK),
                           threshold=D("0.2"), cap_target_incentive_multiple=D(3)),
        "amount": PlanSpec("amount", compile_tiers(TierBasis.AMOUNT, AMOUNT),
                           cap_per_period_minor=12_000_000),
    }  # fmt: skip


def make_data(lines: int, people: int, rng: np.random.Generator) -> dict[str, Any]:
    names = [f"p{i:05d}" for i in range(people)]
    return {
        "names": names,
        "person": rng.integers(0, people, lines),
        "deal": [f"d{i}" for i in range(lines)],
        "credit": rng.integers(1_000, 10_000_001, lines),
        "targets": {
            p: int(t)
            for p, t in zip(names, rng.integers(100_000_000, 1_000_000_001, people), strict=True)
        },
        "plan_of": {p: ("unlock" if i % 2 == 0 else "amount") for i, p in enumerate(names)},
        "incentive": dict.fromkeys(names, 5_000_000),
    }


def _half_even(x: Decimal) -> int:
    return int(x.quantize(D(1), ROUND_HALF_EVEN))


def loop_run(data: dict[str, Any]) -> tuple[dict[str, int], list[int]]:
    """The per-line Decimal implementation: returns pay per person and commission per line."""
    names, person, credit = data["names"], data["person"].tolist(), data["credit"].tolist()
    base: dict[str, Decimal] = {}
    lines_of: dict[str, list[int]] = {}
    for i, (p, c) in enumerate(zip(person, credit, strict=True)):
        name = names[p]
        base[name] = base.get(name, D(0)) + D(c)
        lines_of.setdefault(name, []).append(i)
    pay: dict[str, int] = {}
    for name, b in base.items():
        if data["plan_of"][name] == "unlock":
            target = D(data["targets"][name])
            if b < D("0.2") * target:
                pay[name] = 0
                continue
            raw = D(0)
            if b >= D("0.5") * target:  # the retroactive tier re-rates everything up to 100 %
                raw += min(b, target) * D("0.10")
                raw += max(b - target, D(0)) * D("0.15")
            else:
                raw += b * D("0.05")
            cap = D(data["incentive"][name]) * 3
            pay[name] = min(_half_even(raw), int(cap))
        else:
            raw = D(0)
            for lo, hi, rate, _ in AMOUNT:
                low, high = lo * 100, (hi * 100 if hi is not None else None)
                part = max(D(0), (b if high is None else min(b, high)) - low)
                raw += part * rate
            pay[name] = min(_half_even(raw), 12_000_000)
    commission = [0] * len(credit)
    for name, rows in lines_of.items():
        total, weights = pay[name], [credit[r] for r in rows]
        s = sum(weights)
        exact = [D(total) * D(w) / D(s) for w in weights] if s else [D(0)] * len(rows)
        floors = [int(x.to_integral_value(ROUND_FLOOR)) for x in exact]
        left = total - sum(floors)
        ranked = sorted(range(len(rows)), key=lambda j: (-(exact[j] - floors[j]), j))
        for j in ranked[:left]:
            floors[j] += 1
        for r, v in zip(rows, floors, strict=True):
            commission[r] = v
    return pay, commission


def bench(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    data = make_data(args.lines, args.people, rng)
    specs = plans()
    coded = (data["person"], data["names"])

    def engine() -> Any:
        return commission_run(coded, data["deal"], data["credit"], specs, data["plan_of"],
                              data["targets"], data["incentive"])  # fmt: skip

    result = engine()
    t0 = time.perf_counter()
    pay, commission = loop_run(data)
    loop_s = time.perf_counter() - t0
    engine_pay = dict(zip(result.people, result.pay_minor.tolist(), strict=True))
    if engine_pay != pay:
        bad = next(p for p in pay if pay[p] != engine_pay.get(p))
        raise SystemExit(f"pay differs for {bad}: engine {engine_pay.get(bad)}, loop {pay[bad]}")
    if result.commission_minor.tolist() != commission:
        raise SystemExit("line commissions differ between the engine and the loop")
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        engine()
        seconds.append(time.perf_counter() - t0)
    engine_s = median(seconds)
    return {"lines": args.lines, "people": args.people, "engine_s": engine_s, "loop_s": loop_s,
            "ratio": loop_s / engine_s, "total_pay_minor": result.total_pay_minor}  # fmt: skip


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.commission",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--quick", action="store_true", help="100,000 lines, 1,000 people, 2 repeats")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.quick:
        args.lines, args.people, args.repeats = 100_000, 1_000, 2
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    out = bench(args)
    print_table(
        f"Commission run: {out['people']:,} people, {out['lines']:,} credit lines (checked equal)",
        ["what", "seconds", "lines/s", "vs loop"],
        [
            ["engine commission_run (median)", f"{out['engine_s']:.3f}",
             fmt_rate(out["lines"] / out["engine_s"]), fmt_ratio(out["ratio"])],
            ["per-line Decimal loop (one run)", f"{out['loop_s']:.2f}",
             fmt_rate(out["lines"] / out["loop_s"]), "1.00x"],
        ],
    )  # fmt: skip
    met_time = "MET" if out["engine_s"] <= 2 else "NOT MET"
    met_ratio = "MET" if out["ratio"] >= 50 else "NOT MET"
    print(f"Targets (issue): <= 2 s: {met_time} ({out['engine_s']:.3f} s); >= 50x the loop: "
          f"{met_ratio} ({out['ratio']:.1f}x)")  # fmt: skip
    if args.json:
        write_json(args.json, {"machine": machine_summary(), **out, "seed": args.seed})


if __name__ == "__main__":
    main()
