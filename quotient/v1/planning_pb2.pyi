from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlanNodeInput(_message.Message):
    __slots__ = ("id", "parent", "history_minor", "pipeline_minor", "custom", "floor_minor", "ceiling_minor", "manual_minor")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_MINOR_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    FLOOR_MINOR_FIELD_NUMBER: _ClassVar[int]
    CEILING_MINOR_FIELD_NUMBER: _ClassVar[int]
    MANUAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    parent: str
    history_minor: int
    pipeline_minor: int
    custom: str
    floor_minor: int
    ceiling_minor: int
    manual_minor: int
    def __init__(self, id: _Optional[str] = ..., parent: _Optional[str] = ..., history_minor: _Optional[int] = ..., pipeline_minor: _Optional[int] = ..., custom: _Optional[str] = ..., floor_minor: _Optional[int] = ..., ceiling_minor: _Optional[int] = ..., manual_minor: _Optional[int] = ...) -> None: ...

class LevelMethodInput(_message.Message):
    __slots__ = ("method", "blend")
    class BlendEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METHOD_FIELD_NUMBER: _ClassVar[int]
    BLEND_FIELD_NUMBER: _ClassVar[int]
    method: str
    blend: _containers.ScalarMap[str, str]
    def __init__(self, method: _Optional[str] = ..., blend: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Phase(_message.Message):
    __slots__ = ("period", "weight")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    period: str
    weight: str
    def __init__(self, period: _Optional[str] = ..., weight: _Optional[str] = ...) -> None: ...

class DecomposeTargetRequest(_message.Message):
    __slots__ = ("currency", "target_minor", "nodes", "levels", "seasonality", "rule_set", "history_first_date", "history_last_date")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    SEASONALITY_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    currency: str
    target_minor: int
    nodes: _containers.RepeatedCompositeFieldContainer[PlanNodeInput]
    levels: _containers.RepeatedCompositeFieldContainer[LevelMethodInput]
    seasonality: _containers.RepeatedCompositeFieldContainer[Phase]
    rule_set: str
    history_first_date: str
    history_last_date: str
    def __init__(self, currency: _Optional[str] = ..., target_minor: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[PlanNodeInput, _Mapping]]] = ..., levels: _Optional[_Iterable[_Union[LevelMethodInput, _Mapping]]] = ..., seasonality: _Optional[_Iterable[_Union[Phase, _Mapping]]] = ..., rule_set: _Optional[str] = ..., history_first_date: _Optional[str] = ..., history_last_date: _Optional[str] = ...) -> None: ...

class NodeTargetOutput(_message.Message):
    __slots__ = ("id", "parent", "level", "target_minor", "weight", "share", "share_ppm", "bound", "metric", "target_per_metric", "sibling_spread", "phased_minor")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    SHARE_PPM_FIELD_NUMBER: _ClassVar[int]
    BOUND_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TARGET_PER_METRIC_FIELD_NUMBER: _ClassVar[int]
    SIBLING_SPREAD_FIELD_NUMBER: _ClassVar[int]
    PHASED_MINOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    parent: str
    level: int
    target_minor: int
    weight: str
    share: str
    share_ppm: int
    bound: str
    metric: str
    target_per_metric: str
    sibling_spread: str
    phased_minor: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, id: _Optional[str] = ..., parent: _Optional[str] = ..., level: _Optional[int] = ..., target_minor: _Optional[int] = ..., weight: _Optional[str] = ..., share: _Optional[str] = ..., share_ppm: _Optional[int] = ..., bound: _Optional[str] = ..., metric: _Optional[str] = ..., target_per_metric: _Optional[str] = ..., sibling_spread: _Optional[str] = ..., phased_minor: _Optional[_Iterable[int]] = ...) -> None: ...

class DecomposeTargetResponse(_message.Message):
    __slots__ = ("currency", "periods", "nodes")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    currency: str
    periods: _containers.RepeatedScalarFieldContainer[str]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeTargetOutput]
    def __init__(self, currency: _Optional[str] = ..., periods: _Optional[_Iterable[str]] = ..., nodes: _Optional[_Iterable[_Union[NodeTargetOutput, _Mapping]]] = ...) -> None: ...
