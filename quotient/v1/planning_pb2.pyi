from quotient.v1 import forecast_pb2 as _forecast_pb2
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

class WinRateLever(_message.Message):
    __slots__ = ("factor", "stage")
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    factor: str
    stage: str
    def __init__(self, factor: _Optional[str] = ..., stage: _Optional[str] = ...) -> None: ...

class DealSizeLever(_message.Message):
    __slots__ = ("factor",)
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    factor: str
    def __init__(self, factor: _Optional[str] = ...) -> None: ...

class NewPipelineLever(_message.Message):
    __slots__ = ("owner", "stage", "count", "amount_minor", "currency", "close_date", "region")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CLOSE_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    owner: str
    stage: str
    count: int
    amount_minor: int
    currency: str
    close_date: str
    region: str
    def __init__(self, owner: _Optional[str] = ..., stage: _Optional[str] = ..., count: _Optional[int] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., close_date: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class HeadcountLever(_message.Message):
    __slots__ = ("field", "value", "hires", "ramp")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    HIRES_FIELD_NUMBER: _ClassVar[int]
    RAMP_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: str
    hires: int
    ramp: str
    def __init__(self, field: _Optional[str] = ..., value: _Optional[str] = ..., hires: _Optional[int] = ..., ramp: _Optional[str] = ...) -> None: ...

class VisitsLever(_message.Message):
    __slots__ = ("field", "value", "visits", "conversion")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: str
    visits: int
    conversion: str
    def __init__(self, field: _Optional[str] = ..., value: _Optional[str] = ..., visits: _Optional[int] = ..., conversion: _Optional[str] = ...) -> None: ...

class CycleTimeLever(_message.Message):
    __slots__ = ("factor",)
    FACTOR_FIELD_NUMBER: _ClassVar[int]
    factor: str
    def __init__(self, factor: _Optional[str] = ...) -> None: ...

class TargetLever(_message.Message):
    __slots__ = ("group", "period", "target_minor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    period: str
    target_minor: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., period: _Optional[str] = ..., target_minor: _Optional[int] = ...) -> None: ...

class ScenarioLever(_message.Message):
    __slots__ = ("win_rate", "deal_size", "new_pipeline", "headcount", "visits", "cycle_time", "target")
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    DEAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_PIPELINE_FIELD_NUMBER: _ClassVar[int]
    HEADCOUNT_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_TIME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    win_rate: WinRateLever
    deal_size: DealSizeLever
    new_pipeline: NewPipelineLever
    headcount: HeadcountLever
    visits: VisitsLever
    cycle_time: CycleTimeLever
    target: TargetLever
    def __init__(self, win_rate: _Optional[_Union[WinRateLever, _Mapping]] = ..., deal_size: _Optional[_Union[DealSizeLever, _Mapping]] = ..., new_pipeline: _Optional[_Union[NewPipelineLever, _Mapping]] = ..., headcount: _Optional[_Union[HeadcountLever, _Mapping]] = ..., visits: _Optional[_Union[VisitsLever, _Mapping]] = ..., cycle_time: _Optional[_Union[CycleTimeLever, _Mapping]] = ..., target: _Optional[_Union[TargetLever, _Mapping]] = ...) -> None: ...

class SimulateScenarioRequest(_message.Message):
    __slots__ = ("name", "forecast", "levers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    LEVERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    forecast: _forecast_pb2.ComputeForecastRequest
    levers: _containers.RepeatedCompositeFieldContainer[ScenarioLever]
    def __init__(self, name: _Optional[str] = ..., forecast: _Optional[_Union[_forecast_pb2.ComputeForecastRequest, _Mapping]] = ..., levers: _Optional[_Iterable[_Union[ScenarioLever, _Mapping]]] = ...) -> None: ...

class GroupCost(_message.Message):
    __slots__ = ("group", "level", "period", "baseline_p50_minor", "scenario_p50_minor", "baseline_cost_minor", "scenario_cost_minor", "people_without_plan")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    BASELINE_P50_MINOR_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_P50_MINOR_FIELD_NUMBER: _ClassVar[int]
    BASELINE_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_COST_MINOR_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_WITHOUT_PLAN_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    level: int
    period: str
    baseline_p50_minor: int
    scenario_p50_minor: int
    baseline_cost_minor: int
    scenario_cost_minor: int
    people_without_plan: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., level: _Optional[int] = ..., period: _Optional[str] = ..., baseline_p50_minor: _Optional[int] = ..., scenario_p50_minor: _Optional[int] = ..., baseline_cost_minor: _Optional[int] = ..., scenario_cost_minor: _Optional[int] = ..., people_without_plan: _Optional[int] = ...) -> None: ...

class SimulateScenarioResponse(_message.Message):
    __slots__ = ("name", "baseline", "scenario", "costs", "seed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    COSTS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    name: str
    baseline: _forecast_pb2.ComputeForecastResponse
    scenario: _forecast_pb2.ComputeForecastResponse
    costs: _containers.RepeatedCompositeFieldContainer[GroupCost]
    seed: int
    def __init__(self, name: _Optional[str] = ..., baseline: _Optional[_Union[_forecast_pb2.ComputeForecastResponse, _Mapping]] = ..., scenario: _Optional[_Union[_forecast_pb2.ComputeForecastResponse, _Mapping]] = ..., costs: _Optional[_Iterable[_Union[GroupCost, _Mapping]]] = ..., seed: _Optional[int] = ...) -> None: ...

class NamedScenario(_message.Message):
    __slots__ = ("name", "levers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    levers: _containers.RepeatedCompositeFieldContainer[ScenarioLever]
    def __init__(self, name: _Optional[str] = ..., levers: _Optional[_Iterable[_Union[ScenarioLever, _Mapping]]] = ...) -> None: ...

class CompareScenariosRequest(_message.Message):
    __slots__ = ("forecast", "scenarios")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    SCENARIOS_FIELD_NUMBER: _ClassVar[int]
    forecast: _forecast_pb2.ComputeForecastRequest
    scenarios: _containers.RepeatedCompositeFieldContainer[NamedScenario]
    def __init__(self, forecast: _Optional[_Union[_forecast_pb2.ComputeForecastRequest, _Mapping]] = ..., scenarios: _Optional[_Iterable[_Union[NamedScenario, _Mapping]]] = ...) -> None: ...

class ScenarioFigures(_message.Message):
    __slots__ = ("scenario", "mean_minor", "p10_minor", "p50_minor", "p90_minor", "p_reach_target", "commission_minor", "cost_of_sales")
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    MEAN_MINOR_FIELD_NUMBER: _ClassVar[int]
    P10_MINOR_FIELD_NUMBER: _ClassVar[int]
    P50_MINOR_FIELD_NUMBER: _ClassVar[int]
    P90_MINOR_FIELD_NUMBER: _ClassVar[int]
    P_REACH_TARGET_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    COST_OF_SALES_FIELD_NUMBER: _ClassVar[int]
    scenario: str
    mean_minor: float
    p10_minor: int
    p50_minor: int
    p90_minor: int
    p_reach_target: float
    commission_minor: int
    cost_of_sales: float
    def __init__(self, scenario: _Optional[str] = ..., mean_minor: _Optional[float] = ..., p10_minor: _Optional[int] = ..., p50_minor: _Optional[int] = ..., p90_minor: _Optional[int] = ..., p_reach_target: _Optional[float] = ..., commission_minor: _Optional[int] = ..., cost_of_sales: _Optional[float] = ...) -> None: ...

class ScenarioRow(_message.Message):
    __slots__ = ("group", "level", "period", "figures")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    level: int
    period: str
    figures: _containers.RepeatedCompositeFieldContainer[ScenarioFigures]
    def __init__(self, group: _Optional[_Iterable[str]] = ..., level: _Optional[int] = ..., period: _Optional[str] = ..., figures: _Optional[_Iterable[_Union[ScenarioFigures, _Mapping]]] = ...) -> None: ...

class CompareScenariosResponse(_message.Message):
    __slots__ = ("currency", "group_by", "scenarios", "rows", "seed")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    SCENARIOS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    currency: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    scenarios: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[ScenarioRow]
    seed: int
    def __init__(self, currency: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., scenarios: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[ScenarioRow, _Mapping]]] = ..., seed: _Optional[int] = ...) -> None: ...

class SolveGapRequest(_message.Message):
    __slots__ = ("forecast", "confidence")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    forecast: _forecast_pb2.ComputeForecastRequest
    confidence: float
    def __init__(self, forecast: _Optional[_Union[_forecast_pb2.ComputeForecastRequest, _Mapping]] = ..., confidence: _Optional[float] = ...) -> None: ...

class LeverCost(_message.Message):
    __slots__ = ("group", "period", "lever", "stage", "feasible", "p50_minor", "commission_minor", "commission_before_minor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    LEVER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    FEASIBLE_FIELD_NUMBER: _ClassVar[int]
    P50_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    group: _containers.RepeatedScalarFieldContainer[str]
    period: str
    lever: str
    stage: str
    feasible: bool
    p50_minor: int
    commission_minor: int
    commission_before_minor: int
    def __init__(self, group: _Optional[_Iterable[str]] = ..., period: _Optional[str] = ..., lever: _Optional[str] = ..., stage: _Optional[str] = ..., feasible: _Optional[bool] = ..., p50_minor: _Optional[int] = ..., commission_minor: _Optional[int] = ..., commission_before_minor: _Optional[int] = ...) -> None: ...

class SolveGapResponse(_message.Message):
    __slots__ = ("forecast", "confidence", "costs")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    COSTS_FIELD_NUMBER: _ClassVar[int]
    forecast: _forecast_pb2.ComputeForecastResponse
    confidence: float
    costs: _containers.RepeatedCompositeFieldContainer[LeverCost]
    def __init__(self, forecast: _Optional[_Union[_forecast_pb2.ComputeForecastResponse, _Mapping]] = ..., confidence: _Optional[float] = ..., costs: _Optional[_Iterable[_Union[LeverCost, _Mapping]]] = ...) -> None: ...
