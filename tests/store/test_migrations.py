"""The schema comes from alembic, and alembic agrees with the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from sync_core import store
from sync_core.domain.models import metadata, utcnow
from tests.store.helpers import job_in

HEAD = ScriptDirectory.from_config(store.alembic_config()).get_current_head()

TABLES = {
    "alembic_version",
    "alert",
    "audit_event",
    "change_request",
    "contact_link",
    "draft",
    "editor_selector",
    "job_lease",
    "merge_base",
    "merge_base_version",
    "merge_conflict",
    "job_opt_out",
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


OLD_JOB = (
    "INSERT INTO sync_job (id, name, uid, kind, target_group_name, add_to_my_contacts, description, "
    "directory_domains, include_ous, exclude_ous, include_self, schedule, enabled, created_by, "
    "created_at, updated_at) VALUES ({id}, '{name}', 'u{id}', 'personal', 'G', false, '', '[]', '[]', '[]', false, "
    "'every 60m', true, 'cli', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def test_after_the_upgrade_no_job_gets_an_id_that_a_deleted_jobs_history_names(db_url: str) -> None:
    """A deployment from before 0011: job 3 was deleted (its history stays), job 2 is the newest left. The
    next job must not be 3, nor take job 2's id once that one is deleted."""
    store.upgrade(db_url, revision="0010")
    engine = store.make_engine(db_url)
    with engine.begin() as connection:
        for job_id, name in ((1, "one"), (2, "two")):
            connection.exec_driver_sql(OLD_JOB.format(id=job_id, name=name))
        connection.exec_driver_sql(
            "INSERT INTO audit_event (job_id, job_name, actor, action, detail, at) "
            "VALUES (3, 'gone', 'cli', 'delete', '{}', '2026-01-02 00:00:00')"
        )
    store.upgrade(engine)
    with store.session_scope(engine) as session:
        assert store.delete_job(session, job_id=2)
    with store.session_scope(engine) as session:
        fresh = store.create_job(session, job_in=job_in("fresh"), created_by="cli")
        assert fresh.id == 4, "past the deleted job 3 of the history, and past job 2"
        old = store.get_job_by_name(session, name="ONE")  # the lower(name) index is back after the rebuild
        assert old is not None and old.id == 1 and old.keep_contacts is False
    with pytest.raises(store.DuplicateJobName), store.session_scope(engine) as session:
        store.create_job(session, job_in=job_in("One"), created_by="cli")
    engine.dispose()


def test_a_deleted_jobs_id_is_never_given_again(engine: Engine) -> None:
    with store.session_scope(engine) as session:
        first = store.create_job(session, job_in=job_in("first"), created_by="cli")
    with store.session_scope(engine) as session:
        assert first.id is not None and store.delete_job(session, job_id=first.id)
    with store.session_scope(engine) as session:
        second = store.create_job(session, job_in=job_in("second"), created_by="cli")
    assert second.id is not None and second.id > first.id


def test_source_contacts_stored_before_0019_have_no_version(db_url: str) -> None:
    """Rows from before the card versions keep their cards, without a version: the next run builds them again."""
    store.upgrade(db_url, revision="0018")
    engine = store.make_engine(db_url)
    with store.session_scope(engine) as session:
        jid = store.create_job(session, job_in=job_in("old"), created_by="test").id
        assert jid is not None
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO source_contact (job_id, source_key, payload, content_hash, photo) "
            f"VALUES ({jid}, '1234', '{{\"n\": \"U\"}}', 'hu', NULL)"
        )
    store.upgrade(engine)
    with store.session_scope(engine) as session:
        assert store.source_cards(session, job_id=jid) == {"1234": ({"n": "U"}, "hu", None, None)}
    engine.dispose()


def test_requests_that_expired_before_0020_are_not_told_now(db_url: str) -> None:
    """A request that expired before the requester could be told is not told days later; one that expires after
    the upgrade is."""
    store.upgrade(db_url, revision="0019")
    engine = store.make_engine(db_url)
    with engine.begin() as connection:
        rows = (("old", "expired", "2026-11-01 00:00:00"), ("new", "pending", "2026-11-02 00:00:00"))
        for rid, state, expires in rows:
            connection.exec_driver_sql(
                "INSERT INTO change_request (id, change, job_name, spec, why, requested_by, state, reason, created_at, "
                f"expires_at, decided_at) VALUES ('{rid}', 'create_personal', 'J', '{{}}', '', 'U1', '{state}', '', "
                f"'2026-10-25 00:00:00', '{expires}', {'NULL' if state == 'pending' else repr(expires)})"
            )
    store.upgrade(engine)
    with store.session_scope(engine) as session:
        assert store.claim_expired_to_tell(session, now=utcnow()) == []
        assert store.expire_requests(session, now=utcnow()) == ["new"]
        assert store.claim_expired_to_tell(session, now=utcnow()) == ["new"]
    engine.dispose()
