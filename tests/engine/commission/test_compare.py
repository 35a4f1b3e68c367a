"""Comparing runs: who changed, which deal lines, and why."""

from __future__ import annotations

from typing import Any

from engine.commission.compare import compare_statements


def st(person: str, plan: str = "p", base: int = 100, target: int | None = 1000, pay: int = 10,
       flags: tuple[str, ...] = (), deals: tuple[tuple[str, int, int], ...] = (("d", 100, 10),)
       ) -> dict[str, Any]:  # fmt: skip
    return {"person": person, "plan": plan, "base_minor": base, "target_minor": target,
            "pay_minor": pay, "flags": list(flags),
            "deals": [{"deal_id": d, "credit_minor": c, "commission_minor": m}
                      for d, c, m in deals]}  # fmt: skip


def test_reasons() -> None:
    before = {"same": st("same"), "gone": st("gone"), "plan": st("plan"), "credit": st("credit"),
              "rules": st("rules")}  # fmt: skip
    after = {
        "same": st("same"),
        "new": st("new"),
        "plan": st("plan", plan="q"),
        "credit": st("credit", base=150, pay=15, deals=(("d", 100, 10), ("e", 50, 5))),
        "rules": st("rules", pay=12, deals=(("d", 100, 12),)),
    }
    changes = {c.person: c for c in compare_statements(before, after)}
    assert set(changes) == {"gone", "new", "plan", "credit", "rules"}
    assert changes["gone"].reasons == ("PERSON_REMOVED",)
    assert changes["new"].reasons == ("NEW_PERSON",)
    assert changes["plan"].reasons == ("PLAN_CHANGED",)
    assert changes["credit"].reasons == ("CREDIT_CHANGED",)
    assert [(d.deal_id, d.credit_before_minor, d.credit_after_minor)
            for d in changes["credit"].deals] == [("e", 0, 50)]  # fmt: skip
    assert changes["rules"].reasons == ("RULES_CHANGED",)
    assert [(d.commission_before_minor, d.commission_after_minor)
            for d in changes["rules"].deals] == [(10, 12)]  # fmt: skip


def test_settlement_and_clawback_reasons() -> None:
    before = {"a": {**st("a"), "clawbacks": [], "settlement": {"carry_in_minor": 0}},
              "b": {**st("b"), "bonuses": []}}  # fmt: skip
    after = {
        "a": {**st("a", pay=0), "clawbacks": [{"deal_id": "x", "amount_minor": 10}],
              "settlement": {"carry_in_minor": -5}},
        "b": {**st("b", pay=11), "bonuses": [{"kind": "SPIFF", "amount_minor": 1}]},
    }  # fmt: skip
    changes = {c.person: c for c in compare_statements(before, after)}
    assert changes["a"].reasons == ("CLAWBACKS_CHANGED", "SETTLEMENT_CHANGED")
    assert changes["b"].reasons == ("BONUSES_CHANGED",)


def test_a_deal_on_two_lines_is_compared_line_by_line() -> None:
    # Cash on one deal collected in both spans of a plan switch: two lines, matched in order.
    before = {"a": st("a", deals=(("d", 100, 10), ("d", 100, 4)))}
    after = {"a": st("a", deals=(("d", 100, 10), ("d", 100, 6)))}
    (change,) = compare_statements(before, after)
    assert [(d.deal_id, d.commission_before_minor, d.commission_after_minor)
            for d in change.deals] == [("d", 4, 6)]  # fmt: skip
