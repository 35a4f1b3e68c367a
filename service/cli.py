"""The ``quotient`` command: run the server, and work with rule sets and deals from a shell.

``validate`` and ``test`` work on files alone (no server), so rule-set repositories can run them
in their own CI. ``publish``, ``get``, ``revisions`` and ``services`` talk to a running server;
``score`` scores a CSV file in batches, in-process against a rule-set file or through a server,
with a progress bar on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from engine.errors import QuotientError, RuleSetInvalidError, Violation
from engine.forecast.deals import DEAL_COLUMNS
from service.channel import default_server
from service.cli_analytics import add_commands as add_analytics_commands
from service.cli_commission import add_commands as add_commission_commands
from service.cli_credit import add_commands as add_credit_commands
from service.cli_forecast import add_commands as add_forecast_commands
from service.cli_input import batches, count_lines
from service.cli_planning import add_commands as add_planning_commands
from service.cli_winrates import add_commands as add_winrate_commands

CSV_COLUMNS = DEAL_COLUMNS
OUTPUT_COLUMNS = (
    "id",
    "stage",
    "amount_minor",
    "currency",
    "win_prob",
    "weighted_amount_minor",
    "category",
    "win_prob_source",
    "matched_rules",
    "problem",
)


def _print_violations(violations: Sequence[Violation], file_name: str, out: TextIO) -> None:
    for v in violations:
        where = f"{file_name}:{v.line}:{v.column}" if v.line else file_name
        print(f"{where}: {v.path or '<document>'}: {v.message} [{v.reason}]", file=out)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"quotient: cannot read {path}: {exc.strerror}") from None


# ---------------------------------------------------------------------------------------------
# Local commands


def cmd_validate(args: argparse.Namespace) -> int:
    from engine.rules.compiler import validate_rule_set

    violations = validate_rule_set(_read(args.file))
    if violations:
        _print_violations(violations, args.file, sys.stdout)
        n = len(violations)
        print(f"{args.file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
        return 1
    print(f"{args.file}: valid")
    return 0


def suite_path(rule_file: str) -> Path:
    """The test suite that sits beside a rule-set file: ``x.yaml`` -> ``x_test.yaml``."""
    p = Path(rule_file)
    return p.with_name(f"{p.stem}_test{p.suffix}")


def cmd_test(args: argparse.Namespace) -> int:
    from engine.rules.compiler import compile_rule_set
    from engine.rules.testsuite import parse_suite, run_suite

    suite_file = args.suite or str(suite_path(args.file))
    try:
        rules = compile_rule_set(_read(args.file))
    except RuleSetInvalidError as exc:
        _print_violations(exc.violations, args.file, sys.stdout)
        return 1
    try:
        suite = parse_suite(_read(suite_file))
    except RuleSetInvalidError as exc:
        _print_violations(exc.violations, suite_file, sys.stdout)
        return 1
    results = run_suite(rules, suite)
    failed = 0
    for r in results:
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.name}")
        for d in r.differences:
            print(f"      {d.field}: expected {d.expected!r}, got {d.actual!r}")
        failed += not r.passed
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from engine.rules.schema import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------------------------------------
# Commands that talk to a server


def _channel(address: str) -> Any:
    from service.channel import open_channel

    return open_channel(address)


def _report_rpc_error(exc: Any, file_name: str = "") -> int:
    """Print a failed call's status and its decoded details; return the exit code."""
    from grpc_status import rpc_status

    from quotient.v1 import types_pb2

    status = rpc_status.from_call(exc)
    print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
    if status is not None:
        from google.rpc import error_details_pb2

        for detail in status.details:
            if detail.Is(types_pb2.ViolationList.DESCRIPTOR):
                vl = types_pb2.ViolationList()
                detail.Unpack(vl)
                _print_violations(
                    [
                        Violation(v.path, v.line, v.column, v.reason, v.message)
                        for v in vl.violations
                    ],
                    file_name or "<request>",
                    sys.stderr,
                )
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                extra = " ".join(f"{k}={v}" for k, v in sorted(info.metadata.items()))
                print(f"reason: {info.reason} {extra}".rstrip(), file=sys.stderr)
    return 1


