"""Bulk scoring in batches: ``quotient score --rules FILE --dask ADDRESS`` writes the same CSV as
in-process, batches in file order, with the progress bar on standard error, and an unreachable
scheduler is named."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import service.batch
from engine.rules.compiler import compile_rule_set
from service.batch import DaskCluster, InProcess
from service.cli import main
from service.scoring_batch import score_batches
from tests.conftest import EXAMPLES

SAMPLE = str(EXAMPLES / "default.yaml")
STAGES = ["initial_contact", "needs_confirmed", "quote", "contract_drafted", "won", "lost", "nope"]


def write_deals(path: Path, n: int) -> None:
    """Deals over every stage (and an unknown one), region, size and discount the sample's
    override rows read, so that every row of its tables matches some deal."""
    rng = np.random.default_rng(7)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "stage", "amount_minor", "currency", "region", "discount_pct"])
        for i in range(n):
            amount = int(10 ** rng.uniform(5, 10))
            w.writerow([f"d-{i}", STAGES[int(rng.integers(0, len(STAGES)))], amount, "CNY",
                        ("East", "North", "South")[i % 3],
                        "" if i % 4 else f"{rng.uniform(0, 45):.2f}"])  # fmt: skip


def test_the_csv_is_the_same_on_the_cluster(
    tmp_path: Path, dask_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deals = tmp_path / "deals.csv"
    write_deals(deals, 12_000)
    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    common = ["score", "--csv", str(deals), "--rules", SAMPLE, "--batch-size", "1000"]
    assert main([*common, "--out", str(local), "--quiet"]) == 0
    capsys.readouterr()
    assert main([*common, "--out", str(remote), "--dask", dask_address]) == 0
    err = capsys.readouterr().err
    assert "12000/12000" in err  # the progress bar, on standard error
    assert remote.read_bytes() == local.read_bytes()
    rows = list(csv.DictReader(local.read_text(encoding="utf-8").splitlines()))
    assert [r["id"] for r in rows] == [f"d-{i}" for i in range(12_000)]
    matched = {m for r in rows for m in r["matched_rules"].split()}
    assert "win_rates.overrides.by_region_and_size/east_small_quote" in matched
    assert any(r["problem"].startswith("UNKNOWN_STAGE") for r in rows)


def test_batches_come_back_in_order(dask_cluster: DaskCluster, tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    write_deals(deals, 900)
    records = list(csv.DictReader(deals.read_text(encoding="utf-8").splitlines()))
    for r in records:
        r["amount_minor"] = int(r["amount_minor"])  # type: ignore[assignment]
        if not r["discount_pct"]:
            del r["discount_pct"]
    batches = [records[i : i + 100] for i in range(0, 900, 100)]
    rules = compile_rule_set(Path(SAMPLE).read_text(encoding="utf-8"))
    here = list(score_batches(InProcess(), rules, iter(batches)))
    there = list(score_batches(dask_cluster, rules, iter(batches)))
    assert there == here and sum(len(b) for b in here) == 900


def test_an_unreachable_scheduler_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(service.batch, "CONNECT_TIMEOUT_S", 0.3)
    deals = tmp_path / "deals.csv"
    write_deals(deals, 5)
    address = "tcp://127.0.0.1:9"
    assert main(["score", "--csv", str(deals), "--rules", SAMPLE, "--dask", address]) == 2
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["score", "--csv", str(deals), "--rule-set", "default", "--dask", address])
