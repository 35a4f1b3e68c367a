"""Canonical JSON of event payloads and deal states: stored payload hashes depend on its exact
text, so the fast writer must write what the standard library writes, and stored text must read
back as it was written, long integers included."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from service.store.ledger import canonical_json, load_json, time_text

#: What an event payload or a deal state may hold: no floats (amounts are integers, decimals text).
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: the reference writer takes those
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(),  # any code point: controls, quotes, backslashes, U+2028, astral planes
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _reference(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(_VALUES)
def test_canonical_json_is_the_standard_librarys_text(value: Any) -> None:
    assert canonical_json(value) == _reference(value)


@given(_VALUES)
def test_stored_json_reads_back_exactly(value: Any) -> None:
    back = load_json(canonical_json(value))
    assert back == value
    assert canonical_json(back) == canonical_json(value)  # no integer came back as a float


def test_keys_sort_by_code_point_beyond_the_basic_plane() -> None:
    value = {"\ue000": 1, "\U00010000": 2, "a": 3, "\xe9": 4, "\uffff": 5}
    assert canonical_json(value) == _reference(value)
    assert canonical_json(value).index("\uffff") < canonical_json(value).index("\U00010000")


def test_long_integers_read_back_as_integers() -> None:
    for n in (2**64 - 1, 2**64, -(2**63) - 1, 10**30):
        assert load_json(canonical_json({"amount_minor": n})) == {"amount_minor": n}
        assert isinstance(load_json(canonical_json([n]))[0], int)
        assert load_json(canonical_json({"a": "x", "b": [1, n]})) == {"a": "x", "b": [1, n]}
        assert load_json(str(n)) == n
    for text in ("9" * 19, "-" + "9" * 18, '"' + "9" * 30 + '"'):  # what orjson reads exactly
        assert load_json(text) == json.loads(text)


def _utc(t: dt.datetime) -> dt.datetime | None:
    try:
        return t.astimezone(dt.UTC)
    except OverflowError:
        return None


@given(st.datetimes(timezones=st.timezones()))
def test_time_text_is_the_utc_isoformat(t: dt.datetime) -> None:
    utc = _utc(t)
    assume(utc is not None)  # near year 1 or 9999 the UTC time may be out of range
    assert utc is not None and time_text(t) == utc.isoformat(timespec="microseconds")
