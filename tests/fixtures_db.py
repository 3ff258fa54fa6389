"""Database fixtures: every test that asks for `db_url` runs on SQLite and on PostgreSQL.

Load as a plugin from the root conftest (`pytest_plugins = ["tests.fixtures_db"]`).

- `db_url`: an empty database (no tables), fresh per test: a temp SQLite file, or a new
  PostgreSQL database that is dropped afterwards. Fresh databases keep tests independent and
  safe under `pytest -n N`.
- `engine`: an engine on `db_url` with the schema migrated to head.
- `session`: a session on `engine`.

PostgreSQL comes from CONTACTSYNC_TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432/test, used
only to create and drop the per-test databases). If it is unreachable the PostgreSQL half is
skipped, unless CONTACTSYNC_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from sync_core import store

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _admin_url() -> str:
    return store.normalise_url(os.environ.get("CONTACTSYNC_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL))


@cache
def _admin_engine() -> Engine:
    return create_engine(
        _admin_url(),
        isolation_level="AUTOCOMMIT",  # CREATE/DROP DATABASE cannot run in a transaction
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


@cache
def _postgres_unreachable() -> str | None:
    """None if PostgreSQL answers, else why not (checked once per process)."""
    try:
        with _admin_engine().connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure to connect means "no PostgreSQL here"
        return str(exc).strip().splitlines()[0]
    return None


def _require_postgres() -> None:
    reason = _postgres_unreachable()
    if reason is None:
        return
    host = make_url(_admin_url()).render_as_string(hide_password=True)
    message = f"PostgreSQL not reachable at {host}: {reason}"
    if os.environ.get("CONTACTSYNC_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " (CONTACTSYNC_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test; dropped afterwards."""
    _require_postgres()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"cs_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'contactsync.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL; the test runs once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = store.make_engine(db_url)
    store.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
