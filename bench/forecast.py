"""Forecast roll-ups and outcome distributions, each against a baseline measured in the same run.

Why this exists: a forecast is a roll-up of the whole book by group and period, and an outcome
distribution per row; both run on every forecast request and on every re-forecast of tens of
millions of deals. Two measurements, with the issue's targets:

1. **Roll-up** of N deals (default 10,000,000) by region x quarter x category, with
   :func:`engine.forecast.rollup.rollup` on a scored batch, beside the **memory-bandwidth bound**:
   a plain numpy ``sum`` over every column the roll-up reads (amount, weighted amount, win
   probability, category, probability source, validity, close date and its null mask, region
   codes), and, stricter, the same bytes read as 64-bit words. Before any ratio is printed every
   roll-up figure (counts, pipeline, weighted, closed-won, each category single and cumulative,
   the row of every deal) is checked against an independent sort-based group-by in int64, and
   the grand totals against Python integers. Target: roll-up <= 4 x the plain-sum bound. A
   second shape, owner x month (about 7,000 rows, the larger bin space), is reported for
   information.
2. **Outcome distribution** of M open deals (default 100,000) with the scored deal mix, beside a
   200,000-trial Monte Carlo (:func:`engine.forecast.distribution.monte_carlo`, exact integer
   sums, run in full, not extrapolated). Three cases: the realistic book as the engine chooses
   (the normal path where Berry-Esseen allows it), the same book forced through the exact FFT
   method, and a book with one deal worth 40 % of its value (the exact method; a normal
   approximation would be wrong there). Before any ratio is printed each case's P10/P50/P90 are
   checked to agree with the Monte Carlo within the engine's error bound plus 4.5 standard
   errors of the sampling. Targets: every quantile within 0.1 % of the Monte Carlo's, in at
   most 1/20 of its time.

The roll-up book is 10M rows resampled (with replacement, seeded) from a smaller book of
generated deals (``--template``, default 500,000, from :func:`bench.scoring.generate_deals`) in
one currency (CNY), since roll-ups refuse currency mixtures. Targets are printed as MET / NOT
MET, never asserted. Run ``.venv/bin/python -m bench.forecast --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import inspect
import math
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, fmt_rate, fmt_ratio, machine_summary, median, print_table, write_json
from bench.scoring import generate_deals
from engine.forecast.deals import DealBatch, build_deal_batch
from engine.forecast.distribution import Outcome, monte_carlo, outcome_distribution
from engine.forecast.rollup import (
    REPORTED,
    Period,
    PeriodKind,
    Rollup,
    calendar_periods,
    rollup,
)
from engine.forecast.scoring import ProbSource, ScoreResult, score_deals
from engine.frame import date_to_days
from engine.rules.compiler import CompiledRuleSet, compile_rule_set
from engine.rules.schema import CATEGORY_ORDER, Category

RULE_SET = ROOT / "examples" / "rulesets" / "default.yaml"
DEFAULT_SEED = 20261122
CURRENCY = "CNY"
#: Issue targets (printed as met / not met, never asserted).
TARGET_ROLLUP_X_BANDWIDTH = 4.0
TARGET_QUANTILE_RELATIVE = 0.001
TARGET_SHARE_OF_MC = 1 / 20
#: Normal quantile of the Monte Carlo's 99 % intervals (their half width / this = one SE).
Z99 = 2.5758293035489004
#: How far, in Monte Carlo standard errors beyond the engine's bound, a quantile may be.
AGREE_SE = 4.5
QUANTILES = (0.1, 0.5, 0.9)
DOMINANT_SHARE, DOMINANT_PROB = 0.40, 700_000


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# --------------------------------------------------------------------------------------------
# Roll-up


def build_book(
    n: int, template: int, rng: np.random.Generator, rules: CompiledRuleSet
) -> tuple[DealBatch, ScoreResult]:
    """``n`` scored deals resampled from ``template`` generated deals, all in CNY."""
    deals = generate_deals(template, rng, rules.stage_ids)
    deals.currency = [CURRENCY] * template
    small = build_deal_batch(deals, rules)
    if small.errors:
        raise SystemExit(f"generated deals have problems: {small.errors[:3]}")
    pick = rng.integers(0, template, n)
    ids = np.array(small.ids, dtype=object)[pick].tolist()
    batch = DealBatch(ids, small.frame.take(pick), small.valid[pick], small.manual_win_ppm[pick],
                      small.category_override[pick], small.stage_idx[pick], [])  # fmt: skip
    return batch, score_deals(rules, batch)


def rollup_columns(
    batch: DealBatch, scores: ScoreResult, group_by: Sequence[str]
) -> list[tuple[str, np.ndarray]]:
    """The columns the roll-up reads (the currency only when the batch has several)."""
    f = batch.frame
    cols = [
        ("amount_minor", f["amount_minor"].values),
        ("weighted_amount_minor", scores.weighted_amount_minor),
        ("win_prob_ppm", scores.win_prob_ppm),
        ("category", scores.category),
        ("prob_source", scores.prob_source),
        ("valid", scores.valid),
        ("close_date", f["close_date"].values),
    ]
    if f["close_date"].null is not None:
        cols.append(("close_date.null", f["close_date"].null))
    cols += [(g, f[g].values) for g in group_by]
    if len(f["currency"].dictionary) > 1:
        cols.append(("currency", f["currency"].values))
    return cols


def plain_sums(cols: list[tuple[str, np.ndarray]]) -> list[Any]:
    """The issue's bandwidth bound: ``numpy.sum`` over each column, as it is."""
    return [c.sum() for _, c in cols]


