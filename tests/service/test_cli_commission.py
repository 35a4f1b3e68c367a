"""``quotient commission run`` and ``statement`` against a real server: the tour's March deal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server import Quotient
from service.cli import main


def test_run_and_statement(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    deal = {"amount_minor": 100000000, "currency": "CNY", "stage": "initial_contact",
            "owner": "li.wei", "team": [{"person": "li.wei", "ratio": "0.7"},
                                        {"person": "zhang.min", "ratio": "0.3"}]}  # fmt: skip
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"event_id": "e-1", "deal_id": "d-1", "event_time": "2026-03-02T09:00:00Z",
                    "kind": "created", "deal": deal}) + "\n"
        + json.dumps({"event_id": "e-2", "deal_id": "d-1", "event_time": "2026-03-20T15:30:00Z",
                      "kind": "won"}) + "\n"
    )  # fmt: skip
    assert main(["record", str(events), *server]) == 0
    capsys.readouterr()
    period = ["--period", "2026-03", "--from", "2026-03-01", "--to", "2026-03-31",
              "--as-of", "2026-03-31"]  # fmt: skip
    assert main(["commission", "run", *period, "--run-key", "m1", *server]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "person\tplan\tbase\tpay\tcurrency\tflags",
        "li.wei\taccount_executive\t700,000.00\t70,000.00\tCNY\t",
        "zhang.min\taccount_executive\t300,000.00\t30,000.00\tCNY\t",
    ]
    assert err.startswith("run m1: default revision 1, period 2026-03")
    assert main(["commission", "statement", "--run-key", "m1", "--person", "li.wei", "--csv",
                 *server]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == [
        'tier,"marginal [0 %, 50 %)","400,000.00",0.1,"40,000.00"',
        'tier,"retroactive [50 %, 100 %)","300,000.00",0.1,"30,000.00"',
        'tier,"marginal [100 %, inf)",0.00,0.15,0.00',
        'deal,d-1,"700,000.00",,"70,000.00"',
        'total,account_executive,"700,000.00",,"70,000.00"',
    ]
    assert "attainment 87.5 %" in err
    # A dry run with another target: nothing stored, the figures follow the target.
    assert main(["commission", "run", *period, "--dry-run", "--target", "li.wei=1400000",
                 *server]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "li.wei\taccount_executive\t700,000.00\t70,000.00" in out  # 50 %: unlocked exactly
    page = tmp_path / "li.html"
    assert main(["commission", "statement", "--run-key", "m1", "--person", "li.wei",
                 "--html", str(page), *server]) == 0  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<h1>li.wei</h1>" in html
    assert "70,000.00" in html and "attainment 87.5 %" in html
    assert main(["commission", "run", *period, "--run-key", "m2", "--target",
                 "li.wei=2000000", *server]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["commission", "compare", "--before", "m1", "--after", "m2", *server]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["li.wei\t(pay)\t7000000\t3500000\tTARGET_CHANGED",
                         "li.wei\td-1\t7000000\t3500000\t"]  # fmt: skip


def test_payments_and_a_collection_statement(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    payments = tmp_path / "payments.csv"
    payments.write_text("payment_id,deal_id,paid_date,amount,currency,kind\n"
                        "p1,d-1,2026-03-25,400000.00,CNY,payment\n"
                        "r1,d-1,2026-03-28,1000.00,CNY,refund\n")  # fmt: skip
    assert main(["commission", "payments", str(payments), *server]) == 0
    assert "recorded 2 payments (0 already recorded)" in capsys.readouterr().err
    assert main(["commission", "payments", str(payments), *server]) == 0
    assert "recorded 0 payments (2 already recorded)" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("payment_id,deal_id,paid_date,amount,currency,kind\n"
                   "p2,d-1,2026-03-25,1.001,CNY,payment\n")  # fmt: skip
    with pytest.raises(SystemExit, match=r"line 2: 1\.001 has more places than CNY"):
        main(["commission", "payments", str(bad), *server])


def test_plan_decompose_the_example(app: Quotient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "decompose", "examples/plans/targets.yaml", "--server",
                 f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows[0][:4] == ["node", "target", "share", "set by"] and rows[0][6:] == [
        "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]  # fmt: skip
    target = {r[0].strip(): r[1] for r in rows[1:]}
    # 12,000,000 by key accounts 30:18 -> North 7,500,000, South 4,500,000 raised to its floor of
    # 5,000,000, so North 7,000,000.
    assert (target["company"], target["North"], target["South"]) == (
        "12,000,000.00", "7,000,000.00", "5,000,000.00")  # fmt: skip
    assert [r[3] for r in rows[1:3]] == ["-", "-"] and rows[3][3] == "FLOOR"


def test_plan_simulate(app: Quotient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "simulate", "--csv", "examples/deals/pipeline.csv", "--group-by", "owner",
                 "--period", "month", "--from", "2026-03-01", "--to", "2026-03-31", "--as-of",
                 "2026-03-10", "--win-rate", "quote=1.2", "--new-pipeline",
                 "li.wei:contract_drafted:2:150000:CNY:2026-03-25", "--server",
                 f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["owner", "period", "P50 before", "P50 after", "P(target) before",
                       "P(target) after", "commission before", "commission after"]  # fmt: skip
    li = next(r for r in rows if r[0] == "li.wei")
    before, after = (float(v.replace(",", "")) for v in li[2:4])
    assert after > before  # two new contracts and better quotes
    assert float(li[7].replace(",", "")) > float(li[6].replace(",", ""))


def test_plan_compare_the_example(app: Quotient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "compare", "examples/plans/scenarios.yaml", "--csv",
                 "examples/deals/pipeline.csv", "--group-by", "owner", "--period", "month",
                 "--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-03-10",
                 "--server", f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    names = [
        "baseline",
        "better quotes",
        "bigger deals",
        "two more contracts",
        "two hires in South",
        "faster cycles",
        "more visits in North",
    ]
    assert rows[0] == ["owner", "period", *(f"{n}: {what}" for n in names
                                            for what in ("P50", "P(target)", "commission"))]  # fmt: skip
    li = next(r for r in rows if r[0] == "li.wei")
    p50 = [float(li[2 + 3 * k].replace(",", "")) for k in range(7)]
    assert all(p >= p50[0] for p in p50[1:])  # every scenario improves on the baseline


def test_plan_simulate_picture_and_page(app: Quotient, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    png, page = tmp_path / "scenario.png", tmp_path / "scenario.html"
    assert main(["plan", "simulate", "--csv", "examples/deals/pipeline.csv", "--hierarchy",
                 "--period", "month", "--from", "2026-03-01", "--to", "2026-03-31", "--as-of",
                 "2026-03-10", "--win-rate", "quote=1.2", "--headcount", "region=South:2:0.5",
                 "--plot", str(png), "--html", str(page), "--name", "spring push",
                 "--server", f"127.0.0.1:{app.port}"]) == 0  # fmt: skip
    capsys.readouterr()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    html = page.read_text(encoding="utf-8")
    assert "<h1>Scenario: spring push</h1>" in html and "data:image/png;base64," in html
    assert "<td>li.wei</td>" in html
