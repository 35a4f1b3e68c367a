"""Composition root: config -> store -> repository -> servicers -> health + reflection -> serve.

The calls are served by gRPC's asyncio server (``service.aio_serving``, the default) or its
threaded server (``QUOTIENT_SERVING=threads``), with the same servicers and interceptors.
``create_server(address)`` returns ``(server, port)`` so tests bind port 0 and talk over a real
channel. ``serve()`` runs until SIGTERM or SIGINT, then reports NOT_SERVING, lets in-flight calls
finish (up to the configured grace) and stops.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine.errors import FailedPreconditionError, NotFoundError
from quotient.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    commission_pb2,
    commission_pb2_grpc,
    credit_pb2,
    credit_pb2_grpc,
    forecast_pb2,
    forecast_pb2_grpc,
    planning_pb2,
    planning_pb2_grpc,
    rulesets_pb2,
    rulesets_pb2_grpc,
    winrates_pb2,
    winrates_pb2_grpc,
)
from service.access import Role
from service.aio_serving import AsyncioServer
from service.auth import AccessInterceptor
from service.batch import ClusterUnreachableError, Executor, InProcess, connect
from service.commission_runs import CommissionRuns
from service.config import SAMPLE_RULE_SET, Config, is_loopback
from service.credit_ledger import CreditLedger
from service.interceptors import ErrorInterceptor
from service.learned import LearnedSources
from service.processes import WorkerStartError, serve_processes, stop_with_parent
from service.repository import RuleSetRepository
from service.servicers.analytics import AnalyticsServicer
from service.servicers.commission import CommissionServicer
from service.servicers.credit import CreditServicer
from service.servicers.forecast import ForecastServicer
from service.servicers.planning import PlanningServicer
from service.servicers.rulesets import RuleSetServicer
from service.servicers.winrates import WinRateServicer
from service.store.database import Database, StoreUnavailableError, open_database
from service.store.keys import KeyStore
from service.store.ledger import LedgerStore
from service.store.models import ModelStore
from service.store.revisions import RevisionStore
from service.store.runs import RunStore

LOG = logging.getLogger("quotient.server")

#: Fully qualified names of the quotient.v1 services this server offers.
SERVICE_NAMES: tuple[str, ...] = (
    rulesets_pb2.DESCRIPTOR.services_by_name["RuleSetService"].full_name,
    forecast_pb2.DESCRIPTOR.services_by_name["ForecastService"].full_name,
    credit_pb2.DESCRIPTOR.services_by_name["CreditService"].full_name,
    winrates_pb2.DESCRIPTOR.services_by_name["WinRateService"].full_name,
    commission_pb2.DESCRIPTOR.services_by_name["CommissionService"].full_name,
    planning_pb2.DESCRIPTOR.services_by_name["PlanningService"].full_name,
    analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
)


#: Most deals a ScoreDeals or SplitCredits call may carry to be answered on the event loop.
INLINE_MAX_DEALS = 4


def _few_deals(request: Any) -> bool:
    return not request.deal_columns and len(request.deals) <= INLINE_MAX_DEALS


#: Calls the asyncio server answers on its event loop, by method: a few deals to score or split
#: (tens of microseconds a deal, no store but a cached rule set) and health checks. Every other
#: call runs on a worker thread, so the loop is never held for long.
INLINE: dict[str, Callable[[Any], bool]] = {
    "/quotient.v1.ForecastService/ScoreDeals": _few_deals,
    "/quotient.v1.CreditService/SplitCredits": _few_deals,
    "/grpc.health.v1.Health/Check": lambda request: True,
}


#: Most server processes ``--processes`` may start.
MAX_PROCESSES = 64


def utc_now() -> dt.datetime:
    """The production clock (UTC, timezone-aware)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Quotient:
    """A wired, started server with what is needed to stop it cleanly."""

    server: grpc.Server | AsyncioServer
    port: int
    health: health.HealthServicer
    repository: RuleSetRepository
    db: Database
    batch: Executor = field(default_factory=InProcess)

    def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, status)

    def stop(self, grace_s: float) -> None:
        """Report NOT_SERVING, drain in-flight calls for up to ``grace_s`` seconds, release the store."""
        self.set_serving(False)
        self.server.stop(grace_s).wait()
        self.db.close()
        self.batch.close()


def publish_sample(repository: RuleSetRepository) -> None:
    """Publish the sample rule set unless the store already holds a revision of it."""
    text = SAMPLE_RULE_SET.read_text(encoding="utf-8")
    try:
        repository.record("default")
    except NotFoundError:
        record = repository.publish(text, expected_revision=0)
        LOG.info("published sample rule set %s revision %d", record.name, record.revision)


