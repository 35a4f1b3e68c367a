"""Shared test fixtures: the golden-file helper (``--update-golden``) and the sample rule set."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from hypothesis import settings

from quotient.v1 import types_pb2
from server import Quotient, start
from service.config import Config
from tests.postgres import PostgresServer, postgres_server

# CI explores the same examples on every run (a failure there reproduces); local runs vary them.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "rulesets"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files from the current output instead of comparing",
    )


class Golden:
    """Compares text with a golden file, or rewrites the file under ``--update-golden``."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, path: Path, actual: str) -> None:
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden to create it"
        assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))


@pytest.fixture(scope="session")
def sample_text() -> str:
    return (EXAMPLES / "default.yaml").read_text(encoding="utf-8")


#: The clock every end-to-end test runs at.
TODAY = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Quotient]:
    config = Config(address="127.0.0.1:0", db_path=tmp_path / "q.sqlite3", max_batch_deals=1000,
                    auth="off")  # fmt: skip
    quotient = start(config, clock=lambda: TODAY)
    yield quotient
    quotient.stop(0)


@pytest.fixture
def channel(app: Quotient) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as ch:
        yield ch


@contextmanager
def serve_subprocess(
    db: Path, auth: str = "off", env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Run ``quotient serve`` on a free port in a child process; yield it and its port.

    The child is killed if still running on exit; read the rest of its log from ``stderr``.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--address", "127.0.0.1:0", "--db", str(db)],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "QUOTIENT_AUTH": auth, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            m = re.search(r"serving on .* \(port (\d+)\)", line)
            port = int(m.group(1)) if m else None
        assert port, "the server did not report its port"
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()


def decode_details(status: status_pb2.Status) -> dict[str, object]:
    """The ``google.rpc`` details of a status by type name (ErrorInfo, BadRequest, ViolationList)."""
    out: dict[str, object] = {}
    for kind in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        types_pb2.ViolationList,
    ):
        for d in status.details:
            if d.Is(kind.DESCRIPTOR):
                msg = kind()
                d.Unpack(msg)
                out[kind.DESCRIPTOR.name] = msg
    return out


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """A private PostgreSQL server for the session (None where it is not installed)."""
    with postgres_server() as server:
        yield server
