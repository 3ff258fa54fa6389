"""Alembic environment for ContactSync.

Normally driven by `sync_core.store.upgrade()`, which hands over an open connection in
`config.attributes["connection"]`. For `alembic revision --autogenerate` from a checkout, use
`alembic -c sync_core/migrations/alembic.ini ...`; the database then comes from DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from sync_core.domain import models
from sync_core.store import normalise_url

config = context.config
target_metadata = models.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = normalise_url(os.environ.get("DATABASE_URL", "sqlite:///contactsync.db"))
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        run_with(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()
