from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Category(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[Category]
    CATEGORY_PIPELINE: _ClassVar[Category]
    CATEGORY_BEST_CASE: _ClassVar[Category]
    CATEGORY_COMMIT: _ClassVar[Category]
    CATEGORY_CLOSED: _ClassVar[Category]
    CATEGORY_OMITTED: _ClassVar[Category]
CATEGORY_UNSPECIFIED: Category
CATEGORY_PIPELINE: Category
CATEGORY_BEST_CASE: Category
CATEGORY_COMMIT: Category
CATEGORY_CLOSED: Category
CATEGORY_OMITTED: Category

class Violation(_message.Message):
    __slots__ = ("path", "line", "column", "reason", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    line: int
    column: int
    reason: str
    message: str
    def __init__(self, path: _Optional[str] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ViolationList(_message.Message):
    __slots__ = ("violations",)
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    violations: _containers.RepeatedCompositeFieldContainer[Violation]
    def __init__(self, violations: _Optional[_Iterable[_Union[Violation, _Mapping]]] = ...) -> None: ...

class AttributeValue(_message.Message):
    __slots__ = ("string_value", "int_value", "decimal_value", "bool_value", "date_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DECIMAL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    decimal_value: str
    bool_value: bool
    date_value: str
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., decimal_value: _Optional[str] = ..., bool_value: _Optional[bool] = ..., date_value: _Optional[str] = ...) -> None: ...

class Deal(_message.Message):
    __slots__ = ("id", "amount_minor", "currency", "stage", "win_prob", "category", "close_date", "owner", "region", "product_line", "customer_tier", "source", "attributes", "team", "created_date", "stage_entered_date")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CLOSE_DATE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_LINE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_TIER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_ENTERED_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount_minor: int
    currency: str
    stage: str
    win_prob: str
    category: Category
    close_date: str
    owner: str
    region: str
    product_line: str
    customer_tier: str
    source: str
    attributes: _containers.MessageMap[str, AttributeValue]
    team: _containers.RepeatedCompositeFieldContainer[TeamMember]
    created_date: str
    stage_entered_date: str
    def __init__(self, id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., stage: _Optional[str] = ..., win_prob: _Optional[str] = ..., category: _Optional[_Union[Category, str]] = ..., close_date: _Optional[str] = ..., owner: _Optional[str] = ..., region: _Optional[str] = ..., product_line: _Optional[str] = ..., customer_tier: _Optional[str] = ..., source: _Optional[str] = ..., attributes: _Optional[_Mapping[str, AttributeValue]] = ..., team: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ..., created_date: _Optional[str] = ..., stage_entered_date: _Optional[str] = ...) -> None: ...

class TeamMember(_message.Message):
    __slots__ = ("person", "role", "split", "ratio", "amount_minor")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    person: str
    role: str
    split: str
    ratio: str
    amount_minor: int
    def __init__(self, person: _Optional[str] = ..., role: _Optional[str] = ..., split: _Optional[str] = ..., ratio: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class DealProblem(_message.Message):
    __slots__ = ("reason", "field", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    field: str
    message: str
    def __init__(self, reason: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...
