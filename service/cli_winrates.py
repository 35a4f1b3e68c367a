"""``quotient import ibm-win-loss`` and ``quotient evaluate``: the public win/loss data as deals, and
a reproducible evaluation of the win-probability model against its baselines on it.

``evaluate`` trains the calibrated model on a stratified split (``--seed``) twice: on the columns
known before the outcome, then with the three suspect columns added, and prints ROC AUC, Brier
score and log loss on the held-out deals for the model, a logistic regression and the base rate,
with the reliability table of the model and any warnings. It runs in-process, no server needed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any


def cmd_import(args: argparse.Namespace) -> int:
    from service.ibm_win_loss import deal_rows, read_ibm_win_loss

    data = read_ibm_win_loss(Path(args.data))
    rows = deal_rows(data)
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    try:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(rows)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{len(rows)} deals ({int(data.won.sum())} won) from {data.rows_read} rows; "
          f"{data.duplicates_dropped} exact duplicate rows dropped", file=sys.stderr)  # fmt: skip
    return 0


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from engine.forecast.win_model import train_model
    from service.ibm_win_loss import HONEST_FEATURES, SUSPECT_FEATURES, read_ibm_win_loss

    data = read_ibm_win_loss(Path(args.data))
    print(f"{data.won.size} deals, {data.won.mean():.2%} won; stratified {1 - args.test_size:.0%} "
          f"/ {args.test_size:.0%} split, seed {args.seed}", file=sys.stderr)  # fmt: skip
    sets = [
        ("known before the outcome", HONEST_FEATURES),
        ("with the suspect columns", (*HONEST_FEATURES, *SUSPECT_FEATURES)),
    ]
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["features", "method", "roc_auc", "brier", "log_loss", "train_s"])
    cards: list[Any] = []
    for label, features in sets:
        t0 = time.perf_counter()
        model = train_model(data.columns, data.won, features, seed=args.seed,
                            now=dt.datetime.now(dt.UTC), test_size=args.test_size)  # fmt: skip
        seconds = time.perf_counter() - t0
        card = model.card
        cards.append((label, card))
        m = card.model
        writer.writerow([label, "calibrated gradient boosting", _fmt(m.roc_auc), _fmt(m.brier),
                         _fmt(m.log_loss), f"{seconds:.1f}"])  # fmt: skip
        for name, b in card.baselines.items():
            writer.writerow([label, name.replace("_", " "), _fmt(b.roc_auc), _fmt(b.brier),
                             _fmt(b.log_loss), ""])  # fmt: skip
    for label, card in cards:
        print(f"\nreliability ({label}): bin, deals, mean predicted, observed")
        for b in card.reliability:
            if b.deals:
                print(f"  [{b.low:.1f}, {b.high:.1f})\t{b.deals}\t{b.mean_predicted:.3f}\t"
                      f"{b.observed:.3f}")  # fmt: skip
        for w in card.warnings:
            print(f"warning ({label}): {w}", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    """Register ``import`` and ``evaluate`` on the main parser's subparsers."""
    p = sub.add_parser("import", help="turn a public data set into deals (a CSV of deals)")
    p.add_argument("dataset", choices=["ibm-win-loss"])
    p.add_argument("--data", required=True, help="the data set's file")
    p.add_argument("--out", help="deals CSV to write (default: standard output)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("evaluate", help="evaluate the win-probability model on the IBM data")
    p.add_argument("--data", required=True, help="ibm_sales_win_loss.csv")
    p.add_argument("--split", choices=["stratified"], default="stratified")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_evaluate)


__all__ = ["add_commands"]
