from quotient.v1 import forecast_pb2 as _forecast_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Decomposition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECOMPOSITION_UNSPECIFIED: _ClassVar[Decomposition]
    DECOMPOSITION_DEALS: _ClassVar[Decomposition]
    DECOMPOSITION_FUNNEL: _ClassVar[Decomposition]
DECOMPOSITION_UNSPECIFIED: Decomposition
DECOMPOSITION_DEALS: Decomposition
DECOMPOSITION_FUNNEL: Decomposition

class ComputeKpisRequest(_message.Message):
    __slots__ = ("rule_set", "group_by", "calendar", "custom", "source_cost_minor", "activity_fields", "customer_field", "history", "stored", "cost_field")
    class SourceCostMinorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    calendar: _forecast_pb2.CalendarPeriods
    custom: _forecast_pb2.CustomPeriods
    source_cost_minor: _containers.ScalarMap[str, int]
    activity_fields: _containers.RepeatedScalarFieldContainer[str]
    customer_field: str
    history: _forecast_pb2.DealHistory
    stored: _forecast_pb2.StoredHistory
    cost_field: str
    def __init__(self, rule_set: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., calendar: _Optional[_Union[_forecast_pb2.CalendarPeriods, _Mapping]] = ..., custom: _Optional[_Union[_forecast_pb2.CustomPeriods, _Mapping]] = ..., source_cost_minor: _Optional[_Mapping[str, int]] = ..., activity_fields: _Optional[_Iterable[str]] = ..., customer_field: _Optional[str] = ..., history: _Optional[_Union[_forecast_pb2.DealHistory, _Mapping]] = ..., stored: _Optional[_Union[_forecast_pb2.StoredHistory, _Mapping]] = ..., cost_field: _Optional[str] = ...) -> None: ...

class KpiRow(_message.Message):
    __slots__ = ("group", "period", "deals_created", "pipeline_created_minor", "won_count", "bookings_minor", "average_deal_minor", "closed_count", "lost_count", "win_rate_ppm", "cycle_count", "cycle_median_days", "cycle_p90_days", "funnel_reached", "funnel_conversion", "target_minor", "attainment_ppm", "cost_minor", "cost_per_won_minor", "return_on_spend_ppm", "activities", "activity_per_won", "new_business_minor", "existing_business_minor", "existing_won_count", "cohort_bookings_minor", "cost_from", "stage_dwell")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DEALS_CREATED_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_CREATED_MINOR_FIELD_NUMBER: _ClassVar[int]
    WON_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKINGS_MINOR_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_DEAL_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLOSED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOST_COUNT_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_PPM_FIELD_NUMBER: _ClassVar[int]
    CYCLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CYCLE_MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_P90_DAYS_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_REACHED_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_CONVERSION_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    ATTAINMENT_PPM_FIELD_NUMBER: _ClassVar[int]
    COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    COST_PER_WON_MINOR_FIELD_NUMBER: _ClassVar[int]
    RETURN_ON_SPEND_PPM_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_PER_WON_FIELD_NUMBER: _ClassVar[int]
    NEW_BUSINESS_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXISTING_BUSINESS_MINOR_FIELD_NUMBER: _ClassVar[int]
    EXISTING_WON_COUNT_FIELD_NUMBER: _ClassVar[int]
    COHORT_BOOKINGS_MINOR_FIELD_NUMBER: _ClassVar[int]
    COST_FROM_FIELD_NUMBER: _ClassVar[int]
    STAGE_DWELL_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    period: str
    deals_created: int
    pipeline_created_minor: int
    won_count: int
    bookings_minor: int
    average_deal_minor: int
    closed_count: int
    lost_count: int
    win_rate_ppm: int
    cycle_count: int
    cycle_median_days: int
    cycle_p90_days: int
    funnel_reached: _containers.RepeatedScalarFieldContainer[int]
    funnel_conversion: _containers.RepeatedCompositeFieldContainer[FunnelStep]
    target_minor: int
    attainment_ppm: int
    cost_minor: int
    cost_per_won_minor: int
    return_on_spend_ppm: int
    activities: _containers.RepeatedScalarFieldContainer[int]
    activity_per_won: _containers.RepeatedCompositeFieldContainer[ActivityPerWon]
    new_business_minor: int
    existing_business_minor: int
    existing_won_count: int
    cohort_bookings_minor: int
    cost_from: str
    stage_dwell: _containers.RepeatedCompositeFieldContainer[GroupStageDwell]
    def __init__(self, group: _Optional[_Iterable[str]] = ..., period: _Optional[str] = ..., deals_created: _Optional[int] = ..., pipeline_created_minor: _Optional[int] = ..., won_count: _Optional[int] = ..., bookings_minor: _Optional[int] = ..., average_deal_minor: _Optional[int] = ..., closed_count: _Optional[int] = ..., lost_count: _Optional[int] = ..., win_rate_ppm: _Optional[int] = ..., cycle_count: _Optional[int] = ..., cycle_median_days: _Optional[int] = ..., cycle_p90_days: _Optional[int] = ..., funnel_reached: _Optional[_Iterable[int]] = ..., funnel_conversion: _Optional[_Iterable[_Union[FunnelStep, _Mapping]]] = ..., target_minor: _Optional[int] = ..., attainment_ppm: _Optional[int] = ..., cost_minor: _Optional[int] = ..., cost_per_won_minor: _Optional[int] = ..., return_on_spend_ppm: _Optional[int] = ..., activities: _Optional[_Iterable[int]] = ..., activity_per_won: _Optional[_Iterable[_Union[ActivityPerWon, _Mapping]]] = ..., new_business_minor: _Optional[int] = ..., existing_business_minor: _Optional[int] = ..., existing_won_count: _Optional[int] = ..., cohort_bookings_minor: _Optional[int] = ..., cost_from: _Optional[str] = ..., stage_dwell: _Optional[_Iterable[_Union[GroupStageDwell, _Mapping]]] = ...) -> None: ...