def open_store(
    config: Config, clock: Callable[[], dt.datetime] = utc_now
) -> tuple[Database, KeyStore, RuleSetRepository]:
    """Open (and migrate) the store; on its first start create the admin key; publish the
    sample rule set if the config asks and the store has none."""
    try:
        db = open_database(config.store_url)
    except (StoreUnavailableError, FailedPreconditionError) as exc:
        raise ConfigError(exc.message) from exc
    keys = KeyStore(db)
    if config.auth == "tokens" and keys.count() == 0:
        bootstrap_admin(keys, config, clock)
    repository = RuleSetRepository(RevisionStore(db), clock, config.cache_size)
    if config.publish_sample:
        publish_sample(repository)
    return db, keys, repository


def start(
    config: Config,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
) -> Quotient:
    """Wire everything from ``config`` and start serving on ``config.address``."""
    check_security(config)
    batch = connect_batch(config)
    db, keys, repository = open_store(config, clock)
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        # Another server on the port is an error, unless this is one of several processes
        # meant to share it (``service.processes``).
        ("grpc.so_reuseport", 1 if config.processes > 1 else 0),
    ]
    interceptors = [
        ErrorInterceptor(),
        AccessInterceptor(keys, clock, enabled=config.auth == "tokens"),
    ]
    server: grpc.Server | AsyncioServer
    if config.serving == "asyncio":
        server = AsyncioServer(
            workers=config.workers,
            interceptors=interceptors,
            options=options,
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            inline=INLINE,
        )
    else:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rpc"),
            interceptors=interceptors,
            options=options,
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
    rulesets_pb2_grpc.add_RuleSetServiceServicer_to_server(RuleSetServicer(repository), server)
    ledger = LedgerStore(db)
    models = ModelStore(db)
    learned = LearnedSources(ledger, models, config.max_batch_deals)
    forecasts = ForecastServicer(
        repository,
        config.max_batch_deals,
        ledger,
        learned,
        batch,
        threads=config.compute_threads or os.cpu_count() or 1,
    )
    forecast_pb2_grpc.add_ForecastServiceServicer_to_server(forecasts, server)
    credit_pb2_grpc.add_CreditServiceServicer_to_server(
        CreditServicer(
            repository,
            CreditLedger(ledger, repository, clock, config.head_cache_deals),
            config.max_batch_deals,
        ),
        server,
    )
    winrates_pb2_grpc.add_WinRateServiceServicer_to_server(
        WinRateServicer(repository, ledger, models, clock, config.max_batch_deals),
        server,
    )
    commission_pb2_grpc.add_CommissionServiceServicer_to_server(
        CommissionServicer(repository, CommissionRuns(ledger, RunStore(db), clock, batch=batch)),
        server,
    )
    planning_pb2_grpc.add_PlanningServiceServicer_to_server(
        PlanningServicer(repository, ledger, forecasts), server
    )
    analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
        AnalyticsServicer(repository, ledger, config.max_batch_deals), server
    )
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    credentials = None
    if config.tls_cert:
        credentials = grpc.ssl_server_credentials(
            [(_read(config.tls_key), _read(config.tls_cert))],
            root_certificates=_read(config.tls_client_ca) if config.tls_client_ca else None,
            require_client_auth=bool(config.tls_client_ca),
        )
    try:
        if credentials is not None:
            port = server.add_secure_port(config.address, credentials)
        else:
            port = server.add_insecure_port(config.address)
    except RuntimeError:  # gRPC's "Failed to bind to address"
        port = 0
    if port == 0:
        db.close()
        batch.close()
        raise ConfigError(
            f"could not listen on {config.address}: is the port in use, or the host not this "
            "machine's?"
        )
    server.start()
    app = Quotient(server, port, health_servicer, repository, db, batch)
    app.set_serving(True)
    return app


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


class ConfigError(Exception):
    """The configuration cannot be served safely; the message says why and what to set."""


