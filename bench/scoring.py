"""In-process deal scoring: the columnar engine against a hand-written loop and zen-engine.

Why this exists: scoring is what every CRM call and every bulk forecast pays for, and the engine's
design bet is that a rule set compiled to column operations scores a million deals in a handful of
numpy passes. This benchmark measures that bet on the sample rule set
(``examples/rulesets/default.yaml``) with a deterministic, realistic deal mix, and puts it beside
two baselines measured in the same run:

1. the per-deal Python loop a developer would write by hand (stage rate, first override row that
   matches, categories table on the win probability, ``Decimal`` product rounded half-even);
2. zen-engine (GoRules' Rust rules engine, the ``zen`` package of the ``bench`` extra) evaluating
   the same logic as a JDM decision graph through its batch API.

Both baselines are checked to give identical win probabilities, weighted amounts and categories as
the engine on a subsample before any ratio is printed (a mismatch stops the run). The phases are
timed separately: (a) ``build_deal_batch`` (Python lists -> typed columns), (a') the same deals
read from an Arrow IPC stream (what a bulk caller sends), (b) ``score_deals`` on a prebuilt batch
(the hot path), and both together; then single-deal latency (build + score with
n = 1), the engine's share of one CRM call.

Targets from the issue, reported (never asserted): hot path >= 20M deals/s; single-deal p99 <=
100 us. Run ``.venv/bin/python -m bench.scoring --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np

from bench import (
    ROOT,
    fmt_rate,
    fmt_ratio,
    machine_summary,
    median,
    percentile,
    print_table,
    time_repeats,
    write_json,
)
from engine.forecast.deals import DealBatch, DealInput, build_deal_batch, build_deal_batch_columns
from engine.forecast.scoring import ProbSource, ScoreResult, score_deals
from engine.money import CURRENCY_EXPONENTS
from engine.rules.compiler import CompiledRuleSet, compile_rule_set
from engine.rules.schema import CATEGORY_ORDER
from service.convert_arrow import deal_columns_from_arrow, deals_to_arrow, read_table, table_bytes

RULE_SET = ROOT / "examples" / "rulesets" / "default.yaml"
DEFAULT_SEED = 20261122

#: Issue targets (printed as met / not met, never asserted).
TARGET_HOT_PATH_DEALS_PER_S = 20e6
TARGET_SINGLE_P99_US = 100.0

# The deal mix. Shares are of all deals; None means the attribute is not given.
STAGE_MIX: dict[str, float] = {
    "initial_contact": 0.26,
    "needs_confirmed": 0.20,
    "quote": 0.20,
    "contract_drafted": 0.12,
    "won": 0.12,
    "lost": 0.10,
}
CURRENCY_MIX: tuple[tuple[str, float], ...] = (
    ("USD", 0.40),
    ("CNY", 0.25),
    ("EUR", 0.18),
    ("GBP", 0.12),
    ("JPY", 0.05),
)
REGION_MIX: tuple[tuple[str | None, float], ...] = (
    ("North", 0.20),
    ("South", 0.18),
    ("East", 0.25),
    ("West", 0.20),
    ("Central", 0.12),
    (None, 0.05),
)
INDUSTRY_MIX: tuple[tuple[str | None, float], ...] = (
    ("software", 0.30),
    ("manufacturing", 0.20),
    ("retail", 0.15),
    ("finance", 0.15),
    ("energy", 0.10),
    (None, 0.10),
)
#: Share of deals with no discount_pct; the others are uniform in 0.00..45.00 (a third above 30).
DISCOUNT_NULL_SHARE = 0.40
#: Share of deals whose amount sits exactly on, or one minor unit under, a rule threshold.
BOUNDARY_SHARE = 0.02
BOUNDARY_MAJOR = (100_000, 5_000_000)


def _pick(
    rng: np.random.Generator, mix: Sequence[tuple[Any, float]], n: int
) -> tuple[np.ndarray, list[Any]]:
    """Draw ``n`` values from ``mix``; return the indices and the values as a Python list."""
    values = np.empty(len(mix), dtype=object)
    values[:] = [v for v, _ in mix]
    p = np.array([w for _, w in mix], dtype=np.float64)
    idx = rng.choice(len(mix), size=n, p=p / p.sum())
    return idx, values[idx].tolist()


def generate_deals(n: int, rng: np.random.Generator, stage_ids: Sequence[str]) -> DealInput:
    """Return ``n`` deals as :class:`DealInput` columns, drawn from ``rng`` only.

    Amounts are log-uniform from 10 to 10^9 major units in five currencies (JPY has no minor
    unit), with a few exactly on the rule thresholds; every stage, region and discount level of
    the sample rule set occurs, and some deals have no region, owner, close date or discount.
    """
    if set(stage_ids) != set(STAGE_MIX):
        raise ValueError(f"the deal mix expects stages {sorted(STAGE_MIX)}, got {stage_ids}")
    _, stage = _pick(rng, list(STAGE_MIX.items()), n)
    cur_idx, currency = _pick(rng, CURRENCY_MIX, n)
    exps = np.array([CURRENCY_EXPONENTS[c] for c, _ in CURRENCY_MIX], dtype=np.int64)[cur_idx]
    scale = 10**exps
    major = 10 ** rng.uniform(1.0, 9.0, n)
    amount = np.floor(major * scale).astype(np.int64)
    edge = rng.random(n) < BOUNDARY_SHARE
    edge_major = np.array(BOUNDARY_MAJOR, dtype=np.int64)[rng.integers(0, len(BOUNDARY_MAJOR), n)]
    edge_amount = edge_major * scale - rng.integers(0, 2, n)  # on the threshold or one unit under
    amount = np.where(edge, edge_amount, amount)
    _, region = _pick(rng, REGION_MIX, n)
    _, industry = _pick(rng, INDUSTRY_MIX, n)

    cents_text = np.empty(4501 + 1, dtype=object)
    cents_text[:-1] = [f"{c // 100}.{c % 100:02d}" for c in range(4501)]
    cents_text[-1] = None
    cents = rng.integers(0, 4501, n)
    cents = np.where(rng.random(n) < 0.01, 3000, cents)  # exactly 30.00: not above 30
    cents = np.where(rng.random(n) < DISCOUNT_NULL_SHARE, 4501, cents)
    discount = cents_text[cents].tolist()

    owners = np.empty(301, dtype=object)
    owners[:-1] = [f"rep-{i:03d}" for i in range(300)]
    owners[-1] = None
    owner_idx = np.where(rng.random(n) < 0.02, 300, rng.integers(0, 300, n))
    dates = np.empty(731, dtype=object)
    start = dt.date(2026, 1, 1)
    dates[:-1] = [(start + dt.timedelta(days=d)).isoformat() for d in range(730)]
    dates[-1] = None
    date_idx = np.where(rng.random(n) < 0.05, 730, rng.integers(0, 730, n))
    return DealInput(
        id=[f"D{i:08d}" for i in range(n)],
        amount_minor=amount.tolist(),
        currency=currency,
        stage=stage,
        region=region,
        owner=owners[owner_idx].tolist(),
        close_date=dates[date_idx].tolist(),
        attributes={"discount_pct": discount, "industry": industry},
    )


def slice_deals(deals: DealInput, start: int, stop: int) -> DealInput:
    """Return deals ``start:stop`` as a new :class:`DealInput` (lists copied)."""

    def cut(values: list[Any]) -> list[Any]:
        return values[start:stop] if values else []

    return DealInput(
        id=cut(deals.id),
        amount_minor=cut(deals.amount_minor),
        currency=cut(deals.currency),
        stage=cut(deals.stage),
        win_prob=cut(deals.win_prob),
        category=cut(deals.category),
        close_date=cut(deals.close_date),
        owner=cut(deals.owner),
        region=cut(deals.region),
        product_line=cut(deals.product_line),
        customer_tier=cut(deals.customer_tier),
        source=cut(deals.source),
        attributes={k: cut(v) for k, v in deals.attributes.items()},
    )


# --------------------------------------------------------------------------------------------
# Baseline 1: the per-deal loop a developer would write for the sample rule set.

Scored = tuple[int, int, str]  # (win_prob_ppm, weighted_amount_minor, category)


def loop_score(deals: DealInput, rules: CompiledRuleSet) -> list[Scored]:
    """Score deals one at a time with ``Decimal``, hand-coding default.yaml's tables.

    Stage rates and default categories come from the rule set; the override rows and the
    category table are written out as Python conditions, first match wins, as a developer would.
    No manual win_prob or category override (the generated deals have none).
    """
    stages = rules.document.stages
    stage_rate = {s.id: s.win_rate for s in stages}
    stage_category = {s.id: s.default_category.value for s in stages}
    closed = {s.id for s in stages if s.is_won or s.is_lost}
    large, small, zero, thirty = Decimal(5_000_000), Decimal(100_000), Decimal(0), Decimal(30)
    large_quote, large_contract = Decimal("0.35"), Decimal("0.65")
    east_small_quote, deep_discount = Decimal("0.60"), Decimal("0.40")
    commit_at, best_case_at = Decimal("0.80"), Decimal("0.50")
    ppm = Decimal(1_000_000)
    n = len(deals)
    discount = deals.attributes.get("discount_pct") or [None] * n
    region = deals.region or [None] * n
    amounts = cast(list[int], deals.amount_minor)  # generated deals: always int
    out: list[Scored] = []
    append = out.append
    for stage, amount_minor, currency, reg, disc in zip(
        deals.stage, amounts, deals.currency, region, discount, strict=True
    ):
        rate = stage_rate[stage]
        category = stage_category[stage]
        if stage not in closed:
            amount = Decimal(amount_minor).scaleb(-CURRENCY_EXPONENTS[currency])
            if stage == "quote" and amount >= large:
                rate = large_quote
            elif stage == "contract_drafted" and amount >= large:
                rate = large_contract
            elif stage == "quote" and reg == "East" and zero <= amount < small:
                rate = east_small_quote
            elif (
                stage in ("quote", "contract_drafted")
                and disc is not None
                and Decimal(disc) > thirty
            ):
                rate = deep_discount
            if rate >= commit_at:
                category = "commit"
            elif best_case_at <= rate < commit_at:
                category = "best_case"
        weighted = int((amount_minor * rate).to_integral_value(rounding=ROUND_HALF_EVEN))
        append((int(rate * ppm), weighted, category))
    return out


# --------------------------------------------------------------------------------------------
# Baseline 2: zen-engine, the same logic as a JDM decision graph.


def _table(
    node_id: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    rules: Sequence[tuple[dict[str, str], dict[str, str]]],
) -> dict[str, Any]:
    """A JDM decision-table node (hit policy first, pass-through) from (cells, outputs) rows."""
    ins = [{"id": f"{node_id}.in.{f}", "name": f, "field": f} for f in inputs]
    outs = [{"id": f"{node_id}.out.{f}", "name": f, "field": f} for f in outputs]
    rows = []
    for k, (cells, then) in enumerate(rules):
        row = {"_id": f"{node_id}.row{k}"}
        row.update({f"{node_id}.in.{f}": cells.get(f, "") for f in inputs})
        row.update({f"{node_id}.out.{f}": then[f] for f in outputs})
        rows.append(row)
    return {
        "id": node_id,
        "type": "decisionTableNode",
        "name": node_id,
        "position": {"x": 0, "y": 0},
        "content": {
            "hitPolicy": "first",
            "inputs": ins,
            "outputs": outs,
            "rules": rows,
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
        },
    }


def _expressions(node_id: str, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A JDM expression node; later expressions read earlier ones as ``$.key``."""
    return {
        "id": node_id,
        "type": "expressionNode",
        "name": node_id,
        "position": {"x": 0, "y": 0},
        "content": {
            "expressions": [
                {"id": f"{node_id}.{i}", "key": k, "value": v} for i, (k, v) in enumerate(pairs)
            ],
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
        },
    }


