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
    WIN_PROB_SOURCE_HISTORICAL: _ClassVar[WinProbSource]
    WIN_PROB_SOURCE_MODEL: _ClassVar[WinProbSource]

class PeriodKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERIOD_KIND_UNSPECIFIED: _ClassVar[PeriodKind]
    PERIOD_KIND_MONTH: _ClassVar[PeriodKind]
    PERIOD_KIND_QUARTER: _ClassVar[PeriodKind]
    PERIOD_KIND_YEAR: _ClassVar[PeriodKind]

class DistributionMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISTRIBUTION_METHOD_UNSPECIFIED: _ClassVar[DistributionMethod]
    DISTRIBUTION_METHOD_MONTE_CARLO: _ClassVar[DistributionMethod]
    DISTRIBUTION_METHOD_NONE: _ClassVar[DistributionMethod]
WIN_PROB_SOURCE_UNSPECIFIED: WinProbSource
WIN_PROB_SOURCE_STAGE: WinProbSource
WIN_PROB_SOURCE_OVERRIDE: WinProbSource
WIN_PROB_SOURCE_MANUAL: WinProbSource
WIN_PROB_SOURCE_CLOSED_STAGE: WinProbSource
WIN_PROB_SOURCE_HISTORICAL: WinProbSource
WIN_PROB_SOURCE_MODEL: WinProbSource
PERIOD_KIND_UNSPECIFIED: PeriodKind
PERIOD_KIND_MONTH: PeriodKind
PERIOD_KIND_QUARTER: PeriodKind
PERIOD_KIND_YEAR: PeriodKind
DISTRIBUTION_METHOD_UNSPECIFIED: DistributionMethod
DISTRIBUTION_METHOD_MONTE_CARLO: DistributionMethod
DISTRIBUTION_METHOD_NONE: DistributionMethod

class ScoreDealsRequest(_message.Message):
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

class DealScore(_message.Message):
    __slots__ = ("index", "deal_id", "win_prob", "win_prob_ppm", "weighted_amount_minor", "currency", "category", "win_prob_source", "matched_rules", "rule_set", "revision", "problem", "model_version")
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
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
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
    model_version: int
    def __init__(self, index: _Optional[int] = ..., deal_id: _Optional[str] = ..., win_prob: _Optional[str] = ..., win_prob_ppm: _Optional[int] = ..., weighted_amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., category: _Optional[_Union[_types_pb2.Category, str]] = ..., win_prob_source: _Optional[_Union[WinProbSource, str]] = ..., matched_rules: _Optional[_Iterable[str]] = ..., rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., problem: _Optional[_Union[_types_pb2.DealProblem, _Mapping]] = ..., model_version: _Optional[int] = ...) -> None: ...

class ScoreDealsResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "scores", "failed_count", "drift", "score_columns")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    SCORE_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    scores: _containers.RepeatedCompositeFieldContainer[DealScore]
    failed_count: int
    drift: _containers.RepeatedCompositeFieldContainer[FeatureDrift]
    score_columns: bytes
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[DealScore, _Mapping]]] = ..., failed_count: _Optional[int] = ..., drift: _Optional[_Iterable[_Union[FeatureDrift, _Mapping]]] = ..., score_columns: _Optional[bytes] = ...) -> None: ...

class FeatureDrift(_message.Message):
    __slots__ = ("feature", "unseen_share")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    UNSEEN_SHARE_FIELD_NUMBER: _ClassVar[int]
    feature: str
    unseen_share: float
    def __init__(self, feature: _Optional[str] = ..., unseen_share: _Optional[float] = ...) -> None: ...

class DealList(_message.Message):
    __slots__ = ("deals",)
    DEALS_FIELD_NUMBER: _ClassVar[int]
    deals: _containers.RepeatedCompositeFieldContainer[_types_pb2.Deal]
    def __init__(self, deals: _Optional[_Iterable[_Union[_types_pb2.Deal, _Mapping]]] = ...) -> None: ...

