import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from quotient.v1 import forecast_pb2 as _forecast_pb2
from quotient.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_KIND_UNSPECIFIED: _ClassVar[FeatureKind]
    FEATURE_KIND_CATEGORICAL: _ClassVar[FeatureKind]
    FEATURE_KIND_NUMERIC: _ClassVar[FeatureKind]
FEATURE_KIND_UNSPECIFIED: FeatureKind
FEATURE_KIND_CATEGORICAL: FeatureKind
FEATURE_KIND_NUMERIC: FeatureKind

class ModelFeature(_message.Message):
    __slots__ = ("name", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: FeatureKind
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[FeatureKind, str]] = ...) -> None: ...

class TrainWinRateModelRequest(_message.Message):
    __slots__ = ("rule_set", "features", "seed", "test_size", "from_store", "deals")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEST_SIZE_FIELD_NUMBER: _ClassVar[int]
    FROM_STORE_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    features: _containers.RepeatedCompositeFieldContainer[ModelFeature]
    seed: int
    test_size: float
    from_store: bool
    deals: _containers.RepeatedCompositeFieldContainer[_types_pb2.Deal]
    def __init__(self, rule_set: _Optional[str] = ..., features: _Optional[_Iterable[_Union[ModelFeature, _Mapping]]] = ..., seed: _Optional[int] = ..., test_size: _Optional[float] = ..., from_store: _Optional[bool] = ..., deals: _Optional[_Iterable[_Union[_types_pb2.Deal, _Mapping]]] = ...) -> None: ...

class TrainWinRateModelResponse(_message.Message):
    __slots__ = ("rule_set", "version", "report")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    version: int
    report: ModelReport
    def __init__(self, rule_set: _Optional[str] = ..., version: _Optional[int] = ..., report: _Optional[_Union[ModelReport, _Mapping]] = ...) -> None: ...

class GetModelReportRequest(_message.Message):
    __slots__ = ("rule_set", "version")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    version: int
    def __init__(self, rule_set: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ProbabilityMetrics(_message.Message):
    __slots__ = ("deals", "roc_auc", "brier", "log_loss")
    DEALS_FIELD_NUMBER: _ClassVar[int]
    ROC_AUC_FIELD_NUMBER: _ClassVar[int]
    BRIER_FIELD_NUMBER: _ClassVar[int]
    LOG_LOSS_FIELD_NUMBER: _ClassVar[int]
    deals: int
    roc_auc: float
    brier: float
    log_loss: float
    def __init__(self, deals: _Optional[int] = ..., roc_auc: _Optional[float] = ..., brier: _Optional[float] = ..., log_loss: _Optional[float] = ...) -> None: ...

class NamedMetrics(_message.Message):
    __slots__ = ("name", "metrics")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    name: str
    metrics: ProbabilityMetrics
    def __init__(self, name: _Optional[str] = ..., metrics: _Optional[_Union[ProbabilityMetrics, _Mapping]] = ...) -> None: ...

class ReliabilityBin(_message.Message):
    __slots__ = ("low", "high", "deals", "mean_predicted", "observed")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    MEAN_PREDICTED_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    low: float
    high: float
    deals: int
    mean_predicted: float
    observed: float
    def __init__(self, low: _Optional[float] = ..., high: _Optional[float] = ..., deals: _Optional[int] = ..., mean_predicted: _Optional[float] = ..., observed: _Optional[float] = ...) -> None: ...

class ModelReport(_message.Message):
    __slots__ = ("rule_set", "version", "trained_at", "data_sha256", "features", "train_deals", "test_deals", "seed", "model", "baselines", "reliability", "warnings", "booster")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_FIELD_NUMBER: _ClassVar[int]
    DATA_SHA256_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    TRAIN_DEALS_FIELD_NUMBER: _ClassVar[int]
    TEST_DEALS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BASELINES_FIELD_NUMBER: _ClassVar[int]
    RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    BOOSTER_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    version: int
    trained_at: _timestamp_pb2.Timestamp
    data_sha256: str
    features: _containers.RepeatedCompositeFieldContainer[ModelFeature]
    train_deals: int
    test_deals: int
    seed: int
    model: ProbabilityMetrics
    baselines: _containers.RepeatedCompositeFieldContainer[NamedMetrics]
    reliability: _containers.RepeatedCompositeFieldContainer[ReliabilityBin]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    booster: str
    def __init__(self, rule_set: _Optional[str] = ..., version: _Optional[int] = ..., trained_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_sha256: _Optional[str] = ..., features: _Optional[_Iterable[_Union[ModelFeature, _Mapping]]] = ..., train_deals: _Optional[int] = ..., test_deals: _Optional[int] = ..., seed: _Optional[int] = ..., model: _Optional[_Union[ProbabilityMetrics, _Mapping]] = ..., baselines: _Optional[_Iterable[_Union[NamedMetrics, _Mapping]]] = ..., reliability: _Optional[_Iterable[_Union[ReliabilityBin, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., booster: _Optional[str] = ...) -> None: ...

class GetStageWinRatesRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "history", "segment_by", "prior_strength", "min_deals")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_BY_FIELD_NUMBER: _ClassVar[int]
    PRIOR_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MIN_DEALS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    history: _forecast_pb2.DealHistory
    segment_by: _containers.RepeatedScalarFieldContainer[str]
    prior_strength: float
    min_deals: int
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., history: _Optional[_Union[_forecast_pb2.DealHistory, _Mapping]] = ..., segment_by: _Optional[_Iterable[str]] = ..., prior_strength: _Optional[float] = ..., min_deals: _Optional[int] = ...) -> None: ...

class StageWinRate(_message.Message):
    __slots__ = ("stage", "segment", "deals", "won", "win_rate", "low", "high", "source")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    WON_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    segment: _containers.RepeatedScalarFieldContainer[str]
    deals: int
    won: int
    win_rate: str
    low: str
    high: str
    source: str
    def __init__(self, stage: _Optional[str] = ..., segment: _Optional[_Iterable[str]] = ..., deals: _Optional[int] = ..., won: _Optional[int] = ..., win_rate: _Optional[str] = ..., low: _Optional[str] = ..., high: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class StageFlow(_message.Message):
    __slots__ = ("stage", "completed_stays", "dwell_median_days", "dwell_p90_days", "entered", "advanced", "conversion")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_STAYS_FIELD_NUMBER: _ClassVar[int]
    DWELL_MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    DWELL_P90_DAYS_FIELD_NUMBER: _ClassVar[int]
    ENTERED_FIELD_NUMBER: _ClassVar[int]
    ADVANCED_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_FIELD_NUMBER: _ClassVar[int]
    stage: str
    completed_stays: int
    dwell_median_days: float
    dwell_p90_days: float
    entered: int
    advanced: int
    conversion: float
    def __init__(self, stage: _Optional[str] = ..., completed_stays: _Optional[int] = ..., dwell_median_days: _Optional[float] = ..., dwell_p90_days: _Optional[float] = ..., entered: _Optional[int] = ..., advanced: _Optional[int] = ..., conversion: _Optional[float] = ...) -> None: ...

class GetStageWinRatesResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "closed_deals", "rates", "flow")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CLOSED_DEALS_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    FLOW_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    closed_deals: int
    rates: _containers.RepeatedCompositeFieldContainer[StageWinRate]
    flow: _containers.RepeatedCompositeFieldContainer[StageFlow]
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., closed_deals: _Optional[int] = ..., rates: _Optional[_Iterable[_Union[StageWinRate, _Mapping]]] = ..., flow: _Optional[_Iterable[_Union[StageFlow, _Mapping]]] = ...) -> None: ...