def zen_graph(rules: CompiledRuleSet) -> dict[str, Any]:
    """Return default.yaml's scoring logic as a JDM graph for zen-engine.

    input -> currency (minor units per major unit) -> amount in major units -> stage rate ->
    win-rate overrides (first hit) -> win_prob -> categories (first hit) -> category and weighted
    amount rounded half-even -> output. Where zen differs from SQL semantics the graph says so
    explicitly: a comparison with null raises in zen, so the discount cell guards ``$ != null``;
    ``round`` rounds half away from zero, so half-even is spelled out with ``floor``; numbers come
    back to Python as floats, so exact outputs are returned as text.
    """

    def text(s: str) -> str:
        return json.dumps(s)

    currency = _table(
        "currency",
        ["currency"],
        ["minor_per_major"],
        [
            ({"currency": text(c)}, {"minor_per_major": str(10 ** CURRENCY_EXPONENTS[c])})
            for c, _ in CURRENCY_MIX
        ],
    )
    amount = _expressions("amount", [("amount", "amount_minor / minor_per_major")])
    stage = _table(
        "stage",
        ["stage"],
        ["stage_rate", "closed", "default_category"],
        [
            (
                {"stage": text(s.id)},
                {
                    "stage_rate": str(s.win_rate),
                    "closed": "true" if (s.is_won or s.is_lost) else "false",
                    "default_category": text(s.default_category.value),
                },
            )
            for s in rules.document.stages
        ],
    )
    # win_rates.overrides.by_region_and_size, row by row; `closed` keeps closed deals out, as
    # the engine only overrides open deals.
    overrides = _table(
        "overrides",
        ["closed", "stage", "region", "amount", "discount_pct"],
        ["override_rate"],
        [
            (
                {"closed": "false", "stage": text("quote"), "amount": ">= 5000000"},
                {"override_rate": "0.35"},
            ),
            (
                {"closed": "false", "stage": text("contract_drafted"), "amount": ">= 5000000"},
                {"override_rate": "0.65"},
            ),
            (
                {
                    "closed": "false",
                    "stage": text("quote"),
                    "region": text("East"),
                    "amount": "[0..100000)",
                },
                {"override_rate": "0.60"},
            ),
            (
                {
                    "closed": "false",
                    "stage": f"{text('quote')}, {text('contract_drafted')}",
                    "discount_pct": "$ != null and number($) > 30",
                },
                {"override_rate": "0.40"},
            ),
        ],
    )
    win_prob = _expressions("win_prob", [("win_prob", "override_rate ?? stage_rate")])
    categories = _table(
        "categories",
        ["closed", "win_prob"],
        ["table_category"],
        [
            ({"closed": "false", "win_prob": ">= 0.80"}, {"table_category": text("commit")}),
            (
                {"closed": "false", "win_prob": "[0.50..0.80)"},
                {"table_category": text("best_case")},
            ),
        ],
    )
    result = _expressions(
        "result",
        [
            ("category", "table_category ?? default_category"),
            ("win_prob_text", "string(win_prob)"),
            ("product", "amount_minor * win_prob"),
            ("floor", "floor($.product)"),
            ("frac", "$.product - $.floor"),
            (
                "weighted",
                "string($.frac > 0.5 or ($.frac == 0.5 and $.floor % 2 == 1)"
                " ? $.floor + 1 : $.floor)",
            ),
        ],
    )
    nodes = [
        {"id": "input", "type": "inputNode", "name": "input", "position": {"x": 0, "y": 0}},
        currency,
        amount,
        stage,
        overrides,
        win_prob,
        categories,
        result,
        {"id": "output", "type": "outputNode", "name": "output", "position": {"x": 0, "y": 0}},
    ]
    order = [node["id"] for node in nodes]
    edges = [
        {"id": f"edge{i}", "sourceId": a, "targetId": b, "type": "edge"}
        for i, (a, b) in enumerate(itertools.pairwise(order))
    ]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def zen_requests(deals: DealInput) -> list[dict[str, Any]]:
    """One ``evaluate_batch`` request per deal: the whole deal record as the context."""
    discount = deals.attributes.get("discount_pct") or [None] * len(deals)
    industry = deals.attributes.get("industry") or [None] * len(deals)
    return [
        {
            "key": "score",
            "context": {
                "id": i,
                "amount_minor": a,
                "currency": c,
                "stage": s,
                "region": r,
                "owner": o,
                "close_date": d,
                "industry": ind,
                "discount_pct": disc,
            },
        }
        for i, a, c, s, r, o, d, ind, disc in zip(
            deals.id,
            deals.amount_minor,
            deals.currency,
            deals.stage,
            deals.region,
            deals.owner,
            deals.close_date,
            industry,
            discount,
            strict=True,
        )
    ]


