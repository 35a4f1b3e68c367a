"""Deal events from their messages: the event time is read as ``Timestamp.ToDatetime`` reads it,
and refused where it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidArgumentError
from quotient.v1 import credit_pb2, types_pb2
from service.convert_credit import events_from_proto

FIRST, LAST = -62_135_596_800, 253_402_300_799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z

seconds = st.one_of(
    st.integers(FIRST, LAST),
    st.sampled_from([FIRST, LAST, FIRST - 1, LAST + 1, 0, -1]),
    st.integers(-(2**63), 2**63 - 1),
)
nanos = st.one_of(
    st.integers(0, 999_999_999), st.sampled_from([0, 999, 1000, 999_999_999, 10**9, -1])
)


@given(seconds, nanos)
def test_the_event_time_is_what_timestamp_to_datetime_gives(s: int, n: int) -> None:
    event = credit_pb2.DealEvent(
        event_id="e-1",
        deal_id="d-1",
        kind=credit_pb2.DEAL_EVENT_KIND_STAGE_CHANGED,
        deal=types_pb2.Deal(stage="won"),
    )
    event.event_time.seconds, event.event_time.nanos = s, n
    try:
        expected: dt.datetime | None = event.event_time.ToDatetime(tzinfo=dt.UTC)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidArgumentError) as err:
            events_from_proto([event])
        assert [(v.path, v.reason) for v in err.value.violations] == [
            ("events[0].event_time", "INVALID_TIMESTAMP")
        ]
    else:
        (got,) = events_from_proto([event])
        assert got.event_time == expected and got.event_time.utcoffset() == dt.timedelta(0)
        assert got.event_time.tzinfo is expected.tzinfo
