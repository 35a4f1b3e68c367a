"""The ``quotient`` command: local validate/test/score, and serve with a graceful SIGTERM."""

from __future__ import annotations

import csv
import io
import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server import Quotient
from service.cli import main
from tests.conftest import EXAMPLES, GOLDEN, ROOT, serve_subprocess

SAMPLE = str(EXAMPLES / "default.yaml")


def test_validate_ok_and_broken(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", SAMPLE]) == 0
    assert "valid" in capsys.readouterr().out
    broken = str(GOLDEN / "rulesets" / "broken_stages.yaml")
    assert main(["validate", broken]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"broken_stages\.yaml:7:\d+: stages\[1\]\.win_rate: .*WIN_RATE_OUT_OF_RANGE", out
    )


def test_test_runs_the_suite_beside_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out and "FAIL" not in out


def test_test_reports_a_failing_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = (
        (EXAMPLES / "default_test.yaml")
        .read_text()
        .replace("expect: {win_prob: 0.1,", "expect: {win_prob: 0.2,")
    )
    (tmp_path / "s.yaml").write_text(suite)
    assert main(["test", SAMPLE, "--suite", str(tmp_path / "s.yaml")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  a 1,000,000.00 deal at initial contact" in out
    assert "win_prob: expected '0.2', got '0.1'" in out


def test_score_a_csv_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "id,amount_minor,currency,stage,region,discount_pct\n"
        "a,100000000,CNY,initial_contact,North,\n"
        "b,100000000,CNY,quote,West,35\n"
        "c,100000000,CNY,nowhere,North,\n"
        "d,12x,CNY,quote,North,\n"
    )
    assert main(["score", "--csv", str(deals), "--rules", SAMPLE]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["weighted_amount_minor"] for r in rows[:2]] == ["10000000", "40000000"]
    assert rows[1]["matched_rules"] == "win_rates.overrides.by_region_and_size/deep_discount"
    assert rows[2]["problem"].startswith("UNKNOWN_STAGE")
    assert rows[3]["problem"].startswith("INVALID_AMOUNT")
    assert "2 of 4 deals could not be scored" in captured.err


def test_score_a_csv_through_a_server_gives_the_same_rows(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "id,amount_minor,currency,stage,region,discount_pct,close_date\n"
        "a,100000000,CNY,initial_contact,North,,2026-12-31\n"
        "b,100000000,CNY,quote,West,35,\n"
        "c,100000000,CNY,nowhere,North,,\n"
        "d,12x,CNY,quote,North,,\n"
        "e,500,JPY,contract_drafted,East,12.5,2026-13-01\n"
    )
    assert main(["score", "--csv", str(deals), "--rules", SAMPLE]) == 0
    local = capsys.readouterr().out
    assert main(["score", "--csv", str(deals), "--rule-set", "default",
                 "--server", f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    remote = capsys.readouterr().out
    assert remote == local
    rows = list(csv.DictReader(io.StringIO(remote)))
    assert rows[0]["win_prob"] == "0.1" and rows[1]["win_prob_source"] == "override"
    assert rows[4]["problem"].startswith("INVALID_DATE")


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert '"title": "Quotient rule set"' in capsys.readouterr().out


@pytest.mark.slow
def test_serve_publishes_the_sample_and_drains_on_sigterm(tmp_path: Path) -> None:
    with serve_subprocess(tmp_path / "q.sqlite3") as (proc, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            status = (
                health_pb2_grpc.HealthStub(ch)
                .Check(health_pb2.HealthCheckRequest(), timeout=10)
                .status
            )
            assert status == health_pb2.HealthCheckResponse.SERVING
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "service.cli",
                    "revisions",
                    "default",
                    "--server",
                    f"127.0.0.1:{port}",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            assert out.startswith("default\t1\t")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        rest = proc.stderr.read()
        assert "draining" in rest and "stopped" in rest
