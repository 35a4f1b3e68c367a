"""End to end over real gRPC channels on port 0: health, reflection, errors, scoring, publishing,
each on both of gRPC's servers (``QUOTIENT_SERVING``: asyncio, the default, and threads)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from engine.forecast.deals import deal_input_from_records
from quotient.v1 import forecast_pb2, forecast_pb2_grpc, rulesets_pb2, rulesets_pb2_grpc, types_pb2
from server import SERVICE_NAMES, ConfigError, Quotient, start
from service.config import SAMPLE_RULE_SET, Config
from service.convert_arrow import deals_to_arrow, table_bytes, table_rows
from tests.conftest import TODAY, decode_details


@pytest.fixture(params=["asyncio", "threads"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Quotient]:
    config = Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", max_batch_deals=1000,
                    auth="off", serving=request.param)  # fmt: skip
    quotient = start(config, clock=lambda: TODAY)
    yield quotient
    quotient.stop(0)


def details(err: grpc.RpcError) -> dict[str, object]:
    """Decode the google.rpc details of a failed call by type."""
    status = rpc_status.from_call(err)
    assert status is not None, "the error carries no google.rpc status"
    return decode_details(status)


def million(stage: str, **extra: object) -> types_pb2.Deal:
    return types_pb2.Deal(
        id="d-1",
        amount_minor=100_000_000,
        currency="CNY",
        stage=stage,
        owner="li.wei",
        region="North",
        **extra,
    )


def test_health_reports_every_service(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", *SERVICE_NAMES):
        resp = stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert resp.status == health_pb2.HealthCheckResponse.SERVING, name


def test_reflection_lists_every_quotient_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = list(
        stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    )
    names = {s.name for s in responses[0].list_services_response.service}
    assert {"quotient.v1.RuleSetService", "quotient.v1.ForecastService"} <= names
    assert "grpc.health.v1.Health" in names


def test_the_example_deal_scores_at_initial_contact_and_at_won(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    resp = stub.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(
            rule_set="default", deals=[million("initial_contact"), million("won")]
        )
    )
    contact, won = resp.scores
    assert (contact.win_prob, contact.weighted_amount_minor) == ("0.1", 10_000_000)
    assert contact.category == types_pb2.CATEGORY_PIPELINE
    assert contact.win_prob_source == forecast_pb2.WIN_PROB_SOURCE_STAGE
    assert (won.win_prob, won.weighted_amount_minor) == ("1", 100_000_000)
    assert won.category == types_pb2.CATEGORY_CLOSED
    assert (resp.rule_set, resp.revision, contact.revision) == ("default", 1, 1)


def test_per_deal_problems_do_not_fail_the_batch(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    resp = stub.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(
            rule_set="default",
            deals=[
                million("negotiation"),
                million("quote"),
                million("quote", win_prob="1.5"),
                million("quote", close_date="2026-13-01"),
            ],
        )
    )
    assert resp.failed_count == 3
    assert [s.problem.reason for s in resp.scores] == [
        "UNKNOWN_STAGE",
        "",
        "INVALID_WIN_PROB",
        "INVALID_DATE",
    ]
    assert resp.scores[0].problem.field == "stage"
    assert resp.scores[1].weighted_amount_minor == 50_000_000
    assert [s.index for s in resp.scores] == [0, 1, 2, 3]


def test_override_rows_and_attributes_are_reported(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    deal = million("quote")
    deal.attributes["discount_pct"].decimal_value = "35.5"
    resp = stub.ScoreDeals(forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[deal]))
    (score,) = resp.scores
    assert score.win_prob == "0.4"
    assert list(score.matched_rules) == ["win_rates.overrides.by_region_and_size/deep_discount"]
    assert score.win_prob_source == forecast_pb2.WIN_PROB_SOURCE_OVERRIDE


def test_stream_scores_batches(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    requests = [
        forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("quote")] * n)
        for n in (3, 1, 5)
    ]
    responses = list(stub.StreamScoreDeals(iter(requests)))
    assert [len(r.scores) for r in responses] == [3, 1, 5]


def columns(*records: dict[str, object]) -> bytes:
    """Deals as an Arrow IPC stream, as a bulk client sends them in ``deal_columns``."""
    return table_bytes(deals_to_arrow(deal_input_from_records(list(records))))


MILLION = {"amount_minor": 100_000_000, "currency": "CNY", "owner": "li.wei", "region": "North"}


def test_deals_sent_as_columns_are_scored_as_columns(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    resp = stub.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(
            rule_set="default",
            deal_columns=columns(
                {"id": "d-1", "stage": "initial_contact", **MILLION},
                {"id": "d-2", "stage": "won", **MILLION},
                {"id": "d-3", "stage": "negotiation", **MILLION},
            ),
        )
    )
    assert (resp.rule_set, resp.revision, resp.failed_count, len(resp.scores)) == (
        "default",
        1,
        1,
        0,
    )
    contact, won, bad = table_rows(resp.score_columns)
    assert (contact["deal_id"], contact["win_prob"], contact["weighted_amount_minor"]) == (
        "d-1", Decimal("0.1"), 10_000_000)  # fmt: skip
    assert (contact["category"], contact["win_prob_source"]) == ("pipeline", "stage")
    assert (won["win_prob"], won["weighted_amount_minor"], won["category"]) == (
        Decimal(1), 100_000_000, "closed")  # fmt: skip
    assert (bad["problem_reason"], bad["problem_field"]) == ("UNKNOWN_STAGE", "stage")
    assert bad["weighted_amount_minor"] is None


def test_a_stream_of_column_batches(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    requests = [
        forecast_pb2.ScoreDealsRequest(
            rule_set="default",
            deal_columns=columns(*[{"id": f"d{i}", "stage": "quote", **MILLION} for i in range(n)]),
        )
        for n in (3, 1, 5)
    ]
    responses = list(stub.StreamScoreDeals(iter(requests)))
    assert [len(table_rows(r.score_columns)) for r in responses] == [3, 1, 5]


def test_bad_deal_columns_are_refused_naming_the_field(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    one = columns({"id": "d-1", "stage": "quote", **MILLION})
    for request, reason in [
        (forecast_pb2.ScoreDealsRequest(rule_set="default", deal_columns=b"\x00garbage"),
         "INVALID_DEAL_COLUMNS"),
        (forecast_pb2.ScoreDealsRequest(rule_set="default", deal_columns=one,
                                        deals=[million("quote")]), "INVALID_ARGUMENT"),
    ]:  # fmt: skip
        with pytest.raises(grpc.RpcError) as err:
            stub.ScoreDeals(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        found = details(err.value)
        assert found["ErrorInfo"].reason == reason
        assert [v.field for v in found["BadRequest"].field_violations] == ["deal_columns"]
    many = columns(*[{"id": "d", "stage": "quote", **MILLION}] * 1001)
    with pytest.raises(grpc.RpcError) as err:
        stub.ScoreDeals(forecast_pb2.ScoreDealsRequest(rule_set="default", deal_columns=many))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_batch_over_the_limit_is_resource_exhausted(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ScoreDeals(
            forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("quote")] * 1001)
        )
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(err.value)["ErrorInfo"].reason == "BATCH_TOO_LARGE"


def test_unknown_rule_set_is_not_found(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ScoreDeals(forecast_pb2.ScoreDealsRequest(rule_set="nope", deals=[million("quote")]))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert details(err.value)["ErrorInfo"].reason == "RULE_SET_NOT_FOUND"


def test_validate_reports_violations_in_status_details(channel: grpc.Channel) -> None:
    stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
    broken = (
        SAMPLE_RULE_SET.read_text()
        .replace("win_rate: 0.30", "win_rate: 1.30")
        .replace('cells: {stage: quote, amount: ">= 5000000"}', "when: amount >= 'lots'")
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.ValidateRuleSet(rulesets_pb2.ValidateRuleSetRequest(content=broken))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    d = details(err.value)
    assert d["ErrorInfo"].reason == "RULE_SET_INVALID"
    fields = {(v.field, v.reason) for v in d["BadRequest"].field_violations}
    assert ("stages[1].win_rate", "WIN_RATE_OUT_OF_RANGE") in fields
    assert ("win_rates.overrides[0].rows[0].when", "TYPE_MISMATCH") in fields
    lines = {v.path: v.line for v in d["ViolationList"].violations}
    assert broken.splitlines()[lines["stages[1].win_rate"] - 1].lstrip().startswith("- {id: needs")
    ok = stub.ValidateRuleSet(
        rulesets_pb2.ValidateRuleSetRequest(content=SAMPLE_RULE_SET.read_text())
    )
    assert (ok.name, ok.stage_count) == ("default", 6)


def test_publish_get_list_and_a_stale_publish(channel: grpc.Channel) -> None:
    stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
    forecast = forecast_pb2_grpc.ForecastServiceStub(channel)
    text = SAMPLE_RULE_SET.read_text().replace("win_rate: 0.10", "win_rate: 0.15")
    rev = stub.CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=text, expected_revision=1)
    )
    assert rev.revision == 2
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRuleSetRevision(
            rulesets_pb2.CreateRuleSetRevisionRequest(content=text, expected_revision=1)
        )
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert details(err.value)["ErrorInfo"].reason == "REVISION_CONFLICT"
    # Changing a stage's rate re-values open deals at that stage.
    score = forecast.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("initial_contact")])
    ).scores[0]
    assert (score.weighted_amount_minor, score.revision) == (15_000_000, 2)
    old = forecast.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(
            rule_set="default", revision=1, deals=[million("initial_contact")]
        )
    ).scores[0]
    assert old.weighted_amount_minor == 10_000_000
    assert stub.GetRuleSet(rulesets_pb2.GetRuleSetRequest(name="default")).revision == 2
    assert (
        stub.GetRuleSet(rulesets_pb2.GetRuleSetRequest(name="default", revision=1)).content
        == SAMPLE_RULE_SET.read_text()
    )
    page = stub.ListRuleSetRevisions(
        rulesets_pb2.ListRuleSetRevisionsRequest(name="default", page_size=1)
    )
    assert [r.revision for r in page.revisions] == [2] and page.next_page_token
    page = stub.ListRuleSetRevisions(
        rulesets_pb2.ListRuleSetRevisionsRequest(
            name="default", page_size=1, page_token=page.next_page_token
        )
    )
    assert [r.revision for r in page.revisions] == [1] and not page.next_page_token


def test_a_failed_publish_stores_nothing(channel: grpc.Channel) -> None:
    stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRuleSetRevision(
            rulesets_pb2.CreateRuleSetRevisionRequest(
                content="api_version: quotient/v1\nname: default\n", expected_revision=1
            )
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateRuleSetRevision(
            rulesets_pb2.CreateRuleSetRevisionRequest(content=SAMPLE_RULE_SET.read_text())
        )
    assert details(err.value)["ErrorInfo"].reason == "MISSING_EXPECTED_REVISION"
    assert stub.GetRuleSet(rulesets_pb2.GetRuleSetRequest(name="default")).revision == 1


def test_as_of_resolution(channel: grpc.Channel) -> None:
    stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
    future = SAMPLE_RULE_SET.read_text().replace(
        "effective_from: 2026-01-01", "effective_from: 2027-01-01"
    )
    stub.CreateRuleSetRevision(
        rulesets_pb2.CreateRuleSetRevisionRequest(content=future, expected_revision=1)
    )
    get = stub.GetRuleSet
    assert (
        get(rulesets_pb2.GetRuleSetRequest(name="default", as_of_date="2026-12-31")).revision == 1
    )
    assert (
        get(rulesets_pb2.GetRuleSetRequest(name="default", as_of_date="2027-01-01")).revision == 2
    )
    # Scoring today (2026-11-22 by the test clock) uses the revision in force, not the latest.
    forecast = forecast_pb2_grpc.ForecastServiceStub(channel)
    resp = forecast.ScoreDeals(
        forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("quote")])
    )
    assert resp.revision == 1
    with pytest.raises(grpc.RpcError) as err:
        get(rulesets_pb2.GetRuleSetRequest(name="default", as_of_date="yesterday"))
    assert details(err.value)["BadRequest"].field_violations[0].field == "as_of_date"


def test_the_sample_test_suite_runs_over_the_api(channel: grpc.Channel) -> None:
    stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
    suite = (SAMPLE_RULE_SET.parent / "default_test.yaml").read_text()
    resp = stub.TestRuleSet(
        rulesets_pb2.TestRuleSetRequest(
            ref=rulesets_pb2.RuleSetRef(name="default"), test_content=suite
        )
    )
    assert resp.failed_count == 0 and resp.passed_count == len(resp.cases) > 5
    wrong = suite.replace("weighted_amount_minor: 10000000,", "weighted_amount_minor: 10000001,")
    resp = stub.TestRuleSet(
        rulesets_pb2.TestRuleSetRequest(content=SAMPLE_RULE_SET.read_text(), test_content=wrong)
    )
    assert resp.failed_count == 1
    (failed,) = [c for c in resp.cases if not c.passed]
    assert [(d.field, d.expected, d.actual) for d in failed.differences] == [
        ("weighted_amount_minor", "10000001", "10000000")
    ]


def test_unexpected_errors_become_internal_with_a_request_id(
    app: Quotient, channel: grpc.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret stack detail")

    monkeypatch.setattr(app.repository, "resolve", boom)
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ScoreDeals(
            forecast_pb2.ScoreDealsRequest(rule_set="default"),
            metadata=[("x-request-id", "req-42")],
        )
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.value.details() or "")
    info = details(err.value)["ErrorInfo"]
    assert (info.reason, info.metadata["request_id"]) == ("INTERNAL", "req-42")


def test_successful_calls_echo_the_request_id(channel: grpc.Channel) -> None:
    stub = forecast_pb2_grpc.ForecastServiceStub(channel)
    _, call = stub.ScoreDeals.with_call(
        forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("quote")]),
        metadata=[("x-request-id", "req-7")],
    )
    assert ("x-request-id", "req-7") in tuple(call.trailing_metadata())
    _, call = stub.ScoreDeals.with_call(forecast_pb2.ScoreDealsRequest(rule_set="default"))
    generated = dict(call.trailing_metadata())["x-request-id"]
    assert len(generated) == 32


def test_a_message_over_the_size_limit_is_resource_exhausted(tmp_path: Path) -> None:
    config = Config(
        address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", max_message_bytes=4096, auth="off"
    )
    small = start(config, clock=lambda: TODAY)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{small.port}") as ch:
            stub = forecast_pb2_grpc.ForecastServiceStub(ch)
            ok = stub.ScoreDeals(
                forecast_pb2.ScoreDealsRequest(rule_set="default", deals=[million("quote")])
            )
            assert len(ok.scores) == 1
            with pytest.raises(grpc.RpcError) as err:
                stub.ScoreDeals(
                    forecast_pb2.ScoreDealsRequest(
                        rule_set="default", deals=[million("quote")] * 200
                    )
                )
            assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        small.stop(0)


@pytest.mark.parametrize("serving", ["asyncio", "threads"])
def test_a_port_in_use_is_refused_with_a_clear_error(tmp_path: Path, serving: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        config = Config(address=address, db_path=tmp_path / "q.sqlite3", auth="off",
                        serving=serving)  # fmt: skip
        with pytest.raises(ConfigError, match=f"could not listen on {address}: is the port in use"):
            start(config, clock=lambda: TODAY)
        # A second server process sharing the port (``--processes``) may bind it only when the
        # first shares it too; this listener does not.
        with pytest.raises(ConfigError, match="could not listen on"):
            start(replace(config, processes=2), clock=lambda: TODAY)