def zen_results(responses: list[dict[str, Any]]) -> list[Scored]:
    out: list[Scored] = []
    for r in responses:
        if not r.get("success"):
            raise RuntimeError(f"zen-engine evaluation failed: {r.get('error')}")
        res = r["data"]["result"]
        ppm = int(Decimal(res["win_prob_text"]).scaleb(6))
        out.append((ppm, int(res["weighted"]), res["category"]))
    return out


# --------------------------------------------------------------------------------------------
# Measurements.


def engine_scored(result: ScoreResult, stop: int) -> list[Scored]:
    """The engine's first ``stop`` scores in the baselines' form."""
    names = [c.value for c in CATEGORY_ORDER]
    return [
        (p, w, names[c])
        for p, w, c in zip(
            result.win_prob_ppm[:stop].tolist(),
            result.weighted_amount_minor[:stop].tolist(),
            result.category[:stop].tolist(),
            strict=True,
        )
    ]


def check_equal(name: str, expected: list[Scored], got: list[Scored], deals: DealInput) -> None:
    """Raise AssertionError naming the first few deals where ``got`` differs from the engine."""
    if len(expected) != len(got):
        raise AssertionError(f"{name}: {len(got)} results for {len(expected)} deals")
    bad = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    if bad:
        lines = [
            f"  deal {i} ({deals.stage[i]}, {deals.amount_minor[i]} {deals.currency[i]}, "
            f"region {deals.region[i]}, discount {deals.attributes['discount_pct'][i]}): "
            f"engine {expected[i]} vs {name} {got[i]}"
            for i in bad[:5]
        ]
        raise AssertionError(
            f"{name} differs from the engine on {len(bad)} of {len(got)} deals:\n"
            + "\n".join(lines)
        )


