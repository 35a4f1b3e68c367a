import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_KIND_UNSPECIFIED: _ClassVar[PaymentKind]
    PAYMENT_KIND_PAYMENT: _ClassVar[PaymentKind]
    PAYMENT_KIND_REFUND: _ClassVar[PaymentKind]
PAYMENT_KIND_UNSPECIFIED: PaymentKind
PAYMENT_KIND_PAYMENT: PaymentKind
PAYMENT_KIND_REFUND: PaymentKind

class Payment(_message.Message):
    __slots__ = ("payment_id", "deal_id", "paid_date", "amount_minor", "currency", "kind")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    PAID_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    deal_id: str
    paid_date: str
    amount_minor: int
    currency: str
    kind: PaymentKind
    def __init__(self, payment_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., paid_date: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., kind: _Optional[_Union[PaymentKind, str]] = ...) -> None: ...

class RecordPaymentsRequest(_message.Message):
    __slots__ = ("rule_set", "payments")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    def __init__(self, rule_set: _Optional[str] = ..., payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ...) -> None: ...

class RecordPaymentsResponse(_message.Message):
    __slots__ = ("recorded_count", "duplicate_count")
    RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    recorded_count: int
    duplicate_count: int
    def __init__(self, recorded_count: _Optional[int] = ..., duplicate_count: _Optional[int] = ...) -> None: ...

class PersonTarget(_message.Message):
    __slots__ = ("person", "target_minor")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    person: str
    target_minor: int
    def __init__(self, person: _Optional[str] = ..., target_minor: _Optional[int] = ...) -> None: ...

class RunCommissionRequest(_message.Message):
    __slots__ = ("rule_set", "revision", "period", "first_date", "last_date", "as_of_date", "run_key", "dry_run", "targets", "previous_run_key")
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    rule_set: str
    revision: int
    period: str
    first_date: str
    last_date: str
    as_of_date: str
    run_key: str
    dry_run: bool
    targets: _containers.RepeatedCompositeFieldContainer[PersonTarget]
    previous_run_key: str
    def __init__(self, rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., period: _Optional[str] = ..., first_date: _Optional[str] = ..., last_date: _Optional[str] = ..., as_of_date: _Optional[str] = ..., run_key: _Optional[str] = ..., dry_run: _Optional[bool] = ..., targets: _Optional[_Iterable[_Union[PersonTarget, _Mapping]]] = ..., previous_run_key: _Optional[str] = ...) -> None: ...

class GetCommissionRunRequest(_message.Message):
    __slots__ = ("run_key",)
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    run_key: str
    def __init__(self, run_key: _Optional[str] = ...) -> None: ...

class GetStatementRequest(_message.Message):
    __slots__ = ("run_key", "person")
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    run_key: str
    person: str
    def __init__(self, run_key: _Optional[str] = ..., person: _Optional[str] = ...) -> None: ...

class PersonPay(_message.Message):
    __slots__ = ("person", "plan", "currency", "base_minor", "pay_minor", "flags", "earned_minor")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BASE_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAY_MINOR_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    EARNED_MINOR_FIELD_NUMBER: _ClassVar[int]
    person: str
    plan: str
    currency: str
    base_minor: int
    pay_minor: int
    flags: _containers.RepeatedScalarFieldContainer[str]
    earned_minor: int
    def __init__(self, person: _Optional[str] = ..., plan: _Optional[str] = ..., currency: _Optional[str] = ..., base_minor: _Optional[int] = ..., pay_minor: _Optional[int] = ..., flags: _Optional[_Iterable[str]] = ..., earned_minor: _Optional[int] = ...) -> None: ...

