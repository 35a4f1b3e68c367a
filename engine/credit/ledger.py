"""Deal events and the credit ledger they produce: pure functions, storage-free.

CRM backends report what happened to a deal (created, stage changed, amount changed, team changed,
won, lost, reopened, cancelled). A deal's *state* after an event is the previous state with the
event's changes; its *credits* are the split of that state under the rule set in force at the
event's time. The ledger is append-only: each event contributes, per (split, person), the change
of credit and weighted credit it caused. When an event arrives late (its time is before events
already recorded), the deal is replayed in time order and every event from the late one on gets
*correction* lines, the difference between what it should have contributed and what its lines
already sum to, so the ledger's sum up to any time is the credits at that time, and no line is
ever edited.

Everything here works on many deals at once: states are plain dicts (cheap to copy), and the
credits of every state of a batch are computed by one vectorised :func:`split_credits` call per
rule-set revision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from engine.credit.splits import TeamInput, split_credits
from engine.forecast.deals import (
    DEAL_COLUMNS,
    DealInput,
    build_deal_batch,
    deal_input_from_records,
)
from engine.forecast.scoring import score_deals
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import AmountChange, SplitKind


class EventKind(str, Enum):
    """What happened to a deal."""

    CREATED = "created"
    STAGE_CHANGED = "stage_changed"
    AMOUNT_CHANGED = "amount_changed"
    PARTICIPANTS_CHANGED = "participants_changed"
    WON = "won"
    LOST = "lost"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


#: Deal fields an event may carry (``team`` is the list of members).
DEAL_FIELDS = (*DEAL_COLUMNS[1:], "attributes", "team")
_DEAL_FIELDS = frozenset(DEAL_FIELDS)
#: The deal fields an event of any kind updates besides those its kind is about.
_OTHER_FIELDS = _DEAL_FIELDS - {"stage", "amount_minor", "currency", "team"}


@dataclass(slots=True)
class DealEvent:
    """One event. ``changes`` holds the deal fields it sets (all of them for ``created``).

    Not frozen, and by convention never changed once stored (until then, a batch worked out
    ahead of the store's write lock may be renumbered under it): a thousand-event batch makes
    two thousand of these and ledger lines, and a frozen dataclass takes six times as long to
    make."""

    event_id: str
    deal_id: str
    event_time: dt.datetime
    kind: EventKind
    changes: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0  # arrival order: breaks ties between events at the same time

    @property
    def order_key(self) -> tuple[dt.datetime, int, str]:
        return (self.event_time, self.seq, self.event_id)


class EventError(Exception):
    """An event that cannot be applied: ``reason`` is stable, ``field`` names the culprit."""

    def __init__(self, reason: str, field_name: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field_name
        self.message = message


State = dict[str, Any]
Key = tuple[str, str]  # (split type id, person)
Credits = dict[Key, tuple[int, int]]  # -> (credit_minor, weighted_credit_minor)


def _stage_where(rules: CompiledRuleSet, flag: str) -> str:
    mask = rules.stage_is_won if flag == "won" else rules.stage_is_lost
    return rules.stage_ids[int(mask.argmax())]


def _rescale_fixed(
    team: list[dict[str, Any]], old: int, new: int, rules: CompiledRuleSet
) -> list[dict[str, Any]]:
    """Apply each split type's ``amount_change`` policy to the fixed parts of ``team``."""
    types = rules.splits.types
    default = types[rules.splits.default_type].id
    by_split: dict[str, list[int]] = {}
    for i, m in enumerate(team):
        if m.get("amount_minor") not in (None, ""):
            by_split.setdefault(m.get("split") or default, []).append(i)
    out = [dict(m) for m in team]
    for split_id, members in by_split.items():
        index = rules.splits.index.get(split_id)
        if index is None:
            continue  # an unknown split type is reported when the credits are computed
        t = types[index]
        total = sum(int(team[i]["amount_minor"]) for i in members)
        fits = t.kind is SplitKind.OVERAGE or total <= new
        if t.amount_change is AmountChange.REJECT and not fits:
            raise EventError(
                "FIXED_EXCEEDS_AMOUNT",
                "amount_minor",
                f"the fixed amounts of split {split_id} ({total}) exceed the new amount ({new}) "
                "and the split type rejects such a change",
            )
        rescale = t.amount_change is AmountChange.RESCALE or (
            t.amount_change is AmountChange.KEEP and not fits
        )
        if rescale and old > 0:
            for i in members:  # floor, so the rescaled parts never exceed the new amount
                out[i]["amount_minor"] = int(team[i]["amount_minor"]) * new // old
    return out


def apply_event(state: State | None, event: DealEvent, rules: CompiledRuleSet) -> State:
    """Return the deal's state after ``event`` (``state`` is None before ``created``)."""
    if event.kind is EventKind.CREATED:
        if state is not None:
            raise EventError("DEAL_EXISTS", "deal_id", f"deal {event.deal_id!r} already exists")
        new: State = {"id": event.deal_id, "team": [], "cancelled": False}
        changes = event.changes
        if changes.keys() <= _DEAL_FIELDS:  # the usual case: nothing to leave out
            new.update(changes)
        else:
            new.update({k: v for k, v in changes.items() if k in _DEAL_FIELDS})
        return new
    if state is None:
        raise EventError(
            "UNKNOWN_DEAL",
            "deal_id",
            f"no deal {event.deal_id!r} was created before this event",
        )
    new = dict(state)
    changes = event.changes
    if state.get("cancelled") and event.kind is not EventKind.REOPENED:
        raise EventError("DEAL_CANCELLED", "kind", f"deal {event.deal_id!r} is cancelled")
    if event.kind is EventKind.STAGE_CHANGED or event.kind is EventKind.REOPENED:
        if not changes.get("stage"):
            raise EventError("MISSING_FIELD", "deal.stage", f"{event.kind.value} needs a stage")
        new["stage"] = changes["stage"]
        new["cancelled"] = False
    elif event.kind is EventKind.WON:
        new["stage"] = _stage_where(rules, "won")
    elif event.kind is EventKind.LOST:
        new["stage"] = _stage_where(rules, "lost")
    elif event.kind is EventKind.AMOUNT_CHANGED:
        amount = changes.get("amount_minor")
        if amount is None:
            raise EventError("MISSING_FIELD", "deal.amount_minor", "amount_changed needs an amount")
        old = int(state.get("amount_minor") or 0)
        new["team"] = _rescale_fixed(list(state.get("team", [])), old, int(amount), rules)
        new["amount_minor"] = amount
        if changes.get("currency"):
            new["currency"] = changes["currency"]
    elif event.kind is EventKind.PARTICIPANTS_CHANGED:
        new["team"] = list(changes.get("team", []))
    elif event.kind is EventKind.CANCELLED:
        new["cancelled"] = True
    # Other deal fields an event carries (owner, region...) are updated too.
    for k, v in changes.items():
        if k in _OTHER_FIELDS:
            new[k] = v
    return new


def deal_record(state: State) -> dict[str, Any]:
    """A state as a flat deal record (declared attributes beside the built-in fields, no team)."""
    record = {k: v for k, v in state.items() if k not in ("team", "cancelled", "attributes")}
    record.update(state.get("attributes") or {})
    return record


#: The keys a state holds besides deal columns.
_STATE_ONLY = frozenset(("team", "cancelled", "attributes"))
_DEAL_COLUMN_SET = frozenset(DEAL_COLUMNS)
_STATE_KEYS = _DEAL_COLUMN_SET | _STATE_ONLY
_NO_ATTRIBUTES: dict[str, Any] = {}


def deal_input_from_states(states: Sequence[State]) -> DealInput:
    """The deal columns of ``states``: ``deal_input_from_records`` of their :func:`deal_record`,
    read straight from the states (a test holds the two equal).

    A state holds deal columns, its team, its cancelled flag and its declared attributes, so
    each column is one pass over the states. A state with any other key, or with an attribute
    named like a deal column (which its record would let override the column), takes the
    records' way."""
    attributes = [s.get("attributes") or _NO_ATTRIBUTES for s in states]
    if any(not s.keys() <= _STATE_KEYS for s in states) or any(
        not a.keys().isdisjoint(_DEAL_COLUMN_SET) for a in attributes if a
    ):
        return deal_input_from_records([deal_record(s) for s in states])
    columns = {k: [s.get(k) for s in states] for k in DEAL_COLUMNS}
    extra = dict.fromkeys(k for a in attributes if a for k in a)  # in the order met
    return DealInput(
        **columns,  # type: ignore[arg-type]
        attributes={k: [a.get(k) for a in attributes] for k in extra},
    )


def team_input_from_states(states: Sequence[State]) -> TeamInput:
    """The members of every state's team as columns (``deal``: the state's position)."""
    members = [(j, m) for j, s in enumerate(states) for m in s.get("team", ())]
    return TeamInput(
        [j for j, _ in members],
        [m.get("person", "") for _, m in members],
        [m.get("role") for _, m in members],
        [m.get("split") for _, m in members],
        [m.get("ratio") for _, m in members],
        [m.get("amount_minor") for _, m in members],
    )


def state_history(
    events: Sequence[DealEvent], rules: CompiledRuleSet, lost_stage: str | None = None
) -> list[dict[str, Any]]:
    """Deal-history rows (``engine.forecast.history``) from stored events, in their order: each
    event gives the deal's state from its day on. A cancelled deal is taken as lost from the
    cancellation on (it no longer books); events that cannot apply are skipped, as the ledger
    never accepted them.
    """
    lost = lost_stage or _stage_where(rules, "lost")
    rows: list[dict[str, Any]] = []
    states: dict[str, State] = {}
    for event in sorted(events, key=lambda e: (e.deal_id, *e.order_key)):
        try:
            state = apply_event(states.get(event.deal_id), event, rules)
        except EventError:
            continue
        states[event.deal_id] = state
        record = deal_record(state)
        record.pop("id", None)
        if state.get("cancelled"):
            record["stage"] = lost
        rows.append({"deal_id": event.deal_id, "date": event.event_time.date(), **record})
    return rows


def credits_of(rules: CompiledRuleSet, states: Sequence[State]) -> list[Credits | EventError]:
    """Split every state at once; a state that cannot be split gives its error instead."""
    if not states:
        return []
    live = [i for i, s in enumerate(states) if not s.get("cancelled")]
    out: list[Credits | EventError] = [{} for _ in states]
    live_states = states if len(live) == len(states) else [states[i] for i in live]
    batch = build_deal_batch(deal_input_from_states(live_states), rules)
    team = team_input_from_states(live_states)
    result = split_credits(rules, batch, score_deals(rules, batch), team)
    for e in result.errors:
        out[live[e.index]] = EventError(e.reason, e.field, e.message)
    ids = [t.id for t in rules.splits.types]
    columns = zip(
        result.deal.tolist(),
        [ids[s] for s in result.split.tolist()],
        result.person,
        result.credit_minor.tolist(),
        result.weighted_credit_minor.tolist(),
        strict=True,
    )
    for j, split_id, who, credit, weighted in columns:
        target = out[live[j]]
        assert isinstance(target, dict)
        key = (split_id, who)
        before = target.get(key)
        target[key] = (credit, weighted) if before is None else (
            before[0] + credit, before[1] + weighted
        )  # fmt: skip
    return out


def delta(before: Credits, after: Credits) -> Credits:
    """Return ``after - before`` per key, without zero entries, sorted by key."""
    out: Credits = {}
    if not before:  # a new deal, or an event with no lines yet
        for key in sorted(after):
            if after[key] != (0, 0):
                out[key] = after[key]
        return out
    for key in sorted(set(before) | set(after)):
        c0, w0 = before.get(key, (0, 0))
        c1, w1 = after.get(key, (0, 0))
        if (c1 - c0, w1 - w0) != (0, 0):
            out[key] = (c1 - c0, w1 - w0)
    return out


@dataclass(slots=True)
class LedgerLine:
    """One append-only line: the change an event makes to one person's credit in one split
    (never changed once made; not frozen for speed, as :class:`DealEvent`)."""

    deal_id: str
    event_id: str
    event_time: dt.datetime
    split: str
    person: str
    credit_delta_minor: int
    weighted_delta_minor: int
    currency: str
    correction: bool
    rule_set: str
    revision: int


@dataclass(slots=True)
class Replay:
    """A deal replayed: its state and credits after each event, in time order (never changed
    once made; not frozen for speed, as :class:`DealEvent`)."""

    events: list[DealEvent]
    states: list[State]
    credits: list[Credits]
    revisions: list[int]


def replay_deals(
    histories: Mapping[str, tuple[State | None, Credits, list[DealEvent]]],
    rules_at: Callable[[dt.datetime], tuple[str, int, CompiledRuleSet]],
) -> tuple[dict[str, Replay], dict[str, tuple[DealEvent, EventError]]]:
    """Replay each deal's events (sorted by time) from a starting state and credits.

    ``histories`` maps deal id -> (state before the first event, credits of that state, events).
    ``rules_at(event_time)`` returns (rule-set name, revision, compiled rules) in force then.
    Returns the replays, and for deals that failed, the first event that could not be applied.
    """
    states_by_rev: dict[int, list[tuple[str, int, State]]] = {}
    rules_by_rev: dict[int, CompiledRuleSet] = {}
    replays: dict[str, Replay] = {}
    failed: dict[str, tuple[DealEvent, EventError]] = {}
    for deal_id, (start, _, events) in histories.items():
        if len(events) == 1:  # the usual case: a deal's one new event, in order
            event = events[0]
            _, revision, rules = rules_at(event.event_time)
            try:
                after = apply_event(start, event, rules)
            except EventError as exc:
                failed[deal_id] = (event, exc)
                continue
            rules_by_rev[revision] = rules
            replays[deal_id] = Replay([event], [after], [{}], [revision])
            states_by_rev.setdefault(revision, []).append((deal_id, 0, after))
            continue
        ordered = sorted(events, key=lambda e: e.order_key)
        state: State | None = start
        states: list[State] = []
        revisions: list[int] = []
        try:
            for k, event in enumerate(ordered):
                _, revision, rules = rules_at(event.event_time)
                rules_by_rev[revision] = rules
                state = apply_event(state, event, rules)
                states.append(state)
                revisions.append(revision)
                states_by_rev.setdefault(revision, []).append((deal_id, k, state))
        except EventError as exc:
            failed[deal_id] = (event, exc)
            continue
        replays[deal_id] = Replay(ordered, states, [{} for _ in states], revisions)
    for revision, items in states_by_rev.items():
        items = [it for it in items if it[0] in replays]
        results = credits_of(rules_by_rev[revision], [s for _, _, s in items])
        for (deal_id, k, _), credits in zip(items, results, strict=True):
            if deal_id in failed:
                continue
            if isinstance(credits, EventError):
                failed[deal_id] = (replays[deal_id].events[k], credits)
                replays.pop(deal_id)
            else:
                replays[deal_id].credits[k] = credits
    return replays, failed


def ledger_lines(
    replay: Replay,
    start_credits: Credits,
    recorded: Mapping[str, Credits],
    rule_set: str,
) -> list[LedgerLine]:
    """Lines that make each event's contribution what the replay says it should be.

    ``recorded`` maps event id -> what that event's lines already sum to (empty for new events).
    In-order events produce their delta; events after a late one produce corrections.
    """
    lines: list[LedgerLine] = []
    append = lines.append
    before = start_credits
    for event, state, credits, revision in zip(
        replay.events, replay.states, replay.credits, replay.revisions, strict=True
    ):
        target = delta(before, credits)
        already = recorded.get(event.event_id)
        if already:
            target = delta(already, target)
        correction = event.event_id in recorded
        currency = str(state.get("currency", ""))
        for (split, person), (dc, dw) in target.items():
            append(
                LedgerLine(
                    event.deal_id, event.event_id, event.event_time, split, person, dc, dw,
                    currency, correction, rule_set, revision,
                )
            )  # fmt: skip
        before = credits
    return lines


__all__ = [
    "DEAL_FIELDS",
    "Credits",
    "DealEvent",
    "EventError",
    "EventKind",
    "LedgerLine",
    "Replay",
    "State",
    "apply_event",
    "credits_of",
    "deal_input_from_states",
    "deal_record",
    "delta",
    "ledger_lines",
    "replay_deals",
    "state_history",
    "team_input_from_states",
]
