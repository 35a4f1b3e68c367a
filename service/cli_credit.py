"""The ``quotient`` commands for credit: split deals, record deal events, read credits back.

They talk to a running server (``--server``, localhost:50051 by default). Deals and events are
JSON objects shaped like the ``quotient.v1`` messages; an event's ``kind`` may be written short
(``created``, ``stage_changed``...).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from service.channel import default_server, open_channel


def _json_objects(items: list[str] | None, path: str | None) -> Iterator[dict[str, Any]]:
    """Objects from repeated JSON arguments and/or a JSON Lines file ('-' is standard input)."""
    for item in items or []:
        yield json.loads(item)
    if path:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        try:
            for n, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise SystemExit(f"{path}:{n}: not JSON: {exc}") from None
        finally:
            if handle is not sys.stdin:
                handle.close()


def _event_message(obj: dict[str, Any]) -> Any:
    from google.protobuf import json_format

    from quotient.v1 import credit_pb2

    kind = str(obj.get("kind", ""))
    if kind and not kind.startswith("DEAL_EVENT_KIND_"):
        obj = {**obj, "kind": f"DEAL_EVENT_KIND_{kind.upper()}"}
    return json_format.ParseDict(obj, credit_pb2.DealEvent())


def cmd_split(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc
    from google.protobuf import json_format

    from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2

    deals = [json_format.ParseDict(d, types_pb2.Deal()) for d in _json_objects(args.deal, None)]
    with open_channel(args.server) as channel:
        try:
            resp = credit_pb2_grpc.CreditServiceStub(channel).SplitCredits(
                credit_pb2.SplitCreditsRequest(rule_set=args.rule_set, deals=deals)
            )
        except grpc.RpcError as exc:
            return report(exc)
    print("deal_id\tsplit\tperson\tcredit_minor\tweighted_credit_minor")
    for d in resp.deals:
        if d.HasField("problem"):
            print(f"{d.deal_id}\t-\t-\t{d.problem.reason}: {d.problem.message}")
        for p in d.parts:
            print(
                f"{d.deal_id}\t{p.split}\t{p.person}\t{p.credit_minor}\t{p.weighted_credit_minor}"
            )
    return 1 if resp.failed_count else 0


def cmd_record(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import credit_pb2, credit_pb2_grpc

    events = [_event_message(e) for e in _json_objects(args.event, args.file)]
    with open_channel(args.server) as channel:
        try:
            resp = credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
                credit_pb2.RecordDealEventsRequest(
                    rule_set=args.rule_set, events=events, omit_lines=args.counts_only
                )
            )
        except grpc.RpcError as exc:
            return report(exc)
    print(f"recorded {resp.recorded_count} event(s), {resp.duplicate_count} already recorded")
    for ln in resp.lines:
        mark = " (correction)" if ln.correction else ""
        print(
            f"{ln.deal_id}\t{ln.event_id}\t{ln.split}\t{ln.person}\t"
            f"{ln.credit_delta_minor:+d}\t{ln.weighted_credit_delta_minor:+d}{mark}"
        )
    return 0


def cmd_credits(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc
    from google.protobuf import json_format

    from quotient.v1 import credit_pb2, credit_pb2_grpc

    request = credit_pb2.GetCreditsRequest(
        deal_id=args.deal or "", person=args.person or "", include_lines=args.lines
    )
    if args.as_of:
        json_format.ParseDict({"as_of": args.as_of}, request)
    with open_channel(args.server) as channel:
        try:
            resp = credit_pb2_grpc.CreditServiceStub(channel).GetCredits(request)
        except grpc.RpcError as exc:
            return report(exc)
    print("deal_id\tsplit\tperson\tcredit_minor\tweighted_credit_minor\tcurrency")
    for t in resp.totals:
        print(
            f"{t.deal_id}\t{t.split}\t{t.person}\t{t.credit_minor}\t{t.weighted_credit_minor}\t"
            f"{t.currency}"
        )
    for ln in resp.lines:
        print(
            f"  line {ln.line_id}: {ln.event_id} {ln.event_time.ToJsonString()} {ln.split} "
            f"{ln.person} {ln.credit_delta_minor:+d} {ln.weighted_credit_delta_minor:+d}"
        )
    return 0


def add_commands(sub: Any, report: Callable[[Any], int]) -> None:
    """Register ``split``, ``record`` and ``credits`` on the main parser's subparsers."""
    p = sub.add_parser("split", help="split deals' credit among their teams (SplitCredits)")
    p.add_argument("--deal", action="append", required=True, help="a deal as JSON (repeatable)")
    p.add_argument("--rule-set", default="default")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_split(a, report))

    p = sub.add_parser("record", help="record deal events into the credit ledger")
    p.add_argument("file", nargs="?", help="events as JSON Lines ('-': standard input)")
    p.add_argument("--event", action="append", help="an event as JSON (repeatable)")
    p.add_argument("--rule-set", default="default")
    p.add_argument(
        "--counts-only",
        action="store_true",
        help="print only how many events were recorded (the reply leaves the lines out)",
    )
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_record(a, report))

    p = sub.add_parser("credits", help="credits of a deal or a person, now or as of a time")
    p.add_argument("--deal", help="deal id")
    p.add_argument("--person", help="person id")
    p.add_argument("--as-of", help="RFC 3339 time, e.g. 2026-03-02T09:30:00Z")
    p.add_argument("--lines", action="store_true", help="also print the ledger lines")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=lambda a: cmd_credits(a, report))


__all__ = ["add_commands"]