def word_sums(cols: list[tuple[str, np.ndarray]]) -> list[Any]:
    """Stricter: every byte of every column read once, as 64-bit words (wrapping sums)."""
    out = []
    for _, c in cols:
        raw = c.view(np.uint8)
        whole = raw.shape[0] - raw.shape[0] % 8
        out.append(np.add.reduce(raw[:whole].view(np.uint64)) + raw[whole:].sum(dtype=np.uint64))
    return out


def reference_rollup(
    batch: DealBatch, scores: ScoreResult, group_by: Sequence[str], periods: Sequence[Period]
) -> dict[str, Any]:
    """An independent roll-up: period by binary search, rows by a stable sort of the row key,
    sums by ``numpy.add.reduceat`` in int64 (the amounts checked small enough not to wrap)."""
    f = batch.frame
    n = f.n_rows
    starts = np.array([date_to_days(p.start) for p in periods])
    ends = np.array([date_to_days(p.end) for p in periods])
    order = np.argsort(starts)
    day = f["close_date"].values.astype(np.int64)
    slot = np.searchsorted(starts[order], day, side="right") - 1
    period = order[np.clip(slot, 0, None)]
    inside = (slot >= 0) & (day < ends[period])
    if f["close_date"].null is not None:
        inside &= ~f["close_date"].null
    omitted = CATEGORY_ORDER.index(Category.OMITTED)
    keep = scores.valid & inside & (scores.category != omitted)
    amount = f["amount_minor"].values
    if int(amount.max(initial=0)) * n >= 2**63:
        raise SystemExit("the reference sums could wrap: use smaller amounts")
    codes = [f[g].values.astype(np.int64) + 1 for g in group_by]
    radices = [len(f[g].dictionary) + 1 for g in group_by] + [len(periods)]
    key = np.ravel_multi_index([*codes, period], radices)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(key[rows], kind="stable")]
    k = key[rows]
    first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.zeros(0, np.int64)
    closed = scores.prob_source[rows] == ProbSource.CLOSED_STAGE
    won = closed & (scores.win_prob_ppm[rows] == 1_000_000)
    a, w, cat = amount[rows], scores.weighted_amount_minor[rows], scores.category[rows]

    def per(values: np.ndarray) -> np.ndarray:
        values = values.astype(np.int64)
        return np.add.reduceat(values, first) if first.size else np.zeros(0, np.int64)

    labels = []
    for parts in zip(*np.unravel_index(k[first], radices), strict=True):
        names = [f[g].dictionary[c - 1] if c else "" for g, c in zip(group_by, parts, strict=False)]
        labels.append((*names, periods[int(parts[-1])].label))
    single = {c: per(np.where(cat == CATEGORY_ORDER.index(c), a, 0)) for c in REPORTED}
    return {
        "keys": labels,
        "deal_count": per(np.ones_like(a)),
        "open_count": per(~closed),
        "won_count": per(won),
        "pipeline_minor": per(np.where(~closed, a, 0)),
        "weighted_minor": per(np.where(~closed, w, 0)),
        "closed_won_minor": per(np.where(won, a, 0)),
        "single": single,
        "keep": keep,
        "row_key": key,
        "python_totals": {  # grand totals in Python integers, from the deals themselves
            "deals": int(keep.sum()),
            "pipeline": sum(
                amount[keep & (scores.prob_source != ProbSource.CLOSED_STAGE)].tolist()
            ),
            "amount": sum(amount[keep].tolist()),
        },
    }


