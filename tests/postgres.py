"""A private PostgreSQL server for the tests: initdb into a temporary directory, pg_ctl start on a
free loopback port, a fresh database per test, stopped at the end of the session.

The server binaries come from the distribution's packages (``.ci/run`` installs them). As root,
the server runs as the ``postgres`` user (PostgreSQL refuses to run as root). Where no binaries
are found the PostgreSQL half of the store tests is skipped, except under ``CI``, where it fails:
CI must test both backends. The benchmarks start their server with it too."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A running test server; :meth:`new_database` gives each test its own empty database."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._names = itertools.count()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer | None]:
    """A started server, or None where PostgreSQL is not installed (a failure under CI)."""
    bindir = _bin_dir()
    if bindir is None:
        if os.environ.get("CI"):
            raise RuntimeError(
                "PostgreSQL is not installed: .ci/run installs it for the store tests"
            )
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="quotient-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
        "start")  # fmt: skip
    try:
        yield PostgresServer(port)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["PostgresServer", "postgres_server"]
