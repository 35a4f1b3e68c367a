"""CreditService over a real channel: the 70/30 example at initial contact and at won, the owner
default, and per-deal problems returned on the deal."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from quotient.v1 import credit_pb2, credit_pb2_grpc, types_pb2
from server import Quotient


@pytest.fixture
def stub(channel: grpc.Channel) -> Iterator[credit_pb2_grpc.CreditServiceStub]:
    yield credit_pb2_grpc.CreditServiceStub(channel)


def example(stage: str) -> types_pb2.Deal:
    return types_pb2.Deal(
        id="d-1",
        amount_minor=100_000_000,
        currency="CNY",
        stage=stage,
        owner="li.wei",
        team=[
            types_pb2.TeamMember(person="li.wei", role="owner", ratio="0.7"),
            types_pb2.TeamMember(person="zhang.min", role="supporter", ratio="0.3"),
        ],
    )


def parts(deal: credit_pb2.DealCredits) -> list[tuple[str, int, int]]:
    return [(p.person, p.credit_minor, p.weighted_credit_minor) for p in deal.parts]


def test_the_example_split_follows_the_stage(
    stub: credit_pb2_grpc.CreditServiceStub,
    app: Quotient,
) -> None:
    resp = stub.SplitCredits(
        credit_pb2.SplitCreditsRequest(
            rule_set="default", deals=[example("initial_contact"), example("won")]
        )
    )
    assert (resp.rule_set, resp.revision, resp.failed_count) == ("default", 1, 0)
    early, won = resp.deals
    assert parts(early) == [
        ("li.wei", 100_000_000 * 7 // 10, 7_000_000),
        ("zhang.min", 30_000_000, 3_000_000),
    ]
    assert parts(won) == [("li.wei", 70_000_000, 70_000_000), ("zhang.min", 30_000_000, 30_000_000)]
    first = early.parts[0]
    assert (first.split, first.kind, first.basis, first.ratio, first.source) == (
        "revenue",
        credit_pb2.SPLIT_KIND_FULL,
        credit_pb2.CREDIT_BASIS_RATIO,
        "0.7",
        credit_pb2.CREDIT_SOURCE_TEAM,
    )
    assert (early.weighted_amount_minor, early.win_prob) == (10_000_000, "0.1")


def test_owner_default_and_per_deal_problems(stub: credit_pb2_grpc.CreditServiceStub) -> None:
    bad = example("quote")
    bad.team[1].ratio = "0.2"
    resp = stub.SplitCredits(
        credit_pb2.SplitCreditsRequest(
            rule_set="default",
            deals=[
                types_pb2.Deal(
                    id="solo", amount_minor=500, currency="CNY", stage="won", owner="wang.fang"
                ),
                bad,
            ],
        )
    )
    solo, refused = resp.deals
    assert parts(solo) == [("wang.fang", 500, 500)]
    assert solo.parts[0].source == credit_pb2.CREDIT_SOURCE_OWNER_DEFAULT
    assert resp.failed_count == 1 and not refused.parts
    assert refused.problem.reason == "RATIOS_NOT_100"
    assert "90 %" in refused.problem.message
