"""The credit commands of the CLI against a real server: split, record (idempotent), credits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server import Quotient
from service.cli import main

DEAL = {
    "id": "d-1",
    "amount_minor": 100000000,
    "currency": "CNY",
    "stage": "initial_contact",
    "owner": "li.wei",
    "team": [{"person": "li.wei", "ratio": "0.7"}, {"person": "zhang.min", "ratio": "0.3"}],
}


def test_split_record_and_credits(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["split", "--deal", json.dumps(DEAL), *server]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["d-1\trevenue\tli.wei\t70000000\t7000000",
                       "d-1\trevenue\tzhang.min\t30000000\t3000000"]  # fmt: skip
    deal = {k: v for k, v in DEAL.items() if k != "id"}
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"event_id": "e-1", "deal_id": "d-1", "event_time": "2026-03-02T09:00:00Z",
                    "kind": "created", "deal": deal}) + "\n"
        + json.dumps({"event_id": "e-2", "deal_id": "d-1", "event_time": "2026-03-20T15:30:00Z",
                      "kind": "won"}) + "\n"
    )  # fmt: skip
    assert main(["record", str(events), *server]) == 0
    assert "recorded 2 event(s), 0 already recorded" in capsys.readouterr().out
    assert main(["record", str(events), *server]) == 0
    assert "recorded 0 event(s), 2 already recorded" in capsys.readouterr().out
    late = {"event_id": "e-0", "deal_id": "d-1", "event_time": "2026-03-10T00:00:00Z",
            "kind": "stage_changed", "deal": {"stage": "quote"}}  # fmt: skip
    assert main(["record", "--event", json.dumps(late), "--counts-only", *server]) == 0
    assert capsys.readouterr().out == "recorded 1 event(s), 0 already recorded\n"
    assert main(["credits", "--deal", "d-1", *server]) == 0
    assert "d-1\trevenue\tzhang.min\t30000000\t30000000\tCNY" in capsys.readouterr().out
    # The late stage change was stored with its corrections: quote (50 %) from March 10 on.
    assert (
        main(["credits", "--person", "zhang.min", "--as-of", "2026-03-10T00:00:00Z", *server]) == 0
    )
    assert "d-1\trevenue\tzhang.min\t30000000\t15000000\tCNY" in capsys.readouterr().out


def test_a_refused_batch_prints_its_reason(
    app: Quotient, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"event_id": "x", "deal_id": "ghost", "event_time": "2026-03-02T09:00:00Z",
             "kind": "won"}  # fmt: skip
    assert main(["record", "--event", json.dumps(event), "--server", f"127.0.0.1:{app.port}"]) == 1
    err = capsys.readouterr().err
    assert "FAILED_PRECONDITION" in err and "UNKNOWN_DEAL" in err
