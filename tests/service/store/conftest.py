"""The store contract tests run once per backend: every test taking ``db`` runs against the SQLite
file and against a PostgreSQL database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.store.database import Database, open_database
from tests.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "q.sqlite3")
    server: PostgresServer | None = request.getfixturevalue("postgres")
    if server is None:
        pytest.skip("PostgreSQL is not installed here")
    return server.new_database()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()
