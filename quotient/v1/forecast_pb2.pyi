from quotient.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WinProbSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WIN_PROB_SOURCE_UNSPECIFIED: _ClassVar[WinProbSource]
    WIN_PROB_SOURCE_STAGE: _ClassVar[WinProbSource]
    WIN_PROB_SOURCE_OVERRIDE: _ClassVar[WinProbSource]
    WIN_PROB_SOURCE_MANUAL: _ClassVar[WinProbSource]
    WIN_PROB_SOURCE_CLOSED_STAGE: _ClassVar[WinProbSource]
WIN_PROB_SOURCE_UNSPECIFIED: WinProbSource
WIN_PROB_SOURCE_STAGE: WinProbSource
WIN_PROB_SOURCE_OVERRIDE: WinProbSource
WIN_PROB_SOURCE_MANUAL: WinProbSource
WIN_PROB_SOURCE_CLOSED_STAGE: WinProbSource

class ScoreDealsRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "as_of_date", "deals")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    as_of_date: str
    deals: _containers.RepeatedCompositeFieldContainer[_types_pb2.Deal]
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., as_of_date: _Optional[str] = ..., deals: _Optional[_Iterable[_Union[_types_pb2.Deal, _Mapping]]] = ...) -> None: ...

class DealScore(_message.Message):
    __slots__ = ("index", "deal_id", "win_prob", "win_prob_ppm", "weighted_amount_minor", "currency", "category", "win_prob_source", "matched_rules", "rule_set", "revision", "problem")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_PPM_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_SOURCE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_RULES_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    index: int
    deal_id: str
    win_prob: str
    win_prob_ppm: int
    weighted_amount_minor: int
    currency: str
    category: _types_pb2.Category
    win_prob_source: WinProbSource
    matched_rules: _containers.RepeatedScalarFieldContainer[str]
    rule_set: str
    revision: int
    problem: _types_pb2.DealProblem
    def __init__(self, index: _Optional[int] = ..., deal_id: _Optional[str] = ..., win_prob: _Optional[str] = ..., win_prob_ppm: _Optional[int] = ..., weighted_amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., category: _Optional[_Union[_types_pb2.Category, str]] = ..., win_prob_source: _Optional[_Union[WinProbSource, str]] = ..., matched_rules: _Optional[_Iterable[str]] = ..., rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., problem: _Optional[_Union[_types_pb2.DealProblem, _Mapping]] = ...) -> None: ...

class ScoreDealsResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "scores", "failed_count")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    scores: _containers.RepeatedCompositeFieldContainer[DealScore]
    failed_count: int
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[DealScore, _Mapping]]] = ..., failed_count: _Optional[int] = ...) -> None: ...