def cmd_publish(args: argparse.Namespace) -> int:
    import grpc

    from engine.rules.compiler import compile_rule_set
    from quotient.v1 import rulesets_pb2, rulesets_pb2_grpc

    content = _read(args.file)
    stub = rulesets_pb2_grpc.RuleSetServiceStub(_channel(args.server))
    try:
        expected = args.expected_revision
        if expected is None:
            try:
                name = compile_rule_set(content).name
            except RuleSetInvalidError:
                name = ""
            expected = 0
            if name:
                try:
                    expected = stub.GetRuleSet(rulesets_pb2.GetRuleSetRequest(name=name)).revision
                except grpc.RpcError as exc:
                    if exc.code() != grpc.StatusCode.NOT_FOUND:
                        raise
        rev = stub.CreateRuleSetRevision(
            rulesets_pb2.CreateRuleSetRevisionRequest(content=content, expected_revision=expected)
        )
    except grpc.RpcError as exc:
        return _report_rpc_error(exc, args.file)
    print(f"published {rev.name} revision {rev.revision} (effective from {rev.effective_from})")
    return 0


def cmd_revisions(args: argparse.Namespace) -> int:
    import grpc

    from quotient.v1 import rulesets_pb2, rulesets_pb2_grpc

    stub = rulesets_pb2_grpc.RuleSetServiceStub(_channel(args.server))
    token = ""
    try:
        while True:
            page = stub.ListRuleSetRevisions(
                rulesets_pb2.ListRuleSetRevisionsRequest(name=args.name, page_token=token)
            )
            for r in page.revisions:
                created = r.create_time.ToDatetime().isoformat(timespec="seconds")
                print(
                    f"{r.name}\t{r.revision}\teffective {r.effective_from}\tcreated {created}Z"
                    f"\t{r.content_hash[:12]}"
                )
            token = page.next_page_token
            if not token:
                return 0
    except grpc.RpcError as exc:
        return _report_rpc_error(exc)


def cmd_services(args: argparse.Namespace) -> int:
    import grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(_channel(args.server))
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    try:
        for response in stub.ServerReflectionInfo(iter([request]), timeout=10):
            for service in response.list_services_response.service:
                print(service.name)
    except grpc.RpcError as exc:
        return _report_rpc_error(exc)
    return 0


# ---------------------------------------------------------------------------------------------
# Scoring


def _csv_records(reader: csv.DictReader[str]) -> Iterator[dict[str, Any]]:
    for row in reader:
        rec: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or value == "":
                continue
            if key == "amount_minor":
                try:
                    rec[key] = int(value)
                except ValueError:
                    rec[key] = value
            elif value.lower() in ("true", "false") and key not in CSV_COLUMNS:
                rec[key] = value.lower() == "true"
            else:
                rec[key] = value
        yield rec