class GroupStageDwell(_message.Message):
    __slots__ = ("stage", "stays", "median_days", "p90_days")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAYS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    P90_DAYS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    stays: int
    median_days: int
    p90_days: int
    def __init__(self, stage: _Optional[str] = ..., stays: _Optional[int] = ..., median_days: _Optional[int] = ..., p90_days: _Optional[int] = ...) -> None: ...

class ActivityPerWon(_message.Message):
    __slots__ = ("field", "per_won")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    PER_WON_FIELD_NUMBER: _ClassVar[int]
    field: str
    per_won: float
    def __init__(self, field: _Optional[str] = ..., per_won: _Optional[float] = ...) -> None: ...

class FunnelStep(_message.Message):
    __slots__ = ("from_stage", "to_stage", "conversion_ppm")
    FROM_STAGE_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_PPM_FIELD_NUMBER: _ClassVar[int]
    from_stage: str
    to_stage: str
    conversion_ppm: int
    def __init__(self, from_stage: _Optional[str] = ..., to_stage: _Optional[str] = ..., conversion_ppm: _Optional[int] = ...) -> None: ...

class StageDwell(_message.Message):
    __slots__ = ("stage", "stays", "median_days", "p90_days", "p10_days", "p25_days", "p75_days")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAYS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_DAYS_FIELD_NUMBER: _ClassVar[int]
    P90_DAYS_FIELD_NUMBER: _ClassVar[int]
    P10_DAYS_FIELD_NUMBER: _ClassVar[int]
    P25_DAYS_FIELD_NUMBER: _ClassVar[int]
    P75_DAYS_FIELD_NUMBER: _ClassVar[int]
    stage: str
    stays: int
    median_days: float
    p90_days: float
    p10_days: float
    p25_days: float
    p75_days: float
    def __init__(self, stage: _Optional[str] = ..., stays: _Optional[int] = ..., median_days: _Optional[float] = ..., p90_days: _Optional[float] = ..., p10_days: _Optional[float] = ..., p25_days: _Optional[float] = ..., p75_days: _Optional[float] = ...) -> None: ...

class ComputeKpisResponse(_message.Message):
    __slots__ = ("rule_set", "revision", "currency", "group_by", "funnel_stages", "rows", "dwell", "deals_read")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    FUNNEL_STAGES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    DWELL_FIELD_NUMBER: _ClassVar[int]
    DEALS_READ_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    currency: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    funnel_stages: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[KpiRow]
    dwell: _containers.RepeatedCompositeFieldContainer[StageDwell]
    deals_read: int
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., currency: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., funnel_stages: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[KpiRow, _Mapping]]] = ..., dwell: _Optional[_Iterable[_Union[StageDwell, _Mapping]]] = ..., deals_read: _Optional[int] = ...) -> None: ...

