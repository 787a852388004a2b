"""Shared fixtures: every store and query test runs on a real SQLite file and on the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from obs.store.store import Store
from tests.capture_rig import anthropic_rig, rig  # noqa: F401 - the wrapped-client rigs, fixtures for every test file
from tests.collector_rig import collector  # noqa: F401 - the OTLP collector rig

POSTGRES_URL = os.environ.get("OBS_TEST_POSTGRES_URL")
SKIP_POSTGRES = "PostgreSQL tests need OBS_TEST_POSTGRES_URL (a throwaway database; .ci/run creates one and sets it)"


def reset_postgres(url: str) -> None:
    """Empty the throwaway test database so each test starts from a blank schema."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'obs.db'}"


@pytest.fixture
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def chdb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chdb's data folder: one per test process (chdb opens one folder per process, never a second one)."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def chdb_url(chdb_folder: Path, request: pytest.FixtureRequest) -> str:
    """A blank embedded ClickHouse store: a new database in the process's chdb folder."""
    pytest.importorskip("chdb", reason="ClickHouse tests need obs[clickhouse] (chdb)")
    return f"chdb:///{chdb_folder}?database=t_{uuid.uuid4().hex[:12]}"


#: The stores every dialect-parametrized test runs on: OBS_TEST_DIALECTS (comma-separated), by default SQLite and
#: PostgreSQL; "chdb" adds ClickHouse embedded (issue 23: the suite does not pass on it yet).
DIALECTS = [d.strip() for d in os.environ.get("OBS_TEST_DIALECTS", "sqlite,postgresql").split(",") if d.strip()]
_URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url", "chdb": "chdb_url"}


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A blank database URL of each dialect."""
    return str(request.getfixturevalue(_URL_FIXTURES[request.param]))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated, empty store of each dialect."""
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def open_store() -> Iterator[Callable[..., Store]]:
    """Open stores by URL inside a test; all are closed at teardown."""
    opened: list[Store] = []

    def factory(url: str, **kwargs: Any) -> Store:
        opened.append(Store(url, **kwargs))
        return opened[-1]

    yield factory
    for s in opened:
        s.close()
