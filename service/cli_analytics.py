"""``quotient kpis``, ``quotient stuck`` and ``quotient change``: sales KPIs, stuck deals and why
bookings moved, from the store's deal histories, through a server."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.money import CURRENCY_EXPONENTS
from service.channel import default_server, open_channel
from service.cli_forecast import major, read_history

_KINDS = {"month": 1, "quarter": 2, "year": 3}


def _pct(message: Any, name: str) -> str:
    return f"{Decimal(getattr(message, name)).scaleb(-4):.1f} %" if message.HasField(name) else "-"


def _dwell(row: Any, stage: str) -> str:
    """``median/P90 (stays)`` of a row's stays in ``stage``, or ``-``."""
    d = next((d for d in row.stage_dwell if d.stage == stage), None)
    return f"{d.median_days}/{d.p90_days} ({d.stays})" if d is not None and d.stays else "-"


def cmd_kpis(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import analytics_pb2, analytics_pb2_grpc, forecast_pb2

    costs = {}
    for text in args.source_cost or []:
        source, _, amount = text.partition("=")
        try:
            costs[source] = int(Decimal(amount).scaleb(CURRENCY_EXPONENTS[args.currency]))
        except (ArithmeticError, KeyError):
            raise SystemExit(f"quotient kpis: --source-cost {text!r}: expected SOURCE=AMOUNT "
                             "in major units of --currency") from None  # fmt: skip
    request = analytics_pb2.ComputeKpisRequest(
        rule_set=args.rule_set, group_by=args.group_by or [], source_cost_minor=costs,
        activity_fields=args.activity or [], customer_field=args.customer_field or "",
        cost_field=args.cost_field or "",
        calendar=forecast_pb2.CalendarPeriods(kind=_KINDS[args.period], first_date=args.first,
                                              last_date=args.last))  # fmt: skip
    if args.history:
        request.history.changes.extend(read_history(args.history))
    with open_channel(args.server) as channel:
        try:
            r = analytics_pb2_grpc.AnalyticsServiceStub(channel).ComputeKpis(request)
        except grpc.RpcError as exc:
            return report(exc)
    cur = r.currency or "CNY"
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    head = [*r.group_by, "period", "created", "pipeline created", "won", "bookings",
                     "avg deal", "closed", "win rate", "cycle p50 d", "cycle p90 d",
                     "attainment", "funnel", "cost", "cost per won", "return on spend",
                     *(f"{a} per won" for a in args.activity or []),
            *(["new business", "existing business"] if args.customer_field else []),
            *(f"{d} dwell p50/p90 d" for d in (r.funnel_stages[:-1] if args.dwell else []))]  # fmt: skip
    writer.writerow(head)
    table = []
    for x in r.rows:
        funnel = " > ".join(str(n) for n in x.funnel_reached)
        line = [*x.group, x.period, x.deals_created,
                         major(x.pipeline_created_minor, cur), x.won_count,
                         major(x.bookings_minor, cur),
                         major(x.average_deal_minor, cur) if x.HasField("average_deal_minor")
                         else "-", x.closed_count, _pct(x, "win_rate_ppm"),
                         x.cycle_median_days if x.HasField("cycle_median_days") else "-",
                         x.cycle_p90_days if x.HasField("cycle_p90_days") else "-",
                         _pct(x, "attainment_ppm"), funnel,
                         f"{major(x.cost_minor, cur)} ({x.cost_from})"
                         if x.HasField("cost_minor") else "-",
                         major(x.cost_per_won_minor, cur) if x.HasField("cost_per_won_minor")
                         else "-",
                         f"{Decimal(x.return_on_spend_ppm).scaleb(-6):.2f}x"
                         if x.HasField("return_on_spend_ppm") else "-",
                         *(f"{a.per_won:.1f}" if a.HasField("per_won") else "-"
                           for a in x.activity_per_won),
                         *([major(x.new_business_minor, cur), major(x.existing_business_minor, cur)]
                           if args.customer_field else []),
                         *(_dwell(x, d) for d in (r.funnel_stages[:-1] if args.dwell else []))]  # fmt: skip
        writer.writerow(line)
        table.append([str(c) for c in line])
    print(f"funnel stages: {' > '.join(r.funnel_stages)}; {r.deals_read} deals read",
          file=sys.stderr)  # fmt: skip
    png = (
        Path(args.plot) if args.plot else Path(args.html).with_suffix(".png") if args.html else None
    )
    if png is not None:
        from service.plots import funnel_figure

        reached = [sum(x.funnel_reached[k] for x in r.rows) for k in range(len(r.funnel_stages))]
        dwell = [(d.stage, (d.p10_days, d.p25_days, d.median_days, d.p75_days, d.p90_days)
                  if d.stays else None) for d in r.dwell if d.stage in r.funnel_stages]  # fmt: skip
        funnel_figure(list(r.funnel_stages), reached, dwell,
                      f"{args.first}..{args.last}, all groups", png)  # fmt: skip
        print(f"wrote {png}", file=sys.stderr)
    if args.html:
        from service.plots import report_page

        page = report_page(f"Sales KPIs {args.first}..{args.last}", head, table, png)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def cmd_stuck(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import analytics_pb2, analytics_pb2_grpc

    thresholds = {}
    for text in args.threshold or []:
        stage, _, days = text.partition("=")
        try:
            thresholds[stage] = int(days)
        except ValueError:
            raise SystemExit(f"quotient stuck: --threshold {text!r}: expected STAGE=DAYS") from None
    request = analytics_pb2.ListStuckDealsRequest(rule_set=args.rule_set,
                                                  as_of_date=args.as_of or "",
                                                  threshold_days=thresholds,
                                                  page_size=args.limit)  # fmt: skip
    if args.history:
        request.history.changes.extend(read_history(args.history))
    with open_channel(args.server) as channel:
        try:
            r = analytics_pb2_grpc.AnalyticsServiceStub(channel).ListStuckDeals(request)
        except grpc.RpcError as exc:
            return report(exc)
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["deal", "stage", "days in stage", "threshold", "owner", "amount at risk"])
    for d in r.deals:
        writer.writerow([d.deal_id, d.stage, d.days_in_stage, d.threshold_days, d.owner,
                         major(d.amount_minor, r.currency or "CNY")])  # fmt: skip
    limits = ", ".join(f"{t.stage} {t.days} d ({t.source.replace('_', ' ')})" if t.HasField("days")
                       else f"{t.stage} none" for t in r.thresholds)  # fmt: skip
    print(f"thresholds: {limits}", file=sys.stderr)
    print(f"{r.total} stuck deal(s){'; more with a larger --limit' if r.next_page_token else ''}",
          file=sys.stderr)  # fmt: skip
    return 0


def _span(text: str, label: str) -> Any:
    from quotient.v1 import forecast_pb2

    first, _, last = text.partition(":")
    if not first or not last:
        raise SystemExit(f"quotient change: --{label} {text!r}: expected FIRST:LAST (YYYY-MM-DD)")
    return forecast_pb2.CustomPeriod(label=f"{first}..{last}", first_date=first, last_date=last)


def cmd_change(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import analytics_pb2, analytics_pb2_grpc

    request = analytics_pb2.AttributeChangeRequest(
        rule_set=args.rule_set, group_by=args.group_by or [], before=_span(args.before, "before"),
        activity_field=args.activity or "",
        decomposition=analytics_pb2.DECOMPOSITION_FUNNEL if args.funnel
        else analytics_pb2.DECOMPOSITION_DEALS)  # fmt: skip
    if args.compare:
        field, _, values = args.compare.partition("=")
        baseline, _, compared = values.partition(",")
        if not field or not baseline or not compared or args.after:
            raise SystemExit(f"quotient change: --compare {args.compare!r}: expected "
                             "FIELD=BASELINE,COMPARED with --before as the period (no --after)")  # fmt: skip
        request.groups.CopyFrom(analytics_pb2.GroupComparison(field=field, baseline=baseline,
                                                              compared=compared))  # fmt: skip
    elif not args.after:
        raise SystemExit("quotient change: give --after (two periods) or --compare (two groups)")
    else:
        request.after.CopyFrom(_span(args.after, "after"))
    if args.history:
        request.history.changes.extend(read_history(args.history))
    with open_channel(args.server) as channel:
        try:
            r = analytics_pb2_grpc.AnalyticsServiceStub(channel).AttributeChange(request)
        except grpc.RpcError as exc:
            return report(exc)
    cur = r.currency or "CNY"
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    names = [f.factor.replace("_", " ") for f in r.rows[-1].factors] if r.rows else []
    writer.writerow([*r.group_by, "before", "after", "change",
                     *(f"{n}: {what}" for n in names for what in ("change", "contribution"))])  # fmt: skip
    for row in r.rows:
        cells = [g or "(all)" for g in row.group]
        cells += [major(row.before_minor, cur), major(row.after_minor, cur),
                  major(row.change_minor, cur)]  # fmt: skip
        for f in row.factors:
            change = f"{f.relative_change:+.1%}" if f.HasField("relative_change") else "-"
            cells += [change, major(f.contribution_minor, cur)]
        writer.writerow(cells)
    what = (f"{r.before_group} -> {r.after_group} over {r.before_period}" if r.before_group
            else f"{r.before_period} -> {r.after_period}")  # fmt: skip
    booked = ("bookings of the deals created in the period" if r.basis == "created_in_period"
              else "bookings")  # fmt: skip
    print(f"{what}: {booked} = {' x '.join(names)}; the contributions add up to the change",
          file=sys.stderr)  # fmt: skip
    if args.plot:
        from service.plots import waterfall_figure

        total = r.rows[-1]  # every group together
        scale = 10 ** CURRENCY_EXPONENTS.get(cur, 2)
        waterfall_figure(total.before_minor / scale, total.after_minor / scale,
                         [(n, f.contribution_minor / scale) for n, f in zip(names, total.factors,
                                                                             strict=True)],
                         what, cur, Path(args.plot))  # fmt: skip
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _history_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history", help="a history CSV: deal_id, date, then deal columns "
                        "(default: the history the store keeps)")  # fmt: skip


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``kpis``, ``stuck`` and ``change``."""
    p = sub.add_parser("kpis", help="sales KPIs per group and period (ComputeKpis)")
    p.add_argument("--group-by", action="append", help="a text field, or team (repeatable)")
    p.add_argument("--period", choices=sorted(_KINDS), default="month")
    p.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
    p.add_argument("--plot", help="write the funnel and the dwell times to FILE.png")
    p.add_argument("--html", help="write the table and the funnel as a page a manager opens")
    p.add_argument("--activity", action="append",
                   help="a declared integer field counting activities, e.g. visits (repeatable)")  # fmt: skip
    p.add_argument("--customer-field", help="a declared text field naming the customer: new vs "
                   "existing business")  # fmt: skip
    p.add_argument("--source-cost", action="append",
                   help="SOURCE=AMOUNT spent per period: source ROI (--group-by source)")  # fmt: skip
    p.add_argument("--currency", default="CNY", help="currency of --source-cost (CNY)")
    p.add_argument("--cost-field", help="the text field costs are keyed by (default: the rule "
                   "set's lead_sources.field, else source), e.g. campaign")  # fmt: skip
    p.add_argument("--dwell", action="store_true", help="add each open funnel stage's dwell "
                   "per group and period: median/P90 days (stays)")  # fmt: skip
    _history_option(p)
    p.add_argument("--rule-set", default="default")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_kpis(a, report))
    s = sub.add_parser("stuck", help="open deals stuck in their stage (ListStuckDeals)")
    s.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
    s.add_argument("--threshold", action="append",
                   help="STAGE=DAYS (default: the stage's stuck_after_days in the rule set, else "
                   "its historical P90)")  # fmt: skip
    s.add_argument("--limit", type=int, default=100)
    _history_option(s)
    s.add_argument("--rule-set", default="default")
    s.add_argument("--server", default=default_server())
    s.set_defaults(func=lambda a: cmd_stuck(a, report))
    c = sub.add_parser("change", help="why bookings moved between two periods or two groups "
                       "(AttributeChange)")  # fmt: skip
    c.add_argument("--before", required=True, help="FIRST:LAST, e.g. 2026-01-01:2026-01-31 "
                   "(with --compare: the period both groups are read over)")  # fmt: skip
    c.add_argument("--after", help="FIRST:LAST")
    c.add_argument("--compare", help="FIELD=BASELINE,COMPARED: two groups over --before, e.g. "
                   "region=East,West")  # fmt: skip
    c.add_argument("--funnel", action="store_true", help="decompose per stage: deals entering x "
                   "each stage conversion x average deal, of the deals created in the period")  # fmt: skip
    _history_option(c)
    c.add_argument("--group-by", action="append", help="a text field, or team (repeatable)")
    c.add_argument("--plot", help="write the change waterfall (all groups) to FILE.png")
    c.add_argument("--activity", help="a declared integer field (e.g. visits): bookings = visits x "
                   "conversion x average deal")  # fmt: skip
    c.add_argument("--rule-set", default="default")
    c.add_argument("--server", default=default_server())
    c.set_defaults(func=lambda a: cmd_change(a, report))


__all__ = ["add_commands"]
