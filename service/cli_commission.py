"""``quotient commission run|statement|compare|payments``: commission runs through a server. Amounts are
printed in major units of the plan's currency; ``statement --html FILE`` also writes a readable
page."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from engine.money import CURRENCY_EXPONENTS
from service.channel import default_server, open_channel
from service.cli_forecast import major


def _targets(items: list[str] | None) -> list[tuple[str, int]]:
    out = []
    for text in items or []:
        person, _, amount = text.partition("=")
        try:
            out.append((person, int(Decimal(amount).scaleb(2))))
        except ArithmeticError:
            raise SystemExit(
                f"quotient commission: --target {text!r}: expected PERSON=AMOUNT"
            ) from None
    return out


def cmd_run(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import commission_pb2, commission_pb2_grpc

    request = commission_pb2.RunCommissionRequest(
        rule_set=args.rule_set, period=args.period, first_date=args.first, last_date=args.last,
        as_of_date=args.as_of or "", run_key=args.run_key or "", dry_run=args.dry_run,
        previous_run_key=args.previous_run_key,
        targets=[commission_pb2.PersonTarget(person=p, target_minor=t)
                 for p, t in _targets(args.target)],
    )  # fmt: skip
    with open_channel(args.server) as channel:
        try:
            run = commission_pb2_grpc.CommissionServiceStub(channel).RunCommission(request)
        except grpc.RpcError as exc:
            return report(exc)
    what = "dry run" if run.dry_run else f"run {run.run_key}"
    note = " (already stored with these inputs)" if run.already_existed else ""
    print(f"{what}{note}: {run.rule_set} revision {run.revision}, period {run.period} "
          f"({run.first_date}..{run.last_date}) as of {run.as_of_date}; results "
          f"{run.result_sha256[:12]}, credits {run.credit_sha256[:12]}", file=sys.stderr)  # fmt: skip
    if run.empty:
        print("no deal was won in the period: nothing to pay", file=sys.stderr)
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["person", "plan", "base", "pay", "currency", "flags"])
    for p in run.people:
        writer.writerow([p.person, p.plan or "-", major(p.base_minor, p.currency or "CNY"),
                         major(p.pay_minor, p.currency or "CNY"), p.currency,
                         " ".join(p.flags)])  # fmt: skip
    return 0


def cmd_statement(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import commission_pb2, commission_pb2_grpc

    with open_channel(args.server) as channel:
        try:
            s = commission_pb2_grpc.CommissionServiceStub(channel).GetStatement(
                commission_pb2.GetStatementRequest(run_key=args.run_key, person=args.person)
            )
        except grpc.RpcError as exc:
            return report(exc)
    cur = s.currency or "CNY"
    writer = csv.writer(sys.stdout, delimiter="," if args.csv else "\t", lineterminator="\n")
    writer.writerow(["line", "what", "base", "rate", "amount"])
    exponent = CURRENCY_EXPONENTS.get(cur, 2)

    def bound(value: int, basis: str) -> str:
        if basis == "attainment":
            return f"{Decimal(value).scaleb(-4).normalize():f} %"
        return major(value, cur)

    for what, base_minor, amount_minor in span_lines(s):
        writer.writerow(["span", what, major(base_minor, cur), "", major(amount_minor, cur)])
    for t in s.tiers:
        upper = bound(t.upper, t.basis) if t.HasField("upper") else "inf"
        base = Fraction(t.base_in_tier) / 10**exponent
        writer.writerow(["tier", f"{t.mode} [{bound(t.lower, t.basis)}, {upper})",
                         f"{Decimal(base.numerator) / Decimal(base.denominator):,.2f}",
                         f"{Decimal(t.rate_ppm).scaleb(-6).normalize():f}",
                         major(t.pay_minor, cur)])  # fmt: skip
    for a in s.adjustments:
        writer.writerow(["adjustment", a.reason, "", "", major(a.amount_minor, cur)])
    for d in s.deals:
        writer.writerow(["deal", d.deal_id, major(d.base_minor, cur), "",
                         major(d.commission_minor, cur)])  # fmt: skip
    for kind, what, amount in settlement_lines(s):
        writer.writerow([kind, what, "", "", major(amount, cur)])
    writer.writerow(["total", s.plan, major(s.base_minor, cur), "", major(s.pay_minor, cur)])
    attainment = (f"{Decimal(s.attainment_ppm).scaleb(-4):.1f} %"
                  if s.HasField("attainment_ppm") else "-")  # fmt: skip
    print(f"{s.person} in run {s.run_key}: attainment {attainment}; flags "
          f"{' '.join(s.flags) or '-'}", file=sys.stderr)  # fmt: skip
    if args.html:
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(statement_html(s))
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def cmd_payments(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    """Record payments and refunds from a CSV file: payment_id, deal_id, paid_date, amount (major
    units), currency, kind (payment or refund)."""
    import grpc

    from quotient.v1 import commission_pb2, commission_pb2_grpc

    kinds = {"payment": commission_pb2.PAYMENT_KIND_PAYMENT,
             "refund": commission_pb2.PAYMENT_KIND_REFUND}  # fmt: skip
    payments = []
    with open(args.file, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                currency = row["currency"].strip().upper()
                amount = Decimal(row["amount"].strip()).scaleb(CURRENCY_EXPONENTS[currency])
                if amount != amount.to_integral_value():
                    raise ValueError(f"{row['amount']} has more places than {currency}")
                payments.append(commission_pb2.Payment(
                    payment_id=row["payment_id"], deal_id=row["deal_id"],
                    paid_date=row["paid_date"], amount_minor=int(amount), currency=currency,
                    kind=kinds[(row.get("kind") or "payment").strip().lower()]))  # fmt: skip
            except (KeyError, ArithmeticError, ValueError, AttributeError) as exc:
                raise SystemExit(f"quotient commission payments: {args.file} line {line}: "
                                 f"{exc!s}") from None  # fmt: skip
    with open_channel(args.server) as channel:
        try:
            r = commission_pb2_grpc.CommissionServiceStub(channel).RecordPayments(
                commission_pb2.RecordPaymentsRequest(rule_set=args.rule_set, payments=payments)
            )
        except grpc.RpcError as exc:
            return report(exc)
    print(f"recorded {r.recorded_count} payments ({r.duplicate_count} already recorded)",
          file=sys.stderr)  # fmt: skip
    return 0


def settlement_lines(s: Any) -> list[tuple[str, str, int]]:
    """The statement's lines after its deal lines: bonuses, then, when anything stands between
    what was earned and what is paid, the earned subtotal and each step of the settlement."""
    out = [("bonus", f"{b.kind} {b.id} {b.deal_id}".strip(), b.amount_minor) for b in s.bonuses]
    st = s.settlement
    steps = [
        ("holdback", "withheld", -st.withheld_minor),
        ("holdback", "released", st.released_minor),
        *[("clawback", f"{c.reason} {c.deal_id} (won {c.won_date}, {c.event_date})",
           -c.amount_minor) for c in s.clawbacks],
        ("clawback", "taken from the holdback reserve", st.clawback_from_reserve_minor),
        ("balance", "negative balance brought in", st.carry_in_minor),
        ("balance", "negative balance carried forward", -st.carry_out_minor),
        ("draw", "draw top-up", st.draw_top_up_minor),
        ("draw", "draw recovered", -st.draw_recovered_minor),
    ]  # fmt: skip
    steps = [step for step in steps if step[2]]
    if steps:
        out.append(("earned", "commission and bonuses", s.earned_minor))
        out += steps
    return out


def cmd_compare(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import commission_pb2, commission_pb2_grpc

    with open_channel(args.server) as channel:
        try:
            c = commission_pb2_grpc.CommissionServiceStub(channel).CompareRuns(
                commission_pb2.CompareRunsRequest(
                    before_run_key=args.before, after_run_key=args.after
                )
            )
        except grpc.RpcError as exc:
            return report(exc)
    print(f"{c.before_run_key} -> {c.after_run_key}: {' '.join(c.run_reasons) or 'same inputs'}; "
          f"total pay {c.total_pay_before_minor} -> {c.total_pay_after_minor} (minor units)",
          file=sys.stderr)  # fmt: skip
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["person", "deal", "before", "after", "why"])
    for p in c.people:
        writer.writerow([p.person, "(pay)", p.pay_before_minor, p.pay_after_minor,
                         " ".join(p.reasons)])  # fmt: skip
        for d in p.deals:
            writer.writerow([p.person, d.deal_id, d.commission_before_minor,
                             d.commission_after_minor, ""])  # fmt: skip
    return 0


def span_lines(s: Any) -> list[tuple[str, int, int]]:
    """A statement's plan spans (a plan switch inside the period) as (what, base, commission)."""
    out = []
    for x in s.spans:
        target = major(x.target_minor, s.currency or "CNY") if x.HasField("target_minor") else "-"
        out.append((f"{x.first_date} to {x.last_date}: {x.plan or 'no plan'} ({x.plan_rule or '-'}),"
                    f" target {target}", x.base_minor, x.commission_minor))  # fmt: skip
    return out


