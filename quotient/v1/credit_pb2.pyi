import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from quotient.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DealEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAL_EVENT_KIND_UNSPECIFIED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_CREATED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_STAGE_CHANGED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_AMOUNT_CHANGED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_PARTICIPANTS_CHANGED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_WON: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_LOST: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_REOPENED: _ClassVar[DealEventKind]
    DEAL_EVENT_KIND_CANCELLED: _ClassVar[DealEventKind]

class SplitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_KIND_UNSPECIFIED: _ClassVar[SplitKind]
    SPLIT_KIND_FULL: _ClassVar[SplitKind]
    SPLIT_KIND_OVERAGE: _ClassVar[SplitKind]

class CreditBasis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_BASIS_UNSPECIFIED: _ClassVar[CreditBasis]
    CREDIT_BASIS_RATIO: _ClassVar[CreditBasis]
    CREDIT_BASIS_AMOUNT: _ClassVar[CreditBasis]
    CREDIT_BASIS_REMAINDER: _ClassVar[CreditBasis]

class CreditSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_SOURCE_UNSPECIFIED: _ClassVar[CreditSource]
    CREDIT_SOURCE_TEAM: _ClassVar[CreditSource]
    CREDIT_SOURCE_POLICY: _ClassVar[CreditSource]
    CREDIT_SOURCE_OWNER_DEFAULT: _ClassVar[CreditSource]
    CREDIT_SOURCE_REMAINDER: _ClassVar[CreditSource]
DEAL_EVENT_KIND_UNSPECIFIED: DealEventKind
DEAL_EVENT_KIND_CREATED: DealEventKind
DEAL_EVENT_KIND_STAGE_CHANGED: DealEventKind
DEAL_EVENT_KIND_AMOUNT_CHANGED: DealEventKind
DEAL_EVENT_KIND_PARTICIPANTS_CHANGED: DealEventKind
DEAL_EVENT_KIND_WON: DealEventKind
DEAL_EVENT_KIND_LOST: DealEventKind
DEAL_EVENT_KIND_REOPENED: DealEventKind
DEAL_EVENT_KIND_CANCELLED: DealEventKind
SPLIT_KIND_UNSPECIFIED: SplitKind
SPLIT_KIND_FULL: SplitKind
SPLIT_KIND_OVERAGE: SplitKind
CREDIT_BASIS_UNSPECIFIED: CreditBasis
CREDIT_BASIS_RATIO: CreditBasis
CREDIT_BASIS_AMOUNT: CreditBasis
CREDIT_BASIS_REMAINDER: CreditBasis
CREDIT_SOURCE_UNSPECIFIED: CreditSource
CREDIT_SOURCE_TEAM: CreditSource
CREDIT_SOURCE_POLICY: CreditSource
CREDIT_SOURCE_OWNER_DEFAULT: CreditSource
CREDIT_SOURCE_REMAINDER: CreditSource

class DealEvent(_message.Message):
    __slots__ = ("event_id", "deal_id", "event_time", "kind", "deal")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEAL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    deal_id: str
    event_time: _timestamp_pb2.Timestamp
    kind: DealEventKind
    deal: _types_pb2.Deal
    def __init__(self, event_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[DealEventKind, str]] = ..., deal: _Optional[_Union[_types_pb2.Deal, _Mapping]] = ...) -> None: ...

class RecordDealEventsRequest(_message.Message):
    __slots__ = ("rule_set", "events", "omit_lines")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    OMIT_LINES_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    events: _containers.RepeatedCompositeFieldContainer[DealEvent]
    omit_lines: bool
    def __init__(self, rule_set: _Optional[str] = ..., events: _Optional[_Iterable[_Union[DealEvent, _Mapping]]] = ..., omit_lines: _Optional[bool] = ...) -> None: ...

class LedgerLine(_message.Message):
    __slots__ = ("line_id", "deal_id", "event_id", "event_time", "split", "person", "credit_delta_minor", "weighted_credit_delta_minor", "currency", "correction", "rule_set", "revision")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    CREDIT_DELTA_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_CREDIT_DELTA_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    line_id: int
    deal_id: str
    event_id: str
    event_time: _timestamp_pb2.Timestamp
    split: str
    person: str
    credit_delta_minor: int
    weighted_credit_delta_minor: int
    currency: str
    correction: bool
    rule_set: str
    revision: int
    def __init__(self, line_id: _Optional[int] = ..., deal_id: _Optional[str] = ..., event_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., split: _Optional[str] = ..., person: _Optional[str] = ..., credit_delta_minor: _Optional[int] = ..., weighted_credit_delta_minor: _Optional[int] = ..., currency: _Optional[str] = ..., correction: _Optional[bool] = ..., rule_set: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class RecordDealEventsResponse(_message.Message):
    __slots__ = ("recorded_count", "duplicate_count", "lines")
    RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    recorded_count: int
    duplicate_count: int
    lines: _containers.RepeatedCompositeFieldContainer[LedgerLine]
    def __init__(self, recorded_count: _Optional[int] = ..., duplicate_count: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[LedgerLine, _Mapping]]] = ...) -> None: ...

