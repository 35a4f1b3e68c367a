"""``quotient plan decompose FILE`` (a target split down a hierarchy), ``quotient plan simulate``
(the forecast under levers beside the baseline) and ``quotient plan compare SCENARIOS`` (several
side by side) through a server.

The file (YAML) gives ``currency``, ``target`` (major units), ``levels`` (a method per level:
``even``, ``history``, ``pipeline``, ``custom``, or ``{method: blend, blend: {history: 0.7, ...}}``),
optional ``seasonality`` (``{period: weight}``), optional ``history`` (``{rule_set, from, to}``:
people's bookings from the store) and ``nodes`` (``id``, ``parent``, and optionally ``history``,
``pipeline`` in major units, ``custom``, ``floor``, ``ceiling``, ``manual``). See
``examples/plans/targets.yaml``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from engine.money import CURRENCY_EXPONENTS
from service.channel import default_server, open_channel
from service.cli_forecast import major
from service.plots import report_page


def _request(spec: dict[str, Any]) -> Any:
    from quotient.v1 import planning_pb2

    currency = str(spec.get("currency", "")).upper()
    if currency not in CURRENCY_EXPONENTS:
        raise SystemExit(f"quotient plan decompose: currency {currency!r} is not ISO 4217")
    scale = 10 ** CURRENCY_EXPONENTS[currency]

    def minor(value: Any, where: str) -> int:
        amount = Decimal(str(value)) * scale
        if amount != amount.to_integral_value():
            raise SystemExit(f"quotient plan decompose: {where}: {value} has too many places")
        return int(amount)

    nodes = []
    for i, n in enumerate(spec.get("nodes") or []):
        fields: dict[str, Any] = {"id": str(n.get("id", "")), "parent": str(n.get("parent") or "")}
        for key in ("history", "pipeline", "floor", "ceiling", "manual"):
            if n.get(key) is not None:
                fields[f"{key}_minor"] = minor(n[key], f"nodes[{i}].{key}")
        if n.get("custom") is not None:
            fields["custom"] = str(n["custom"])
        nodes.append(planning_pb2.PlanNodeInput(**fields))
    levels = []
    for level in spec.get("levels") or []:
        if isinstance(level, str):
            levels.append(planning_pb2.LevelMethodInput(method=level))
        else:
            blend = {k: str(v) for k, v in (level.get("blend") or {}).items()}
            levels.append(planning_pb2.LevelMethodInput(method=level.get("method", ""),
                                                        blend=blend))  # fmt: skip
    history = spec.get("history") or {}
    return planning_pb2.DecomposeTargetRequest(
        currency=currency, target_minor=minor(spec.get("target", 0), "target"), nodes=nodes,
        levels=levels,
        seasonality=[planning_pb2.Phase(period=str(k), weight=str(v))
                     for k, v in (spec.get("seasonality") or {}).items()],
        rule_set=str(history.get("rule_set", "")), history_first_date=str(history.get("from", "")),
        history_last_date=str(history.get("to", "")),
    )  # fmt: skip


def cmd_decompose(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import planning_pb2_grpc

    with open(args.file, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle) or {}
    request = _request(spec)
    with open_channel(args.server) as channel:
        try:
            r = planning_pb2_grpc.PlanningServiceStub(channel).DecomposeTarget(request)
        except grpc.RpcError as exc:
            return report(exc)
    cur = r.currency
    writer = csv.writer(sys.stdout, delimiter="," if args.csv else "\t", lineterminator="\n")
    writer.writerow(["node", "target", "share", "set by", "per metric", "spread",
                     *r.periods])  # fmt: skip
    for n in r.nodes:
        per = Fraction(n.target_per_metric) if n.target_per_metric else None
        writer.writerow([
            "  " * n.level + n.id, major(n.target_minor, cur),
            f"{Decimal(n.share_ppm).scaleb(-4):.2f} %", n.bound or "-",
            f"{float(per) / 10 ** CURRENCY_EXPONENTS[cur]:,.2f}" if per is not None else "-",
            f"{float(Fraction(n.sibling_spread)):.3f}" if n.sibling_spread else "-",
            *(major(p, cur) for p in n.phased_minor),
        ])  # fmt: skip
    return 0


def _group_count(text: str, flag: str, shape: str) -> tuple[str, str, int, str]:
    """``FIELD=VALUE:COUNT[:REST]`` as (field, value, count, rest)."""
    target, _, tail = text.partition(":")
    field, _, value = target.partition("=")
    count, _, rest = tail.partition(":")
    try:
        return field, value, int(count), rest
    except ValueError:
        raise SystemExit(f"quotient plan: {flag} {text!r}: expected {shape}") from None


def _levers(args: argparse.Namespace) -> list[Any]:
    from quotient.v1 import planning_pb2

    out = []
    for text in args.win_rate or []:
        stage, _, factor = text.rpartition("=")
        out.append(planning_pb2.ScenarioLever(
            win_rate=planning_pb2.WinRateLever(factor=factor, stage=stage)))  # fmt: skip
    for factor in args.deal_size or []:
        out.append(planning_pb2.ScenarioLever(deal_size=planning_pb2.DealSizeLever(factor=factor)))
    for text in args.headcount or []:
        field, value, count, ramp = _group_count(text, "--headcount", "FIELD=VALUE:HIRES[:RAMP]")
        out.append(planning_pb2.ScenarioLever(headcount=planning_pb2.HeadcountLever(
            field=field, value=value, hires=count, ramp=ramp or "1")))  # fmt: skip
    for text in args.visits or []:
        field, value, count, rate = _group_count(text, "--visits", "FIELD=VALUE:VISITS:CONVERSION")
        out.append(planning_pb2.ScenarioLever(visits=planning_pb2.VisitsLever(
            field=field, value=value, visits=count, conversion=rate)))  # fmt: skip
    if args.cycle_time:
        out.append(planning_pb2.ScenarioLever(
            cycle_time=planning_pb2.CycleTimeLever(factor=args.cycle_time)))  # fmt: skip
    for text in args.new_pipeline or []:
        parts = text.split(":")
        if len(parts) != 6:
            raise SystemExit(f"quotient plan simulate: --new-pipeline {text!r}: expected "
                             "OWNER:STAGE:COUNT:AMOUNT:CURRENCY:CLOSE_DATE")  # fmt: skip
        owner, stage, count, amount, currency, close = parts
        currency = currency.upper()
        try:
            minor = Decimal(amount).scaleb(CURRENCY_EXPONENTS[currency])
            n = int(count)
        except (ArithmeticError, KeyError, ValueError):
            raise SystemExit(f"quotient plan simulate: --new-pipeline {text!r}: bad count, "
                             "amount or currency") from None  # fmt: skip
        out.append(planning_pb2.ScenarioLever(new_pipeline=planning_pb2.NewPipelineLever(
            owner=owner, stage=stage, count=n, amount_minor=int(minor), currency=currency,
            close_date=close)))  # fmt: skip
    return out


def cmd_simulate(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import planning_pb2, planning_pb2_grpc
    from service.cli_forecast import build_request

    request = planning_pb2.SimulateScenarioRequest(name=args.name, forecast=build_request(args),
                                                   levers=_levers(args))  # fmt: skip
    with open_channel(args.server) as channel:
        try:
            r = planning_pb2_grpc.PlanningServiceStub(channel).SimulateScenario(request)
        except grpc.RpcError as exc:
            return report(exc)
    cur = r.baseline.currency
    costs = {(tuple(c.group), c.level, c.period): c for c in r.costs}
    scenario = {(tuple(g.group), g.level, g.period): g for g in r.scenario.groups}
    table: list[list[str]] = []
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    head = [*r.baseline.group_by, "period", "P50 before", "P50 after", "P(target) before",
            "P(target) after", "commission before", "commission after"]  # fmt: skip
    writer.writerow(head)
    for g in r.baseline.groups:
        key = (tuple(g.group), g.level, g.period)
        after = scenario.get(key)

        def p50(row: Any) -> str:
            q = [x.amount_minor for x in row.distribution.quantiles if x.quantile == 0.5]
            return major(q[0], cur) if q else "-"

        def reach(row: Any) -> str:
            return f"{row.target.p_reach_target:.1%}" if row.HasField("target") else "-"

        cost = costs.get(key)
        line = [*(v or ("(all)" if i >= g.level else "") for i, v in enumerate(g.group)),
                g.period, p50(g), p50(after) if after else "-", reach(g),
                reach(after) if after else "-",
                major(cost.baseline_cost_minor, cur) if cost else "-",
                major(cost.scenario_cost_minor, cur) if cost else "-"]  # fmt: skip
        writer.writerow(line)
        table.append(line)
    if r.seed:
        print(f"Monte Carlo seed {r.seed} (both sides)", file=sys.stderr)
    png = None
    if args.plot or args.html:
        png = _scenario_picture(args, request, r, report)
        if png is None:
            return 1
    if args.html:
        page = report_page(f"Scenario: {args.name}", head, table, png)
        Path(args.html).write_text(page, encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def _scenario_picture(args: argparse.Namespace, request: Any, r: Any,
                      report: Callable[[Any], int]) -> Path | None:  # fmt: skip
    """Draw the chosen row before and after, and each lever alone (a CompareScenarios call with
    one scenario per lever); return the PNG's path."""
    import grpc

    from quotient.v1 import planning_pb2, planning_pb2_grpc
    from service.plots import ScenarioPicture, scenario_figure

    wanted = args.plot_group.split("/") if args.plot_group else None
    rows = list(r.baseline.groups)
    pick = next((g for g in rows if wanted is not None and list(g.group[: g.level]) == wanted),
                None) if wanted else min(rows, key=lambda g: (g.level, g.period), default=None)  # fmt: skip
    if pick is None:
        raise SystemExit("quotient plan simulate: no row to plot (see --plot-group)")
    key = (tuple(pick.group), pick.level, pick.period)
    after = next(g for g in r.scenario.groups if (tuple(g.group), g.level, g.period) == key)
    names = [_lever_label(lever) for lever in request.levers]
    compare = planning_pb2.CompareScenariosRequest(forecast=request.forecast, scenarios=[
        planning_pb2.NamedScenario(name=f"{i + 1}. {name}", levers=[lever])
        for i, (name, lever) in enumerate(zip(names, request.levers, strict=True))])  # fmt: skip
    alone: list[tuple[str, float]] = []
    if request.levers:
        with open_channel(args.server) as channel:
            try:
                c = planning_pb2_grpc.PlanningServiceStub(channel).CompareScenarios(compare)
            except grpc.RpcError as exc:
                report(exc)
                return None
        row = next(x for x in c.rows if (tuple(x.group), x.level, x.period) == key)
        scale = 10 ** CURRENCY_EXPONENTS.get(r.baseline.currency, 2)
        alone = [(f.scenario, f.p50_minor / scale) for f in row.figures[1:]]
    scale = 10 ** CURRENCY_EXPONENTS.get(r.baseline.currency, 2)
    quantiles = [q.quantile for q in pick.distribution.quantiles]
    title = "/".join(v for v in pick.group[: pick.level]) or "all"
    picture = ScenarioPicture(
        title=f"{title} {pick.period}", currency=r.baseline.currency, quantiles=quantiles,
        before=[q.amount_minor / scale for q in pick.distribution.quantiles],
        after=[q.amount_minor / scale for q in after.distribution.quantiles],
        target=pick.target.target_minor / scale if pick.HasField("target") else None,
        alone=alone)  # fmt: skip
    path = Path(args.plot) if args.plot else Path(args.html).with_suffix(".png")
    scenario_figure(picture, path)
    print(f"wrote {path}", file=sys.stderr)
    return path