class StoredDeals(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: str
    def __init__(self, filter: _Optional[str] = ...) -> None: ...

class CalendarPeriods(_message.Message):
    __slots__ = ("kind", "first_date", "last_date")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    kind: PeriodKind
    first_date: str
    last_date: str
    def __init__(self, kind: _Optional[_Union[PeriodKind, str]] = ..., first_date: _Optional[str] = ..., last_date: _Optional[str] = ...) -> None: ...

class CustomPeriod(_message.Message):
    __slots__ = ("label", "first_date", "last_date")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    label: str
    first_date: str
    last_date: str
    def __init__(self, label: _Optional[str] = ..., first_date: _Optional[str] = ..., last_date: _Optional[str] = ...) -> None: ...

class CustomPeriods(_message.Message):
    __slots__ = ("periods",)
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    periods: _containers.RepeatedCompositeFieldContainer[CustomPeriod]
    def __init__(self, periods: _Optional[_Iterable[_Union[CustomPeriod, _Mapping]]] = ...) -> None: ...

class GroupTarget(_message.Message):
    __slots__ = ("group", "period", "target_minor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    period: str
    target_minor: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., period: _Optional[str] = ..., target_minor: _Optional[int] = ...) -> None: ...

class ComputeForecastRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "as_of_date", "deals", "stored", "deal_columns", "group_by", "subtotals", "calendar", "custom", "quantiles", "targets", "method", "trials", "seed", "max_relative_error", "solve_levers", "visit_to_deal", "period_aware", "history", "hierarchy", "lever_confidences", "lever_search_error")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DEAL_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    SUBTOTALS_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TRIALS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_RELATIVE_ERROR_FIELD_NUMBER: _ClassVar[int]
    SOLVE_LEVERS_FIELD_NUMBER: _ClassVar[int]
    VISIT_TO_DEAL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_AWARE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    HIERARCHY_FIELD_NUMBER: _ClassVar[int]
    LEVER_CONFIDENCES_FIELD_NUMBER: _ClassVar[int]
    LEVER_SEARCH_ERROR_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    as_of_date: str
    deals: DealList
    stored: StoredDeals
    deal_columns: bytes
    group_by: _containers.RepeatedScalarFieldContainer[str]
    subtotals: bool
    calendar: CalendarPeriods
    custom: CustomPeriods
    quantiles: _containers.RepeatedScalarFieldContainer[float]
    targets: _containers.RepeatedCompositeFieldContainer[GroupTarget]
    method: DistributionMethod
    trials: int
    seed: int
    max_relative_error: float
    solve_levers: bool
    visit_to_deal: str
    period_aware: bool
    history: DealHistory
    hierarchy: bool
    lever_confidences: _containers.RepeatedScalarFieldContainer[float]
    lever_search_error: float
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., as_of_date: _Optional[str] = ..., deals: _Optional[_Union[DealList, _Mapping]] = ..., stored: _Optional[_Union[StoredDeals, _Mapping]] = ..., deal_columns: _Optional[bytes] = ..., group_by: _Optional[_Iterable[str]] = ..., subtotals: _Optional[bool] = ..., calendar: _Optional[_Union[CalendarPeriods, _Mapping]] = ..., custom: _Optional[_Union[CustomPeriods, _Mapping]] = ..., quantiles: _Optional[_Iterable[float]] = ..., targets: _Optional[_Iterable[_Union[GroupTarget, _Mapping]]] = ..., method: _Optional[_Union[DistributionMethod, str]] = ..., trials: _Optional[int] = ..., seed: _Optional[int] = ..., max_relative_error: _Optional[float] = ..., solve_levers: _Optional[bool] = ..., visit_to_deal: _Optional[str] = ..., period_aware: _Optional[bool] = ..., history: _Optional[_Union[DealHistory, _Mapping]] = ..., hierarchy: _Optional[bool] = ..., lever_confidences: _Optional[_Iterable[float]] = ..., lever_search_error: _Optional[float] = ...) -> None: ...

