"""The schema comes from alembic, and alembic agrees with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from sync_core import store
from sync_core.models import metadata

HEAD = ScriptDirectory.from_config(store.alembic_config()).get_current_head()

TABLES = {
    "alembic_version",
    "alert",
    "audit_event",
    "contact_link",
    "draft",
    "job_lease",
    "quota_usage",
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
        assert MigrationContext.configure(connection).get_current_revision() == HEAD


def test_upgrade_keeps_rows_written_at_the_first_revision(db_url: str) -> None:
    store.upgrade(db_url, revision="0001")
    engine = store.make_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sync_job (name, uid, kind, target_group_name, add_to_my_contacts, description, "
            "directory_domains, include_ous, exclude_ous, include_self, schedule, enabled, created_by, "
            "created_at, updated_at) VALUES ('old', 'u1', 'personal', 'G', false, '', '[]', '[]', '[]', false, "
            "'every 60m', true, 'cli', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    store.upgrade(engine)
    with store.session_scope(engine) as session:
        job = store.get_job_by_name(session, name="old")
        assert job is not None and job.include_aliases is False
    engine.dispose()


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
