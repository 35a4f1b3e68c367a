"""The CLI's channel to a server: TLS when a CA is given, and the caller's API key on every call.

* server: ``--server``, else ``QUOTIENT_SERVER`` (one ``host:port`` or several, comma-separated),
  else ``localhost:50051``;
* token: ``QUOTIENT_TOKEN``, else the file named by ``QUOTIENT_TOKEN_FILE``, else the bootstrap
  token a local server wrote beside its store (``var/admin.token``), if there is one;
* TLS: ``QUOTIENT_TLS_CA`` (PEM of the CA that signed the server's certificate), with
  ``QUOTIENT_TLS_CLIENT_CERT`` and ``QUOTIENT_TLS_CLIENT_KEY`` for mutual TLS.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc

from service.config import DEFAULT_ADDRESS, ROOT

DEFAULT_TOKEN_FILE = ROOT / "var" / "admin.token"


def default_server(env: Mapping[str, str] | None = None) -> str:
    """The server a command calls without ``--server`` (see the module)."""
    env = os.environ if env is None else env
    return env.get("QUOTIENT_SERVER", "").strip() or DEFAULT_ADDRESS


def caller_token(env: dict[str, str] | None = None) -> str | None:
    """The API key the CLI sends (see the module), or None."""
    env = dict(os.environ) if env is None else env
    if env.get("QUOTIENT_TOKEN"):
        return env["QUOTIENT_TOKEN"].strip()
    path = (
        Path(env["QUOTIENT_TOKEN_FILE"]) if env.get("QUOTIENT_TOKEN_FILE") else DEFAULT_TOKEN_FILE
    )
    if path.is_file():
        return path.read_text(encoding="utf-8").strip() or None
    return None


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` to every call."""

    def __init__(self, token: str) -> None:
        self.header = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), self.header]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(
            details.method, details.timeout, metadata, details.credentials,
            getattr(details, "wait_for_ready", None), getattr(details, "compression", None))  # fmt: skip

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any,
                              request: Any) -> Any:  # fmt: skip
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any,
                               request: Any) -> Any:  # fmt: skip
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: Any,
                               requests: Any) -> Any:  # fmt: skip
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any,
                                requests: Any) -> Any:  # fmt: skip
        return continuation(self._with_token(details), requests)


class _Details(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, method: str, timeout: Any, metadata: Any, credentials: Any,
                 wait_for_ready: Any, compression: Any) -> None:  # fmt: skip
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def channel_target(address: str) -> tuple[str, list[tuple[str, Any]]]:
    """The gRPC target and channel options of ``address``: one ``host:port``, or several
    separated by commas (service instances sharing one database), which the channel spreads
    calls over in turn (round robin), skipping an instance that is down."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) < 2:
        return address, []
    hosts = [p.replace("localhost:", "127.0.0.1:", 1) for p in parts]
    return "ipv4:" + ",".join(hosts), [("grpc.lb_policy_name", "round_robin")]


def open_channel(address: str, env: dict[str, str] | None = None) -> grpc.Channel:
    """A channel to ``address`` (see :func:`channel_target`) with the caller's TLS settings and
    API key (see the module)."""
    env = dict(os.environ) if env is None else env
    target, options = channel_target(address)
    ca = env.get("QUOTIENT_TLS_CA")
    if ca:
        cert, key = env.get("QUOTIENT_TLS_CLIENT_CERT"), env.get("QUOTIENT_TLS_CLIENT_KEY")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(ca).read_bytes(),
            private_key=Path(key).read_bytes() if key else None,
            certificate_chain=Path(cert).read_bytes() if cert else None,
        )
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return with_token(channel, caller_token(env))


def with_token(channel: grpc.Channel, token: str | None) -> grpc.Channel:
    """``channel`` sending ``authorization: Bearer <token>`` on every call (as is without one)."""
    return grpc.intercept_channel(channel, _Bearer(token)) if token else channel


__all__ = [
    "DEFAULT_TOKEN_FILE",
    "caller_token",
    "channel_target",
    "default_server",
    "open_channel",
    "with_token",
]