def statement_html(s: Any) -> str:
    """A readable, self-contained HTML page of a statement (every value escaped)."""
    from html import escape

    cur = s.currency or "CNY"
    rows = []
    for what, base_minor, amount_minor in span_lines(s):
        rows.append(f"<tr><td>span</td><td>{escape(what)}</td>"
                    f"<td>{escape(major(base_minor, cur))}</td><td></td>"
                    f"<td>{escape(major(amount_minor, cur))}</td></tr>")  # fmt: skip
    for t in s.tiers:
        upper = str(t.upper) if t.HasField("upper") else "&infin;"
        rows.append(f"<tr><td>tier {t.tier + 1}</td><td>{escape(t.mode)} [{t.lower}, {upper})"
                    f"</td><td>{escape(t.base_in_tier)}</td><td>"
                    f"{Decimal(t.rate_ppm).scaleb(-6).normalize():f}</td>"
                    f"<td>{escape(major(t.pay_minor, cur))}</td></tr>")  # fmt: skip
    for a in s.adjustments:
        rows.append(f"<tr><td>adjustment</td><td>{escape(a.reason)}</td><td></td><td></td>"
                    f"<td>{escape(major(a.amount_minor, cur))}</td></tr>")  # fmt: skip
    for d in s.deals:
        rows.append(f"<tr><td>deal</td><td>{escape(d.deal_id)}</td>"
                    f"<td>{escape(major(d.base_minor, cur))}</td><td></td>"
                    f"<td>{escape(major(d.commission_minor, cur))}</td></tr>")  # fmt: skip
    for kind, what, amount in settlement_lines(s):
        rows.append(f"<tr><td>{escape(kind)}</td><td>{escape(what)}</td><td></td><td></td>"
                    f"<td>{escape(major(amount, cur))}</td></tr>")  # fmt: skip
    attainment = (f"{Decimal(s.attainment_ppm).scaleb(-4):.1f} %"
                  if s.HasField("attainment_ppm") else "no target")  # fmt: skip
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Statement {escape(s.person)} {escape(s.run_key)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}</style></head><body>"
        f"<h1>{escape(s.person)}</h1><p>Run {escape(s.run_key)}, plan {escape(s.plan or '-')}, "
        f"base {escape(major(s.base_minor, cur))} {escape(cur)}, attainment {attainment}, "
        f"flags {escape(' '.join(s.flags) or '-')}</p>"
        "<table><tr><th>line</th><th>what</th><th>base</th><th>rate</th><th>amount</th></tr>"
        + "".join(rows)
        + f"<tr><th>total</th><th></th><th></th><th></th><th>{escape(major(s.pay_minor, cur))}"
        "</th></tr></table></body></html>\n"
    )


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``commission run`` and ``commission statement``."""
    p = sub.add_parser("commission", help="commission runs and statements (server)")
    inner = p.add_subparsers(dest="commission_command", required=True)
    r = inner.add_parser("run", help="run commission for a period (RunCommission)")
    r.add_argument("--period", required=True, help="the period's label, e.g. 2026-03")
    r.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    r.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    r.add_argument("--as-of", help="YYYY-MM-DD (default: today on the server)")
    r.add_argument("--run-key", help="unique key of the run (required unless --dry-run)")
    r.add_argument("--dry-run", action="store_true", help="calculate, store nothing")
    r.add_argument("--target", action="append", help="PERSON=AMOUNT in major units (repeatable)")
    r.add_argument("--previous-run-key", default="",
                   help="the run whose closing balances open this one (default: the latest "
                        "stored run for an earlier period)")  # fmt: skip
    r.add_argument("--rule-set", default="default")
    r.add_argument("--server", default=default_server())
    r.set_defaults(func=lambda a: cmd_run(a, report))
    s = inner.add_parser("statement", help="a person's statement in a run (GetStatement)")
    s.add_argument("--run-key", required=True)
    s.add_argument("--person", required=True)
    s.add_argument("--csv", action="store_true", help="comma-separated instead of tabs")
    s.add_argument("--html", help="also write the statement as a readable HTML page")
    s.add_argument("--server", default=default_server())
    s.set_defaults(func=lambda a: cmd_statement(a, report))
    m = inner.add_parser("payments", help="record payments and refunds from CSV (RecordPayments)")
    m.add_argument("file", help="CSV: payment_id,deal_id,paid_date,amount,currency,kind")
    m.add_argument("--rule-set", default="default")
    m.add_argument("--server", default=default_server())
    m.set_defaults(func=lambda a: cmd_payments(a, report))
    c = inner.add_parser("compare", help="what changed between two runs (CompareRuns)")
    c.add_argument("--before", required=True, help="run key")
    c.add_argument("--after", required=True, help="run key")
    c.add_argument("--server", default=default_server())
    c.set_defaults(func=lambda a: cmd_compare(a, report))


__all__ = ["add_commands"]
