"""``quotient forecast`` and ``quotient backtest``.

``forecast`` rolls deals up by group and period through a server (ComputeForecast) and
print the table (with ``--levers``, also what fills each gap); ``--plot FILE.png`` draws the
outcome distribution against the target and the category waterfall; ``--period-aware`` adds
what each row should book in its period, learned from deal histories. ``backtest`` replays the
classic and the period-aware forecast at past cutoffs against what was won (BacktestForecast);
``--plot`` draws both against the actuals per period.

Deals come from a CSV file (columns as in the ``Deal`` message, as for ``quotient score``) or from
the server's store (``--stored``, with an optional ``--filter`` condition). Amounts, printed and
given (``--target``), are in major units of the forecast's currency, converted exactly by the
currency's exponent.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.money import CURRENCY_EXPONENTS
from service.channel import default_server, open_channel

#: Quantiles asked for when plotting: enough points to draw the distribution function.
PLOT_QUANTILES = tuple(round(i / 100, 2) for i in range(1, 100))
_METHODS = {"auto": 0, "monte-carlo": 1, "none": 2}
_KINDS = {"month": 1, "quarter": 2, "year": 3}


def parse_target(text: str, exponent: int) -> tuple[list[str], str, int]:
    """``GROUP[/GROUP...]@PERIOD=AMOUNT`` (major units) -> (group values, period, minor units);
    ``@2026-Q1=5`` is a total row's target."""
    try:
        head, amount = text.rsplit("=", 1)
        group, period = head.rsplit("@", 1)
        minor = Decimal(amount.replace(",", "")).scaleb(exponent)
        if minor != minor.to_integral_value():
            raise ValueError("more decimal places than the currency has")
        return ([g for g in group.split("/")] if group else []), period, int(minor)
    except (ValueError, ArithmeticError):
        raise SystemExit(
            f"quotient forecast: --target {text!r}: expected GROUP[/GROUP...]@PERIOD=AMOUNT, the "
            f"amount in major units with at most {exponent} decimal places"
        ) from None


def parse_custom(text: str) -> tuple[str, str, str]:
    """``LABEL:FIRST:LAST`` (dates inclusive) -> its parts."""
    parts = text.split(":")
    if len(parts) != 3:
        raise SystemExit(f"quotient forecast: --period-range {text!r}: expected LABEL:FIRST:LAST")
    return parts[0], parts[1], parts[2]