class DealChange(_message.Message):
    __slots__ = ("date", "deal")
    DATE_FIELD_NUMBER: _ClassVar[int]
    DEAL_FIELD_NUMBER: _ClassVar[int]
    date: str
    deal: _types_pb2.Deal
    def __init__(self, date: _Optional[str] = ..., deal: _Optional[_Union[_types_pb2.Deal, _Mapping]] = ...) -> None: ...

class DealHistory(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[DealChange]
    def __init__(self, changes: _Optional[_Iterable[_Union[DealChange, _Mapping]]] = ...) -> None: ...

class StoredHistory(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CategoryAmount(_message.Message):
    __slots__ = ("category", "amount_minor", "cumulative_minor")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_MINOR_FIELD_NUMBER: _ClassVar[int]
    category: _types_pb2.Category
    amount_minor: int
    cumulative_minor: int
    def __init__(self, category: _Optional[_Union[_types_pb2.Category, str]] = ..., amount_minor: _Optional[int] = ..., cumulative_minor: _Optional[int] = ...) -> None: ...

class QuantileValue(_message.Message):
    __slots__ = ("quantile", "amount_minor")
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    quantile: float
    amount_minor: int
    def __init__(self, quantile: _Optional[float] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class OutcomeDistribution(_message.Message):
    __slots__ = ("method", "quantiles", "mean_minor", "error_bound_minor", "bucket_minor")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    MEAN_MINOR_FIELD_NUMBER: _ClassVar[int]
    ERROR_BOUND_MINOR_FIELD_NUMBER: _ClassVar[int]
    BUCKET_MINOR_FIELD_NUMBER: _ClassVar[int]
    method: str
    quantiles: _containers.RepeatedCompositeFieldContainer[QuantileValue]
    mean_minor: float
    error_bound_minor: float
    bucket_minor: int
    def __init__(self, method: _Optional[str] = ..., quantiles: _Optional[_Iterable[_Union[QuantileValue, _Mapping]]] = ..., mean_minor: _Optional[float] = ..., error_bound_minor: _Optional[float] = ..., bucket_minor: _Optional[int] = ...) -> None: ...

class TargetGap(_message.Message):
    __slots__ = ("target_minor", "gap_minor", "expected_gap_minor", "coverage", "pace_minor_per_day", "projected_minor", "days_elapsed", "days_left", "pipeline_needed_minor", "p_reach_target", "levers")
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    GAP_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_GAP_MINOR_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    PACE_MINOR_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_MINOR_FIELD_NUMBER: _ClassVar[int]
    DAYS_ELAPSED_FIELD_NUMBER: _ClassVar[int]
    DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_NEEDED_MINOR_FIELD_NUMBER: _ClassVar[int]
    P_REACH_TARGET_FIELD_NUMBER: _ClassVar[int]
    LEVERS_FIELD_NUMBER: _ClassVar[int]
    target_minor: int
    gap_minor: int
    expected_gap_minor: int
    coverage: float
    pace_minor_per_day: float
    projected_minor: int
    days_elapsed: int
    days_left: int
    pipeline_needed_minor: int
    p_reach_target: float
    levers: _containers.RepeatedCompositeFieldContainer[GapLever]
    def __init__(self, target_minor: _Optional[int] = ..., gap_minor: _Optional[int] = ..., expected_gap_minor: _Optional[int] = ..., coverage: _Optional[float] = ..., pace_minor_per_day: _Optional[float] = ..., projected_minor: _Optional[int] = ..., days_elapsed: _Optional[int] = ..., days_left: _Optional[int] = ..., pipeline_needed_minor: _Optional[int] = ..., p_reach_target: _Optional[float] = ..., levers: _Optional[_Iterable[_Union[GapLever, _Mapping]]] = ...) -> None: ...

class GapLever(_message.Message):
    __slots__ = ("lever", "stage", "confidence", "feasible", "factor", "new_deals", "new_pipeline_minor", "visits", "fraction", "size_factor", "p50_minor")
    LEVER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    FEASIBLE_FIELD_NUMBER: _ClassVar[int]
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    NEW_DEALS_FIELD_NUMBER: _ClassVar[int]
    NEW_PIPELINE_MINOR_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_FACTOR_FIELD_NUMBER: _ClassVar[int]
    P50_MINOR_FIELD_NUMBER: _ClassVar[int]
    lever: str
    stage: str
    confidence: float
    feasible: bool
    factor: float
    new_deals: int
    new_pipeline_minor: int
    visits: int
    fraction: float
    size_factor: float
    p50_minor: int
    def __init__(self, lever: _Optional[str] = ..., stage: _Optional[str] = ..., confidence: _Optional[float] = ..., feasible: _Optional[bool] = ..., factor: _Optional[float] = ..., new_deals: _Optional[int] = ..., new_pipeline_minor: _Optional[int] = ..., visits: _Optional[int] = ..., fraction: _Optional[float] = ..., size_factor: _Optional[float] = ..., p50_minor: _Optional[int] = ...) -> None: ...

class ForecastGroup(_message.Message):
    __slots__ = ("group", "level", "period", "deal_count", "open_count", "won_count", "pipeline_minor", "weighted_minor", "closed_won_minor", "categories", "distribution", "target", "period_aware_minor", "new_business_minor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DEAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    WON_COUNT_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_MINOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLOSED_WON_MINOR_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PERIOD_AWARE_MINOR_FIELD_NUMBER: _ClassVar[int]
    NEW_BUSINESS_MINOR_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    level: int
    period: str
    deal_count: int
    open_count: int
    won_count: int
    pipeline_minor: int
    weighted_minor: int
    closed_won_minor: int
    categories: _containers.RepeatedCompositeFieldContainer[CategoryAmount]
    distribution: OutcomeDistribution
    target: TargetGap
    period_aware_minor: int
    new_business_minor: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., level: _Optional[int] = ..., period: _Optional[str] = ..., deal_count: _Optional[int] = ..., open_count: _Optional[int] = ..., won_count: _Optional[int] = ..., pipeline_minor: _Optional[int] = ..., weighted_minor: _Optional[int] = ..., closed_won_minor: _Optional[int] = ..., categories: _Optional[_Iterable[_Union[CategoryAmount, _Mapping]]] = ..., distribution: _Optional[_Union[OutcomeDistribution, _Mapping]] = ..., target: _Optional[_Union[TargetGap, _Mapping]] = ..., period_aware_minor: _Optional[int] = ..., new_business_minor: _Optional[int] = ...) -> None: ...

class ComputeForecastResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "currency", "group_by", "groups", "seed", "trials", "deals_read", "deals_unscored", "deals_outside_periods", "deals_omitted", "unscored")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TRIALS_FIELD_NUMBER: _ClassVar[int]
    DEALS_READ_FIELD_NUMBER: _ClassVar[int]
    DEALS_UNSCORED_FIELD_NUMBER: _ClassVar[int]
    DEALS_OUTSIDE_PERIODS_FIELD_NUMBER: _ClassVar[int]
    DEALS_OMITTED_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    currency: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    groups: _containers.RepeatedCompositeFieldContainer[ForecastGroup]
    seed: int
    trials: int
    deals_read: int
    deals_unscored: int
    deals_outside_periods: int
    deals_omitted: int
    unscored: _containers.RepeatedCompositeFieldContainer[UnscoredDeal]
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., currency: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., groups: _Optional[_Iterable[_Union[ForecastGroup, _Mapping]]] = ..., seed: _Optional[int] = ..., trials: _Optional[int] = ..., deals_read: _Optional[int] = ..., deals_unscored: _Optional[int] = ..., deals_outside_periods: _Optional[int] = ..., deals_omitted: _Optional[int] = ..., unscored: _Optional[_Iterable[_Union[UnscoredDeal, _Mapping]]] = ...) -> None: ...

class UnscoredDeal(_message.Message):
    __slots__ = ("index", "deal_id", "problem")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    index: int
    deal_id: str
    problem: _types_pb2.DealProblem
    def __init__(self, index: _Optional[int] = ..., deal_id: _Optional[str] = ..., problem: _Optional[_Union[_types_pb2.DealProblem, _Mapping]] = ...) -> None: ...

class BacktestForecastRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "as_of_date", "history", "stored", "group_by", "calendar", "custom", "lead_days")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    LEAD_DAYS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    as_of_date: str
    history: DealHistory
    stored: StoredHistory
    group_by: _containers.RepeatedScalarFieldContainer[str]
    calendar: CalendarPeriods
    custom: CustomPeriods
    lead_days: int
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., as_of_date: _Optional[str] = ..., history: _Optional[_Union[DealHistory, _Mapping]] = ..., stored: _Optional[_Union[StoredHistory, _Mapping]] = ..., group_by: _Optional[_Iterable[str]] = ..., calendar: _Optional[_Union[CalendarPeriods, _Mapping]] = ..., custom: _Optional[_Union[CustomPeriods, _Mapping]] = ..., lead_days: _Optional[int] = ...) -> None: ...

