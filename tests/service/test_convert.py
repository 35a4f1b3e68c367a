"""Deal messages to columns and scores back: a lone deal (a CRM's call, which has a path of its
own) reads as it does beside other deals, and every score carries its probability as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.forecast.deals import DealInput, build_deal_batch
from engine.forecast.scoring import score_deals
from engine.money import ppm_to_decimal
from engine.rules.compiler import compile_rule_set
from quotient.v1 import types_pb2
from service.convert import deals_from_proto, scores_to_proto
from service.store.port import RevisionRecord
from tests.conftest import EXAMPLES

RULES = compile_rule_set((EXAMPLES / "default.yaml").read_text(encoding="utf-8"))

text = st.sampled_from(["", "quote", "East", "2026-03-31", "0.35", "li.wei", "x"])
attribute = st.one_of(
    st.builds(types_pb2.AttributeValue, string_value=text),
    st.builds(types_pb2.AttributeValue, int_value=st.integers(-(2**63), 2**63 - 1)),
    st.builds(types_pb2.AttributeValue, decimal_value=text),
    st.builds(types_pb2.AttributeValue, bool_value=st.booleans()),
    st.builds(types_pb2.AttributeValue, date_value=text),
    st.just(types_pb2.AttributeValue()),  # no kind set
)
deal = st.builds(
    types_pb2.Deal,
    id=text,
    amount_minor=st.integers(-(2**63), 2**63 - 1),
    currency=st.sampled_from(["", "USD", "JPY", "XXX"]),
    stage=text,
    win_prob=text,
    category=st.sampled_from(list(types_pb2.Category.values())),
    close_date=text,
    owner=text,
    region=text,
    product_line=text,
    customer_tier=text,
    source=text,
    created_date=text,
    stage_entered_date=text,
    attributes=st.dictionaries(st.sampled_from(["discount_pct", "industry", "visits"]), attribute),
)


def column_values(deals: DealInput, i: int) -> dict[str, object]:
    """Deal ``i``'s value in every column (attributes by name; None where not given)."""
    out: dict[str, object] = {
        f.name: getattr(deals, f.name)[i] for f in fields(deals) if f.name != "attributes"
    }
    out.update({f"attributes.{k}": v[i] for k, v in deals.attributes.items()})
    return {k: v for k, v in out.items() if v is not None}


@settings(max_examples=200, deadline=None)
@given(deal, deal)
def test_a_lone_deal_reads_as_it_does_beside_another(one: types_pb2.Deal, other: types_pb2.Deal):
    alone = deals_from_proto([one])
    assert len(alone) == 1
    assert column_values(alone, 0) == column_values(deals_from_proto([one, other]), 0)
    assert column_values(alone, 0) == column_values(deals_from_proto([other, one]), 1)


def test_each_score_says_its_probability_as_exact_text() -> None:
    record = RevisionRecord("default", 1, dt.date(2026, 1, 1), "", "", 1, dt.datetime.now(dt.UTC))
    messages = [
        types_pb2.Deal(
            id=f"d{i}", amount_minor=1_000_000_00, currency="USD", stage=stage, win_prob=p
        )
        for i, (stage, p) in enumerate(
            [("initial_contact", ""), ("quote", "0.333333"), ("quote", "0.000001"), ("won", "")]
        )
    ]
    expected = ["0.1", "0.333333", "0.000001", "1"]
    for repeat in range(2):  # the second time, the texts are the ones kept from the first
        for message, want in zip(messages, expected, strict=True):
            deals = deals_from_proto([message])
            batch = build_deal_batch(deals, RULES)
            response = scores_to_proto(batch, score_deals(RULES, batch), deals.currency, record)
            (score,) = response.scores
            assert score.win_prob == want, (repeat, message.id)
            assert Decimal(score.win_prob) == ppm_to_decimal(score.win_prob_ppm)
