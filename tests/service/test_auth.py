"""Who may call what, over real channels: every RPC without a token, with a wrong role and with
the right role; revoked and malformed keys; the audit log; public health and reflection; deadlines;
TLS and mutual TLS with certificates made here; unsafe configurations refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc

from engine.errors import DeadlineExceededError
from quotient.v1 import commission_pb2, rulesets_pb2, rulesets_pb2_grpc
from server import SERVICE_NAMES, ConfigError, Quotient, start
from service.access import ACCESS, AUDITED, PUBLIC, Role
from service.auth import AccessInterceptor
from service.channel import open_channel
from service.cli import main
from service.config import Config
from service.store.keys import KeyStore
from tests.conftest import TODAY

ALL = frozenset(Role)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[Quotient, dict[Role, str], KeyStore]]:
    config = Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", auth="tokens")
    app = start(config, clock=lambda: TODAY)
    keys = KeyStore(app.db)
    tokens = {role: keys.create(f"{role.value} test", frozenset({role}), TODAY)[1] for role in Role}
    yield app, tokens, keys
    app.stop(0)


def _method_types(method: str) -> tuple[Any, bool, bool]:
    """The request class of a method and whether it streams requests and responses."""
    service, name = method.strip("/").rsplit("/", 1)
    desc = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    request = message_factory.GetMessageClass(desc.input_type)
    return request, desc.client_streaming, desc.server_streaming


def _call(channel: grpc.Channel, method: str, token: str | None) -> grpc.StatusCode:
    request, client_streaming, server_streaming = _method_types(method)
    metadata = [("authorization", f"Bearer {token}")] if token else []
    ser, de = request.SerializeToString, (lambda b: b)
    try:
        if client_streaming and server_streaming:
            call = channel.stream_stream(method, ser, de)
            list(call(iter([request()]), metadata=metadata, timeout=10))
        elif client_streaming:
            channel.stream_unary(method, ser, de)(iter([request()]), metadata=metadata, timeout=10)
        elif server_streaming:
            list(channel.unary_stream(method, ser, de)(request(), metadata=metadata, timeout=10))
        else:
            channel.unary_unary(method, ser, de)(request(), metadata=metadata, timeout=10)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_every_method_has_an_entry() -> None:
    pool = descriptor_pool.Default()
    methods = {
        f"/{name}/{m.name}" for name in SERVICE_NAMES for m in pool.FindServiceByName(name).methods
    }
    assert methods == set(ACCESS), methods ^ set(ACCESS)
    assert all(ACCESS[m] for m in methods) and set(ACCESS) >= AUDITED
    # Payroll data: no CRM key reaches a commission method.
    assert not any(Role.CRM in ACCESS[m] for m in methods if "CommissionService" in m)


def test_every_rpc_without_a_token_with_a_wrong_role_and_with_the_right_role(
    secured: tuple[Quotient, dict[Role, str], KeyStore],
) -> None:
    app, tokens, _ = secured
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        for method, roles in sorted(ACCESS.items()):
            assert _call(channel, method, None) == grpc.StatusCode.UNAUTHENTICATED, method
            for role in ALL - roles:
                code = _call(channel, method, tokens[role])
                assert code == grpc.StatusCode.PERMISSION_DENIED, (method, role)
            for role in roles:
                code = _call(channel, method, tokens[role])
                assert code not in (grpc.StatusCode.UNAUTHENTICATED,
                                    grpc.StatusCode.PERMISSION_DENIED), (method, role, code)  # fmt: skip


def test_public_methods_need_no_token(
    secured: tuple[Quotient, dict[Role, str], KeyStore],
) -> None:
    app, _, _ = secured
    assert "/grpc.health.v1.Health/Check" in PUBLIC
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_revoked_unknown_and_malformed_keys(
    secured: tuple[Quotient, dict[Role, str], KeyStore],
) -> None:
    app, tokens, keys = secured
    method = "/quotient.v1.RuleSetService/ListRuleSetRevisions"
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        allowed = grpc.StatusCode.INVALID_ARGUMENT  # let through: the empty name is refused
        assert _call(channel, method, tokens[Role.CRM]) == allowed
        key_id = tokens[Role.CRM].split("_")[1]
        keys.revoke(key_id, TODAY)
        assert _call(channel, method, tokens[Role.CRM]) == grpc.StatusCode.UNAUTHENTICATED
        forged = tokens[Role.ADMIN][:-4] + "AAAA"
        for bad in (forged, "qk_", "qk_nokey", "not-a-key", "qk_000000000000_x"):
            assert _call(channel, method, bad) == grpc.StatusCode.UNAUTHENTICATED, bad
    assert [k.revoked_at is not None for k in keys.list() if k.key_id == key_id] == [True]


def test_the_audit_log(
    secured: tuple[Quotient, dict[Role, str], KeyStore], sample_text: str
) -> None:
    app, tokens, keys = secured

    def auth(role: Role) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {tokens[role]}")]

    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = rulesets_pb2_grpc.RuleSetServiceStub(channel)
        text = sample_text.replace("name: default", "name: audited")
        stub.CreateRuleSetRevision(rulesets_pb2.CreateRuleSetRevisionRequest(
            content=text, expected_revision=0), metadata=auth(Role.ADMIN))  # fmt: skip
        with pytest.raises(grpc.RpcError):
            stub.CreateRuleSetRevision(rulesets_pb2.CreateRuleSetRevisionRequest(
                content=text, expected_revision=1), metadata=auth(Role.PLANNER))  # fmt: skip
        run = channel.unary_unary("/quotient.v1.CommissionService/RunCommission",
                                  commission_pb2.RunCommissionRequest.SerializeToString,
                                  commission_pb2.CommissionRun.FromString)  # fmt: skip
        run(commission_pb2.RunCommissionRequest(
            rule_set="default", period="2026-03", first_date="2026-03-01",
            last_date="2026-03-31", as_of_date="2026-03-31", run_key="m1"),
            metadata=auth(Role.FINANCE))  # fmt: skip
    log = [(e.key_name, e.action.rsplit("/", 1)[-1], e.target, e.outcome)
           for e in keys.audit_log()]  # fmt: skip
    assert log == [
        ("admin test", "CreateRuleSetRevision", "rule set audited revision 1", "OK"),
        ("planner test", "CreateRuleSetRevision", "", "DENIED"),
        ("finance test", "RunCommission", "commission run m1 of default 2026-03", "OK"),
    ]


class _Context:
    def time_remaining(self) -> float:
        return 0.0


class _Details:
    method = "/quotient.v1.RuleSetService/ListRuleSetRevisions"
    invocation_metadata = ()


def test_a_call_past_its_deadline_does_no_work(tmp_path: Path) -> None:
    from service.store.database import open_database

    ran = []
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: ran.append(request))
    interceptor = AccessInterceptor(KeyStore(open_database(str(tmp_path / "k.sqlite3"))),
                                    lambda: TODAY, enabled=False)  # fmt: skip
    wrapped = interceptor.intercept_service(lambda _: handler, _Details())
    assert wrapped is not None
    with pytest.raises(DeadlineExceededError):
        wrapped.unary_unary("request", _Context())
    assert ran == []


def test_unsafe_configurations_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    for config, words in (
        (Config(address="0.0.0.0:0", db_path=db), "not a loopback address"),
        (Config(address="127.0.0.1:0", db_path=db, auth="maybe"), "QUOTIENT_AUTH"),
        (Config(address="127.0.0.1:0", db_path=db, tls_cert="c.pem"), "both"),
        (Config(address="127.0.0.1:0", db_path=db, tls_client_ca="ca.pem"), "mutual TLS"),
    ):
        with pytest.raises(ConfigError, match=words):
            start(config)
    assert not db.exists()  # nothing half-started


def test_the_first_start_writes_a_bootstrap_admin_token(tmp_path: Path) -> None:
    config = Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3")
    app = start(config, clock=lambda: TODAY)
    try:
        token_file = tmp_path / "admin.token"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        env = {"QUOTIENT_TOKEN_FILE": str(token_file)}
        with open_channel(f"127.0.0.1:{app.port}", env) as channel:
            revisions = rulesets_pb2_grpc.RuleSetServiceStub(channel).ListRuleSetRevisions(
                rulesets_pb2.ListRuleSetRevisionsRequest(name="default"))  # fmt: skip
            assert [r.revision for r in revisions.revisions] == [1]
    finally:
        app.stop(0)


def test_keys_and_audit_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = start(Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", auth="off"))
    app.stop(0)
    db = ["--db", str(tmp_path / "q.sqlite3")]
    assert main(["keys", "create", "--name", "crm-prod", "--role", "crm", *db]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("qk_")
    key_id = token.split("_")[1]
    assert main(["keys", "create", "--name", "x", "--role", "pilot", *db]) == 2
    assert "unknown role 'pilot'" in capsys.readouterr().err
    assert main(["keys", "list", *db]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "key_id\tname\troles\tcreated\trevoked"
    assert rows[1].startswith(f"{key_id}\tcrm-prod\tcrm\t") and rows[1].endswith("\t")
    assert token.split("_", 2)[2] not in "\n".join(rows)  # the secret is never listed
    assert main(["keys", "revoke", key_id, *db]) == 0
    assert main(["keys", "revoke", "nosuchkey", *db]) == 2
    capsys.readouterr()
    assert main(["audit", *db]) == 0
    actions = [line.split("\t")[4] for line in capsys.readouterr().out.splitlines()[1:]]
    assert actions == ["keys create", "keys revoke"]


def _certificates(tmp_path: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate."""
    now = dt.datetime.now(dt.UTC)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def cert(subject: str, issuer: x509.Name, public: Any, signer: Any, ca: bool,
             san: list[x509.GeneralName] | None = None) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])
    ca = cert("test ca", ca_name, ca_key.public_key(), ca_key, True)
    server_key, client_key = key(), key()
    server = cert("localhost", ca_name, server_key.public_key(), ca_key, False,
                  [x509.DNSName("localhost"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])  # fmt: skip
    client = cert("finance-client", ca_name, client_key.public_key(), ca_key, False)
    out = {}
    for name, value in (("ca", ca), ("server", server), ("client", client)):
        out[name] = tmp_path / f"{name}.pem"
        out[name].write_bytes(value.public_bytes(serialization.Encoding.PEM))
    for name, k in (("server_key", server_key), ("client_key", client_key)):
        out[name] = tmp_path / f"{name}.pem"
        out[name].write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))  # fmt: skip
    return out


