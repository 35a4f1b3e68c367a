"""Instructions per recorded deal event, counted by valgrind: a figure the machine's noise does
not move.

Why this exists: on this shared machine a wall-clock rate moves by 30 % from one minute to the
next, so a change worth 5-10 % cannot be seen in ``bench.credit``. The number of instructions a
workload executes barely moves. This runs the work of RecordDealEvents in-process (requests
parsed from their bytes, events decoded, :meth:`CreditLedger.record` into a fresh SQLite file)
under ``valgrind --tool=cachegrind --cache-sim=no``, once with a few batches and once with more,
and prints the difference per event: start-up (imports, compiling, publishing the sample) cancels
out. The counted process tunes its collector as the server does (``server.tune_gc``), so a full
collection does not fall into one count and not into another. The count covers Python and
SQLite alike; time spent waiting for the disk is not counted, so it complements
``bench.credit`` rather than replacing it.

Workloads: ``created`` (each event creates a deal with a 70/30 split, as ``bench.credit``) and
``stage`` (those deals then move to the next stage: the steady state of a CRM feed; its figure is
the created-then-moved run minus the created-only one). ``--against DIR`` counts another checkout
too (a ``git worktree`` of an earlier commit), in the same way, for a ratio.

Needs valgrind (not a Python package: install it from the distribution). Run
``.venv/bin/python -m bench.instructions --help``. Each checkout takes a warm-up and two runs per
workload under valgrind, two to three minutes each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script (the counted run): import the checkout's code
    sys.path.pop(0)

from bench import ROOT, machine_summary, print_table

KINDS = ("created", "stage")


def write_requests(path: Path, kind: str, batches: int, size: int) -> None:
    """Serialized RecordDealEvents requests, length-prefixed, made outside the counted run."""
    from bench.credit import event_batch, stage_batch

    with path.open("wb") as out:
        for b in range(batches):
            requests = [event_batch(b, size)]
            if kind == "stage":
                requests.append(stage_batch(b, size))
            for request in requests:
                data = request.SerializeToString()
                out.write(len(data).to_bytes(8, "little") + data)


def worker(path: Path) -> None:
    """Record the requests in ``path`` into a fresh store (run under valgrind)."""
    from quotient.v1 import credit_pb2
    from server import publish_sample, tune_gc
    from service.convert_credit import events_from_proto
    from service.credit_ledger import CreditLedger
    from service.repository import RuleSetRepository
    from service.store.database import open_database
    from service.store.ledger import LedgerStore
    from service.store.revisions import RevisionStore

    def clock() -> dt.datetime:
        return dt.datetime(2026, 11, 22, tzinfo=dt.UTC)

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(str(Path(tmp) / "count.sqlite3"))
        repository = RuleSetRepository(RevisionStore(db), clock)
        publish_sample(repository)
        ledger = CreditLedger(LedgerStore(db), repository, clock)
        tune_gc()  # as the server does: no full collection lands in one count and not another
        data = path.read_bytes()
        at = 0
        while at < len(data):
            n = int.from_bytes(data[at : at + 8], "little")
            request = credit_pb2.RecordDealEventsRequest.FromString(data[at + 8 : at + 8 + n])
            ledger.record(request.rule_set, events_from_proto(request.events))
            at += 8 + n
        db.close()


def count(checkout: Path, requests: Path) -> int:
    """Instructions of one worker run of ``checkout`` on ``requests``."""
    # This file runs as a script, so that a checkout from before it existed can be counted; all
    # it imports comes from ``checkout``.
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(checkout))
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, "--worker", str(requests)],
        cwd=checkout, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the counted run of {checkout} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_event(checkout: Path, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    """Instructions per event of each workload: (large run - small run) / extra events."""
    out: dict[str, float] = {}
    totals: dict[tuple[str, int], int] = {}
    for kind in args.kinds:
        for batches in (args.small, args.large):
            path = tmp / f"{kind}-{batches}.bin"
            if not path.exists():
                write_requests(path, kind, batches, args.batch_size)
            if not totals:  # a warm-up, not counted: it writes the checkout's byte code and
                count(checkout, path)  # compiled loops; one outside valgrind did not spare the
                # first counted run from compiling them again (numba's cache is per CPU, and
                # valgrind's apparently differs from the machine's)
            totals[kind, batches] = count(checkout, path)
            print(f"  {checkout}: {kind}, {batches} batches: {totals[kind, batches]:,} "
                  "instructions", flush=True)  # fmt: skip
    extra = (args.large - args.small) * args.batch_size
    created = (totals["created", args.large] - totals["created", args.small]) / extra
    if "created" in args.kinds:
        out["created"] = created
    if "stage" in args.kinds:
        both = (totals["stage", args.large] - totals["stage", args.small]) / extra
        out["stage"] = both - created
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.instructions",
                                description=__doc__.splitlines()[0])  # fmt: skip
    p.add_argument("--against", type=Path, help="another checkout to count the same way")
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=["created"],
                   help="workloads (created; stage also runs created)")  # fmt: skip
    p.add_argument("--small", type=int, default=2, help="batches of the small run (2)")
    p.add_argument("--large", type=int, default=6, help="batches of the large run (6)")
    p.add_argument("--batch-size", type=int, default=1000, help="events per batch (1,000)")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # the counted run itself
    args = p.parse_args(argv)
    if "stage" in args.kinds and "created" not in args.kinds:
        args.kinds = ["created", *args.kinds]
    if args.large <= args.small:
        p.error("--large must be more than --small")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    machine = machine_summary()
    print(f"bench.instructions on {machine['platform']}, {machine['date']}")
    checkouts = [ROOT] + ([args.against.resolve()] if args.against else [])
    with tempfile.TemporaryDirectory() as tmp:
        counts = {c: per_event(c, args, Path(tmp)) for c in checkouts}
    rows = []
    for kind in args.kinds:
        row = [kind, f"{counts[ROOT][kind]:,.0f}"]
        if args.against:
            theirs = counts[checkouts[1]][kind]
            row += [f"{theirs:,.0f}", f"{counts[ROOT][kind] / theirs:.3f}x"]
        rows.append(row)
    headers = ["workload", "instructions/event (this checkout)"]
    if args.against:
        headers += [f"({args.against})", "ratio"]
    print_table(
        f"RecordDealEvents in-process, batches of {args.batch_size:,}: "
        f"({args.large} - {args.small} batches) / events",
        headers,
        rows,
    )


if __name__ == "__main__":
    main()
