"""CommissionService end to end over three months, worked by hand: plans assigned by role and
region, a per-deal cap, a SPIFF, a segment rate, pay on collection with a partial payment, a
cancelled deal clawed back in the next month from the holdback reserve then from pay, a negative
balance carried forward, and a recoverable draw paid back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from quotient.v1 import (
    commission_pb2,
    commission_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    rulesets_pb2,
    rulesets_pb2_grpc,
    types_pb2,
)
from service.cli_commission import settlement_lines, span_lines, statement_html
from tests.conftest import decode_details

PLANS = """
people:
  - {id: li.wei, role: account_executive, region: North}
  - {id: zhang.min, role: collector, region: North}
  - {id: wang.fang, role: account_executive, region: South}

plans:
  - id: new_hire
    currency: CNY
    assign: {regions: [South]}
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.10}]}
    draw: {amount: 2000, recoverable: true}
  - id: ae
    currency: CNY
    assign: {roles: [account_executive]}
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.10}]}
    cap: {per_deal: 6000}
    segments:
      - {id: renewals, when: "product_line = 'renewal'", rate: 0.02}
    spiffs:
      - {id: cloud_launch, when: "product_line = 'cloud'", amount: 1000}
    clawback: {window_days: 90}
    holdback: {rate: 0.1, release_days: 60}
  - id: collector
    currency: CNY
    assign: {roles: [collector]}
    base: collections
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.05}]}
"""


def at(day: str) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt.datetime.fromisoformat(day + "T09:00:00+00:00"))
    return t


@pytest.fixture
def stub(channel: grpc.Channel, sample_text: str) -> Iterator[Any]:
    head = sample_text[: sample_text.index("\nplans:")].replace("name: default", "name: terms")
    rulesets_pb2_grpc.RuleSetServiceStub(channel).CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=head + PLANS, expected_revision=0)
    )
    events = []

    def deal(deal_id: str, owner: str, amount: int, product: str, won: str,
             team: list[types_pb2.TeamMember] | None = None) -> None:  # fmt: skip
        d = types_pb2.Deal(amount_minor=amount, currency="CNY", stage="quote", owner=owner,
                           product_line=product, team=team or [])  # fmt: skip
        events.append(credit_pb2.DealEvent(event_id=f"{deal_id}-c", deal_id=deal_id,
                                           event_time=at("2026-01-02"), deal=d,
                                           kind=credit_pb2.DEAL_EVENT_KIND_CREATED))  # fmt: skip
        events.append(credit_pb2.DealEvent(event_id=f"{deal_id}-w", deal_id=deal_id,
                                           event_time=at(won),
                                           kind=credit_pb2.DEAL_EVENT_KIND_WON))  # fmt: skip

    split = [types_pb2.TeamMember(person="li.wei", ratio="0.7"),
             types_pb2.TeamMember(person="zhang.min", ratio="0.3")]  # fmt: skip
    deal("d-1", "li.wei", 10_000_000, "cloud", "2026-01-15", split)
    deal("d-2", "wang.fang", 500_000, "hardware", "2026-01-10")
    deal("d-3", "wang.fang", 3_000_000, "hardware", "2026-02-03")
    deal("d-4", "li.wei", 5_000_000, "hardware", "2026-01-25")
    deal("d-6", "li.wei", 5_000_000, "renewal", "2026-02-05")
    deal("d-7", "li.wei", 4_000_000, "hardware", "2026-03-03")
    events.append(credit_pb2.DealEvent(event_id="d-4-x", deal_id="d-4", event_time=at("2026-02-10"),
                                       kind=credit_pb2.DEAL_EVENT_KIND_CANCELLED))  # fmt: skip
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set="terms", events=events)
    )
    stub = commission_pb2_grpc.CommissionServiceStub(channel)
    pay = commission_pb2.PAYMENT_KIND_PAYMENT
    response = stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="terms", payments=[
        commission_pb2.Payment(payment_id="p1", deal_id="d-1", paid_date="2026-01-20",
                               amount_minor=4_000_000, currency="CNY", kind=pay),
        commission_pb2.Payment(payment_id="p2", deal_id="d-1", paid_date="2026-02-20",
                               amount_minor=6_000_000, currency="CNY", kind=pay),
    ]))  # fmt: skip
    assert (response.recorded_count, response.duplicate_count) == (2, 0)
    yield stub


def month(stub: Any, label: str, first: str, last: str) -> Any:
    return stub.RunCommission(commission_pb2.RunCommissionRequest(
        rule_set="terms", period=label, first_date=first, last_date=last, as_of_date=last,
        run_key=label))  # fmt: skip


def statement(stub: Any, run_key: str, person: str) -> Any:
    return stub.GetStatement(commission_pb2.GetStatementRequest(run_key=run_key, person=person))


def test_three_months_of_terms(stub: Any) -> None:
    jan = month(stub, "2026-01", "2026-01-01", "2026-01-31")
    li = statement(stub, "2026-01", "li.wei")
    # d-1: 10 % of 70,000 = 7,000, capped at 6,000 a deal; d-4: 5,000. Cloud SPIFF: 70 % of 1,000.
    assert [(d.deal_id, d.commission_minor, d.spiff_minor) for d in li.deals] == [
        ("d-1", 600_000, 70_000), ("d-4", 500_000, 0)]  # fmt: skip
    assert [(a.reason, a.amount_minor, a.rule) for a in li.adjustments] == [
        ("DEAL_CAP", -100_000, "plans[1].cap.per_deal")]  # fmt: skip
    assert [(b.kind, b.id, b.amount_minor, b.rule) for b in li.bonuses] == [
        ("SPIFF", "cloud_launch", 70_000, "plans[1].spiffs.cloud_launch")]  # fmt: skip
    # Earned 11,700; 10 % held back: paid 10,530.
    assert (li.plan, li.earned_minor, li.settlement.withheld_minor, li.pay_minor) == (
        "ae", 1_170_000, 117_000, 1_053_000)  # fmt: skip
    zhang = statement(stub, "2026-01", "zhang.min")
    # Collections: 40,000 of 100,000 paid: 40 % of the 30,000 credit = 12,000 at 5 % = 600.
    assert [(d.deal_id, d.credit_minor, d.base_minor) for d in zhang.deals] == [
        ("d-1", 3_000_000, 1_200_000)]  # fmt: skip
    assert zhang.pay_minor == 60_000
    wang = statement(stub, "2026-01", "wang.fang")
    # The South plan comes first: 500 earned, the 2,000 draw tops up 1,500 (to recover).
    assert (wang.plan, wang.earned_minor, wang.settlement.draw_top_up_minor, wang.pay_minor,
            wang.settlement.draw_balance_minor) == ("new_hire", 50_000, 150_000, 200_000,
                                                    150_000)  # fmt: skip
    assert jan.total_pay_minor == 1_053_000 + 60_000 + 200_000

    feb = month(stub, "2026-02", "2026-02-01", "2026-02-28")
    assert feb.previous_run_key == "2026-01"
    li = statement(stub, "2026-02", "li.wei")
    # d-4, won Jan 25, cancelled Feb 10: its 5,000 comes back, 1,170 from the reserve first.
    (claw,) = li.clawbacks
    assert (claw.deal_id, claw.reason, claw.paid_minor, claw.amount_minor, claw.rule) == (
        "d-4", "CANCELLED", 500_000, 500_000, "plans[1].clawback")  # fmt: skip
    # The renewal pays 2 %: 1,000, 100 held back; 1,000 - 100 - 3,830 = -2,930 carried forward.
    assert [(d.deal_id, d.commission_minor, d.rule) for d in li.deals] == [
        ("d-6", 100_000, "plans[1].segments.renewals")]  # fmt: skip
    s = li.settlement
    assert (s.clawback_from_reserve_minor, s.clawback_from_pay_minor, s.withheld_minor,
            s.carry_out_minor, li.pay_minor) == (117_000, 383_000, 10_000, -293_000, 0)  # fmt: skip
    assert {"CLAWBACK", "NEGATIVE_BALANCE"} <= set(li.flags)
    # The printed statement: from the earned subtotal, each step down to the pay.
    lines = settlement_lines(li)
    assert [(k, a) for k, _, a in lines] == [
        ("earned", 100_000), ("holdback", -10_000), ("clawback", -500_000),
        ("clawback", 117_000), ("balance", 293_000)]  # fmt: skip
    assert sum(a for k, _, a in lines) == li.pay_minor == 0
    assert "negative balance carried forward" in statement_html(li)
    zhang = statement(stub, "2026-02", "zhang.min")
    assert [(d.base_minor, d.commission_minor) for d in zhang.deals] == [(1_800_000, 90_000)]
    wang = statement(stub, "2026-02", "wang.fang")
    # 3,000 earned: 1,000 above the draw pays back 1,000 of the 1,500.
    assert (wang.pay_minor, wang.settlement.draw_recovered_minor,
            wang.settlement.draw_balance_minor) == (200_000, 100_000, 50_000)  # fmt: skip

    month(stub, "2026-03", "2026-03-01", "2026-03-31")
    li = statement(stub, "2026-03", "li.wei")
    # 4,000 earned, 400 held back, the -2,930 brought in: 670 paid.
    assert (li.earned_minor, li.settlement.carry_in_minor, li.pay_minor) == (
        400_000, -293_000, 67_000)  # fmt: skip
    # zhang.min has nothing in March (no lines, no balances): no statement.
    assert [p.person for p in stub.GetCommissionRun(
        commission_pb2.GetCommissionRunRequest(run_key="2026-03")).people] == ["li.wei",
                                                                              "wang.fang"]  # fmt: skip
    for run_key in ("2026-01", "2026-02", "2026-03"):
        for person in ("li.wei", "zhang.min", "wang.fang")[: 3 if run_key < "2026-03" else 1]:
            x = statement(stub, run_key, person)
            tiers = sum(t.pay_minor for t in x.tiers) + sum(a.amount_minor for a in x.adjustments)
            assert tiers == x.commission_minor == sum(d.commission_minor for d in x.deals)
            assert x.earned_minor == x.commission_minor + sum(b.amount_minor for b in x.bonuses)
            s = x.settlement
            assert x.pay_minor == (x.earned_minor - s.withheld_minor + s.released_minor
                                   - s.clawback_from_pay_minor + s.carry_in_minor
                                   - s.carry_out_minor + s.draw_top_up_minor
                                   - s.draw_recovered_minor)  # fmt: skip


def test_payments_are_idempotent_and_checked(stub: Any) -> None:
    pay = commission_pb2.PAYMENT_KIND_PAYMENT
    again = commission_pb2.Payment(payment_id="p1", deal_id="d-1", paid_date="2026-01-20",
                                   amount_minor=4_000_000, currency="CNY", kind=pay)  # fmt: skip
    r = stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="terms",
                                                                 payments=[again]))  # fmt: skip
    assert (r.recorded_count, r.duplicate_count) == (0, 1)
    changed = commission_pb2.Payment(payment_id="p1", deal_id="d-1", paid_date="2026-01-21",
                                     amount_minor=4_000_000, currency="CNY", kind=pay)  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="terms",
                                                                 payments=[changed]))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = commission_pb2.Payment(payment_id="p9", deal_id="", paid_date="2026-01-21",
                                 amount_minor=-5, currency="CNY")  # fmt: skip
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="terms",
                                                                 payments=[bad]))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = decode_details(rpc_status.from_call(err.value))
    bad_request = details["BadRequest"]
    fields = {v.field for v in bad_request.field_violations}  # type: ignore[attr-defined]
    assert fields == {"payments[0].deal_id", "payments[0].amount_minor", "payments[0].kind"}


def test_a_refund_gives_back_its_share(stub: Any) -> None:
    month(stub, "2026-01", "2026-01-01", "2026-01-31")
    stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="terms", payments=[
        commission_pb2.Payment(payment_id="r1", deal_id="d-1", paid_date="2026-02-25",
                               amount_minor=2_500_000, currency="CNY",
                               kind=commission_pb2.PAYMENT_KIND_REFUND)]))  # fmt: skip
    month(stub, "2026-02", "2026-02-01", "2026-02-28")
    li = statement(stub, "2026-02", "li.wei")
    claws = {c.deal_id: c for c in li.clawbacks}
    # A quarter of d-1 refunded: a quarter of the 6,700 it paid (commission and SPIFF) = 1,675.
    assert (claws["d-1"].reason, claws["d-1"].paid_minor, claws["d-1"].amount_minor) == (
        "REFUNDED", 670_000, 167_500)  # fmt: skip
    # The collector's plan has no clawback: nothing comes back from zhang.min.
    assert not statement(stub, "2026-02", "zhang.min").clawbacks


MARGIN_PLANS = """
plans:
  - id: margin_2026h1
    currency: CNY
    effective_until: 2026-01-31
    base: margin
    margin_field: gross_margin
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.10}]}
  - id: bookings_from_february
    currency: CNY
    effective_from: 2026-02-01
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.01}]}
"""


def publish(channel: grpc.Channel, sample_text: str, name: str, plans: str) -> None:
    """A rule set of the sample's stages, a ``gross_margin`` field and ``plans``."""
    head = sample_text[: sample_text.index("\nplans:")].replace("name: default", f"name: {name}")
    head = head.replace("fields:\n", "fields:\n  gross_margin: {type: decimal, scale: 4}\n", 1)
    rulesets_pb2_grpc.RuleSetServiceStub(channel).CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=head + plans, expected_revision=0)
    )


