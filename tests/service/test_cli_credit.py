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


def created(k: int) -> dict[str, object]:
    deal = {key: v for key, v in DEAL.items() if key != "id"}
    return {"event_id": f"e-{k}", "deal_id": f"d-{k}", "event_time": "2026-03-02T09:00:00Z",
            "kind": "created", "deal": deal}  # fmt: skip


def credited_deals(app: Quotient, capsys: pytest.CaptureFixture[str]) -> set[str]:
    assert main(["credits", "--person", "zhang.min", "--server", f"127.0.0.1:{app.port}"]) == 0
    return {line.split("\t")[0] for line in capsys.readouterr().out.splitlines()[1:]}


def test_a_file_is_recorded_in_batches(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(created(k)) + "\n" for k in range(1, 6)))
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["record", str(events), "--batch-size", "2", *server]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "recorded 5 event(s), 0 already recorded in 3 batch(es)"
    assert len(out) == 1 + 5 * 2  # two lines per event, then the counts
    assert credited_deals(app, capsys) == {f"d-{k}" for k in range(1, 6)}
    assert main(["record", str(events), "--batch-size", "2", "--counts-only", *server]) == 0
    assert capsys.readouterr().out == "recorded 0 event(s), 5 already recorded in 3 batch(es)\n"


def test_a_refused_batch_leaves_the_batches_before_it_stored(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Batches are each whole or nothing: the first is stored, the refused one and those after
    it are not, and the command says what is stored; once the input is mended, sending it again
    skips what is stored."""
    ghost = {"event_id": "x", "deal_id": "ghost", "event_time": "2026-03-02T09:00:00Z",
             "kind": "won"}  # fmt: skip
    rows = [created(1), created(2), created(3), ghost, created(4), created(5)]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in rows))
    server = ["--server", f"127.0.0.1:{app.port}"]
    assert main(["record", str(events), "--batch-size", "2", "--counts-only", *server]) == 1
    err = capsys.readouterr().err
    assert "UNKNOWN_DEAL" in err
    assert "the 1 batch(es) before it are stored (2 event(s): 2 recorded" in err
    assert credited_deals(app, capsys) == {"d-1", "d-2"}
    events.write_text("".join(json.dumps(r) + "\n" for r in rows if r is not ghost))
    assert main(["record", str(events), "--batch-size", "2", "--counts-only", *server]) == 0
    assert capsys.readouterr().out == "recorded 3 event(s), 2 already recorded in 3 batch(es)\n"


def test_bad_input_is_named_where_it_is(
    app: Quotient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ["--server", f"127.0.0.1:{app.port}"]
    with pytest.raises(SystemExit, match=r"--event 1: not a DealEvent: .*no field named \"foo\""):
        main(["record", "--event", json.dumps({**created(1), "foo": 1}), *server])
    with pytest.raises(SystemExit, match=r"--deal 2: not a JSON object"):
        main(["split", "--deal", json.dumps(DEAL), "--deal", "[1]", *server])
    # One batch (the default): a bad line stores nothing.
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(created(1)) + "\n" + json.dumps(created(2)) + "\n{oops\n")
    with pytest.raises(SystemExit, match=r"events.jsonl:3: not JSON"):
        main(["record", str(events), *server])
    assert credited_deals(app, capsys) == set()
    # In batches: those before the bad line are stored, and the command says so.
    with pytest.raises(SystemExit, match=r"the 1 batch\(es\) before it are stored \(2 event"):
        main(["record", str(events), "--batch-size", "2", *server])
    assert "events.jsonl:3: not JSON" in capsys.readouterr().err
    assert credited_deals(app, capsys) == {"d-1", "d-2"}
    with pytest.raises(SystemExit, match="--batch-size must be 1 or more"):
        main(["record", str(events), "--batch-size", "-1", *server])