class CommissionRun(_message.Message):
    __slots__ = ("run_key", "rule_set", "revision", "period", "first_date", "last_date", "as_of_date", "credit_sha256", "result_sha256", "created_at", "dry_run", "already_existed", "empty", "people", "total_pay_minor", "previous_run_key")
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    RULE_SET_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_DATE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_SHA256_FIELD_NUMBER: _ClassVar[int]
    RESULT_SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ALREADY_EXISTED_FIELD_NUMBER: _ClassVar[int]
    EMPTY_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAY_MINOR_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    run_key: str
    rule_set: str
    revision: int
    period: str
    first_date: str
    last_date: str
    as_of_date: str
    credit_sha256: str
    result_sha256: str
    created_at: _timestamp_pb2.Timestamp
    dry_run: bool
    already_existed: bool
    empty: bool
    people: _containers.RepeatedCompositeFieldContainer[PersonPay]
    total_pay_minor: int
    previous_run_key: str
    def __init__(self, run_key: _Optional[str] = ..., rule_set: _Optional[str] = ..., revision: _Optional[int] = ..., period: _Optional[str] = ..., first_date: _Optional[str] = ..., last_date: _Optional[str] = ..., as_of_date: _Optional[str] = ..., credit_sha256: _Optional[str] = ..., result_sha256: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dry_run: _Optional[bool] = ..., already_existed: _Optional[bool] = ..., empty: _Optional[bool] = ..., people: _Optional[_Iterable[_Union[PersonPay, _Mapping]]] = ..., total_pay_minor: _Optional[int] = ..., previous_run_key: _Optional[str] = ...) -> None: ...

class StatementTier(_message.Message):
    __slots__ = ("tier", "lower", "upper", "basis", "mode", "rate_ppm", "base_in_tier", "pay_minor", "decelerator", "rule")
    TIER_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RATE_PPM_FIELD_NUMBER: _ClassVar[int]
    BASE_IN_TIER_FIELD_NUMBER: _ClassVar[int]
    PAY_MINOR_FIELD_NUMBER: _ClassVar[int]
    DECELERATOR_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    tier: int
    lower: int
    upper: int
    basis: str
    mode: str
    rate_ppm: int
    base_in_tier: str
    pay_minor: int
    decelerator: bool
    rule: str
    def __init__(self, tier: _Optional[int] = ..., lower: _Optional[int] = ..., upper: _Optional[int] = ..., basis: _Optional[str] = ..., mode: _Optional[str] = ..., rate_ppm: _Optional[int] = ..., base_in_tier: _Optional[str] = ..., pay_minor: _Optional[int] = ..., decelerator: _Optional[bool] = ..., rule: _Optional[str] = ...) -> None: ...

class StatementAdjustment(_message.Message):
    __slots__ = ("reason", "amount_minor", "rule")
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    amount_minor: int
    rule: str
    def __init__(self, reason: _Optional[str] = ..., amount_minor: _Optional[int] = ..., rule: _Optional[str] = ...) -> None: ...

class StatementDeal(_message.Message):
    __slots__ = ("deal_id", "credit_minor", "commission_minor", "base_minor", "spiff_minor", "rule")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    BASE_MINOR_FIELD_NUMBER: _ClassVar[int]
    SPIFF_MINOR_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    credit_minor: int
    commission_minor: int
    base_minor: int
    spiff_minor: int
    rule: str
    def __init__(self, deal_id: _Optional[str] = ..., credit_minor: _Optional[int] = ..., commission_minor: _Optional[int] = ..., base_minor: _Optional[int] = ..., spiff_minor: _Optional[int] = ..., rule: _Optional[str] = ...) -> None: ...

class StatementBonus(_message.Message):
    __slots__ = ("kind", "id", "deal_id", "amount_minor", "rule")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    deal_id: str
    amount_minor: int
    rule: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., deal_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., rule: _Optional[str] = ...) -> None: ...

class StatementClawback(_message.Message):
    __slots__ = ("deal_id", "reason", "won_date", "event_date", "paid_minor", "amount_minor", "rule")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WON_DATE_FIELD_NUMBER: _ClassVar[int]
    EVENT_DATE_FIELD_NUMBER: _ClassVar[int]
    PAID_MINOR_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    reason: str
    won_date: str
    event_date: str
    paid_minor: int
    amount_minor: int
    rule: str
    def __init__(self, deal_id: _Optional[str] = ..., reason: _Optional[str] = ..., won_date: _Optional[str] = ..., event_date: _Optional[str] = ..., paid_minor: _Optional[int] = ..., amount_minor: _Optional[int] = ..., rule: _Optional[str] = ...) -> None: ...