@dataclass
class Figures:
    """What one run measured; seconds are medians over the repeats."""

    config: dict[str, Any]
    build_s: list[float] = field(default_factory=list)
    columns_build_s: list[float] = field(default_factory=list)
    score_s: list[float] = field(default_factory=list)
    loop_s: list[float] = field(default_factory=list)
    zen_context_s: list[float] = field(default_factory=list)
    zen_eval_s: list[float] = field(default_factory=list)
    zen_skipped: str = ""
    latency_us: dict[str, dict[str, float]] = field(default_factory=dict)
    mix: dict[str, Any] = field(default_factory=dict)


def measure_latency(
    deals: DealInput, rules: CompiledRuleSet, iterations: int, warmup: int
) -> dict[str, dict[str, float]]:
    """Score one deal at a time (build_deal_batch + score_deals, n = 1); percentiles in us."""
    pool = [slice_deals(deals, i, i + 1) for i in range(min(len(deals), 2_000))]
    for i in range(warmup):
        score_deals(rules, build_deal_batch(pool[i % len(pool)], rules))
    total: list[int] = []
    build: list[int] = []
    score: list[int] = []
    clock = time.perf_counter_ns
    for i in range(iterations):
        one = pool[i % len(pool)]
        t0 = clock()
        batch = build_deal_batch(one, rules)
        t1 = clock()
        score_deals(rules, batch)
        t2 = clock()
        total.append(t2 - t0)
        build.append(t1 - t0)
        score.append(t2 - t1)
    out: dict[str, dict[str, float]] = {}
    for name, values in (("build+score", total), ("build", build), ("score", score)):
        v = sorted(x / 1e3 for x in values)
        out[name] = {
            "p50": percentile(v, 50),
            "p90": percentile(v, 90),
            "p99": percentile(v, 99),
            "max": v[-1],
            "mean": sum(v) / len(v),
        }
    return out