def major(amount_minor: int | float, currency: str) -> str:
    """An amount in major units with thousands separators, exactly (``1234567`` CNY -> 12,345.67)."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    value = Decimal(round(amount_minor)).scaleb(-exponent)
    return f"{value:,.{exponent}f}"


def build_request(args: argparse.Namespace) -> Any:
    from quotient.v1 import forecast_pb2

    request = forecast_pb2.ComputeForecastRequest(
        rule_set=args.rule_set,
        as_of_date=args.as_of or "",
        group_by=args.group_by or [],
        subtotals=args.subtotals,
        quantiles=sorted(set(args.quantiles) | (set(PLOT_QUANTILES) if args.plot else set())),
        method=_METHODS[args.method],
        trials=args.trials,
        seed=args.seed,
        solve_levers=args.levers,
        visit_to_deal=args.visit_to_deal or "",
        period_aware=args.period_aware,
        hierarchy=args.hierarchy,
    )
    if args.history:
        request.history.changes.extend(read_history(args.history))
    if args.period_range:
        for label, first, last in map(parse_custom, args.period_range):
            request.custom.periods.add(label=label, first_date=first, last_date=last)
    else:
        if not (args.first and args.last):
            raise SystemExit("quotient forecast: give --from and --to, or --period-range")
        request.calendar.CopyFrom(
            forecast_pb2.CalendarPeriods(
                kind=_KINDS[args.period], first_date=args.first, last_date=args.last
            )
        )
    currency = args.currency
    if args.stored:
        request.stored.filter = args.filter or ""
    elif args.csv:
        from engine.forecast.deals import deal_input_from_records
        from service.cli import _csv_records
        from service.convert_arrow import deals_to_arrow, table_bytes

        with open(args.csv, encoding="utf-8", newline="") as handle:
            records = list(_csv_records(csv.DictReader(handle)))
        # Sent as Arrow columns: a large file is a few buffers, not a message per deal.
        request.deal_columns = table_bytes(deals_to_arrow(deal_input_from_records(records)))
        currency = currency or (records[0].get("currency") if records else None)
    else:
        raise SystemExit("quotient forecast: give --csv FILE or --stored")
    if args.target and not currency:
        raise SystemExit(
            "quotient forecast: with --stored, give --currency for the --target amounts"
        )
    exponent = CURRENCY_EXPONENTS.get(currency or "", 2)
    for group, period, amount in (parse_target(t, exponent) for t in args.target or []):
        request.targets.add(group=group, period=period, target_minor=amount)
    return request


def _table(response: Any, quantiles: Sequence[float], out: Any) -> None:
    from quotient.v1 import types_pb2

    cur = response.currency
    group_cols = list(response.group_by)
    head = [*group_cols, "period", "deals", "open", "won", "pipeline", "weighted", "closed_won",
            "commit_cum", "best_case_cum"]  # fmt: skip
    head += [f"P{round(q * 100):g}" for q in quantiles]
    head += ["target", "gap", "p_reach_target"]
    aware = any(g.period_aware_minor for g in response.groups)
    if aware:
        head += ["period_aware", "new_business"]
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(head)
    for g in response.groups:
        cum = {types_pb2.Category.Name(c.category): c.cumulative_minor for c in g.categories}
        values = {q.quantile: q.amount_minor for q in g.distribution.quantiles}
        group = [v if i < g.level else "(all)" for i, v in enumerate(g.group)]
        row = [*group, g.period, g.deal_count, g.open_count, g.won_count,
               major(g.pipeline_minor, cur), major(g.weighted_minor, cur),
               major(g.closed_won_minor, cur), major(cum.get("CATEGORY_COMMIT", 0), cur),
               major(cum.get("CATEGORY_BEST_CASE", 0), cur)]  # fmt: skip
        row += [major(values[q], cur) if q in values else "" for q in quantiles]
        if g.HasField("target"):
            t = g.target
            row += [major(t.target_minor, cur), major(t.gap_minor, cur), f"{t.p_reach_target:.3f}"]
        else:
            row += ["", "", ""]
        if aware:
            row += [major(g.period_aware_minor, cur), major(g.new_business_minor, cur)]
        writer.writerow(row)


def _summary(response: Any) -> None:
    """What was read and what was left out, on standard error."""
    cur = response.currency
    left_out = [
        (response.deals_unscored, "could not be scored"),
        (response.deals_outside_periods, "close outside the periods or have no close date"),
        (response.deals_omitted, "are omitted"),
    ]
    print(f"{response.deals_read} deals read; amounts in {cur or '-'}", file=sys.stderr)
    for count, why in left_out:
        if count:
            print(f"{count} deals {why}", file=sys.stderr)
    for u in response.unscored:
        print(f"  {u.deal_id}: {u.problem.reason}: {u.problem.message}", file=sys.stderr)
    if response.seed:
        print(f"Monte Carlo: {response.trials} trials, seed {response.seed}", file=sys.stderr)


def _levers(response: Any, out: Any) -> None:
    """What fills each gap: one line per row with a target, lever and confidence."""
    cur = response.currency
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    rows = [g for g in response.groups if g.HasField("target") and g.target.levers]
    if not rows:
        return
    out.write("\n")
    writer.writerow([*response.group_by, "period", "lever", "stage", "confidence", "needs"])
    for g in rows:
        group = [v if i < g.level else "(all)" for i, v in enumerate(g.group)]
        for x in g.target.levers:
            if not x.feasible:
                needs = "cannot reach the target alone"
            elif x.lever in ("win_rate", "deal_size"):
                needs = "already reached" if x.factor == 1 else f"x {x.factor:.3f}"
            elif x.lever == "new_pipeline":
                needs = f"+{x.new_deals} deals, {major(x.new_pipeline_minor, cur)}"
            elif x.lever == "balanced":
                needs = (f"{x.fraction:.0%} of each: win rate x {x.factor:.3f}, deal size "
                         f"x {x.size_factor:.3f}, +{x.new_deals} deals")  # fmt: skip
            else:
                needs = f"+{x.visits} visits"
            writer.writerow([*group, g.period, x.lever, x.stage or "(all)",
                             f"P{round(x.confidence * 100)}", needs])  # fmt: skip


def _plot(response: Any, path: Path) -> None:
    from quotient.v1 import types_pb2
    from service.plots import PlotRow, forecast_figure

    rows = [g for g in response.groups if g.HasField("distribution")]
    if not rows:
        raise SystemExit("quotient forecast: nothing to plot (no row has a distribution)")
    with_target = [g for g in rows if g.HasField("target")]
    g = with_target[0] if with_target else max(rows, key=lambda r: r.distribution.mean_minor)
    exponent = CURRENCY_EXPONENTS.get(response.currency, 2)
    scale = 10.0**-exponent
    single = {types_pb2.Category.Name(c.category): c.amount_minor * scale for c in g.categories}
    names = [v for v in g.group[: g.level]] or ["all"]
    forecast_figure(
        PlotRow(
            title=f"{'/'.join(names)} {g.period}",
            currency=response.currency,
            quantiles=[q.quantile for q in g.distribution.quantiles],
            values=[q.amount_minor * scale for q in g.distribution.quantiles],
            mean=g.distribution.mean_minor * scale,
            target=g.target.target_minor * scale if g.HasField("target") else None,
            p_reach_target=g.target.p_reach_target if g.HasField("target") else None,
            closed=single.get("CATEGORY_CLOSED", 0.0),
            commit=single.get("CATEGORY_COMMIT", 0.0),
            best_case=single.get("CATEGORY_BEST_CASE", 0.0),
            pipeline=single.get("CATEGORY_PIPELINE", 0.0),
        ),
        path,
    )
    print(f"wrote {path} ({'/'.join(names)} {g.period})", file=sys.stderr)


def cmd_forecast(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import forecast_pb2_grpc

    request = build_request(args)
    with open_channel(args.server) as channel:
        try:
            response = forecast_pb2_grpc.ForecastServiceStub(channel).ComputeForecast(request)
        except grpc.RpcError as exc:
            return report(exc)
    _table(response, sorted(set(args.quantiles)), sys.stdout)
    _levers(response, sys.stdout)
    sys.stdout.flush()
    _summary(response)
    if args.plot:
        _plot(response, Path(args.plot))
    return 0


def read_history(path: str) -> list[Any]:
    """``DealChange`` messages from a history CSV: ``deal_id``, ``date``, then deal columns."""
    from quotient.v1 import forecast_pb2, types_pb2
    from service.cli import _csv_records, deal_message

    changes = []
    with open(path, encoding="utf-8", newline="") as handle:
        for n, rec in enumerate(_csv_records(csv.DictReader(handle)), 2):
            date = rec.pop("date", "")
            rec["id"] = rec.pop("deal_id", "")
            try:
                deal = deal_message(rec, types_pb2)
            except (ValueError, TypeError) as exc:
                raise SystemExit(f"{path}:{n}: {exc}") from None
            changes.append(forecast_pb2.DealChange(date=str(date), deal=deal))
    return changes


def _backtest_table(response: Any, out: Any) -> None:
    cur = response.currency
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    groups = list(response.group_by)
    writer.writerow([*groups, "period", "cutoff", "open", "won", "classic", "period_aware",
                     "new_business", "actual", "classic_error", "period_aware_error"])  # fmt: skip

    def pct(forecast: int, actual: int) -> str:
        return f"{(forecast - actual) / actual:+.1%}" if actual else ""

    for p in response.periods:
        group = list(p.group) or ["(all)"] * max(len(groups), 0)
        mark = "" if p.complete else " (incomplete)"
        writer.writerow([*group, p.period + mark, p.cutoff_date, p.open_count, p.won_count,
                         major(p.classic_minor, cur), major(p.period_aware_minor, cur),
                         major(p.new_business_minor, cur), major(p.actual_minor, cur),
                         pct(p.classic_minor, p.actual_minor),
                         pct(p.period_aware_minor, p.actual_minor)])  # fmt: skip
    out.write("\n")
    writer.writerow([*groups, "periods", "classic_bias", "classic_mape", "period_aware_bias",
                     "period_aware_mape"])  # fmt: skip

    def share(a: Any, name: str) -> str:
        return f"{getattr(a, name):+.1%}" if a.HasField(name) else ""

    for a in response.accuracy:
        group = list(a.group) or ["(all)"] * max(len(groups), 0)
        writer.writerow([*group, a.classic.periods, share(a.classic, "bias"),
                         share(a.classic, "mape").lstrip("+"), share(a.period_aware, "bias"),
                         share(a.period_aware, "mape").lstrip("+")])  # fmt: skip


def cmd_backtest(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import forecast_pb2, forecast_pb2_grpc

    request = forecast_pb2.BacktestForecastRequest(
        rule_set=args.rule_set, group_by=args.group_by or [], lead_days=args.lead_days
    )
    if not (args.first and args.last):
        raise SystemExit("quotient backtest: give --from and --to")
    request.calendar.CopyFrom(
        forecast_pb2.CalendarPeriods(
            kind=_KINDS[args.period], first_date=args.first, last_date=args.last
        )
    )
    if args.history:
        request.history.changes.extend(read_history(args.history))
    else:
        request.stored.SetInParent()
    with open_channel(args.server) as channel:
        try:
            response = forecast_pb2_grpc.ForecastServiceStub(channel).BacktestForecast(request)
        except grpc.RpcError as exc:
            return report(exc)
    _backtest_table(response, sys.stdout)
    sys.stdout.flush()
    print(f"{response.deals} deals, {response.changes} history rows; amounts in "
          f"{response.currency or '-'}", file=sys.stderr)  # fmt: skip
    if args.plot:
        from service.plots import backtest_figure

        totals = [p for p in response.periods if not p.group] or list(response.periods)
        scale = 10.0 ** -CURRENCY_EXPONENTS.get(response.currency, 2)
        backtest_figure(
            [p.period for p in totals],
            [p.classic_minor * scale for p in totals],
            [p.period_aware_minor * scale for p in totals],
            [p.actual_minor * scale for p in totals],
            [p.complete for p in totals],
            response.currency,
            Path(args.plot),
        )
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _quantiles(text: str) -> list[float]:
    try:
        return [float(q) for q in text.split(",") if q.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected numbers like 0.1,0.5,0.9") from None


def add_forecast_arguments(p: Any) -> None:
    """The arguments that say what to forecast (``forecast`` and ``plan simulate``)."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--csv", help="deals, one per row; columns as in the Deal message")
    src.add_argument("--stored", action="store_true", help="the deals held in the server's store")
    p.add_argument("--filter", help="with --stored: a condition, e.g. \"region = 'North'\"")
    p.add_argument("--rule-set", default="default")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: today on the server)")
    p.add_argument("--group-by", action="append", help="a field to group by (repeatable)")
    p.add_argument("--subtotals", action="store_true", help="also every prefix of --group-by")
    p.add_argument(
        "--hierarchy",
        action="store_true",
        help="roll up along the rule set's hierarchy (e.g. region -> team -> owner -> all)",
    )
    p.add_argument("--period", choices=sorted(_KINDS), default="quarter")
    p.add_argument("--from", dest="first", help="first close date covered, YYYY-MM-DD")
    p.add_argument("--to", dest="last", help="last close date covered, YYYY-MM-DD")
    p.add_argument(
        "--period-range",
        action="append",
        help="a custom period LABEL:FIRST:LAST (dates inclusive; repeatable) instead of --period",
    )
    p.add_argument("--quantiles", type=_quantiles, default=[0.1, 0.5, 0.9])
    p.add_argument(
        "--target",
        action="append",
        help="GROUP[/GROUP...]@PERIOD=AMOUNT in major units, e.g. North@2026-Q1=5000000 "
        "(repeatable; @PERIOD=AMOUNT for a total row)",
    )
    p.add_argument("--currency", help="currency of --target amounts (default: the deals')")
    p.add_argument(
        "--levers", action="store_true", help="for rows with a target: what fills the gap"
    )
    p.add_argument("--visit-to-deal", help="visit -> deal conversion rate, e.g. 0.2")
    p.add_argument("--method", choices=sorted(_METHODS), default="auto")
    p.add_argument("--trials", type=int, default=0, help="Monte Carlo trials (default 10,000)")
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (default: drawn)")
    p.add_argument(
        "--period-aware",
        action="store_true",
        help="also what each row should book in its period, learned from deal histories",
    )
    p.add_argument("--history", help="with --period-aware: a history CSV (default: the store's)")


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``forecast`` on the main parser's subparsers."""
    p = sub.add_parser(
        "forecast", help="roll deals up by group and period with outcome distribution and gaps"
    )
    add_forecast_arguments(p)
    p.add_argument("--plot", help="write the distribution and waterfall of one row to FILE.png")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_forecast(a, report))

    p = sub.add_parser(
        "backtest", help="replay the classic and period-aware forecasts against what was won"
    )
    p.add_argument("--history", help="a history CSV: deal_id, date, then deal columns "
                   "(default: the history the store keeps)")  # fmt: skip
    p.add_argument("--rule-set", default="default")
    p.add_argument("--group-by", action="append", help="a field to group by (repeatable)")
    p.add_argument("--period", choices=sorted(_KINDS), default="quarter")
    p.add_argument("--from", dest="first", help="first day covered, YYYY-MM-DD")
    p.add_argument("--to", dest="last", help="last day covered, YYYY-MM-DD")
    p.add_argument("--lead-days", type=int, default=0, help="forecast this many days earlier")
    p.add_argument("--plot", help="write forecasts against actuals per period to FILE.png")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_backtest(a, report))


__all__ = [
    "add_commands",
    "add_forecast_arguments",
    "build_request",
    "major",
    "parse_target",
    "read_history",
]
