"""``quotient keys create|list|revoke`` and ``quotient audit``: API keys and the audit log, on the
server's store file directly (run them where the server runs: whoever can read the store file
already holds everything the keys protect)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Any

from engine.errors import QuotientError


def _keys(args: argparse.Namespace) -> Any:
    from service.config import Config
    from service.store.database import open_database
    from service.store.keys import KeyStore

    config = Config.from_env()
    if args.db or not config.database_url:
        db = Path(args.db) if args.db else config.db_path
        if not db.is_file():
            raise SystemExit(f"quotient {args.command}: no store at {db} (start the server once)")
        return KeyStore(open_database(str(db)))
    return KeyStore(open_database(config.database_url))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


def cmd_create(args: argparse.Namespace) -> int:
    from service.store.keys import parse_roles

    keys = _keys(args)
    try:
        key, token = keys.create(args.name, parse_roles(args.role or []), _now())
    except QuotientError as exc:
        print(f"quotient keys create: {exc.message}", file=sys.stderr)
        return 2
    keys.audit(_now(), _actor(), _actor(), "keys create", f"key {key.key_id} ({key.name}) "
               f"roles {','.join(sorted(r.value for r in key.roles))}", "OK")  # fmt: skip
    print(token)
    print(f"key {key.key_id} ({key.name}), roles {', '.join(sorted(r.value for r in key.roles))}: "
          "the token above is shown once; give it to the caller as 'authorization: Bearer "
          "<token>' (the CLI reads QUOTIENT_TOKEN)", file=sys.stderr)  # fmt: skip
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["key_id", "name", "roles", "created", "revoked"])
    for k in _keys(args).list():
        writer.writerow([k.key_id, k.name, ",".join(sorted(r.value for r in k.roles)),
                         k.created_at, k.revoked_at or ""])  # fmt: skip
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    keys = _keys(args)
    try:
        key = keys.revoke(args.key_id, _now())
    except QuotientError as exc:
        print(f"quotient keys revoke: {exc.message}", file=sys.stderr)
        return 2
    keys.audit(_now(), _actor(), _actor(), "keys revoke", f"key {key.key_id} ({key.name})", "OK")
    print(f"revoked key {key.key_id} ({key.name}) at {key.revoked_at}", file=sys.stderr)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    writer.writerow(["seq", "at", "key_id", "who", "action", "target", "outcome"])
    for e in _keys(args).audit_log(args.limit):
        writer.writerow([e.seq, e.at, e.key_id, e.key_name, e.action, e.target, e.outcome])
    return 0


def add_commands(sub: Any) -> None:
    """Register ``keys`` and ``audit``."""
    p = sub.add_parser("keys", help="API keys (on the store file)")
    inner = p.add_subparsers(dest="keys_command", required=True)
    c = inner.add_parser("create", help="create a key and print its token once")
    c.add_argument("--name", required=True, help="who or what uses it, e.g. crm-prod")
    c.add_argument("--role", action="append", help="crm, finance, planner or admin (repeatable)")
    c.add_argument(
        "--db", help="the store file (default: QUOTIENT_DB_PATH or var/quotient.sqlite3)"
    )
    c.set_defaults(func=cmd_create)
    ls = inner.add_parser("list", help="every key, revoked ones too (never a secret)")
    ls.add_argument("--db")
    ls.set_defaults(func=cmd_list)
    r = inner.add_parser("revoke", help="revoke a key: its token stops working at once")
    r.add_argument("key_id")
    r.add_argument("--db")
    r.set_defaults(func=cmd_revoke)
    a = sub.add_parser("audit", help="the audit log: who published, trained, ran what (store file)")
    a.add_argument("--limit", type=int, default=1000, help="the latest N entries (1000)")
    a.add_argument("--db")
    a.set_defaults(func=cmd_audit)


__all__ = ["add_commands"]