class GetCreditsRequest(_message.Message):
    __slots__ = ("deal_id", "person", "as_of", "include_lines")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LINES_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    person: str
    as_of: _timestamp_pb2.Timestamp
    include_lines: bool
    def __init__(self, deal_id: _Optional[str] = ..., person: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_lines: _Optional[bool] = ...) -> None: ...

class CreditTotal(_message.Message):
    __slots__ = ("deal_id", "split", "person", "currency", "credit_minor", "weighted_credit_minor")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    split: str
    person: str
    currency: str
    credit_minor: int
    weighted_credit_minor: int
    def __init__(self, deal_id: _Optional[str] = ..., split: _Optional[str] = ..., person: _Optional[str] = ..., currency: _Optional[str] = ..., credit_minor: _Optional[int] = ..., weighted_credit_minor: _Optional[int] = ...) -> None: ...

class GetCreditsResponse(_message.Message):
    __slots__ = ("totals", "lines")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    totals: _containers.RepeatedCompositeFieldContainer[CreditTotal]
    lines: _containers.RepeatedCompositeFieldContainer[LedgerLine]
    def __init__(self, totals: _Optional[_Iterable[_Union[CreditTotal, _Mapping]]] = ..., lines: _Optional[_Iterable[_Union[LedgerLine, _Mapping]]] = ...) -> None: ...

class SplitCreditsRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "as_of_date", "deals", "deal_columns")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    DEAL_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    as_of_date: str
    deals: _containers.RepeatedCompositeFieldContainer[_types_pb2.Deal]
    deal_columns: bytes
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., as_of_date: _Optional[str] = ..., deals: _Optional[_Iterable[_Union[_types_pb2.Deal, _Mapping]]] = ..., deal_columns: _Optional[bytes] = ...) -> None: ...

class CreditPart(_message.Message):
    __slots__ = ("person", "role", "split", "kind", "basis", "ratio", "fixed_amount_minor", "credit_minor", "weighted_credit_minor", "source", "policy")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    FIXED_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    person: str
    role: str
    split: str
    kind: SplitKind
    basis: CreditBasis
    ratio: str
    fixed_amount_minor: int
    credit_minor: int
    weighted_credit_minor: int
    source: CreditSource
    policy: str
    def __init__(self, person: _Optional[str] = ..., role: _Optional[str] = ..., split: _Optional[str] = ..., kind: _Optional[_Union[SplitKind, str]] = ..., basis: _Optional[_Union[CreditBasis, str]] = ..., ratio: _Optional[str] = ..., fixed_amount_minor: _Optional[int] = ..., credit_minor: _Optional[int] = ..., weighted_credit_minor: _Optional[int] = ..., source: _Optional[_Union[CreditSource, str]] = ..., policy: _Optional[str] = ...) -> None: ...

class DealCredits(_message.Message):
    __slots__ = ("index", "deal_id", "currency", "amount_minor", "weighted_amount_minor", "win_prob", "parts", "problem")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    index: int
    deal_id: str
    currency: str
    amount_minor: int
    weighted_amount_minor: int
    win_prob: str
    parts: _containers.RepeatedCompositeFieldContainer[CreditPart]
    problem: _types_pb2.DealProblem
    def __init__(self, index: _Optional[int] = ..., deal_id: _Optional[str] = ..., currency: _Optional[str] = ..., amount_minor: _Optional[int] = ..., weighted_amount_minor: _Optional[int] = ..., win_prob: _Optional[str] = ..., parts: _Optional[_Iterable[_Union[CreditPart, _Mapping]]] = ..., problem: _Optional[_Union[_types_pb2.DealProblem, _Mapping]] = ...) -> None: ...

class SplitCreditsResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "deals", "failed_count", "deal_columns", "part_columns")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEAL_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    PART_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    deals: _containers.RepeatedCompositeFieldContainer[DealCredits]
    failed_count: int
    deal_columns: bytes
    part_columns: bytes
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., deals: _Optional[_Iterable[_Union[DealCredits, _Mapping]]] = ..., failed_count: _Optional[int] = ..., deal_columns: _Optional[bytes] = ..., part_columns: _Optional[bytes] = ...) -> None: ...