def record_won(channel: grpc.Channel, rule_set: str, deals: list[tuple[str, Any, str]]) -> None:
    """Each (deal id, deal, won day): created on 2 January, won that day."""
    events = []
    for deal_id, deal, won in deals:
        events += [
            credit_pb2.DealEvent(event_id=f"{deal_id}-c", deal_id=deal_id, deal=deal,
                                 event_time=at("2026-01-02"),
                                 kind=credit_pb2.DEAL_EVENT_KIND_CREATED),
            credit_pb2.DealEvent(event_id=f"{deal_id}-w", deal_id=deal_id, event_time=at(won),
                                 kind=credit_pb2.DEAL_EVENT_KIND_WON),
        ]  # fmt: skip
    credit_pb2_grpc.CreditServiceStub(channel).RecordDealEvents(
        credit_pb2.RecordDealEventsRequest(rule_set=rule_set, events=events)
    )


def publish_margins(channel: grpc.Channel, sample_text: str) -> Any:
    """The margin-then-bookings rule set, li.wei's two deals (won 12 January and 12 February),
    and a commission stub."""
    publish(channel, sample_text, "margins", MARGIN_PLANS)
    margin = types_pb2.AttributeValue(decimal_value="0.3525")
    d = types_pb2.Deal(amount_minor=1_234_567, currency="CNY", stage="quote", owner="li.wei",
                       attributes={"gross_margin": margin})  # fmt: skip
    record_won(channel, "margins", [("m-1", d, "2026-01-12"), ("m-2", d, "2026-02-12")])
    return commission_pb2_grpc.CommissionServiceStub(channel)