def check_security(config: Config) -> None:
    """Refuse an unsafe configuration before anything starts; warn loudly about a local one."""
    if config.auth not in ("tokens", "off"):
        raise ConfigError(f"QUOTIENT_AUTH={config.auth!r}: use 'tokens' or 'off'")
    if config.serving not in ("threads", "asyncio"):
        raise ConfigError(f"QUOTIENT_SERVING={config.serving!r}: use 'threads' or 'asyncio'")
    if config.head_cache_deals < 0:
        raise ConfigError(f"QUOTIENT_HEAD_CACHE_DEALS={config.head_cache_deals}: use 0 or more")
    if not 1 <= config.processes <= MAX_PROCESSES:
        raise ConfigError(f"QUOTIENT_PROCESSES={config.processes}: use 1 to {MAX_PROCESSES}")
    if bool(config.tls_cert) != bool(config.tls_key):
        raise ConfigError("TLS needs both QUOTIENT_TLS_CERT and QUOTIENT_TLS_KEY")
    if config.tls_client_ca and not config.tls_cert:
        raise ConfigError("mutual TLS (QUOTIENT_TLS_CLIENT_CA) needs QUOTIENT_TLS_CERT and _KEY")
    loopback = is_loopback(config.address)
    if not config.tls_cert:
        if not loopback:
            raise ConfigError(
                f"{config.address} is not a loopback address: serve TLS (QUOTIENT_TLS_CERT and "
                "QUOTIENT_TLS_KEY) or listen on localhost"
            )
        LOG.warning("NO TLS: serving plain text on %s (loopback only; for development)",
                    config.address)  # fmt: skip
    if config.auth == "off":
        if not loopback:
            raise ConfigError("QUOTIENT_AUTH=off is allowed on a loopback address only")
        LOG.warning("AUTHENTICATION OFF: every caller may call everything (development only)")


def connect_batch(config: Config) -> Executor:
    """Where batch jobs run: the named Dask cluster (refused at start if it does not answer, so
    the server never half-starts), else in-process."""
    try:
        return connect(config.dask_address)
    except ClusterUnreachableError as exc:
        LOG.error("%s", exc)
        raise ConfigError(f"{exc} (QUOTIENT_DASK_ADDRESS or --dask)") from None


def bootstrap_admin(keys: KeyStore, config: Config, clock: Callable[[], dt.datetime]) -> None:
    """A store without keys gets one admin key; its token goes to a file only its owner reads."""
    _, token = keys.create("bootstrap admin", frozenset({Role.ADMIN, Role.FINANCE, Role.CRM,
                                                         Role.PLANNER}), clock())  # fmt: skip
    path = config.token_file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    LOG.warning("created the first API key (all roles); its token is in %s. Create keys with "
                "narrower roles with 'quotient keys create' and revoke this one.", path)  # fmt: skip


def create_server(
    address: str, config: Config | None = None
) -> tuple[grpc.Server | AsyncioServer, int]:
    """Build and start a server on ``address`` (use port 0 for a free one); return it and its port."""
    from dataclasses import replace

    app = start(replace(config or Config.from_env(), address=address))
    return app.server, app.port


def tune_gc() -> None:
    """Set the process's garbage collector for a long-running server: what start-up built (rule
    sets, compiled tables, the model cache) is moved out of the collector's sight, and young
    objects are collected every 50,000 allocations instead of 700, so a batch of a thousand
    events is not interrupted by dozens of collections. Reference counting still frees almost
    everything at once; only cycles wait for the collector."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def serve(config: Config) -> None:
    """Run until SIGTERM or SIGINT, then drain and stop (see the module docstring); with
    ``config.processes`` above 1, as that many processes on one address (``service.processes``).
    """
    if config.processes > 1:
        _serve_processes(config)
        return
    app = start(config)
    tune_gc()
    LOG.info("quotient serving on %s (port %d), store %s", config.address, app.port, app.db.url)
    _serve_until_signal(app, config)


def _serve_until_signal(app: Quotient, config: Config) -> None:
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        LOG.info("signal %d: draining for up to %.0fs", signum, config.shutdown_grace_s)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    done.wait()
    app.stop(config.shutdown_grace_s)
    LOG.info("stopped")


def _serve_processes(config: Config) -> None:
    """Prepare the store once, then serve from ``config.processes`` workers (``serve_worker``)."""
    check_security(config)
    db, _, _ = open_store(config)
    url = db.url
    db.close()

    def on_serving(port: int) -> None:
        LOG.info("quotient serving on %s (port %d), store %s, %d processes",
                 config.address, port, url, config.processes)  # fmt: skip

    try:
        serve_processes(config, serve_worker, on_serving)
    except WorkerStartError as exc:
        raise ConfigError(str(exc)) from None
    LOG.info("stopped")


def serve_worker(config: Config, number: int, report: Connection, log_level: int) -> None:
    """One of several server processes (``service.processes``): start, report ``("ready",
    port)`` or ``("failed", reason)`` on ``report``, serve until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=log_level,
        format=f"%(asctime)s %(levelname)s %(name)s [worker {number}] %(message)s",
    )
    stop_with_parent()
    try:
        app = start(config)
    except (ConfigError, OSError) as exc:
        report.send(("failed", str(exc)))
        raise SystemExit(2) from None
    tune_gc()
    report.send(("ready", app.port))
    report.close()
    _serve_until_signal(app, config)


__all__ = [
    "SERVICE_NAMES",
    "ConfigError",
    "Quotient",
    "create_server",
    "open_store",
    "serve",
    "serve_worker",
    "start",
    "tune_gc",
    "utc_now",
]