def _lever_label(lever: Any) -> str:
    kind = lever.WhichOneof("lever")
    x = getattr(lever, kind)
    if kind == "win_rate":
        return f"win rate {x.stage or 'all'} x {x.factor}"
    if kind == "deal_size":
        return f"deal size x {x.factor}"
    if kind == "new_pipeline":
        return f"+{x.count} {x.stage} deals for {x.owner}"
    if kind == "visits":
        return f"+{x.visits} visits in {x.field} {x.value} at {x.conversion}"
    if kind == "cycle_time":
        return f"cycle time x {x.factor}"
    if kind == "target":
        return f"target {'/'.join(x.group)} {x.period}"
    return f"+{x.hires} hires in {x.field} {x.value} (ramp {x.ramp or 1})"


def _scenario_levers(spec: dict[str, Any], where: str) -> list[Any]:
    """The levers of one scenario of a ``plan compare`` file."""
    from quotient.v1 import planning_pb2

    out = []
    win = spec.get("win_rate")
    if isinstance(win, dict):
        out += [planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(
            factor=str(f), stage=str(stage))) for stage, f in win.items()]  # fmt: skip
    elif win is not None:
        out.append(planning_pb2.ScenarioLever(win_rate=planning_pb2.WinRateLever(factor=str(win))))
    for v in spec.get("visits") or []:
        out.append(planning_pb2.ScenarioLever(visits=planning_pb2.VisitsLever(
            field=str(v.get("field", "")), value=str(v.get("value", "")),
            visits=int(v.get("visits", 0)), conversion=str(v.get("conversion", "")))))  # fmt: skip
    if spec.get("cycle_time") is not None:
        out.append(planning_pb2.ScenarioLever(
            cycle_time=planning_pb2.CycleTimeLever(factor=str(spec["cycle_time"]))))  # fmt: skip
    for h in spec.get("headcount") or []:
        out.append(planning_pb2.ScenarioLever(headcount=planning_pb2.HeadcountLever(
            field=str(h.get("field", "")), value=str(h.get("value", "")),
            hires=int(h.get("hires", 0)), ramp=str(h.get("ramp", 1)))))  # fmt: skip
    if spec.get("deal_size") is not None:
        out.append(planning_pb2.ScenarioLever(
            deal_size=planning_pb2.DealSizeLever(factor=str(spec["deal_size"]))))  # fmt: skip
    for j, p in enumerate(spec.get("new_pipeline") or []):
        try:
            currency = str(p["currency"]).upper()
            minor = Decimal(str(p["amount"])).scaleb(CURRENCY_EXPONENTS[currency])
            out.append(planning_pb2.ScenarioLever(new_pipeline=planning_pb2.NewPipelineLever(
                owner=str(p["owner"]), stage=str(p["stage"]), count=int(p.get("count", 1)),
                amount_minor=int(minor), currency=currency,
                close_date=str(p.get("close_date") or ""), region=str(p.get("region") or ""))))  # fmt: skip
        except (KeyError, ArithmeticError, ValueError, TypeError) as exc:
            raise SystemExit(f"quotient plan compare: {where}.new_pipeline[{j}]: {exc!s}") from None
    return out


