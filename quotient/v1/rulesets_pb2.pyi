import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ValidateRuleSetRequest(_message.Message):
    __slots__ = ("content",)
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: str
    def __init__(self, content: _Optional[str] = ...) -> None: ...

class ValidateRuleSetResponse(_message.Message):
    __slots__ = ("name", "effective_from", "content_hash", "stage_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    STAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    effective_from: str
    content_hash: str
    stage_count: int
    def __init__(self, name: _Optional[str] = ..., effective_from: _Optional[str] = ..., content_hash: _Optional[str] = ..., stage_count: _Optional[int] = ...) -> None: ...

class CreateRuleSetRevisionRequest(_message.Message):
    __slots__ = ("content", "expected_revision")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    content: str
    expected_revision: int
    def __init__(self, content: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class RuleSetRevision(_message.Message):
    __slots__ = ("name", "revision", "effective_from", "create_time", "content_hash", "compiler_version", "content")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    COMPILER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: int
    effective_from: str
    create_time: _timestamp_pb2.Timestamp
    content_hash: str
    compiler_version: int
    content: str
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ..., effective_from: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., content_hash: _Optional[str] = ..., compiler_version: _Optional[int] = ..., content: _Optional[str] = ...) -> None: ...

class GetRuleSetRequest(_message.Message):
    __slots__ = ("name", "revision", "as_of_date")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: int
    as_of_date: str
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ..., as_of_date: _Optional[str] = ...) -> None: ...

class ListRuleSetRevisionsRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRuleSetRevisionsResponse(_message.Message):
    __slots__ = ("revisions", "next_page_token")
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[RuleSetRevision]
    next_page_token: str
    def __init__(self, revisions: _Optional[_Iterable[_Union[RuleSetRevision, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RuleSetRef(_message.Message):
    __slots__ = ("name", "revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: int
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class TestRuleSetRequest(_message.Message):
    __slots__ = ("content", "ref", "test_content")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    TEST_CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: str
    ref: RuleSetRef
    test_content: str
    def __init__(self, content: _Optional[str] = ..., ref: _Optional[_Union[RuleSetRef, _Mapping]] = ..., test_content: _Optional[str] = ...) -> None: ...

class TestCaseResult(_message.Message):
    __slots__ = ("name", "passed", "differences")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    differences: _containers.RepeatedCompositeFieldContainer[TestDifference]
    def __init__(self, name: _Optional[str] = ..., passed: _Optional[bool] = ..., differences: _Optional[_Iterable[_Union[TestDifference, _Mapping]]] = ...) -> None: ...

class TestDifference(_message.Message):
    __slots__ = ("field", "expected", "actual")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    field: str
    expected: str
    actual: str
    def __init__(self, field: _Optional[str] = ..., expected: _Optional[str] = ..., actual: _Optional[str] = ...) -> None: ...

class TestRuleSetResponse(_message.Message):
    __slots__ = ("name", "revision", "cases", "passed_count", "failed_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    PASSED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: int
    cases: _containers.RepeatedCompositeFieldContainer[TestCaseResult]
    passed_count: int
    failed_count: int
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ..., cases: _Optional[_Iterable[_Union[TestCaseResult, _Mapping]]] = ..., passed_count: _Optional[int] = ..., failed_count: _Optional[int] = ...) -> None: ...
