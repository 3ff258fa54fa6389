"""The schema comes from alembic, and alembic agrees with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from sync_core import store
from sync_core.models import metadata

TABLES = {
    "alembic_version",
    "audit_event",
    "contact_link",
    "job_lease",
    "run",
    "source_contact",
    "sync_job",
    "target_result",
    "target_selector",
    "target_state",
}


def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    engine = store.make_engine(db_url)
    assert inspect(engine).get_table_names() == []

    store.upgrade(engine)

    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    store.upgrade(db_url)
    store.upgrade(db_url)  # start-up runs it every time

    with store.make_engine(db_url).connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0001"


def test_autogenerate_finds_no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)

    assert diff == []


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    config = store.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
