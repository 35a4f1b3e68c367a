"""Server configuration from defaults, environment variables (``QUOTIENT_*``) and CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RULE_SET = ROOT / "examples" / "rulesets" / "default.yaml"


#: Where the server listens, and where the CLI looks for it, unless told otherwise.
DEFAULT_ADDRESS = "localhost:50051"


@dataclass(frozen=True)
class Config:
    """Everything the composition root needs; every field has an env var ``QUOTIENT_<NAME>``."""

    address: str = DEFAULT_ADDRESS
    #: SQLite database file of the embedded store.
    db_path: Path = ROOT / "var" / "quotient.sqlite3"
    #: A database server instead: ``postgresql://user:password@host:port/dbname`` (psycopg's
    #: URL; a password is better in ``PGPASSWORD`` or ``~/.pgpass``). Empty: the SQLite file.
    database_url: str = ""
    #: Largest request or response message, in bytes (over it: RESOURCE_EXHAUSTED).
    max_message_bytes: int = 64 * 1024 * 1024
    #: Most deals in one ScoreDeals request or stream message (over it: RESOURCE_EXHAUSTED).
    max_batch_deals: int = 100_000
    #: Server processes sharing the address and the store (``service.processes``): about one
    #: core each. 1: this process serves.
    processes: int = 1
    #: Worker threads of the gRPC server (of each process).
    workers: int = 16
    #: ``asyncio``: gRPC's asyncio server, a few deals' scoring answered on its event loop and
    #: every other call on one of ``workers`` threads (``service.aio_serving``); ``threads``:
    #: gRPC's threaded server, every call on a worker thread.
    serving: str = "asyncio"
    #: Most RPCs in flight at once; later ones are refused with RESOURCE_EXHAUSTED.
    max_concurrent_rpcs: int = 256
    #: Seconds in-flight calls get to finish after SIGTERM.
    shutdown_grace_s: float = 10.0
    #: Compiled rule sets kept in memory.
    cache_size: int = 64
    #: Deal heads RecordDealEvents keeps in memory (``service.head_cache``; about 2 KB each):
    #: an in-order event of a kept deal reads no head from the store.
    head_cache_deals: int = 50_000
    #: Publish the sample rule set on start when the store has no revision of it.
    publish_sample: bool = True
    #: ``tokens``: every call but health and reflection needs an API key (bearer token) whose
    #: roles the access table allows; ``off``: no checks (local development, loopback only).
    auth: str = "tokens"
    #: PEM files of the server's certificate chain and private key: serve TLS. Without them the
    #: server listens in plain text, and only on a loopback address.
    tls_cert: str = ""
    tls_key: str = ""
    #: PEM file of the CA that signs client certificates: require mutual TLS.
    tls_client_ca: str = ""
    #: Address of a Dask scheduler (``tcp://host:8786``) to run batch jobs on; empty: in-process.
    dask_address: str = ""
    #: Threads one Monte Carlo uses when it runs in-process (its compiled loop releases the GIL);
    #: 0: one per core.
    compute_threads: int = 0

    @property
    def store_url(self) -> str:
        """The database the stores use: ``database_url``, else the SQLite file."""
        return self.database_url or str(self.db_path)

    @property
    def token_file(self) -> Path:
        """Where a first start writes the bootstrap admin token (beside the store)."""
        return self.db_path.parent / "admin.token"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Build a config from ``env`` (default ``os.environ``), then explicit overrides."""
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"QUOTIENT_{f.name.upper()}")
            if raw is None:
                continue
            default = getattr(cls, f.name)
            if isinstance(default, bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(default, Path):
                values[f.name] = Path(raw)
            else:
                values[f.name] = type(default)(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def is_loopback(address: str) -> bool:
    """Whether ``host:port`` names a loopback interface (``localhost``, 127.x, ``[::1]``)."""
    host = address.rsplit(":", 1)[0].strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


__all__ = ["SAMPLE_RULE_SET", "Config", "is_loopback"]