class BacktestPeriod(_message.Message):
    __slots__ = ("group", "period", "cutoff_date", "complete", "open_count", "won_count", "classic_minor", "period_aware_minor", "new_business_minor", "actual_minor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_DATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    OPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    WON_COUNT_FIELD_NUMBER: _ClassVar[int]
    CLASSIC_MINOR_FIELD_NUMBER: _ClassVar[int]
    PERIOD_AWARE_MINOR_FIELD_NUMBER: _ClassVar[int]
    NEW_BUSINESS_MINOR_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    period: str
    cutoff_date: str
    complete: bool
    open_count: int
    won_count: int
    classic_minor: int
    period_aware_minor: int
    new_business_minor: int
    actual_minor: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., period: _Optional[str] = ..., cutoff_date: _Optional[str] = ..., complete: _Optional[bool] = ..., open_count: _Optional[int] = ..., won_count: _Optional[int] = ..., classic_minor: _Optional[int] = ..., period_aware_minor: _Optional[int] = ..., new_business_minor: _Optional[int] = ..., actual_minor: _Optional[int] = ...) -> None: ...

class ForecastAccuracy(_message.Message):
    __slots__ = ("periods", "error_minor", "mae_minor", "bias", "mape")
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MINOR_FIELD_NUMBER: _ClassVar[int]
    MAE_MINOR_FIELD_NUMBER: _ClassVar[int]
    BIAS_FIELD_NUMBER: _ClassVar[int]
    MAPE_FIELD_NUMBER: _ClassVar[int]
    periods: int
    error_minor: int
    mae_minor: float
    bias: float
    mape: float
    def __init__(self, periods: _Optional[int] = ..., error_minor: _Optional[int] = ..., mae_minor: _Optional[float] = ..., bias: _Optional[float] = ..., mape: _Optional[float] = ...) -> None: ...

class GroupAccuracy(_message.Message):
    __slots__ = ("group", "classic", "period_aware")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    CLASSIC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_AWARE_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    classic: ForecastAccuracy
    period_aware: ForecastAccuracy
    def __init__(self, group: _Optional[_Iterable[str]] = ..., classic: _Optional[_Union[ForecastAccuracy, _Mapping]] = ..., period_aware: _Optional[_Union[ForecastAccuracy, _Mapping]] = ...) -> None: ...

class BacktestForecastResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "currency", "group_by", "periods", "accuracy", "deals", "changes")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    currency: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    periods: _containers.RepeatedCompositeFieldContainer[BacktestPeriod]
    accuracy: _containers.RepeatedCompositeFieldContainer[GroupAccuracy]
    deals: int
    changes: int
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., currency: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., periods: _Optional[_Iterable[_Union[BacktestPeriod, _Mapping]]] = ..., accuracy: _Optional[_Iterable[_Union[GroupAccuracy, _Mapping]]] = ..., deals: _Optional[int] = ..., changes: _Optional[int] = ...) -> None: ...
