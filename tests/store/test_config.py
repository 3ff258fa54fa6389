"""A bad DATABASE_URL is one clear line that never shows the password."""

from __future__ import annotations

from datetime import datetime

import pytest

from sync_core import store
from sync_core.domain.models import UTCDateTime


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///contactsync.db", "sqlite:///contactsync.db"),
        ("  sqlite:///contactsync.db\n", "sqlite:///contactsync.db"),
        ("postgres://u:p@db:5432/cs", "postgresql+psycopg://u:p@db:5432/cs"),
        ("postgresql://u:p@db/cs", "postgresql+psycopg://u:p@db/cs"),
        ("postgresql+psycopg://u:p@db/cs", "postgresql+psycopg://u:p@db/cs"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert store.normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "DATABASE_URL is empty"),
        ("not a url s3cret", "DATABASE_URL is not a valid database URL"),
        ("mysql://u:s3cret@db/cs", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u:s3cret@db/cs", "PostgreSQL driver .psycopg2."),
        ("sqlite+aiosqlite:///x.db", "SQLite driver 'aiosqlite'"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, says: str) -> None:
    with pytest.raises(store.StoreConfigError, match=says) as caught:
        store.make_engine(url)
    message = str(caught.value)
    assert "DATABASE_URL" in message and "s3cret" not in message and "\n" not in message


def test_unreachable_database_is_one_line_without_password() -> None:
    url = "postgresql://contactsync:s3cret@127.0.0.1:1/cs?connect_timeout=2"
    with pytest.raises(store.StoreConfigError) as caught:
        store.upgrade(url)
    message = str(caught.value)
    assert message.startswith(
        "cannot open the database at DATABASE_URL=postgresql+psycopg://contactsync:***@"
    )
    assert "s3cret" not in message and "\n" not in message


def test_a_postgresql_connection_waits_ten_seconds_at_most_unless_the_url_says_otherwise() -> None:
    # libpq's default is to wait forever: a database host that drops packets would hang every run.
    assert store.make_engine("postgresql://cs@db.internal/cs").url.query["connect_timeout"] == "10"
    assert store.make_engine("postgresql://cs@db.internal/cs?connect_timeout=3").url.query["connect_timeout"] == "3"
    assert "connect_timeout" not in store.make_engine("sqlite:///x.db").url.query


def test_unopenable_sqlite_file_is_a_config_error() -> None:
    with pytest.raises(store.StoreConfigError, match="DATABASE_URL=sqlite:////nonexistent-dir/"):
        store.upgrade("sqlite:////nonexistent-dir/x/contactsync.db")


def test_in_memory_sqlite_keeps_its_schema_across_sessions() -> None:
    engine = store.open_database("sqlite://")
    with store.session_scope(engine) as session:
        assert store.list_jobs(session) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        UTCDateTime().process_bind_param(datetime(2025, 1, 1), dialect=None)  # type: ignore[arg-type]