def check_rollup(r: Rollup, ref: dict[str, Any], label: str) -> None:
    """Stop the run unless the engine's roll-up equals the reference, figure by figure."""
    problems = []
    if r.keys != ref["keys"]:
        problems.append(f"rows differ: {len(r.keys)} vs {len(ref['keys'])}")
    else:
        for name in ("deal_count", "open_count", "won_count", "pipeline_minor", "weighted_minor",
                     "closed_won_minor"):  # fmt: skip
            if not np.array_equal(getattr(r, name), ref[name]):
                problems.append(name)
        for c in REPORTED:
            if not np.array_equal(r.category_minor[c], ref["single"][c]):
                problems.append(f"category {c.value}")
            cumulative = sum(ref["single"][x] for x in _CUMULATIVE[c])
            if not np.array_equal(r.cumulative_minor[c], cumulative):
                problems.append(f"cumulative {c.value}")
        # every deal's row: the engine's row key must be the reference's
        keep = ref["keep"]
        if not np.array_equal(r.row_of_deal >= 0, keep):
            problems.append("row_of_deal: which deals are kept")
        else:
            row_keys = np.unique(ref["row_key"][keep])  # sorted: the reference's row order
            if not np.array_equal(row_keys[r.row_of_deal[keep]], ref["row_key"][keep]):
                problems.append("row_of_deal: rows")
    py = ref["python_totals"]
    got = {
        "deals": int(r.deal_count.sum()),
        "pipeline": sum(int(x) for x in r.pipeline_minor.tolist()),
        "amount": sum(int(x) for x in r.cumulative_minor[Category.PIPELINE].tolist()),
    }
    if got != py:
        problems.append(f"grand totals {got} != Python ints {py}")
    if problems:
        raise SystemExit(f"roll-up {label} disagrees with the reference: {', '.join(problems)}")