def describe_mix(deals: DealInput, result: ScoreResult) -> dict[str, Any]:
    n = len(deals)
    source = Counter(ProbSource(int(s)).name.lower() for s in result.prob_source.tolist())
    category = Counter(CATEGORY_ORDER[int(c)].value for c in result.category.tolist())
    overrides = Counter(
        r
        for rows in result.matched_rules_all()
        for r in rows
        if r.startswith("win_rates.overrides")
    )
    return {
        "deals": n,
        "stages": dict(Counter(deals.stage)),
        "prob_source_share": {k: v / n for k, v in source.items()},
        "category_share": {k: v / n for k, v in category.items()},
        "override_rows": {k.rsplit("/", 1)[1]: v for k, v in overrides.items()},
        "discount_given_share": sum(d is not None for d in deals.attributes["discount_pct"]) / n,
    }


def _import_zen() -> Any:
    """Return the ``zen`` module (zen-engine), or None when the bench extra is not installed."""
    try:
        import zen
    except ImportError:
        return None
    return zen


def run(args: argparse.Namespace) -> Figures:
    rules = compile_rule_set(RULE_SET.read_text(encoding="utf-8"))
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    deals = generate_deals(args.deals, rng, rules.stage_ids)
    gen_s = time.perf_counter() - t0
    sub = min(args.subsample, args.deals)
    config = {
        "deals": args.deals,
        "subsample": sub,
        "seed": args.seed,
        "repeats_build": args.repeats_build,
        "repeats_score": args.repeats_score,
        "repeats_baseline": args.repeats_baseline,
        "latency_iterations": args.latency_iterations,
        "rule_set": str(RULE_SET.relative_to(ROOT)),
        "rule_set_sha256": rules.content_hash,
        "machine": machine_summary(),
    }
    fig = Figures(config=config)
    print(
        f"Quotient in-process scoring: rule set {config['rule_set']} "
        f"({rules.content_hash[:12]}), seed {args.seed}\n"
        f"{args.deals:,} deals generated in {gen_s:.1f}s; baselines on the first {sub:,}; "
        f"median of repeats (build x{args.repeats_build}, score x{args.repeats_score}, "
        f"baselines x{args.repeats_baseline})",
        flush=True,
    )

    # (a) build_deal_batch and (b) score_deals, timed separately.
    warm = slice_deals(deals, 0, 1_000)
    score_deals(rules, build_deal_batch(warm, rules))
    holder: dict[str, DealBatch] = {}

    def build() -> None:
        holder["batch"] = build_deal_batch(deals, rules)

    fig.build_s = time_repeats(build, args.repeats_build)
    batch = holder["batch"]
    if batch.errors:
        raise AssertionError(f"generated deals have problems: {batch.errors[:3]}")
    result = score_deals(rules, batch)  # warm-up, and the result the baselines are checked on
    fig.score_s = time_repeats(lambda: score_deals(rules, batch), args.repeats_score)
    if not result.valid.all():
        raise AssertionError(f"engine refused generated deals: {result.errors[:3]}")
    fig.mix = describe_mix(deals, result)

    # (a') the same deals from an Arrow IPC stream (what a bulk caller sends as deal_columns).
    ipc = table_bytes(deals_to_arrow(deals))

    def build_from_columns(data: bytes = ipc) -> None:
        table = read_table(data)
        holder["columns"] = build_deal_batch_columns(deal_columns_from_arrow(table), rules)

    build_from_columns(table_bytes(deals_to_arrow(warm)))  # warm-up: the compiled text parsers

    fig.columns_build_s = time_repeats(build_from_columns, args.repeats_build)
    from_columns = score_deals(rules, holder.pop("columns"))
    if not (
        np.array_equal(from_columns.win_prob_ppm, result.win_prob_ppm)
        and np.array_equal(from_columns.weighted_amount_minor, result.weighted_amount_minor)
        and np.array_equal(from_columns.category, result.category)
    ):
        raise AssertionError("deals read from Arrow columns score differently from the lists")
    expected = engine_scored(result, sub)
    subset = slice_deals(deals, 0, sub)
    print(
        f"engine: build {median(fig.build_s):.3f}s (from Arrow columns "
        f"{median(fig.columns_build_s):.3f}s), score {median(fig.score_s):.4f}s",
        flush=True,
    )

    # Baseline 1: per-deal loop.
    got = loop_score(subset, rules)
    check_equal("loop", expected, got, subset)
    fig.loop_s = time_repeats(lambda: loop_score(subset, rules), args.repeats_baseline)
    print(f"loop: identical results on {sub:,} deals; {median(fig.loop_s):.3f}s", flush=True)

    # Baseline 2: zen-engine.
    zen = None if args.no_zen else _import_zen()
    if zen is None:
        fig.zen_skipped = (
            "--no-zen"
            if args.no_zen
            else "zen-engine is not installed (./dev bench installs the bench extra)"
        )
    else:
        engine = zen.ZenEngine(
            {"loader": {"type": "static", "content": {"score": zen_graph(rules)}}}
        )
        requests = zen_requests(subset)
        check_equal("zen-engine", expected, zen_results(engine.evaluate_batch(requests)), subset)
        fig.zen_context_s = time_repeats(lambda: zen_requests(subset), args.repeats_baseline)
        fig.zen_eval_s = time_repeats(
            lambda: engine.evaluate_batch(requests), args.repeats_baseline
        )
        print(
            f"zen-engine: identical results on {sub:,} deals; {median(fig.zen_eval_s):.3f}s",
            flush=True,
        )
    if fig.zen_skipped:
        print(f"zen-engine: skipped ({fig.zen_skipped})", flush=True)

    # Single-deal latency.
    gc.collect()
    fig.latency_us = measure_latency(deals, rules, args.latency_iterations, args.latency_warmup)
    return fig


