"""Deal events and the ledger: the 70/30 example's deltas, fixed parts when the amount changes,
errors, and property tests: in any arrival order the ledger sums to the fresh credits, at every
time, and replay is deterministic."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.credit.ledger import (
    Credits,
    DealEvent,
    EventError,
    EventKind,
    LedgerLine,
    apply_event,
    credits_of,
    deal_input_from_states,
    deal_record,
    ledger_lines,
    replay_deals,
    team_input_from_states,
)
from engine.credit.splits import TeamInput
from engine.forecast.deals import DEAL_COLUMNS, deal_input_from_records
from engine.rules.compiler import compile_rule_set
from tests.conftest import EXAMPLES

# The sample without its own splits section, which these tests replace.
SAMPLE = (EXAMPLES / "default.yaml").read_text(encoding="utf-8").split("\nsplits:")[0]
RULES = compile_rule_set(
    SAMPLE
    + """
splits:
  types:
    - {id: revenue, kind: full}
    - {id: rescaled, kind: full, amount_change: rescale}
    - {id: strict, kind: full, amount_change: reject}
    - {id: overlay, kind: overage}
"""
)
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
TEAM = [
    {"person": "li.wei", "ratio": "0.7"},
    {"person": "zhang.min", "ratio": "0.3"},
]


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def created(deal_id: str = "d", minutes: int = 0, **kw: Any) -> DealEvent:
    changes = {
        "amount_minor": 100_000_000,
        "currency": "CNY",
        "stage": "initial_contact",
        "owner": "li.wei",
        "team": TEAM,
        **kw,
    }
    return DealEvent(f"{deal_id}-created", deal_id, at(minutes), EventKind.CREATED, changes)


def rules_at(_: dt.datetime) -> tuple[str, int, Any]:
    return ("default", 1, RULES)


def run(events: list[DealEvent]) -> tuple[list[LedgerLine], Credits]:
    replays, failed = replay_deals({"d": (None, {}, events)}, rules_at)
    assert not failed, failed
    replay = replays["d"]
    return ledger_lines(replay, {}, {}, "default"), replay.credits[-1]


def test_the_example_ledger_holds_the_stage_deltas() -> None:
    lines, final = run(
        [
            created(),
            DealEvent("e2", "d", at(5), EventKind.STAGE_CHANGED, {"stage": "won"}),
        ]
    )
    assert [(ln.event_id, ln.person, ln.credit_delta_minor, ln.weighted_delta_minor)
            for ln in lines] == [
        ("d-created", "li.wei", 70_000_000, 7_000_000),
        ("d-created", "zhang.min", 30_000_000, 3_000_000),
        ("e2", "li.wei", 0, 63_000_000),
        ("e2", "zhang.min", 0, 27_000_000),
    ]  # fmt: skip
    assert final == {
        ("revenue", "li.wei"): (70_000_000, 70_000_000),
        ("revenue", "zhang.min"): (30_000_000, 30_000_000),
    }


def test_won_lost_cancel_and_reopen() -> None:
    lines, final = run(
        [
            created(),
            DealEvent("w", "d", at(1), EventKind.WON),
            DealEvent("c", "d", at(2), EventKind.CANCELLED),
            DealEvent("r", "d", at(3), EventKind.REOPENED, {"stage": "quote"}),
            DealEvent("l", "d", at(4), EventKind.LOST),
        ]
    )
    assert final == {
        ("revenue", "li.wei"): (70_000_000, 0),
        ("revenue", "zhang.min"): (30_000_000, 0),
    }
    cancelled = [ln for ln in lines if ln.event_id == "c"]
    assert sum(ln.credit_delta_minor for ln in cancelled) == -100_000_000


@pytest.mark.parametrize(
    ("split", "new_amount", "expected"),
    [
        ("revenue", 50_000, 20_000),  # keep: the fixed part stays while it fits
        ("revenue", 10_000, 6_666),  # keep: rescaled (floor) once it no longer fits
        ("rescaled", 50_000, 33_333),  # rescale: always in proportion, rounded down
    ],
)
def test_fixed_parts_follow_the_split_policy(split: str, new_amount: int, expected: int) -> None:
    team = [{"person": "li.wei", "split": split, "ratio": "0"},
            {"person": "zhang.min", "split": split, "amount_minor": 20_000}]  # fmt: skip
    if split != "revenue":
        team.append({"person": "li.wei", "ratio": "1"})
    events = [
        created(amount_minor=30_000, team=team),
        DealEvent("a", "d", at(1), EventKind.AMOUNT_CHANGED, {"amount_minor": new_amount}),
    ]
    _, final = run(events)
    assert final[(split, "zhang.min")][0] == expected
    assert final[(split, "li.wei")][0] == new_amount - expected


def test_a_strict_split_rejects_an_amount_that_no_longer_covers_it() -> None:
    team = [{"person": "li.wei", "ratio": "1"},
            {"person": "li.wei", "split": "strict", "ratio": "0"},
            {"person": "zhang.min", "split": "strict", "amount_minor": 20_000}]  # fmt: skip
    events = [
        created(amount_minor=30_000, team=team),
        DealEvent("a", "d", at(1), EventKind.AMOUNT_CHANGED, {"amount_minor": 10_000}),
    ]
    _, failed = replay_deals({"d": (None, {}, events)}, rules_at)
    event, error = failed["d"]
    assert (event.event_id, error.reason) == ("a", "FIXED_EXCEEDS_AMOUNT")


def test_events_for_a_deal_never_created_or_created_twice_are_refused() -> None:
    with pytest.raises(EventError) as err:
        apply_event(None, DealEvent("x", "d", T0, EventKind.WON), RULES)
    assert err.value.reason == "UNKNOWN_DEAL"
    state = apply_event(None, created(), RULES)
    with pytest.raises(EventError) as err:
        apply_event(state, created(), RULES)
    assert err.value.reason == "DEAL_EXISTS"


def test_a_state_that_cannot_be_split_reports_why() -> None:
    bad = apply_event(None, created(team=[{"person": "a", "ratio": "0.5"}]), RULES)
    good = apply_event(None, created(), RULES)
    out = credits_of(RULES, [bad, good])
    assert isinstance(out[0], EventError) and out[0].reason == "RATIOS_NOT_100"
    assert out[1] == {("revenue", "li.wei"): (70_000_000, 7_000_000),
                      ("revenue", "zhang.min"): (30_000_000, 3_000_000)}  # fmt: skip


# --- properties: arrival order does not matter -------------------------------------------------

STAGES = ["initial_contact", "needs_confirmed", "quote", "contract_drafted"]
later_event = st.one_of(
    st.sampled_from(STAGES).map(lambda s: (EventKind.STAGE_CHANGED, {"stage": s})),
    st.integers(0, 10**9).map(lambda a: (EventKind.AMOUNT_CHANGED, {"amount_minor": a})),
    st.sampled_from(
        [
            [{"person": "li.wei", "ratio": "1"}],
            TEAM,
            [
                {"person": "li.wei", "ratio": "0.5"},
                {"person": "sun.yu", "ratio": "0.5"},
                {"person": "ops", "split": "overlay", "ratio": "1.25"},
            ],
        ]
    ).map(lambda t: (EventKind.PARTICIPANTS_CHANGED, {"team": t})),
    st.just((EventKind.WON, {})),
    st.just((EventKind.LOST, {})),
)


def simulate(arrivals: list[list[DealEvent]]) -> tuple[list[LedgerLine], list[DealEvent]]:
    """What the service does: each batch replays the deal and appends corrections."""
    known: list[DealEvent] = []
    lines: list[LedgerLine] = []
    for batch in arrivals:
        seen = {e.event_id for e in known}
        known += [e for e in batch if e.event_id not in seen]  # idempotent by event id
        replays, failed = replay_deals({"d": (None, {}, known)}, rules_at)
        assert not failed
        recorded: dict[str, Credits] = {}
        for ln in lines:
            c, w = recorded.setdefault(ln.event_id, {}).get((ln.split, ln.person), (0, 0))
            recorded[ln.event_id][(ln.split, ln.person)] = (
                c + ln.credit_delta_minor,
                w + ln.weighted_delta_minor,
            )
        lines += ledger_lines(replays["d"], {}, recorded, "default")
    return lines, known


def ledger_sum(lines: list[LedgerLine], until: dt.datetime | None = None) -> Credits:
    out: Credits = {}
    for ln in lines:
        if until is None or ln.event_time <= until:
            c, w = out.get((ln.split, ln.person), (0, 0))
            out[(ln.split, ln.person)] = (c + ln.credit_delta_minor, w + ln.weighted_delta_minor)
    return {k: v for k, v in out.items() if v != (0, 0)}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(later_event, min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.integers(1, 3),
)
def test_any_arrival_order_gives_the_ledger_of_the_time_order(
    changes: list[tuple[EventKind, dict[str, Any]]], rnd: Any, batch_size: int
) -> None:
    events = [created()] + [
        DealEvent(f"e{i}", "d", at(i + 1), kind, ch) for i, (kind, ch) in enumerate(changes)
    ]
    # Arrive in a random order, except that `created` comes first.
    rest = events[1:]
    rnd.shuffle(rest)
    order = [events[0], *rest]
    arrivals = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    lines, _ = simulate(arrivals)
    in_order, _ = simulate([[e] for e in events])
    replays, _ = replay_deals({"d": (None, {}, events)}, rules_at)
    for k, event in enumerate(events):
        fresh = {key: v for key, v in replays["d"].credits[k].items() if v != (0, 0)}
        assert ledger_sum(lines, event.event_time) == fresh
        assert ledger_sum(in_order, event.event_time) == fresh
    # Replay is deterministic, and sending everything again changes nothing.
    again, _ = simulate([[*order], order])
    assert ledger_sum(again) == ledger_sum(lines)
    recorded_again, _ = simulate([*arrivals, order])
    assert len(recorded_again) == len(lines)


# States as apply_event makes them (deal columns, team, cancelled flag, declared attributes),
# and now and then a key of another kind or an attribute named like a deal column.
_texts = st.text(alphabet="abcxyz.-", max_size=6)
_values = st.one_of(st.none(), _texts, st.integers(-(10**20), 10**20))
_member = st.fixed_dictionaries(
    {"person": _texts},
    optional={
        "role": _texts,
        "split": st.sampled_from(["revenue", "overlay"]),
        "ratio": st.sampled_from(["0.5", "1", ""]),
        "amount_minor": st.integers(0, 10**6),
    },
)
_state = st.fixed_dictionaries(
    {"id": _texts, "cancelled": st.booleans()},
    optional={
        **{name: _values for name in DEAL_COLUMNS[1:]},
        "team": st.lists(_member, max_size=3),
        "attributes": st.dictionaries(
            st.sampled_from(["segment", "discount", "owner", "stage"]), _values, max_size=3
        ),
        "legacy_note": _texts,
    },
)


@given(st.lists(_state, max_size=6))
def test_deal_columns_read_from_states_equal_those_of_their_records(states: list[Any]) -> None:
    assert deal_input_from_states(states) == deal_input_from_records(
        [deal_record(s) for s in states]
    )


@given(st.lists(_state, max_size=6))
def test_team_columns_read_from_states_list_every_member_in_order(states: list[Any]) -> None:
    expected = TeamInput([], [], [], [], [], [])
    for j, state in enumerate(states):
        for m in state.get("team", ()):
            expected.deal.append(j)
            expected.person.append(m.get("person", ""))
            expected.role.append(m.get("role"))
            expected.split.append(m.get("split"))
            expected.ratio.append(m.get("ratio"))
            expected.amount_minor.append(m.get("amount_minor"))
    assert team_input_from_states(states) == expected


def test_a_created_event_keeps_only_deal_fields() -> None:
    event = DealEvent("e", "d", T0, EventKind.CREATED, {"stage": "quote", "colour": "red"})
    assert apply_event(None, event, RULES) == {
        "id": "d",
        "team": [],
        "cancelled": False,
        "stage": "quote",
    }