class StatementSettlement(_message.Message):
    __slots__ = ("clawback_minor", "clawback_from_reserve_minor", "clawback_from_pay_minor", "withheld_minor", "released_minor", "carry_in_minor", "carry_out_minor", "draw_top_up_minor", "draw_recovered_minor", "draw_balance_minor")
    CLAWBACK_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLAWBACK_FROM_RESERVE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLAWBACK_FROM_PAY_MINOR_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_MINOR_FIELD_NUMBER: _ClassVar[int]
    RELEASED_MINOR_FIELD_NUMBER: _ClassVar[int]
    CARRY_IN_MINOR_FIELD_NUMBER: _ClassVar[int]
    CARRY_OUT_MINOR_FIELD_NUMBER: _ClassVar[int]
    DRAW_TOP_UP_MINOR_FIELD_NUMBER: _ClassVar[int]
    DRAW_RECOVERED_MINOR_FIELD_NUMBER: _ClassVar[int]
    DRAW_BALANCE_MINOR_FIELD_NUMBER: _ClassVar[int]
    clawback_minor: int
    clawback_from_reserve_minor: int
    clawback_from_pay_minor: int
    withheld_minor: int
    released_minor: int
    carry_in_minor: int
    carry_out_minor: int
    draw_top_up_minor: int
    draw_recovered_minor: int
    draw_balance_minor: int
    def __init__(self, clawback_minor: _Optional[int] = ..., clawback_from_reserve_minor: _Optional[int] = ..., clawback_from_pay_minor: _Optional[int] = ..., withheld_minor: _Optional[int] = ..., released_minor: _Optional[int] = ..., carry_in_minor: _Optional[int] = ..., carry_out_minor: _Optional[int] = ..., draw_top_up_minor: _Optional[int] = ..., draw_recovered_minor: _Optional[int] = ..., draw_balance_minor: _Optional[int] = ...) -> None: ...

class Statement(_message.Message):
    __slots__ = ("run_key", "person", "plan", "currency", "base_minor", "target_minor", "attainment_ppm", "tiers", "adjustments", "deals", "pay_minor", "flags", "plan_rule", "bonuses", "commission_minor", "earned_minor", "clawbacks", "settlement", "spans")
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BASE_MINOR_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    ATTAINMENT_PPM_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    PAY_MINOR_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    PLAN_RULE_FIELD_NUMBER: _ClassVar[int]
    BONUSES_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    EARNED_MINOR_FIELD_NUMBER: _ClassVar[int]
    CLAWBACKS_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    run_key: str
    person: str
    plan: str
    currency: str
    base_minor: int
    target_minor: int
    attainment_ppm: int
    tiers: _containers.RepeatedCompositeFieldContainer[StatementTier]
    adjustments: _containers.RepeatedCompositeFieldContainer[StatementAdjustment]
    deals: _containers.RepeatedCompositeFieldContainer[StatementDeal]
    pay_minor: int
    flags: _containers.RepeatedScalarFieldContainer[str]
    plan_rule: str
    bonuses: _containers.RepeatedCompositeFieldContainer[StatementBonus]
    commission_minor: int
    earned_minor: int
    clawbacks: _containers.RepeatedCompositeFieldContainer[StatementClawback]
    settlement: StatementSettlement
    spans: _containers.RepeatedCompositeFieldContainer[StatementSpan]
    def __init__(self, run_key: _Optional[str] = ..., person: _Optional[str] = ..., plan: _Optional[str] = ..., currency: _Optional[str] = ..., base_minor: _Optional[int] = ..., target_minor: _Optional[int] = ..., attainment_ppm: _Optional[int] = ..., tiers: _Optional[_Iterable[_Union[StatementTier, _Mapping]]] = ..., adjustments: _Optional[_Iterable[_Union[StatementAdjustment, _Mapping]]] = ..., deals: _Optional[_Iterable[_Union[StatementDeal, _Mapping]]] = ..., pay_minor: _Optional[int] = ..., flags: _Optional[_Iterable[str]] = ..., plan_rule: _Optional[str] = ..., bonuses: _Optional[_Iterable[_Union[StatementBonus, _Mapping]]] = ..., commission_minor: _Optional[int] = ..., earned_minor: _Optional[int] = ..., clawbacks: _Optional[_Iterable[_Union[StatementClawback, _Mapping]]] = ..., settlement: _Optional[_Union[StatementSettlement, _Mapping]] = ..., spans: _Optional[_Iterable[_Union[StatementSpan, _Mapping]]] = ...) -> None: ...

