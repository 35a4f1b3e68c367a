"""The IBM win/loss importer and the evaluate/import commands on a fixed sample of the file: rows
become deals, post-outcome columns are never read, bad files are refused whole with row and column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.errors import InvalidArgumentError
from server import Quotient
from service.cli import main
from service.ibm_win_loss import (
    HONEST_FEATURES,
    POST_OUTCOME_COLUMNS,
    SUSPECT_FEATURES,
    deal_rows,
    read_ibm_win_loss,
)
from tests.conftest import ROOT

SAMPLE = ROOT / "tests" / "data" / "ibm_win_loss_sample.csv"


def test_rows_become_deals() -> None:
    data = read_ibm_win_loss(SAMPLE)
    assert data.rows_read == 1201 and len(data.ids) == 1201 - data.duplicates_dropped
    assert int(data.won.sum()) == 269
    rows = deal_rows(data)
    first = rows[0]
    assert first["id"] == "1641984" and first["stage"] == "won" and first["currency"] == "USD"
    assert first["product_line"] == "Exterior Accessories" and first["source"] == "Fields Sales"
    assert first["amount_minor"] == 0 and first["client_size_employees"] == 5
    assert not set(first) & {c.lower() for c in POST_OUTCOME_COLUMNS}
    names = {f.name for f in (*HONEST_FEATURES, *SUSPECT_FEATURES)}
    assert names <= set(data.columns)


def test_bad_files_are_refused_whole(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    bad = tmp_path / "bad.csv"
    row3 = lines[3].split(",")
    row3[header.index("Opportunity Amount USD")] = "12.5"
    row5 = lines[5].split(",")
    row5[header.index("Opportunity Result")] = "Maybe"
    bad.write_text("\n".join([lines[0], lines[1], lines[2], ",".join(row3), lines[4],
                              ",".join(row5)]) + "\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InvalidArgumentError) as e:
        read_ibm_win_loss(bad)
    assert e.value.reason == "INVALID_FILE"
    assert {(v.path, v.reason) for v in e.value.violations} == {
        ("row 4.Opportunity Amount USD", "NOT_AN_INTEGER"),
        ("row 6.Opportunity Result", "INVALID_VALUE"),
    }
    short = tmp_path / "short.csv"
    short.write_text("Opportunity Number,Region\n1,North\n", encoding="utf-8")
    with pytest.raises(InvalidArgumentError) as e:
        read_ibm_win_loss(short)
    assert e.value.reason == "MISSING_COLUMNS" and len(e.value.violations) == 10  # 12 less 2


def test_duplicates(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    other = lines[2].split(",")
    other[0] = lines[1].split(",")[0]  # the same opportunity number, other values
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([lines[0], lines[1], lines[1], ",".join(other)]) + "\n",
                    encoding="utf-8")  # fmt: skip
    data = read_ibm_win_loss(path)
    assert data.duplicates_dropped == 1 and data.ids == ["1641984", "1641984-2"]


def test_the_import_and_evaluate_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deals.csv"
    assert main(["import", "ibm-win-loss", "--data", str(SAMPLE), "--out", str(out)]) == 0
    with open(out, encoding="utf-8", newline="") as f:
        deals = list(csv.DictReader(f))
    assert len(deals) == 1201 and {d["stage"] for d in deals} == {"won", "lost"}
    assert "1201 deals (269 won)" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(SAMPLE), "--split", "stratified", "--seed", "0"]) == 0
    table = [line.split("\t") for line in capsys.readouterr().out.split("\n\n")[0].splitlines()]
    assert table[0] == ["features", "method", "roc_auc", "brier", "log_loss", "train_s"]
    methods = [(r[0], r[1]) for r in table[1:]]
    assert methods == [
        ("known before the outcome", "calibrated gradient boosting"),
        ("known before the outcome", "base rate"),
        ("known before the outcome", "logistic regression"),
        ("with the suspect columns", "calibrated gradient boosting"),
        ("with the suspect columns", "base rate"),
        ("with the suspect columns", "logistic regression"),
    ]
    assert all(0 < float(r[3]) < 0.25 for r in table[1:])


def test_train_and_report_through_a_server(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    deals = tmp_path / "deals.csv"
    assert main(["import", "ibm-win-loss", "--data", str(SAMPLE), "--out", str(deals)]) == 0
    capsys.readouterr()
    assert main(["train", "--csv", str(deals), "--seed", "3", *server]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rule set default model version 1,") and "seed 3" in out
    assert "\nmodel\t0." in out and "\nbase_rate\t0.5000\t" in out
    assert main(["model-report", *server]) == 0
    assert capsys.readouterr().out == out
    with pytest.raises(SystemExit, match="NAME:categorical or NAME:numeric"):
        main(["train", "--csv", str(deals), "--feature", "region:sometimes", *server])
    history = ROOT / "examples" / "deals" / "history.csv"
    assert main(["stage-rates", "--history", str(history), "--segment-by", "region", *server]) == 0
    rates, flow = capsys.readouterr().out.split("\n\n")
    lines = [line.split("\t") for line in rates.splitlines()]
    assert lines[0] == ["segment", "stage", "deals", "won", "win_rate", "low_90", "high_90",
                        "source"]  # fmt: skip
    assert lines[1][:2] == ["(all)", "initial_contact"] and int(lines[1][2]) > 900
    assert flow.splitlines()[0].startswith("stage\tcompleted_stays")


def test_an_arrow_upload_trains_on_the_same_data_as_the_csv(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    as_csv, as_arrow = tmp_path / "deals.csv", tmp_path / "deals.arrow"
    assert main(["import", "ibm-win-loss", "--data", str(SAMPLE), "--out", str(as_csv)]) == 0
    assert main(["import", "ibm-win-loss", "--data", str(SAMPLE), "--out", str(as_arrow)]) == 0
    capsys.readouterr()
    assert main(["train", "--csv", str(as_csv), *server]) == 0
    from_csv = capsys.readouterr().out.splitlines()[0]
    assert main(["train", "--arrow", str(as_arrow), *server]) == 0
    from_arrow = capsys.readouterr().out.splitlines()[0]
    # The same deals give the same training data: the hash on the first line agrees.
    assert "version 2," in from_arrow and from_csv.split("data ")[1] == from_arrow.split("data ")[1]
