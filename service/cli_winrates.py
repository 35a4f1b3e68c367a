"""``quotient import ibm-win-loss`` and ``quotient evaluate``: the public win/loss data as deals, and
a reproducible evaluation of the win-probability model against its baselines on it. Through a
server: ``quotient train`` (a deals CSV or Arrow file streamed in chunks, or the store's history),
``quotient model-report`` and ``quotient stage-rates``.

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from service.channel import default_server, open_channel


def cmd_import(args: argparse.Namespace) -> int:
    from service.ibm_win_loss import deal_rows, read_ibm_win_loss

    data = read_ibm_win_loss(Path(args.data))
    rows = deal_rows(data)
    if args.out and args.out.endswith((".arrow", ".feather")):
        import pyarrow as pa
        from pyarrow import feather

        feather.write_feather(pa.Table.from_pylist(rows), args.out)
        print(f"{len(rows)} deals ({int(data.won.sum())} won) written to {args.out}",
              file=sys.stderr)  # fmt: skip
        return 0
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


#: Deals per message when a CSV is streamed to TrainWinRateModel.
CHUNK = 5_000


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _report(report: Any) -> None:
    def fmt(m: Any) -> str:
        auc = f"{m.roc_auc:.4f}" if m.HasField("roc_auc") else "-"
        return f"{auc}\t{m.brier:.4f}\t{m.log_loss:.4f}"

    print(f"rule set {report.rule_set} model version {report.version}, trained "
          f"{report.trained_at.ToJsonString()} on {report.train_deals} deals "
          f"(held out {report.test_deals}), seed {report.seed}, data {report.data_sha256[:12]}")  # fmt: skip
    print("features: " + ", ".join(f.name for f in report.features))
    print("method\troc_auc\tbrier\tlog_loss")
    print(f"model\t{fmt(report.model)}")
    for b in report.baselines:
        print(f"{b.name}\t{fmt(b.metrics)}")
    print("reliability: bin, deals, mean predicted, observed")
    for b in report.reliability:
        if b.deals:
            print(
                f"  [{b.low:.1f}, {b.high:.1f})\t{b.deals}\t{b.mean_predicted:.3f}\t{b.observed:.3f}"
            )
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)


def cmd_train(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import types_pb2, winrates_pb2, winrates_pb2_grpc
    from service.cli import _csv_records, deal_message

    kinds = {"categorical": winrates_pb2.FEATURE_KIND_CATEGORICAL,
             "numeric": winrates_pb2.FEATURE_KIND_NUMERIC}  # fmt: skip
    features = []
    for text in args.feature or []:
        name, _, kind = text.partition(":")
        if kind not in kinds:
            raise SystemExit(f"quotient train: --feature {text!r}: expected NAME:categorical or "
                             "NAME:numeric")  # fmt: skip
        features.append(winrates_pb2.ModelFeature(name=name, kind=kinds[kind]))
    settings = winrates_pb2.TrainWinRateModelRequest(
        rule_set=args.rule_set, features=features, seed=args.seed, test_size=args.test_size,
        from_store=args.csv is None and args.arrow is None,
    )  # fmt: skip

    def records() -> Iterator[tuple[str, dict[str, Any]]]:
        """(where, record) of every deal in the upload, read lazily."""
        if args.arrow:
            import pyarrow as pa

            with pa.memory_map(args.arrow) as source:
                reader = pa.ipc.open_file(source)
                row = 0
                for b in range(reader.num_record_batches):
                    for rec in reader.get_batch(b).to_pylist():
                        row += 1
                        yield f"{args.arrow}: row {row}", {k: v for k, v in rec.items()
                                                           if v is not None}  # fmt: skip
            return
        with open(args.csv, encoding="utf-8", newline="") as handle:
            for n, rec in enumerate(_csv_records(csv.DictReader(handle)), 2):
                yield (
                    f"{args.csv}:{n}",
                    {
                        k: (v if k in ("id", "stage", "currency") else _number_or_text(v))
                        for k, v in rec.items()
                    },
                )

    def requests() -> Iterator[Any]:
        if args.csv is None and args.arrow is None:
            yield settings
            return
        first = True
        chunk: list[Any] = []
        for where, rec in records():
            try:
                chunk.append(deal_message(rec, types_pb2))
            except (ValueError, TypeError) as exc:
                raise SystemExit(f"{where}: {exc}") from None
            if len(chunk) == CHUNK:
                message = winrates_pb2.TrainWinRateModelRequest(deals=chunk)
                if first:
                    message.MergeFrom(settings)
                    first = False
                yield message
                chunk = []
        message = winrates_pb2.TrainWinRateModelRequest(deals=chunk)
        if first:
            message.MergeFrom(settings)
        yield message

    with open_channel(args.server) as channel:
        try:
            response = winrates_pb2_grpc.WinRateServiceStub(channel).TrainWinRateModel(requests())
        except grpc.RpcError as exc:
            return report(exc)
    _report(response.report)
    return 0


def cmd_model_report(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import winrates_pb2, winrates_pb2_grpc

    with open_channel(args.server) as channel:
        try:
            response = winrates_pb2_grpc.WinRateServiceStub(channel).GetModelReport(
                winrates_pb2.GetModelReportRequest(rule_set=args.rule_set, version=args.version)
            )
        except grpc.RpcError as exc:
            return report(exc)
    _report(response)
    return 0


def cmd_stage_rates(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import winrates_pb2, winrates_pb2_grpc
    from service.cli_forecast import read_history

    request = winrates_pb2.GetStageWinRatesRequest(
        rule_set=args.rule_set, segment_by=args.segment_by or [],
        prior_strength=args.prior_strength, min_deals=args.min_deals,
    )  # fmt: skip
    if args.history:
        request.history.changes.extend(read_history(args.history))
    with open_channel(args.server) as channel:
        try:
            response = winrates_pb2_grpc.WinRateServiceStub(channel).GetStageWinRates(request)
        except grpc.RpcError as exc:
            return report(exc)
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["segment", "stage", "deals", "won", "win_rate", "low_90", "high_90", "source"])
    for r in response.rates:
        writer.writerow(["/".join(r.segment) or "(all)", r.stage, r.deals, r.won, r.win_rate,
                         r.low, r.high, r.source])  # fmt: skip
    print()
    writer.writerow(["stage", "completed_stays", "dwell_median_days", "dwell_p90_days", "entered",
                     "advanced", "conversion"])  # fmt: skip
    for f in response.flow:
        writer.writerow([f.stage, f.completed_stays,
                         f"{f.dwell_median_days:g}" if f.HasField("dwell_median_days") else "",
                         f"{f.dwell_p90_days:g}" if f.HasField("dwell_p90_days") else "",
                         f.entered, f.advanced,
                         f"{f.conversion:.3f}" if f.HasField("conversion") else ""])  # fmt: skip
    print(f"{response.closed_deals} closed deals", file=sys.stderr)
    return 0


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``import``, ``evaluate``, ``train``, ``model-report`` and ``stage-rates``."""
    p = sub.add_parser("import", help="turn a public data set into deals (a CSV of deals)")
    p.add_argument("dataset", choices=["ibm-win-loss"])
    p.add_argument("--data", required=True, help="the data set's file")
    p.add_argument(
        "--out", help="deals to write: CSV, or Arrow with .arrow/.feather (default: stdout, CSV)"
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("evaluate", help="evaluate the win-probability model on the IBM data")
    p.add_argument("--data", required=True, help="ibm_sales_win_loss.csv")
    p.add_argument("--split", choices=["stratified"], default="stratified")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train the rule set's win-probability model (server)")
    upload = p.add_mutually_exclusive_group()
    upload.add_argument(
        "--csv", help="closed deals (stage won or lost); default: the store's history"
    )
    upload.add_argument("--arrow", help="the same as an Arrow IPC (Feather) file")
    p.add_argument("--feature", action="append", help="NAME:categorical or NAME:numeric")
    p.add_argument("--rule-set", default="default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-size", type=float, default=0.0, help="held-out share (0: 0.2)")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_train(a, report))

    p = sub.add_parser("model-report", help="a stored model's card (server)")
    p.add_argument("--rule-set", default="default")
    p.add_argument("--version", type=int, default=0, help="0: the latest")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_model_report(a, report))

    p = sub.add_parser("stage-rates", help="stage win rates, dwell and conversion (server)")
    p.add_argument("--history", help="a history CSV (default: the store's)")
    p.add_argument("--segment-by", action="append", help="a text field (repeatable)")
    p.add_argument("--prior-strength", type=float, default=0.0, help="0: 20 deals")
    p.add_argument("--min-deals", type=int, default=0, help="0: 30")
    p.add_argument("--rule-set", default="default")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_stage_rates(a, report))


__all__ = ["add_commands"]
