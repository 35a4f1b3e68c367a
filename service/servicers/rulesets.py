"""``quotient.v1.RuleSetService``: validate, publish, read and test rule sets."""

from __future__ import annotations

import base64

import grpc

from engine.errors import InvalidArgumentError, Violation
from engine.rules.compiler import compile_rule_set
from engine.rules.testsuite import parse_suite, run_suite
from quotient.v1 import rulesets_pb2, rulesets_pb2_grpc
from service.convert import parse_date, revision_to_proto
from service.repository import RuleSetRepository

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _page_token(revision: int) -> str:
    return base64.urlsafe_b64encode(f"before:{revision}".encode()).decode()


def _parse_page_token(token: str) -> int | None:
    if not token:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "before" and int(value) > 0:
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidArgumentError(
        "page_token is not one this service issued",
        reason="INVALID_PAGE_TOKEN",
        violations=[Violation("page_token", reason="INVALID_PAGE_TOKEN", message="unknown token")],
    )


class RuleSetServicer(rulesets_pb2_grpc.RuleSetServiceServicer):
    """Implements RuleSetService over a :class:`RuleSetRepository`."""

    def __init__(self, repository: RuleSetRepository) -> None:
        self.repository = repository

    def ValidateRuleSet(
        self, request: rulesets_pb2.ValidateRuleSetRequest, context: grpc.ServicerContext
    ) -> rulesets_pb2.ValidateRuleSetResponse:
        compiled = compile_rule_set(request.content)
        return rulesets_pb2.ValidateRuleSetResponse(
            name=compiled.name,
            effective_from=compiled.effective_from.isoformat(),
            content_hash=compiled.content_hash,
            stage_count=len(compiled.stage_ids),
        )

    def CreateRuleSetRevision(
        self, request: rulesets_pb2.CreateRuleSetRevisionRequest, context: grpc.ServicerContext
    ) -> rulesets_pb2.RuleSetRevision:
        if not request.HasField("expected_revision"):
            raise InvalidArgumentError(
                "expected_revision is required: 0 for a new rule set, else the current revision",
                reason="MISSING_EXPECTED_REVISION",
                violations=[
                    Violation(
                        "expected_revision",
                        reason="REQUIRED",
                        message="expected_revision is required",
                    )
                ],
            )
        record = self.repository.publish(request.content, request.expected_revision)
        return revision_to_proto(record)

    def GetRuleSet(
        self, request: rulesets_pb2.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> rulesets_pb2.RuleSetRevision:
        selector = request.WhichOneof("selector")
        revision = request.revision if selector == "revision" else None
        as_of = parse_date(request.as_of_date, "as_of_date") if selector == "as_of_date" else None
        return revision_to_proto(self.repository.record(request.name, revision, as_of))

    def ListRuleSetRevisions(
        self, request: rulesets_pb2.ListRuleSetRevisionsRequest, context: grpc.ServicerContext
    ) -> rulesets_pb2.ListRuleSetRevisionsResponse:
        if request.page_size < 0:
            raise InvalidArgumentError("page_size must not be negative", reason="INVALID_PAGE_SIZE")
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        before = _parse_page_token(request.page_token)
        if before is None:
            self.repository.record(request.name)  # NOT_FOUND for an unknown rule set
        rows = self.repository.store.list_revisions(
            request.name, limit=size + 1, before_revision=before
        )
        page, more = rows[:size], len(rows) > size
        return rulesets_pb2.ListRuleSetRevisionsResponse(
            revisions=[revision_to_proto(r, with_content=False) for r in page],
            next_page_token=_page_token(page[-1].revision) if more else "",
        )

    def TestRuleSet(
        self, request: rulesets_pb2.TestRuleSetRequest, context: grpc.ServicerContext
    ) -> rulesets_pb2.TestRuleSetResponse:
        if request.WhichOneof("rule_set") == "ref":
            record, rules = self.repository.resolve(request.ref.name, request.ref.revision or None)
            name, revision = record.name, record.revision
        else:
            rules = compile_rule_set(request.content)
            name, revision = rules.name, 0
        results = run_suite(rules, parse_suite(request.test_content))
        passed = sum(r.passed for r in results)
        return rulesets_pb2.TestRuleSetResponse(
            name=name,
            revision=revision,
            passed_count=passed,
            failed_count=len(results) - passed,
            cases=[
                rulesets_pb2.TestCaseResult(
                    name=r.name,
                    passed=r.passed,
                    differences=[
                        rulesets_pb2.TestDifference(
                            field=d.field, expected=d.expected, actual=d.actual
                        )
                        for d in r.differences
                    ],
                )
                for r in results
            ],
        )


__all__ = ["RuleSetServicer"]