def test_margin_plans_and_effective_dates(channel: grpc.Channel, sample_text: str) -> None:
    stub = publish_margins(channel, sample_text)
    for label, first, last in (("jan", "2026-01-01", "2026-01-31"),
                               ("feb", "2026-02-01", "2026-02-28")):  # fmt: skip
        stub.RunCommission(commission_pb2.RunCommissionRequest(
            rule_set="margins", period=label, first_date=first, last_date=last, as_of_date=last,
            run_key=label))  # fmt: skip
    jan = statement(stub, "jan", "li.wei")
    # 35.25 % of 12,345.67 = 4,351.848675 -> 4,351.85 of margin; 10 % = 435.185 -> 435.18 (even)
    assert (jan.plan, [d.base_minor for d in jan.deals], jan.pay_minor) == (
        "margin_2026h1", [435_185], 43_518)  # fmt: skip
    feb = statement(stub, "feb", "li.wei")
    # From February the bookings plan: 1 % of 12,345.67 = 123.4567 -> 123.46
    assert (feb.plan, feb.plan_rule, [d.base_minor for d in feb.deals], feb.pay_minor) == (
        "bookings_from_february", "plans[1]", [1_234_567], 12_346)  # fmt: skip


def test_a_plan_switch_inside_the_period_pays_each_span_under_its_plan(
    channel: grpc.Channel, sample_text: str
) -> None:
    stub = publish_margins(channel, sample_text)
    # One period over both plans (59 days: January's 31 under the margin plan, February's 28
    # under the bookings plan), with a target of 59,000.00.
    stub.RunCommission(commission_pb2.RunCommissionRequest(
        rule_set="margins", period="jan-feb", first_date="2026-01-01", last_date="2026-02-28",
        as_of_date="2026-02-28", run_key="jan-feb",
        targets=[commission_pb2.PersonTarget(person="li.wei", target_minor=5_900_000)]))  # fmt: skip
    s = statement(stub, "jan-feb", "li.wei")
    # Each deal under the plan in force on its won day, as the two monthly runs pay them.
    assert [(d.deal_id, d.base_minor, d.commission_minor, d.rule) for d in s.deals] == [
        ("m-1", 435_185, 43_518, "plans[0].tiers"),
        ("m-2", 1_234_567, 12_346, "plans[1].tiers"),
    ]
    spans = [(x.first_date, x.last_date, x.plan, x.plan_rule, x.target_minor, x.attainment_ppm,
              x.base_minor, x.commission_minor) for x in s.spans]  # fmt: skip
    # Targets prorated by days: 59,000.00 x 31/59 = 31,000.00 and x 28/59 = 28,000.00;
    # attainment floor(base x 10^6 / target): 435,185 / 3,100,000 and 1,234,567 / 2,800,000.
    assert spans == [
        ("2026-01-01", "2026-01-31", "margin_2026h1", "plans[0]", 3_100_000, 140_382, 435_185,
         43_518),
        ("2026-02-01", "2026-02-28", "bookings_from_february", "plans[1]", 2_800_000, 440_916,
         1_234_567, 12_346),
    ]  # fmt: skip
    # The person's figures: the plan at the period's end, the whole target, the sums.
    assert (s.plan, s.plan_rule, s.target_minor, s.base_minor, s.attainment_ppm) == (
        "bookings_from_february", "plans[1]", 5_900_000, 1_669_752, 283_008)  # fmt: skip
    assert s.commission_minor == s.earned_minor == s.pay_minor == 43_518 + 12_346
    assert [t.rule for t in s.tiers] == ["plans[0].tiers.rows[0]", "plans[1].tiers.rows[0]"]
    assert sum(t.pay_minor for t in s.tiers) + sum(a.amount_minor for a in s.adjustments) == (
        s.commission_minor)  # fmt: skip
    assert "PLAN_SWITCH" in s.flags
    assert span_lines(s)[0] == (
        "2026-01-01 to 2026-01-31: margin_2026h1 (plans[0]), target 31,000.00", 435_185, 43_518)  # fmt: skip
    page = statement_html(s)
    assert "2026-02-01 to 2026-02-28: bookings_from_february (plans[1])" in page
    # A period inside one plan has no spans.
    stub.RunCommission(commission_pb2.RunCommissionRequest(
        rule_set="margins", period="feb", first_date="2026-02-01", last_date="2026-02-28",
        as_of_date="2026-02-28", run_key="feb"))  # fmt: skip
    feb = statement(stub, "feb", "li.wei")
    assert not feb.spans and "PLAN_SWITCH" not in feb.flags