def _health(address: str, env: dict[str, str]) -> grpc.StatusCode:
    with open_channel(address, env) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError as exc:
            return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_tls_and_mutual_tls(tmp_path: Path) -> None:
    pem = _certificates(tmp_path)
    tls = Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", auth="off",
                 tls_cert=str(pem["server"]), tls_key=str(pem["server_key"]))  # fmt: skip
    app = start(tls)
    try:
        address = f"localhost:{app.port}"
        assert _health(address, {"QUOTIENT_TLS_CA": str(pem["ca"])}) == grpc.StatusCode.OK
        assert _health(address, {}) == grpc.StatusCode.UNAVAILABLE  # plain text is refused
    finally:
        app.stop(0)
    mutual = Config(address="127.0.0.1:0", db_path=tmp_path / "m.sqlite3", auth="off",
                    tls_cert=str(pem["server"]), tls_key=str(pem["server_key"]),
                    tls_client_ca=str(pem["ca"]))  # fmt: skip
    app = start(mutual)
    try:
        address = f"localhost:{app.port}"
        ca_only = {"QUOTIENT_TLS_CA": str(pem["ca"])}
        assert _health(address, ca_only) == grpc.StatusCode.UNAVAILABLE  # no client certificate
        with_client = {**ca_only, "QUOTIENT_TLS_CLIENT_CERT": str(pem["client"]),
                       "QUOTIENT_TLS_CLIENT_KEY": str(pem["client_key"])}  # fmt: skip
        assert _health(address, with_client) == grpc.StatusCode.OK
    finally:
        app.stop(0)
