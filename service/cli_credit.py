"""The ``quotient`` commands for credit: split deals, record deal events, read credits back.

They talk to a running server (``--server``, localhost:50051 by default). Deals and events are
JSON objects shaped like the ``quotient.v1`` messages; an event's ``kind`` may be written short
(``created``, ``stage_changed``...).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from service.channel import default_server, open_channel
from service.cli_input import batches, count_lines, json_objects


def _message(where: str, obj: dict[str, Any], message: Any) -> Any:
    """``obj`` read into ``message`` (a ``quotient.v1`` message); a field the message does not
    have, or a value of the wrong type, stops the command naming where the object came from."""
    from google.protobuf import json_format

    try:
        return json_format.ParseDict(obj, message)
    except json_format.ParseError as exc:
        raise SystemExit(f"{where}: not a {message.DESCRIPTOR.name}: {exc}") from None


def _event_message(where: str, obj: dict[str, Any]) -> Any:
    from quotient.v1 import credit_pb2

    kind = str(obj.get("kind", ""))
    if kind and not kind.startswith("DEAL_EVENT_KIND_"):
        obj = {**obj, "kind": f"DEAL_EVENT_KIND_{kind.upper()}"}
    return _message(where, obj, credit_pb2.DealEvent())


def cmd_split(args: argparse.Namespace, report: Callable[[Any], int]) -> int:
    import grpc

    from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2

    deals = [_message(w, d, types_pb2.Deal()) for w, d in json_objects(args.deal, None, "--deal")]
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
    """Send the events as one batch (stored whole or not at all), or with ``--batch-size N`` in
    batches of N read as they are sent, each stored whole or not at all, with a progress bar on
    standard error for a long file. When a batch is refused or its input is bad, the batches
    before it stay stored and the command says so: sending the same input again is harmless, as
    events already recorded are skipped."""
    import grpc
    from tqdm import tqdm

    from quotient.v1 import credit_pb2, credit_pb2_grpc

    if args.batch_size < 0:
        raise SystemExit("quotient record: --batch-size must be 1 or more (0: one batch)")
    if not args.event and not args.file:
        raise SystemExit("quotient record: give a JSON Lines FILE ('-': standard input) or --event")
    events = (_event_message(w, e) for w, e in json_objects(args.event, args.file))
    groups = batches(events, args.batch_size) if args.batch_size else iter([list(events)])
    total = len(args.event or ()) + (
        count_lines(args.file) if args.file and args.file != "-" else 0
    )
    show = bool(args.batch_size) and total >= 10_000 and not args.quiet
    sent = recorded = duplicates = stored = 0

    def stored_so_far() -> str:
        return (
            f"quotient record: the {stored} batch(es) before it are stored ({sent} event(s): "
            f"{recorded} recorded, {duplicates} already recorded); sending the same input again "
            "skips them"
        )

    with (
        open_channel(args.server) as channel,
        tqdm(total=total, unit="event", disable=not show, file=sys.stderr) as bar,
    ):
        stub = credit_pb2_grpc.CreditServiceStub(channel)
        try:
            for group in groups:
                request = credit_pb2.RecordDealEventsRequest(
                    rule_set=args.rule_set, events=group, omit_lines=args.counts_only
                )
                try:
                    resp = stub.RecordDealEvents(request)
                except grpc.RpcError as exc:
                    code = report(exc)
                    if stored:
                        print(stored_so_far(), file=sys.stderr)
                    return code
                sent += len(group)
                recorded += resp.recorded_count
                duplicates += resp.duplicate_count
                stored += 1
                if not args.batch_size:  # one batch: its counts first, as the reply has them
                    print(f"recorded {recorded} event(s), {duplicates} already recorded")
                for ln in resp.lines:
                    mark = " (correction)" if ln.correction else ""
                    print(
                        f"{ln.deal_id}\t{ln.event_id}\t{ln.split}\t{ln.person}\t"
                        f"{ln.credit_delta_minor:+d}\t{ln.weighted_credit_delta_minor:+d}{mark}"
                    )
                bar.update(len(group))
        except SystemExit as exc:  # bad input after some batches were stored
            if stored:
                print(exc, file=sys.stderr)
                raise SystemExit(stored_so_far()) from None
            raise
    if args.batch_size:
        print(f"recorded {recorded} event(s), {duplicates} already recorded in {stored} batch(es)")
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
    p.add_argument(
        "--batch-size",
        type=int,
        default=0,
        help="send the events in batches of this many, each stored whole or not at all "
        "(default 0: all of them as one batch)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
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