def test_a_plan_ending_inside_the_period_pays_its_days_only(
    channel: grpc.Channel, sample_text: str
) -> None:
    plans = MARGIN_PLANS.replace("effective_from: 2026-02-01", "effective_from: 2026-02-20")
    publish(channel, sample_text, "ending", plans)
    half = types_pb2.AttributeValue(decimal_value="0.5")
    d = types_pb2.Deal(amount_minor=1_000_000, currency="CNY", stage="quote", owner="li.wei",
                       attributes={"gross_margin": half})  # fmt: skip
    record_won(channel, "ending", [("e-1", d, "2026-01-20"), ("e-2", d, "2026-02-10"),
                                   ("e-3", d, "2026-02-25")])  # fmt: skip
    stub = commission_pb2_grpc.CommissionServiceStub(channel)
    stub.RunCommission(commission_pb2.RunCommissionRequest(
        rule_set="ending", period="q", first_date="2026-01-01", last_date="2026-02-28",
        as_of_date="2026-02-28", run_key="q"))  # fmt: skip
    s = statement(stub, "q", "li.wei")
    # January under the margin plan (10 % of 50 % of 10,000.00 = 500.00); 1-19 February under no
    # plan (e-2 earns nothing); from 20 February the bookings plan (1 % of 10,000.00 = 100.00).
    assert [(x.first_date, x.last_date, x.plan, x.commission_minor) for x in s.spans] == [
        ("2026-01-01", "2026-01-31", "margin_2026h1", 50_000),
        ("2026-02-01", "2026-02-19", "", 0),
        ("2026-02-20", "2026-02-28", "bookings_from_february", 10_000),
    ]
    assert [(x.deal_id, x.commission_minor) for x in s.deals] == [
        ("e-1", 50_000), ("e-2", 0), ("e-3", 10_000)]  # fmt: skip
    assert "NO_PLAN" in s.spans[1].flags and s.pay_minor == 60_000


