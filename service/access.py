"""Who may call what: the one declared table of roles per RPC.

Every method the server exposes must be listed here (a test walks the services' descriptors and
fails on a missing entry); a method missing from the table is refused anyway (deny by default).
Roles:

* ``crm``: CRM backends: score deals, split credits, record deal events, read credits;
* ``finance``: commission runs, statements, payments;
* ``planner``: forecasts, backtests, win rates, planning, analytics, and the rule sets they read;
* ``admin``: rule sets, models and keys.

Commission data is payroll data: no ``crm`` entry reaches it. Health checking and server
reflection are public, so generic clients and load balancers work unaided.
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    CRM = "crm"
    FINANCE = "finance"
    PLANNER = "planner"
    ADMIN = "admin"


CRM, FINANCE, PLANNER, ADMIN = Role.CRM, Role.FINANCE, Role.PLANNER, Role.ADMIN

#: Methods anyone may call, with or without a token.
PUBLIC: frozenset[str] = frozenset({
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
})  # fmt: skip

_RULES = "/quotient.v1.RuleSetService/"
_FORECAST = "/quotient.v1.ForecastService/"
_CREDIT = "/quotient.v1.CreditService/"
_WINRATES = "/quotient.v1.WinRateService/"
_COMMISSION = "/quotient.v1.CommissionService/"
_PLANNING = "/quotient.v1.PlanningService/"
_ANALYTICS = "/quotient.v1.AnalyticsService/"

#: Full method name -> the roles that may call it.
ACCESS: dict[str, frozenset[Role]] = {
    _RULES + "ValidateRuleSet": frozenset({ADMIN}),
    _RULES + "CreateRuleSetRevision": frozenset({ADMIN}),
    _RULES + "GetRuleSet": frozenset({ADMIN, PLANNER, FINANCE, CRM}),
    _RULES + "ListRuleSetRevisions": frozenset({ADMIN, PLANNER, FINANCE, CRM}),
    _RULES + "TestRuleSet": frozenset({ADMIN}),
    _FORECAST + "ScoreDeals": frozenset({CRM, PLANNER}),
    _FORECAST + "StreamScoreDeals": frozenset({CRM, PLANNER}),
    _FORECAST + "ComputeForecast": frozenset({PLANNER}),
    _FORECAST + "BacktestForecast": frozenset({PLANNER}),
    _CREDIT + "SplitCredits": frozenset({CRM}),
    _CREDIT + "RecordDealEvents": frozenset({CRM}),
    _CREDIT + "GetCredits": frozenset({CRM, FINANCE}),
    _WINRATES + "TrainWinRateModel": frozenset({ADMIN}),
    _WINRATES + "GetStageWinRates": frozenset({PLANNER, ADMIN}),
    _WINRATES + "GetModelReport": frozenset({PLANNER, ADMIN}),
    _COMMISSION + "RunCommission": frozenset({FINANCE}),
    _COMMISSION + "GetCommissionRun": frozenset({FINANCE}),
    _COMMISSION + "GetStatement": frozenset({FINANCE}),
    _COMMISSION + "CompareRuns": frozenset({FINANCE}),
    _COMMISSION + "RecordPayments": frozenset({FINANCE}),
    _PLANNING + "DecomposeTarget": frozenset({PLANNER}),
    _PLANNING + "SimulateScenario": frozenset({PLANNER}),
    _PLANNING + "CompareScenarios": frozenset({PLANNER}),
    _PLANNING + "SolveGap": frozenset({PLANNER}),
    _ANALYTICS + "ComputeKpis": frozenset({PLANNER, FINANCE}),
    _ANALYTICS + "ListStuckDeals": frozenset({PLANNER, CRM}),
    _ANALYTICS + "AttributeChange": frozenset({PLANNER, FINANCE}),
}

#: Methods whose successful (and refused) calls are written to the audit log.
AUDITED: frozenset[str] = frozenset({
    _RULES + "CreateRuleSetRevision",
    _WINRATES + "TrainWinRateModel",
    _COMMISSION + "RunCommission",
    _COMMISSION + "RecordPayments",
})  # fmt: skip


def allowed(method: str, roles: frozenset[Role] | set[Role]) -> bool:
    """Whether a caller with ``roles`` may call ``method`` (unlisted methods: never)."""
    return bool(ACCESS.get(method, frozenset()) & set(roles))


__all__ = ["ACCESS", "AUDITED", "PUBLIC", "Role", "allowed"]