class ListStuckDealsRequest(_message.Message):
    __slots__ = ("rule_set", "as_of_date", "threshold_days", "page_size", "page_token", "history", "stored")
    class ThresholdDaysEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_DAYS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    as_of_date: str
    threshold_days: _containers.ScalarMap[str, int]
    page_size: int
    page_token: str
    history: _forecast_pb2.DealHistory
    stored: _forecast_pb2.StoredHistory
    def __init__(self, rule_set: _Optional[str] = ..., as_of_date: _Optional[str] = ..., threshold_days: _Optional[_Mapping[str, int]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., history: _Optional[_Union[_forecast_pb2.DealHistory, _Mapping]] = ..., stored: _Optional[_Union[_forecast_pb2.StoredHistory, _Mapping]] = ...) -> None: ...

class StuckDeal(_message.Message):
    __slots__ = ("deal_id", "stage", "days_in_stage", "threshold_days", "owner", "amount_minor")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DAYS_IN_STAGE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_DAYS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    stage: str
    days_in_stage: int
    threshold_days: int
    owner: str
    amount_minor: int
    def __init__(self, deal_id: _Optional[str] = ..., stage: _Optional[str] = ..., days_in_stage: _Optional[int] = ..., threshold_days: _Optional[int] = ..., owner: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class ListStuckDealsResponse(_message.Message):
    __slots__ = ("deals", "next_page_token", "total", "currency", "thresholds")
    DEALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    deals: _containers.RepeatedCompositeFieldContainer[StuckDeal]
    next_page_token: str
    total: int
    currency: str
    thresholds: _containers.RepeatedCompositeFieldContainer[StuckThreshold]
    def __init__(self, deals: _Optional[_Iterable[_Union[StuckDeal, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total: _Optional[int] = ..., currency: _Optional[str] = ..., thresholds: _Optional[_Iterable[_Union[StuckThreshold, _Mapping]]] = ...) -> None: ...

class StuckThreshold(_message.Message):
    __slots__ = ("stage", "days", "source")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    days: int
    source: str
    def __init__(self, stage: _Optional[str] = ..., days: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class AttributeChangeRequest(_message.Message):
    __slots__ = ("rule_set", "group_by", "before", "after", "activity_field", "decomposition", "groups", "history", "stored")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_FIELD_NUMBER: _ClassVar[int]
    DECOMPOSITION_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    before: _forecast_pb2.CustomPeriod
    after: _forecast_pb2.CustomPeriod
    activity_field: str
    decomposition: Decomposition
    groups: GroupComparison
    history: _forecast_pb2.DealHistory
    stored: _forecast_pb2.StoredHistory
    def __init__(self, rule_set: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., before: _Optional[_Union[_forecast_pb2.CustomPeriod, _Mapping]] = ..., after: _Optional[_Union[_forecast_pb2.CustomPeriod, _Mapping]] = ..., activity_field: _Optional[str] = ..., decomposition: _Optional[_Union[Decomposition, str]] = ..., groups: _Optional[_Union[GroupComparison, _Mapping]] = ..., history: _Optional[_Union[_forecast_pb2.DealHistory, _Mapping]] = ..., stored: _Optional[_Union[_forecast_pb2.StoredHistory, _Mapping]] = ...) -> None: ...

class GroupComparison(_message.Message):
    __slots__ = ("field", "baseline", "compared")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    COMPARED_FIELD_NUMBER: _ClassVar[int]
    field: str
    baseline: str
    compared: str
    def __init__(self, field: _Optional[str] = ..., baseline: _Optional[str] = ..., compared: _Optional[str] = ...) -> None: ...

class FactorChange(_message.Message):
    __slots__ = ("factor", "before", "after", "relative_change", "contribution_minor", "from_stage", "to_stage")
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_MINOR_FIELD_NUMBER: _ClassVar[int]
    FROM_STAGE_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    factor: str
    before: str
    after: str
    relative_change: float
    contribution_minor: int
    from_stage: str
    to_stage: str
    def __init__(self, factor: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., relative_change: _Optional[float] = ..., contribution_minor: _Optional[int] = ..., from_stage: _Optional[str] = ..., to_stage: _Optional[str] = ...) -> None: ...

class ChangeRow(_message.Message):
    __slots__ = ("group", "before_minor", "after_minor", "change_minor", "factors")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    CHANGE_MINOR_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    before_minor: int
    after_minor: int
    change_minor: int
    factors: _containers.RepeatedCompositeFieldContainer[FactorChange]
    def __init__(self, group: _Optional[_Iterable[str]] = ..., before_minor: _Optional[int] = ..., after_minor: _Optional[int] = ..., change_minor: _Optional[int] = ..., factors: _Optional[_Iterable[_Union[FactorChange, _Mapping]]] = ...) -> None: ...

class AttributeChangeResponse(_message.Message):
    __slots__ = ("currency", "group_by", "before_period", "after_period", "rows", "basis", "before_group", "after_group")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    BEFORE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    AFTER_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    BEFORE_GROUP_FIELD_NUMBER: _ClassVar[int]
    AFTER_GROUP_FIELD_NUMBER: _ClassVar[int]
    currency: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    before_period: str
    after_period: str
    rows: _containers.RepeatedCompositeFieldContainer[ChangeRow]
    basis: str
    before_group: str
    after_group: str
    def __init__(self, currency: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., before_period: _Optional[str] = ..., after_period: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[ChangeRow, _Mapping]]] = ..., basis: _Optional[str] = ..., before_group: _Optional[str] = ..., after_group: _Optional[str] = ...) -> None: ...