CASH_PLANS = """
plans:
  - id: cash_a
    currency: CNY
    effective_until: 2026-02-14
    base: collections
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.05}]}
  - id: cash_b
    currency: CNY
    effective_from: 2026-02-15
    base: collections
    tiers: {basis: amount, rows: [{lower: 0, rate: 0.10}]}
"""


def test_cash_collected_on_both_sides_of_a_switch_is_paid_under_each_plan(
    channel: grpc.Channel, sample_text: str
) -> None:
    publish(channel, sample_text, "cash", CASH_PLANS)
    d = types_pb2.Deal(amount_minor=1_000_000, currency="CNY", stage="quote", owner="li.wei")
    record_won(channel, "cash", [("c-1", d, "2026-01-20")])
    stub = commission_pb2_grpc.CommissionServiceStub(channel)
    stub.RecordPayments(commission_pb2.RecordPaymentsRequest(rule_set="cash", payments=[
        commission_pb2.Payment(payment_id=pid, deal_id="c-1", paid_date=day, amount_minor=amount,
                               currency="CNY", kind=commission_pb2.PAYMENT_KIND_PAYMENT)
        for pid, day, amount in (("p1", "2026-02-10", 400_000), ("p2", "2026-02-20", 600_000))]))  # fmt: skip
    stub.RunCommission(commission_pb2.RunCommissionRequest(
        rule_set="cash", period="2026-02", first_date="2026-02-01", last_date="2026-02-28",
        as_of_date="2026-02-28", run_key="feb"))  # fmt: skip
    s = statement(stub, "feb", "li.wei")
    # 4,000.00 paid on 10 February at 5 %, 6,000.00 on 20 February at 10 %: one line per span.
    assert [(x.deal_id, x.base_minor, x.commission_minor, x.rule) for x in s.deals] == [
        ("c-1", 400_000, 20_000, "plans[0].tiers"),
        ("c-1", 600_000, 60_000, "plans[1].tiers"),
    ]
    assert [(x.plan, x.last_date) for x in s.spans] == [("cash_a", "2026-02-14"),
                                                        ("cash_b", "2026-02-28")]  # fmt: skip
    assert s.pay_minor == 80_000