class StatementSpan(_message.Message):
    __slots__ = ("first_date", "last_date", "plan", "plan_rule", "target_minor", "attainment_ppm", "base_minor", "commission_minor", "earned_minor", "flags")
    FIRST_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_DATE_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PLAN_RULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_MINOR_FIELD_NUMBER: _ClassVar[int]
    ATTAINMENT_PPM_FIELD_NUMBER: _ClassVar[int]
    BASE_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MINOR_FIELD_NUMBER: _ClassVar[int]
    EARNED_MINOR_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    first_date: str
    last_date: str
    plan: str
    plan_rule: str
    target_minor: int
    attainment_ppm: int
    base_minor: int
    commission_minor: int
    earned_minor: int
    flags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, first_date: _Optional[str] = ..., last_date: _Optional[str] = ..., plan: _Optional[str] = ..., plan_rule: _Optional[str] = ..., target_minor: _Optional[int] = ..., attainment_ppm: _Optional[int] = ..., base_minor: _Optional[int] = ..., commission_minor: _Optional[int] = ..., earned_minor: _Optional[int] = ..., flags: _Optional[_Iterable[str]] = ...) -> None: ...

class CompareRunsRequest(_message.Message):
    __slots__ = ("before_run_key", "after_run_key")
    BEFORE_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    AFTER_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    before_run_key: str
    after_run_key: str
    def __init__(self, before_run_key: _Optional[str] = ..., after_run_key: _Optional[str] = ...) -> None: ...

class DealLineChange(_message.Message):
    __slots__ = ("deal_id", "credit_before_minor", "credit_after_minor", "commission_before_minor", "commission_after_minor")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CREDIT_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    credit_before_minor: int
    credit_after_minor: int
    commission_before_minor: int
    commission_after_minor: int
    def __init__(self, deal_id: _Optional[str] = ..., credit_before_minor: _Optional[int] = ..., credit_after_minor: _Optional[int] = ..., commission_before_minor: _Optional[int] = ..., commission_after_minor: _Optional[int] = ...) -> None: ...

class PersonChange(_message.Message):
    __slots__ = ("person", "plan_before", "plan_after", "base_before_minor", "base_after_minor", "target_before_minor", "target_after_minor", "pay_before_minor", "pay_after_minor", "reasons", "deals")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    PLAN_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PLAN_AFTER_FIELD_NUMBER: _ClassVar[int]
    BASE_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    BASE_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    TARGET_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    TARGET_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAY_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAY_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    person: str
    plan_before: str
    plan_after: str
    base_before_minor: int
    base_after_minor: int
    target_before_minor: int
    target_after_minor: int
    pay_before_minor: int
    pay_after_minor: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    deals: _containers.RepeatedCompositeFieldContainer[DealLineChange]
    def __init__(self, person: _Optional[str] = ..., plan_before: _Optional[str] = ..., plan_after: _Optional[str] = ..., base_before_minor: _Optional[int] = ..., base_after_minor: _Optional[int] = ..., target_before_minor: _Optional[int] = ..., target_after_minor: _Optional[int] = ..., pay_before_minor: _Optional[int] = ..., pay_after_minor: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ..., deals: _Optional[_Iterable[_Union[DealLineChange, _Mapping]]] = ...) -> None: ...

class RunComparison(_message.Message):
    __slots__ = ("before_run_key", "after_run_key", "run_reasons", "total_pay_before_minor", "total_pay_after_minor", "people")
    BEFORE_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    AFTER_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_REASONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAY_BEFORE_MINOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAY_AFTER_MINOR_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    before_run_key: str
    after_run_key: str
    run_reasons: _containers.RepeatedScalarFieldContainer[str]
    total_pay_before_minor: int
    total_pay_after_minor: int
    people: _containers.RepeatedCompositeFieldContainer[PersonChange]
    def __init__(self, before_run_key: _Optional[str] = ..., after_run_key: _Optional[str] = ..., run_reasons: _Optional[_Iterable[str]] = ..., total_pay_before_minor: _Optional[int] = ..., total_pay_after_minor: _Optional[int] = ..., people: _Optional[_Iterable[_Union[PersonChange, _Mapping]]] = ...) -> None: ...
