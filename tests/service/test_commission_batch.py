"""Commission runs split by payee: in-process in one piece, in-process in several, and on a
two-worker LocalCluster, three chained months of a plan set with caps, SPIFFs, segments, pay on
collection, clawbacks, holdback, draws and a plan switch inside a month give the same stored bytes
(and result hash)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import grpc
import numpy as np
import pytest

import service.commission_batch as batch
from quotient.v1 import (
    commission_pb2,
    commission_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    rulesets_pb2,
    rulesets_pb2_grpc,
    types_pb2,
)
from server import Quotient
from service.batch import DaskCluster, Executor, InProcess
from service.commission_runs import CommissionRuns, RunRequest
from service.store.ledger import LedgerStore
from service.store.runs import RunStore
from tests.conftest import TODAY
from tests.service.servicers.test_commission_terms import PLANS, at

PEOPLE = [f"p{i:02d}" for i in range(12)]
MONTHS = [("2026-01", dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
          ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
          ("2026-03", dt.date(2026, 3, 1), dt.date(2026, 3, 31))]  # fmt: skip


def rule_set(sample_text: str) -> str:
    head = sample_text[: sample_text.index("\nplans:")].replace("name: default", "name: terms")
    extra = "".join(
        f"  - {{id: {p}, role: {('account_executive', 'collector')[i % 2]}, "
        f"region: {('North', 'South')[i % 5 == 0]}}}\n"
        for i, p in enumerate(PEOPLE)
    )
    # The new-hire plan ends in mid-February: its people switch plans inside that month.
    plans = PLANS.replace("    assign: {regions: [South]}\n",
                          "    assign: {regions: [South]}\n    effective_until: 2026-02-14\n")  # fmt: skip
    assert plans != PLANS
    return head + plans.replace("people:\n", "people:\n" + extra)


@pytest.fixture
def store(app: Quotient, channel: grpc.Channel, sample_text: str) -> Quotient:
    """The plans of the terms test for 15 people, and 60 deals won over three months (some with
    a split, some cancelled later, some paid in part)."""
    rulesets_pb2_grpc.RuleSetServiceStub(channel).CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=rule_set(sample_text),
                                                  expected_revision=0))  # fmt: skip
    rng = np.random.default_rng(20261201)
    everyone = [*PEOPLE, "li.wei", "zhang.min", "wang.fang", "nobody"]  # nobody has no plan
    events, payments = [], []
    for d in range(60):
        owner, other = rng.choice(everyone, 2, replace=False).tolist()
        team = ([types_pb2.TeamMember(person=owner, ratio="0.6"),
                 types_pb2.TeamMember(person=other, ratio="0.4")] if d % 3 == 0 else [])  # fmt: skip
        amount = int(rng.integers(1, 200)) * 100_000
        deal = types_pb2.Deal(amount_minor=amount, currency="CNY", stage="quote", owner=owner,
                              product_line=("cloud", "hardware", "renewal")[d % 3], team=team)  # fmt: skip
        won = dt.date(2026, 1, 2) + dt.timedelta(days=int(rng.integers(0, 88)))
        events.append(credit_pb2.DealEvent(event_id=f"{d}-c", deal_id=f"d-{d}",
                                           event_time=at("2026-01-01"), deal=deal,
                                           kind=credit_pb2.DEAL_EVENT_KIND_CREATED))  # fmt: skip
        events.append(credit_pb2.DealEvent(event_id=f"{d}-w", deal_id=f"d-{d}",
                                           event_time=at(won.isoformat()),
                                           kind=credit_pb2.DEAL_EVENT_KIND_WON))  # fmt: skip
        if d % 7 == 0 and won < dt.date(2026, 3, 1):
            cancel = won + dt.timedelta(days=int(rng.integers(5, 40)))
            events.append(credit_pb2.DealEvent(event_id=f"{d}-x", deal_id=f"d-{d}",
                                               event_time=at(cancel.isoformat()),
                                               kind=credit_pb2.DEAL_EVENT_KIND_CANCELLED))  # fmt: skip
        if d % 4 == 1:
            paid = won + dt.timedelta(days=int(rng.integers(1, 30)))
            payments.append(commission_pb2.Payment(
                payment_id=f"pay-{d}", deal_id=f"d-{d}", paid_date=paid.isoformat(),
                amount_minor=amount // 2, currency="CNY",
                kind=commission_pb2.PAYMENT_KIND_PAYMENT))  # fmt: skip
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="terms", events=events)
    )
    commission_pb2_grpc.CommissionServiceStub(channel).RecordPayments(
        commission_pb2.RecordPaymentsRequest(rule_set="terms", payments=payments)
    )
    return app


def runner(app: Quotient, executor: Executor) -> CommissionRuns:
    return CommissionRuns(LedgerStore(app.db), RunStore(app.db), lambda: TODAY,
                          batch=executor)  # fmt: skip


def month(runs: CommissionRuns, app: Quotient, label: str, first: dt.date, last: dt.date,
          dry: bool) -> Any:  # fmt: skip
    record, rules = app.repository.resolve("terms", None, last)
    request = RunRequest("terms", label, first, last, last, label, dry, {})
    return runs.run(request, record, rules).run


class Pieces(InProcess):
    """In-process, but split into as many pieces as a cluster would."""

    def partitions(self, work: int, min_work: int) -> int:
        return max(1, min(work // max(min_work, 1), 5))


def test_every_split_gives_the_same_bytes(
    store: Quotient, dask_cluster: DaskCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "MIN_LINES_PER_PARTITION", 1)  # split even these few lines
    whole = runner(store, InProcess())
    others = {"pieces": runner(store, Pieces()), "cluster": runner(store, dask_cluster)}
    splits: list[list[Any]] = []
    original = batch.split_payees

    def counting(everyone: batch.Payees, parts: int) -> list[batch.Payees]:
        groups = original(everyone, parts)
        splits.append(groups)
        return groups

    monkeypatch.setattr(batch, "split_payees", counting)
    for label, first, last in MONTHS:
        expected = month(whole, store, label, first, last, dry=True)
        assert len(splits[-1]) == 1
        for name, runs in others.items():
            got = month(runs, store, label, first, last, dry=True)
            assert len(splits[-1]) > 1, name  # the run was really split
            assert got.result == expected.result, (name, label)  # byte for byte
            assert got.result_sha256 == expected.result_sha256
        stored = month(whole, store, label, first, last, dry=False)  # the next month chains on
        assert stored.result == expected.result
    result = json.loads(stored.result)
    months = [json.loads(whole.runs.get(label).result) for label, _, _ in MONTHS]
    flags = {f for m in months for s in m["statements"] for f in s["flags"]}
    # The months exercised what a split must keep per person: caps, clawbacks, balances carried
    # forward, draws, people without a plan, plan switches; and the closing balances chain them.
    assert {
        "CLAWBACK",
        "DEAL_CAPPED",
        "DRAW",
        "NEGATIVE_BALANCE",
        "NO_PLAN",
        "PLAN_SWITCH",
    } <= flags
    assert any(s["bonuses"] for m in months for s in m["statements"])  # SPIFFs
    assert all(m["closing"] for m in months) and len(result["statements"]) >= 10