def report(fig: Figures) -> dict[str, Any]:
    """Print the tables and return the figures as a JSON-ready dict."""
    n = fig.config["deals"]
    sub = fig.config["subsample"]
    build = median(fig.build_s)
    score = median(fig.score_s)
    loop = median(fig.loop_s) / sub  # seconds per deal
    rates: dict[str, float] = {
        "engine_build": n / build,
        "engine_build_columns": n / median(fig.columns_build_s),
        "engine_score": n / score,
        "engine_build_score": n / (build + score),
        "loop": 1 / loop,
    }
    zen_eval = zen_total = float("nan")
    if fig.zen_eval_s:
        zen_eval = median(fig.zen_eval_s) / sub
        zen_total = zen_eval + median(fig.zen_context_s) / sub
        rates["zen_evaluate_batch"] = 1 / zen_eval
        rates["zen_contexts_and_evaluate"] = 1 / zen_total

    def spread(values: list[float]) -> str:
        return f"{min(values):.4g}-{max(values):.4g}" if len(values) > 1 else "-"

    rows: list[list[object]] = [
        [
            "(a) engine build_deal_batch (lists -> columns)",
            f"{n:,}",
            f"{build:.4g}",
            spread(fig.build_s),
            fmt_rate(rates["engine_build"]),
            fmt_ratio(rates["engine_build"] * loop),
        ],
        [
            "(a') engine build from Arrow columns (IPC -> columns)",
            f"{n:,}",
            f"{median(fig.columns_build_s):.4g}",
            spread(fig.columns_build_s),
            fmt_rate(rates["engine_build_columns"]),
            fmt_ratio(rates["engine_build_columns"] * loop),
        ],
        [
            "(b) engine score_deals (hot path, prebuilt batch)",
            f"{n:,}",
            f"{score:.4g}",
            spread(fig.score_s),
            fmt_rate(rates["engine_score"]),
            fmt_ratio(rates["engine_score"] * loop),
        ],
        [
            "(a)+(b) engine from Python lists",
            f"{n:,}",
            f"{build + score:.4g}",
            "-",
            fmt_rate(rates["engine_build_score"]),
            fmt_ratio(rates["engine_build_score"] * loop),
        ],
        [
            "baseline 1: per-deal Python/Decimal loop",
            f"{sub:,}",
            f"{median(fig.loop_s):.4g}",
            spread(fig.loop_s),
            fmt_rate(rates["loop"]),
            "1.00x",
        ],
    ]
    if fig.zen_eval_s:
        rows += [
            [
                "baseline 2: zen-engine evaluate_batch",
                f"{sub:,}",
                f"{median(fig.zen_eval_s):.4g}",
                spread(fig.zen_eval_s),
                fmt_rate(rates["zen_evaluate_batch"]),
                fmt_ratio(rates["zen_evaluate_batch"] * loop),
            ],
            [
                "baseline 2: zen-engine contexts + evaluate_batch",
                f"{sub:,}",
                f"{median(fig.zen_eval_s) + median(fig.zen_context_s):.4g}",
                "-",
                fmt_rate(rates["zen_contexts_and_evaluate"]),
                fmt_ratio(rates["zen_contexts_and_evaluate"] * loop),
            ],
        ]
    print_table(
        "Throughput (median seconds over the repeats; baselines extrapolated per deal)",
        ["phase", "deals", "median s", "min-max s", "deals/s", "vs loop"],
        rows,
    )

    ratios: dict[str, float] = {
        "engine_score_vs_loop": rates["engine_score"] / rates["loop"],
        "engine_build_score_vs_loop": rates["engine_build_score"] / rates["loop"],
    }
    ratio_rows = [
        ["engine hot path / loop", fmt_ratio(ratios["engine_score_vs_loop"])],
        [
            "engine build+score / loop (both from Python lists)",
            fmt_ratio(ratios["engine_build_score_vs_loop"]),
        ],
    ]
    if fig.zen_eval_s:
        ratios["engine_score_vs_zen_evaluate"] = rates["engine_score"] * zen_eval
        ratios["engine_build_score_vs_zen_total"] = rates["engine_build_score"] * zen_total
        ratio_rows += [
            [
                "engine hot path / zen evaluate_batch",
                fmt_ratio(ratios["engine_score_vs_zen_evaluate"]),
            ],
            [
                "engine build+score / zen contexts+evaluate_batch",
                fmt_ratio(ratios["engine_build_score_vs_zen_total"]),
            ],
        ]
    else:
        ratio_rows.append(["zen-engine", f"skipped: {fig.zen_skipped}"])
    print_table("Ratios (same run, same deals)", ["comparison", "speed-up"], ratio_rows)

    lat = fig.latency_us
    print_table(
        f"Single-deal latency, us ({fig.config['latency_iterations']:,} calls, n = 1 each)",
        ["phase", "p50", "p90", "p99", "max", "mean"],
        [
            [name, *(f"{v[k]:.1f}" for k in ("p50", "p90", "p99", "max", "mean"))]
            for name, v in lat.items()
        ],
    )

    mix = fig.mix
    print("\nDeal mix (full run):")
    print("  prob source: " + _shares(mix["prob_source_share"]))
    print("  category:    " + _shares(mix["category_share"]))
    print(
        "  override rows matched: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(mix["override_rows"].items()))
    )
    print(f"  discount_pct given: {mix['discount_given_share']:.0%}")

    hot = rates["engine_score"]
    p99 = lat["build+score"]["p99"]
    hot_ok = hot >= TARGET_HOT_PATH_DEALS_PER_S
    lat_ok = p99 <= TARGET_SINGLE_P99_US
    print("\nTargets (issue):")
    print(
        f"  hot path >= {fmt_rate(TARGET_HOT_PATH_DEALS_PER_S)} deals/s: "
        f"{'MET' if hot_ok else 'NOT MET'} ({fmt_rate(hot)} deals/s, "
        f"{hot / TARGET_HOT_PATH_DEALS_PER_S:.0%} of target)"
    )
    print(
        f"  single deal p99 <= {TARGET_SINGLE_P99_US:.0f} us: "
        f"{'MET' if lat_ok else 'NOT MET'} (p99 {p99:.1f} us)"
    )
    return {
        "config": fig.config,
        "seconds": {
            "build": fig.build_s,
            "score": fig.score_s,
            "loop": fig.loop_s,
            "zen_contexts": fig.zen_context_s,
            "zen_evaluate": fig.zen_eval_s,
        },
        "deals_per_s": rates,
        "ratios": ratios,
        "latency_us": lat,
        "mix": mix,
        "zen_skipped": fig.zen_skipped,
        "targets": {
            "hot_path_deals_per_s": {"target": TARGET_HOT_PATH_DEALS_PER_S, "met": hot_ok},
            "single_deal_p99_us": {"target": TARGET_SINGLE_P99_US, "met": lat_ok},
        },
    }