_CUMULATIVE = {
    Category.PIPELINE: (Category.PIPELINE, Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.BEST_CASE: (Category.BEST_CASE, Category.COMMIT, Category.CLOSED),
    Category.COMMIT: (Category.COMMIT, Category.CLOSED),
    Category.CLOSED: (Category.CLOSED,),
}


def bench_rollup(args: argparse.Namespace, rules: CompiledRuleSet) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    build_s, (batch, scores) = timed(lambda: build_book(args.deals, args.template, rng, rules))
    quarters = calendar_periods(PeriodKind.QUARTER, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    months = calendar_periods(PeriodKind.MONTH, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    print(f"\nRoll-up book: {args.deals:,} deals resampled from {args.template:,} generated "
          f"({CURRENCY}), built and scored in {build_s:.1f}s", flush=True)  # fmt: skip
    shapes = [("region x quarter", ["region"], quarters), ("owner x month", ["owner"], months)]
    out: dict[str, Any] = {"deals": args.deals, "template": args.template, "shapes": {}}
    for name, group_by, periods in shapes:
        cols = rollup_columns(batch, scores, group_by)
        # correctness first
        result = rollup(batch, scores, group_by, periods)
        check_rollup(result, reference_rollup(batch, scores, group_by, periods), name)
        del result
        gc.collect()
        times: dict[str, list[float]] = {"rollup": [], "plain": [], "words": []}
        for _ in range(args.repeats):  # interleaved, so noise moves all three alike
            times["rollup"].append(timed(partial(rollup, batch, scores, group_by, periods))[0])
            times["plain"].append(timed(partial(plain_sums, cols))[0])
            times["words"].append(timed(partial(word_sums, cols))[0])
        nbytes = sum(c.nbytes for _, c in cols)
        rows = len(rollup(batch, scores, group_by, periods).keys)
        out["shapes"][name] = {
            "group_by": group_by,
            "periods": len(periods),
            "rows": rows,
            "columns": {k: int(c.nbytes) for k, c in cols},
            "bytes_read": nbytes,
            "seconds": times,
            "median_s": {k: median(v) for k, v in times.items()},
        }
    return out


def report_rollup(fig: dict[str, Any]) -> dict[str, Any]:
    n = fig["deals"]
    table = []
    for name, s in fig["shapes"].items():
        m = s["median_s"]
        for label, key in (("rollup", "rollup"), ("baseline: numpy sum per column", "plain"),
                           ("baseline: the bytes as 64-bit words", "words")):  # fmt: skip
            table.append([
                f"{name}: {label}" if key == "rollup" else f"  {label}",
                f"{m[key] * 1e3:.1f}",
                f"{min(s['seconds'][key]) * 1e3:.1f}-{max(s['seconds'][key]) * 1e3:.1f}",
                fmt_rate(n / m[key]),
                f"{s['bytes_read'] / m[key] / 1e9:.1f}",
                "" if key == "rollup" else fmt_ratio(m["rollup"] / m[key]),
            ])  # fmt: skip
    print_table(
        f"Roll-up of {n:,} deals (median of repeats; all figures checked equal to the reference)",
        ["what", "median ms", "min-max ms", "deals/s", "GB/s of columns", "rollup / this"],
        table,
    )
    main = fig["shapes"]["region x quarter"]
    cols = ", ".join(f"{k} ({v // n} B)" for k, v in main["columns"].items())
    print(f"columns read ({main['bytes_read'] / 1e6:,.0f} MB): {cols}")
    print(f"rows: region x quarter {main['rows']}, owner x month "
          f"{fig['shapes']['owner x month']['rows']}")  # fmt: skip
    ratio = main["median_s"]["rollup"] / main["median_s"]["plain"]
    met = ratio <= TARGET_ROLLUP_X_BANDWIDTH
    print(f"\nTarget (issue): region x quarter roll-up <= {TARGET_ROLLUP_X_BANDWIDTH:g}x the "
          f"bandwidth bound (numpy sum over its columns): {'MET' if met else 'NOT MET'} "
          f"({ratio:.2f}x; {main['median_s']['rollup'] / main['median_s']['words']:.2f}x the "
          f"64-bit word read)")  # fmt: skip
    return {"ratio_to_plain_sum": ratio, "met": met}


# --------------------------------------------------------------------------------------------
# Outcome distribution


def distribution_books(
    n: int, rng: np.random.Generator, rules: CompiledRuleSet
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Open deals (0 < p < 1) of the generated mix, scored; and the same with a dominant deal."""
    deals = generate_deals(int(n * 1.6) + 100, rng, rules.stage_ids)
    deals.currency = [CURRENCY] * len(deals)
    batch = build_deal_batch(deals, rules)
    scores = score_deals(rules, batch)
    amount = batch.frame["amount_minor"].values
    ppm = scores.win_prob_ppm
    open_ = scores.valid & (ppm > 0) & (ppm < 1_000_000) & (amount > 0)
    idx = np.flatnonzero(open_)[:n]
    if idx.shape[0] < n:
        raise SystemExit("not enough open deals generated")
    a, p = amount[idx].astype(np.int64), ppm[idx].astype(np.int64)
    big = int(a.sum() * DOMINANT_SHARE / (1 - DOMINANT_SHARE))
    return {
        "realistic": (a, p),
        "dominant": (np.append(a[:-1], big), np.append(p[:-1], DOMINANT_PROB)),
    }


def _has_method() -> bool:
    return "method" in inspect.signature(outcome_distribution).parameters


def bench_distribution(args: argparse.Namespace, rules: CompiledRuleSet) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed + 1)
    books = distribution_books(args.dist_deals, rng, rules)
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("realistic, method chosen by the engine", "realistic", {}),
        ("realistic, exact method forced", "realistic", {"method": "exact"}),
        (f"one deal {DOMINANT_SHARE:.0%} of the value (p {DOMINANT_PROB / 1e6:g})", "dominant", {}),
    ]
    if not _has_method():
        cases = [c for c in cases if not c[2]]
    a0, p0 = books["realistic"]
    print(f"\nDistribution books: {args.dist_deals:,} open deals of the generated mix (amounts "
          f"{a0.min():,}..{a0.max():,} minor units, {len(np.unique(p0))} distinct win "
          f"probabilities), and the same with one deal set to {DOMINANT_SHARE:.0%} of the value; "
          f"Monte Carlo {args.trials:,} trials each", flush=True)  # fmt: skip
    mc: dict[str, tuple[float, Outcome]] = {}
    for book, (a, p) in books.items():
        seed = args.seed + 2
        run = partial(monte_carlo, a, p, QUANTILES, seed=seed, trials=args.trials)
        mc[book] = timed(run)
        print(f"  Monte Carlo on the {book} book: {mc[book][0]:.1f}s", flush=True)
    out: dict[str, Any] = {"deals": args.dist_deals, "trials": args.trials, "cases": []}
    for label, book, kw in cases:
        a, p = books[book]
        engine = outcome_distribution(a, p, QUANTILES, **kw)
        compute = partial(outcome_distribution, a, p, QUANTILES, **kw)
        times = [timed(compute)[0] for _ in range(args.dist_repeats)]
        mc_s, sampled = mc[book]
        bands = getattr(sampled, "confidence_minor", ())
        rows: list[dict[str, Any]] = []
        for i, q in enumerate(QUANTILES):
            e, m = engine.quantiles_minor[i], sampled.quantiles_minor[i]
            se = (bands[i][1] - bands[i][0]) / (2 * Z99) if bands else math.nan
            rows.append({"q": q, "engine": e, "mc": m, "mc_se": se,
                         "mc_interval": list(bands[i]) if bands else None,
                         "relative": (e - m) / m if m else math.nan})  # fmt: skip
        # correctness before ratios: the engine within its bound plus AGREE_SE sampling errors
        for r in rows:
            # an engine whose Monte Carlo gives no intervals (before they existed): 1 % instead
            noise = AGREE_SE * r["mc_se"] if bands else 0.01 * r["mc"]
            allowed = engine.error_bound_minor + noise
            if not abs(r["engine"] - r["mc"]) <= allowed:
                raise SystemExit(
                    f"{label}: P{r['q'] * 100:.0f} engine {r['engine']:,} vs Monte Carlo "
                    f"{r['mc']:,}: further apart than the bound {engine.error_bound_minor:,.0f} "
                    f"+ {noise:,.0f} of sampling noise"
                )
        mean_se = math.sqrt(float((a.astype(float) ** 2 * p / 1e6 * (1 - p / 1e6)).sum())
                            / args.trials)  # fmt: skip
        if abs(sampled.mean_minor - engine.mean_minor) > AGREE_SE * mean_se:
            raise SystemExit(f"{label}: the Monte Carlo mean is off the weighted amount")
        out["cases"].append({
            "case": label,
            "book": book,
            "method": engine.method,
            "bucket_minor": engine.bucket_minor,
            "error_bound_minor": engine.error_bound_minor,
            "total_minor": int(a.sum()),
            "seconds": times,
            "median_s": median(times),
            "mc_s": mc_s,
            "quantiles": rows,
        })  # fmt: skip
    return out


def report_distribution(fig: dict[str, Any]) -> dict[str, Any]:
    rows, quant, verdicts = [], [], []
    for c in fig["cases"]:
        share = c["median_s"] / c["mc_s"]
        worst = max(abs(r["relative"]) for r in c["quantiles"])
        fast, close = share <= TARGET_SHARE_OF_MC, worst <= TARGET_QUANTILE_RELATIVE
        verdicts.append({"case": c["case"], "share_of_mc": share, "worst_relative": worst,
                         "time_met": fast, "accuracy_met": close})  # fmt: skip
        rows.append([
            c["case"], c["method"], f"{c['median_s'] * 1e3:,.1f}", f"{c['mc_s']:,.1f}",
            fmt_ratio(c["mc_s"] / c["median_s"]),
            f"{c['error_bound_minor'] / c['total_minor']:.2e}",
            f"{c['bucket_minor']:,}" if c["bucket_minor"] else "-",
        ])  # fmt: skip
        for r in c["quantiles"]:
            quant.append([
                f"{c['case'][:24]} P{r['q'] * 100:.0f}", f"{r['engine']:,}", f"{r['mc']:,}",
                f"{r['relative']:+.5%}",
                f"{r['mc_se'] / r['mc']:.4%}" if r["mc"] and r["mc_se"] > 0 else "n/a",
                f"{(r['engine'] - r['mc']) / r['mc_se']:+.2f}" if r["mc_se"] > 0 else "n/a",
            ])  # fmt: skip
    print_table(
        f"Outcome distribution of {fig['deals']:,} open deals vs a {fig['trials']:,}-trial Monte "
        "Carlo (engine: median of repeats; Monte Carlo: one run)",
        ["case", "method", "engine ms", "MC s", "MC / engine", "bound / total", "bucket"],
        rows,
    )
    print_table(
        "Quantiles (checked: engine within its bound + 4.5 MC standard errors)",
        ["case and quantile", "engine", "Monte Carlo", "engine - MC", "MC SE", "in SEs"],
        quant,
    )
    print("\nTargets (issue): P10/P50/P90 within 0.1 % of the Monte Carlo, in <= 1/20 of its time")
    for v in verdicts:
        print(f"  {v['case']}: accuracy {'MET' if v['accuracy_met'] else 'NOT MET'} (worst "
              f"{v['worst_relative']:.4%}); time {'MET' if v['time_met'] else 'NOT MET'} "
              f"({v['share_of_mc']:.2e} of the Monte Carlo's)")  # fmt: skip
    return {"verdicts": verdicts}


# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.forecast",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--deals", type=int, default=10_000_000, help="roll-up deals (10,000,000)")
    p.add_argument("--template", type=int, default=500_000,
                   help="generated deals the roll-up book is resampled from (500,000)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=7, help="timed roll-ups per shape (7)")
    p.add_argument("--dist-deals", type=int, default=100_000, help="distribution deals (100,000)")
    p.add_argument("--trials", type=int, default=200_000, help="Monte Carlo trials (200,000)")
    p.add_argument("--dist-repeats", type=int, default=5, help="timed distributions per case (5)")
    p.add_argument("--part", choices=("all", "rollup", "distribution"), default="all")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed ({DEFAULT_SEED})")
    p.add_argument("--quick", action="store_true",
                   help="smoke run of a few seconds: 500k roll-up deals, 10k distribution deals, "
                        "20k trials")  # fmt: skip
    p.add_argument("--json", type=str, metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.deals, args.template, args.repeats = 500_000, 50_000, 3
        args.dist_deals, args.trials, args.dist_repeats = 10_000, 20_000, 3
    for name in ("deals", "template", "repeats", "dist_deals", "trials", "dist_repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rules = compile_rule_set(RULE_SET.read_text(encoding="utf-8"))
    machine = machine_summary()
    print(f"bench.forecast on {machine['platform']}, {machine['cpus']} CPUs, numpy "
          f"{machine['numpy']}, {machine['date']}; seed {args.seed}")  # fmt: skip
    payload: dict[str, Any] = {"machine": machine, "args": vars(args)}
    if args.part in ("all", "rollup"):
        fig = bench_rollup(args, rules)
        payload["rollup"] = {**fig, "target": report_rollup(fig)}
        gc.collect()
    if args.part in ("all", "distribution"):
        fig = bench_distribution(args, rules)
        payload["distribution"] = {**fig, "target": report_distribution(fig)}
    if args.json:
        write_json(Path(args.json), payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