def _score_local(
    rule_file: str, batches: Iterator[list[dict[str, Any]]], dask: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    from engine.rules.compiler import compile_rule_set
    from service.batch import connect
    from service.scoring_batch import score_batches

    rules = compile_rule_set(_read(rule_file))
    executor = connect(dask or "")
    try:
        yield from score_batches(executor, rules, batches)
    finally:
        executor.close()


def _score_remote(
    address: str, rule_set: str, batches: Iterator[list[dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]]:
    """Score through a server, each batch sent as Arrow columns on one StreamScoreDeals call."""
    from engine.forecast.deals import deal_input_from_records
    from engine.money import ppm_to_decimal
    from quotient.v1 import forecast_pb2, forecast_pb2_grpc
    from service.convert_arrow import deals_to_arrow, table_bytes, table_rows

    stub = forecast_pb2_grpc.ForecastServiceStub(_channel(address))
    pending: list[list[dict[str, Any]]] = []

    def requests() -> Iterator[forecast_pb2.ScoreDealsRequest]:
        for records in batches:
            pending.append(records)
            columns = table_bytes(deals_to_arrow(deal_input_from_records(records)))
            yield forecast_pb2.ScoreDealsRequest(rule_set=rule_set, deal_columns=columns)

    for response in stub.StreamScoreDeals(requests()):
        records = pending.pop(0)
        rows = []
        for score, rec in zip(table_rows(response.score_columns), records, strict=True):
            row = {k: rec.get(k, "") for k in ("id", "stage", "amount_minor", "currency")}
            if score["problem_reason"] is not None:
                row["problem"] = f"{score['problem_reason']}: {score['problem_message']}"
            else:
                row.update(
                    win_prob=str(ppm_to_decimal(score["win_prob_ppm"])),
                    weighted_amount_minor=score["weighted_amount_minor"],
                    category=score["category"],
                    win_prob_source=score["win_prob_source"],
                    matched_rules=" ".join(score["matched_rules"]),
                )
            rows.append(row)
        yield rows


def deal_message(rec: dict[str, Any], types_pb2: Any) -> Any:
    """Build a ``quotient.v1.Deal`` from a flat record (unknown keys become string attributes)."""
    deal = types_pb2.Deal()
    for key, value in rec.items():
        if key == "category":
            deal.category = types_pb2.Category.Value(f"CATEGORY_{str(value).upper()}")
        elif key == "amount_minor":
            deal.amount_minor = int(value)
        elif key in CSV_COLUMNS:
            setattr(deal, key, str(value))
        elif isinstance(value, bool):
            deal.attributes[key].bool_value = value
        elif isinstance(value, int):
            deal.attributes[key].int_value = value
        else:
            deal.attributes[key].string_value = str(value)
    return deal


def cmd_score(args: argparse.Namespace) -> int:
    import grpc
    from tqdm import tqdm

    from service.batch import ClusterUnreachableError

    if not args.rules and not args.rule_set:
        raise SystemExit(
            "quotient score: give --rules FILE (in-process) or --rule-set NAME (through --server)"
        )
    if args.dask and not args.rules:
        raise SystemExit("quotient score: --dask scores here, against --rules FILE")
    with contextlib.ExitStack() as stack:
        if args.deal:
            try:
                records: Iterator[dict[str, Any]] = iter([json.loads(d) for d in args.deal])
            except json.JSONDecodeError as exc:
                raise SystemExit(f"quotient score: --deal is not JSON: {exc}") from None
            total = len(args.deal)
        elif args.csv:
            total = max(count_lines(args.csv) - 1, 0)  # less the header
            handle = stack.enter_context(open(args.csv, encoding="utf-8", newline=""))
            records = _csv_records(csv.DictReader(handle))
        else:
            raise SystemExit("quotient score: give --csv FILE or --deal JSON")
        groups = batches(records, args.batch_size)
        results = (
            _score_local(args.rules, groups, args.dask)
            if args.rules
            else _score_remote(args.server, args.rule_set, groups)
        )
        out = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline=""))
            if args.out
            else sys.stdout
        )
        writer = csv.DictWriter(out, fieldnames=OUTPUT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        show = total >= 10_000 and not args.quiet
        failed = 0
        try:
            with tqdm(total=total, unit="deal", disable=not show, file=sys.stderr) as bar:
                for rows in results:
                    writer.writerows(rows)
                    failed += sum(1 for r in rows if r.get("problem"))
                    bar.update(len(rows))
        except grpc.RpcError as exc:
            return _report_rpc_error(exc)
        except RuleSetInvalidError as exc:
            _print_violations(exc.violations, args.rules, sys.stderr)
            return 1
        except ClusterUnreachableError as exc:
            print(f"quotient score: {exc}", file=sys.stderr)
            return 2
    if failed:
        print(
            f"{failed} of {total} deals could not be scored (see the problem column)",
            file=sys.stderr,
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from server import serve
    from service.config import Config

    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    from server import ConfigError

    config = Config.from_env(address=args.address, db_path=Path(args.db) if args.db else None,
                             database_url=args.database_url, dask_address=args.dask,
                             processes=args.processes)  # fmt: skip
    try:
        serve(config)
    except ConfigError as exc:
        print(f"quotient serve: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from engine.errors import QuotientError
    from service.config import Config
    from service.store.database import open_database

    config = Config.from_env(db_path=Path(args.db) if args.db else None,
                             database_url=args.database_url)  # fmt: skip
    try:
        db = open_database(config.store_url, migrate=False)
        try:
            before = db.schema_version()
            done = db.migrate()
            after = db.schema_version()
        finally:
            db.close()
    except QuotientError as exc:
        print(f"quotient migrate: {exc.message}", file=sys.stderr)
        return 2
    print(f"{db.url}: schema version {before} -> {after}"
          + (f" (applied {', '.join(map(str, done))})" if done else " (up to date)"))  # fmt: skip
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quotient", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the gRPC server")
    p.add_argument("--address", default=None, help="host:port (default localhost:50051)")
    p.add_argument("--db", default=None, help="SQLite file (default var/quotient.sqlite3)")
    p.add_argument("--database-url", default=None, help="postgresql://user@host:port/dbname: "
                   "use a PostgreSQL server instead of the SQLite file (QUOTIENT_DATABASE_URL)")  # fmt: skip
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--dask", metavar="ADDRESS", help="run batch jobs on this Dask scheduler "
                   "(tcp://host:8786; default QUOTIENT_DASK_ADDRESS, else in-process)")  # fmt: skip
    p.add_argument("--processes", type=int, default=None, metavar="N",
                   help="serve the address from N processes sharing the store, about a core "
                   "each (default QUOTIENT_PROCESSES, else 1)")  # fmt: skip
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply the store's pending schema migrations (the server "
                       "also applies them when it starts)")  # fmt: skip
    p.add_argument("--db", default=None, help="SQLite file (default var/quotient.sqlite3)")
    p.add_argument("--database-url", default=None, help="postgresql://... (QUOTIENT_DATABASE_URL)")
    p.set_defaults(func=cmd_migrate)

    from service.cli_keys import add_commands as add_key_commands

    add_key_commands(sub)

    p = sub.add_parser("validate", help="validate a rule-set file; print every problem")
    p.add_argument("file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("test", help="run a rule set's test suite (FILE_test.yaml beside it)")
    p.add_argument("file")
    p.add_argument("--suite", default=None, help="test suite file (default: FILE_test.yaml)")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("schema", help="print the JSON Schema of rule-set documents")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("publish", help="publish a rule-set file as a new revision")
    p.add_argument("file")
    p.add_argument("--server", default=default_server())
    p.add_argument(
        "--expected-revision",
        type=int,
        default=None,
        help="the revision you expect to be current (default: read it first)",
    )
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("revisions", help="list a rule set's revisions")
    p.add_argument("name")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=cmd_revisions)

    p = sub.add_parser("services", help="list the server's services (via reflection)")
    p.add_argument("--server", default=default_server())
    p.set_defaults(func=cmd_services)

    p = sub.add_parser("score", help="score deals from a CSV file or JSON; write a CSV table")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--csv", help="deals, one per row; columns as in the Deal message")
    src.add_argument("--deal", action="append", help="one deal as JSON (repeatable)")
    p.add_argument("--rules", help="score in-process against this rule-set file")
    p.add_argument("--rule-set", help="score through the server against this rule set")
    p.add_argument("--server", default=default_server())
    p.add_argument("--out", help="output CSV (default: standard output)")
    p.add_argument("--batch-size", type=int, default=10_000)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--dask", metavar="ADDRESS", help="with --rules: score the batches on this Dask "
                   "scheduler (tcp://host:8786) instead of in-process")  # fmt: skip
    p.set_defaults(func=cmd_score)

    add_credit_commands(sub, _report_rpc_error)
    add_forecast_commands(sub, _report_rpc_error)
    add_winrate_commands(sub, _report_rpc_error)
    add_commission_commands(sub, _report_rpc_error)
    add_planning_commands(sub, _report_rpc_error)
    add_analytics_commands(sub, _report_rpc_error)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except QuotientError as exc:
        print(f"quotient: {exc.message} [{exc.reason}]", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