def cmd_compare(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import planning_pb2, planning_pb2_grpc
    from service.cli_forecast import build_request

    with open(args.scenarios, encoding="utf-8") as handle:
        specs = yaml.safe_load(handle) or []
    if not isinstance(specs, list):
        raise SystemExit("quotient plan compare: the file is a list of scenarios")
    request = planning_pb2.CompareScenariosRequest(forecast=build_request(args), scenarios=[
        planning_pb2.NamedScenario(name=str(spec.get("name", "")),
                                   levers=_scenario_levers(spec, f"[{i}]"))
        for i, spec in enumerate(specs)])  # fmt: skip
    with open_channel(args.server) as channel:
        try:
            r = planning_pb2_grpc.PlanningServiceStub(channel).CompareScenarios(request)
        except grpc.RpcError as exc:
            return report(exc)
    cur = r.currency
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    head = [*r.group_by, "period"]
    for name in r.scenarios:
        head += [f"{name}: P50", f"{name}: P(target)", f"{name}: commission"]
    writer.writerow(head)
    for row in r.rows:
        cells = [v or ("(all)" if i >= row.level else "") for i, v in enumerate(row.group)]
        cells.append(row.period)
        for f in row.figures:
            reach = f"{f.p_reach_target:.1%}" if f.HasField("p_reach_target") else "-"
            cells += [major(f.p50_minor, cur), reach, major(f.commission_minor, cur)]
        writer.writerow(cells)
    if r.seed:
        print(f"Monte Carlo seed {r.seed} (every scenario)", file=sys.stderr)
    return 0


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``plan decompose``, ``plan simulate`` and ``plan compare``."""
    p = sub.add_parser("plan", help="target planning (server)")
    inner = p.add_subparsers(dest="plan_command", required=True)
    d = inner.add_parser("decompose", help="split a target down a hierarchy (DecomposeTarget)")
    d.add_argument("file", help="YAML plan, e.g. examples/plans/targets.yaml")
    d.add_argument("--csv", action="store_true", help="comma-separated instead of tabs")
    d.add_argument("--server", default=default_server())
    d.set_defaults(func=lambda a: cmd_decompose(a, report))
    from service.cli_forecast import add_forecast_arguments

    m = inner.add_parser("simulate", help="the forecast under levers beside the baseline, with "
                         "commission cost (SimulateScenario)")  # fmt: skip
    add_forecast_arguments(m)
    m.add_argument("--name", default="scenario")
    m.add_argument("--plot", help="write the chosen row before and after, and each lever "
                   "alone (tornado), to FILE.png")  # fmt: skip
    m.add_argument("--plot-group", help="the row to draw: its group values joined by / "
                   "(default: the top row)")  # fmt: skip
    m.add_argument("--html", help="write the table and the picture as a page a planner opens")
    m.add_argument("--win-rate", action="append", help="[STAGE=]FACTOR, e.g. quote=1.2")
    m.add_argument("--deal-size", action="append", help="FACTOR for open deals' amounts")
    m.add_argument("--headcount", action="append",
                   help="FIELD=VALUE:HIRES[:RAMP], e.g. region=South:2:0.5 (new people)")  # fmt: skip
    m.add_argument("--visits", action="append",
                   help="FIELD=VALUE:VISITS:CONVERSION, e.g. region=North:40:0.2 (more visits)")  # fmt: skip
    m.add_argument("--cycle-time", help="FACTOR for open deals' time to close (0.8: 20 %% sooner)")
    m.add_argument("--new-pipeline", action="append",
                   help="OWNER:STAGE:COUNT:AMOUNT:CURRENCY:CLOSE_DATE (amount in major units)")  # fmt: skip
    m.add_argument("--server", default=default_server())
    m.set_defaults(func=lambda a: cmd_simulate(a, report))
    c = inner.add_parser("compare", help="several scenarios side by side (CompareScenarios)")
    c.add_argument("scenarios", help="YAML list of scenarios, e.g. examples/plans/scenarios.yaml")
    add_forecast_arguments(c)
    c.set_defaults(plot=None)
    c.add_argument("--server", default=default_server())
    c.set_defaults(func=lambda a: cmd_compare(a, report))


__all__ = ["add_commands"]
