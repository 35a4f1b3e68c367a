"""``quotient forecast`` against a real server: the table from a CSV file, targets and subtotals,
custom periods, a PNG plot, and bad input reported with its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import Quotient
from service.cli import main
from service.cli_forecast import major, parse_target

CSV = """id,amount_minor,currency,stage,region,owner,close_date
d-1,1000000,CNY,initial_contact,North,li.wei,2026-02-10
d-2,2000000,CNY,quote,North,li.wei,2026-03-31
d-3,500000,CNY,won,North,zhang.min,2026-01-05
d-4,400000,CNY,quote,South,wang.fang,2026-05-02
"""


@pytest.fixture
def deals(tmp_path: Path) -> Path:
    path = tmp_path / "deals.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def run(app: Quotient, *args: str) -> int:
    return main(["forecast", *args, "--server", f"127.0.0.1:{app.port}"])


def test_the_table_with_targets_and_subtotals(
    app: Quotient, deals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(app, "--csv", str(deals), "--group-by", "region", "--subtotals",
               "--from", "2026-01-01", "--to", "2026-06-30", "--as-of", "2026-02-14",
               "--target", "North@2026-Q1=30000", "--target", "@2026-Q2=10000.00")  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0][:4] == ["region", "period", "deals", "open"]
    assert lines[0][-6:] == ["P10", "P50", "P90", "target", "gap", "p_reach_target"]
    north = next(row for row in lines if row[:2] == ["North", "2026-Q1"])
    assert north[2:9] == ["3", "2", "1", "30,000.00", "11,000.00", "5,000.00", "5,000.00"]
    assert north[-3:] == ["30,000.00", "25,000.00", "0.050"]
    total_q2 = next(row for row in lines if row[:2] == ["(all)", "2026-Q2"])
    assert total_q2[-3:-1] == ["10,000.00", "10,000.00"]
    assert "4 deals read; amounts in CNY" in err


def test_custom_periods_and_a_plot(
    app: Quotient, deals: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "forecast.png"
    code = run(app, "--csv", str(deals), "--period-range", "H1:2026-01-01:2026-06-30",
               "--as-of", "2026-02-14", "--target", "@H1=30,000", "--plot", str(png))  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    rows = out.splitlines()
    assert len(rows) == 2 and rows[1].startswith("H1\t4\t3\t1\t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert f"wrote {png}" in err


def test_bad_input_is_reported_with_the_field(
    app: Quotient, deals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(app, "--csv", str(deals), "--group-by", "regoin", "--from", "2026-01-01",
               "--to", "2026-03-31")  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "INVALID_ARGUMENT" in err and "group_by[0]" in err


def test_helpers() -> None:
    assert parse_target("North/li.wei@2026-Q1=2.5", 2) == (["North", "li.wei"], "2026-Q1", 250)
    assert parse_target("@2026=5", 0) == ([], "2026", 5)
    for bad in ("North=5", "North@Q1=1.234", "North@Q1=lots"):
        with pytest.raises(SystemExit):
            parse_target(bad, 2)
    assert major(123456789, "CNY") == "1,234,567.89"
    assert major(1234, "JPY") == "1,234"


def test_levers_say_what_fills_the_gap(
    app: Quotient, deals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(app, "--csv", str(deals), "--group-by", "owner", "--from", "2026-01-01",
               "--to", "2026-03-31", "--as-of", "2026-02-14", "--target", "li.wei@2026-Q1=30000",
               "--levers", "--visit-to-deal", "0.25")  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    levers = out.split("\n\n")[1].splitlines()
    assert levers[0] == "owner\tperiod\tlever\tstage\tconfidence\tneeds"
    assert "li.wei\t2026-Q1\twin_rate\tquote\tP50\tcannot reach the target alone" in levers
    size = next(x for x in levers if "\tdeal_size\t(all)\tP50\t" in x)
    assert size.split("\t")[-1].startswith("x 1.5")  # the 20,000.00 deal won must reach 30,000


HISTORY_CSV = """deal_id,date,stage,amount_minor,currency,close_date,region,owner
a,2026-01-05,initial_contact,1000,CNY,2026-04-15,North,li.wei
a,2026-02-01,quote,1000,CNY,2026-04-15,North,li.wei
a,2026-04-10,won,1200,CNY,2026-04-10,North,li.wei
b,2026-02-01,quote,2000,CNY,2026-05-01,South,li.wei
b,2026-05-20,lost,2000,CNY,2026-05-20,South,li.wei
c,2026-04-05,quote,500,CNY,2026-04-30,North,li.wei
c,2026-04-25,won,500,CNY,2026-04-25,North,li.wei
e,2026-07-02,initial_contact,10,CNY,2026-12-01,South,li.wei
"""


def test_backtest_from_a_history_file(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.csv"
    history.write_text(HISTORY_CSV, encoding="utf-8")
    png = tmp_path / "backtest.png"
    code = main(["backtest", "--history", str(history), "--group-by", "region",
                 "--from", "2026-04-01", "--to", "2026-06-30", "--plot", str(png),
                 "--server", f"127.0.0.1:{app.port}"])  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    periods, accuracy = out.split("\n\n")
    rows = [line.split("\t") for line in periods.splitlines()]
    assert rows[0][:3] == ["region", "period", "cutoff"]
    north = next(r for r in rows if r[0] == "North")
    assert north[1:5] == ["2026-Q2", "2026-03-31", "1", "2"]
    assert (north[5], north[8], north[9]) == ("5.00", "17.00", "-70.6%")
    total = next(r for r in accuracy.splitlines() if r.startswith("(all)"))
    assert total.split("\t")[:3] == ["(all)", "1", "-11.8%"]
    assert png.read_bytes()[:4] == b"\x89PNG" and "4 deals, 8 history rows" in err


def test_period_aware_forecast_columns(
    app: Quotient, deals: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.csv"
    history.write_text(HISTORY_CSV, encoding="utf-8")
    code = run(app, "--csv", str(deals), "--from", "2026-04-01", "--to", "2026-06-30",
               "--as-of", "2026-03-31", "--period-aware", "--history", str(history))  # fmt: skip
    assert code == 0
    head, row = capsys.readouterr().out.splitlines()
    assert head.split("\t")[-2:] == ["period_aware", "new_business"]
    # Too little history to learn from: the classic view of deals due in Q2 (the South quote).
    assert row.split("\t")[-2:] == ["2,000.00", "0.00"]


def test_the_hierarchy_from_the_rule_set(
    app: Quotient, deals: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(app, "--csv", str(deals), "--hierarchy", "--method", "none",
               "--from", "2026-01-01", "--to", "2026-03-31")  # fmt: skip
    assert code == 0
    lines = [line.split("\t")[:4] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        ["region", "team", "owner", "period"],
        ["North", "north_key_accounts", "li.wei", "2026-Q1"],
        ["North", "north_key_accounts", "zhang.min", "2026-Q1"],
        ["North", "north_key_accounts", "(all)", "2026-Q1"],
        ["North", "(all)", "(all)", "2026-Q1"],
        ["(all)", "(all)", "(all)", "2026-Q1"],
    ]
