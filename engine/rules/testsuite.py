"""A rule set's own test suite (``*_test.yaml``): named deal fixtures, cases, expected outputs.

Rule authors state what their rules must do ("a 1,000,000.00 deal at initial contact weighs
100,000.00"; "a large EMEA quote hits row emea_large") next to the rules, and the CLI, CI and the
``TestRuleSet`` RPC run it. All cases are scored as one batch, so a suite runs in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError

from engine.credit.splits import TeamInput, split_credits
from engine.errors import RuleSetInvalidError
from engine.forecast.deals import build_deal_batch, deal_input_from_records
from engine.forecast.scoring import ProbSource, score_deals
from engine.money import ppm_to_decimal
from engine.rules.compiler import CompiledRuleSet
from engine.rules.schema import CATEGORY_ORDER, Model
from engine.rules.source import join_path, parse_document


class ExpectedCredit(Model):
    """One expected credit part (split type, person, credit and weighted credit)."""

    split: str
    person: str
    credit_minor: int
    weighted_credit_minor: int

    def text(self) -> str:
        return f"{self.split}/{self.person}: {self.credit_minor} ({self.weighted_credit_minor})"


class Expectation(Model):
    """Outputs a case expects; only the ones given are compared."""

    win_prob: Decimal | None = None
    weighted_amount_minor: int | None = None
    category: str | None = None
    win_prob_source: str | None = Field(
        default=None, pattern="^(stage|override|manual|closed_stage)$"
    )
    matched_rules: list[str] | None = None
    credits: list[ExpectedCredit] | None = Field(
        default=None, description="every credit part of the deal, in split-type then team order"
    )
    problem: str | None = Field(default=None, description="expected per-deal problem reason")


class SuiteCase(Model):
    """One case: a deal (a fixture name or an inline mapping), optional changes, expectations."""

    name: str = Field(min_length=1)
    deal: str | dict[str, Any]
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    expect: Expectation


class Fixtures(Model):
    deals: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Suite(Model):
    """A test-suite document."""

    api_version: str = "quotient/v1"
    rule_set: str | None = None
    description: str | None = None
    fixtures: Fixtures = Field(default_factory=Fixtures)
    cases: list[SuiteCase] = Field(min_length=1)


@dataclass(frozen=True)
class Difference:
    """An output that differs from the expectation."""

    field: str
    expected: str
    actual: str


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    name: str
    passed: bool
    differences: tuple[Difference, ...]


def parse_suite(text: str) -> Suite:
    """Parse and check a test-suite document.

    Raises
    ------
    RuleSetInvalidError
        With every problem (shape errors and unknown fixture names), each with path and line.
    """
    doc = parse_document(text)
    try:
        suite = Suite.model_validate(doc.data)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            path = ""
            for part in err["loc"]:
                path = join_path(path, "with" if part == "with_" else part)
            out.append(doc.violation(path, "INVALID_TEST_SUITE", err["msg"]))
        raise RuleSetInvalidError(out + doc.violations) from None
    missing = [
        doc.violation(
            join_path(join_path("cases", i), "deal"),
            "UNKNOWN_FIXTURE",
            f"no deal fixture named {case.deal!r}",
        )
        for i, case in enumerate(suite.cases)
        if isinstance(case.deal, str) and case.deal not in suite.fixtures.deals
    ]
    if missing or doc.violations:
        raise RuleSetInvalidError(missing + doc.violations)
    return suite


def _norm_decimal(value: Decimal) -> str:
    return str(value.normalize()) if value else "0"


def run_suite(rules: CompiledRuleSet, suite: Suite) -> list[CaseResult]:
    """Score every case's deal under ``rules`` and compare with its expectations."""
    records = []
    team = TeamInput([], [], [], [], [], [])
    for i, case in enumerate(suite.cases):
        base = suite.fixtures.deals[case.deal] if isinstance(case.deal, str) else case.deal
        record = {"id": f"case-{i}", **base, **case.with_}
        for member in record.pop("team", None) or []:
            team.deal.append(i)
            team.person.append(str(member.get("person", "")))
            team.role.append(member.get("role"))
            team.split.append(member.get("split"))
            team.ratio.append(None if member.get("ratio") is None else str(member["ratio"]))
            team.amount_minor.append(member.get("amount_minor"))
        records.append(record)
    batch = build_deal_batch(deal_input_from_records(records), rules)
    scores = score_deals(rules, batch)
    problems = {e.index: e.reason for e in scores.errors}
    # Credits are checked for cases that give a team or expect credits; only those cases can
    # fail for a split problem.
    credit_cases = {i for i, c in enumerate(suite.cases) if c.expect.credits is not None}
    credit_cases |= set(team.deal)
    parts: dict[int, list[str]] = {}
    if credit_cases:
        split = split_credits(rules, batch, scores, team)
        problems.update(
            (e.index, e.reason)
            for e in split.errors
            if e.index not in problems and e.index in credit_cases
        )
        types = rules.splits.types
        for k in range(len(split)):
            parts.setdefault(int(split.deal[k]), []).append(
                f"{types[int(split.split[k])].id}/{split.person[k]}: "
                f"{int(split.credit_minor[k])} ({int(split.weighted_credit_minor[k])})"
            )
    results = []
    for i, case in enumerate(suite.cases):
        exp = case.expect
        diffs: list[Difference] = []

        def check(name: str, expected: Any, actual: str) -> None:
            if expected is not None and str(expected) != actual:
                diffs.append(Difference(name, str(expected), actual))  # noqa: B023

        # A problem nobody expected fails the case, whatever else it expects.
        check("problem", exp.problem if exp.problem is not None else "", problems.get(i, ""))
        if i not in problems:
            wp = exp.win_prob
            check(
                "win_prob",
                None if wp is None else _norm_decimal(wp),
                _norm_decimal(ppm_to_decimal(int(scores.win_prob_ppm[i]))),
            )
            check(
                "weighted_amount_minor",
                exp.weighted_amount_minor,
                str(int(scores.weighted_amount_minor[i])),
            )
            check("category", exp.category, CATEGORY_ORDER[int(scores.category[i])].value)
            check(
                "win_prob_source",
                exp.win_prob_source,
                ProbSource(int(scores.prob_source[i])).name.lower(),
            )
            if exp.matched_rules is not None:
                check(
                    "matched_rules",
                    ", ".join(exp.matched_rules),
                    ", ".join(scores.matched_rules(i)),
                )
            if exp.credits is not None:
                check(
                    "credits",
                    "; ".join(c.text() for c in exp.credits),
                    "; ".join(parts.get(i, [])),
                )
        results.append(CaseResult(case.name, not diffs, tuple(diffs)))
    return results


__all__ = ["CaseResult", "Difference", "Suite", "SuiteCase", "parse_suite", "run_suite"]