def _shares(shares: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.scoring",
        description="In-process scoring of the sample rule set: build_deal_batch and score_deals "
        "against a per-deal Python loop and zen-engine (checked identical on a subsample), plus "
        "single-deal latency. Prints rates and same-run ratios.",
    )
    p.add_argument("--deals", type=int, default=1_000_000, help="deals to score (1,000,000)")
    p.add_argument(
        "--subsample", type=int, default=50_000, help="deals the baselines score (50,000)"
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"numpy Generator seed ({DEFAULT_SEED})"
    )
    p.add_argument("--repeats-build", type=int, default=3, help="build_deal_batch runs (3)")
    p.add_argument("--repeats-score", type=int, default=20, help="score_deals runs (20)")
    p.add_argument("--repeats-baseline", type=int, default=3, help="runs of each baseline (3)")
    p.add_argument(
        "--latency-iterations", type=int, default=20_000, help="single-deal calls timed (20,000)"
    )
    p.add_argument("--latency-warmup", type=int, default=500, help="untimed calls first (500)")
    p.add_argument("--no-zen", action="store_true", help="skip the zen-engine baseline")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run of a few seconds (50k deals, 5k subsample, 2k latency calls)",
    )
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.deals = min(args.deals, 50_000)
        args.subsample = min(args.subsample, 5_000)
        args.repeats_build, args.repeats_score, args.repeats_baseline = 1, 5, 1
        args.latency_iterations, args.latency_warmup = 2_000, 100
    for name in ("deals", "subsample", "repeats_build", "repeats_score", "repeats_baseline"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.latency_iterations < 1:
        p.error("--latency-iterations must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    payload = report(run(args))
    if args.json:
        write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
