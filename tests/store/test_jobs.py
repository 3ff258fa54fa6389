from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import (
    JobKind,
    RunStatus,
    RunTrigger,
    SelectorCreate,
    SelectorKind,
    SyncJobUpdate,
    TargetStatus,
)
from tests.store.helpers import add_job, job_id, job_in


def test_create_and_read_back_in_a_fresh_session(engine: Engine, session: Session) -> None:
    created = add_job(session, directory_domains=[], include_ous=["/Sales"], description="team cards")

    with Session(engine) as other:
        job = store.get_job(other, job_id=job_id(created))
        assert job is not None
        assert job.name == "sales-team"
        assert job.kind is JobKind.personal  # an enum member, not just an equal string
        assert job.include_ous == ["/Sales"]
        assert job.schedule == "every 60m"
        assert job.enabled and job.add_to_my_contacts and not job.include_self
        assert job.created_by == "U0ADMIN"
        assert job.created_at.tzinfo is UTC
        assert abs((datetime.now(UTC) - job.created_at).total_seconds()) < 60
        assert store.get_job_by_name(other, name="sales-team") == job


def test_duplicate_name_raises_a_clear_error_and_keeps_the_first(session: Session) -> None:
    add_job(session, "sales-team")

    with pytest.raises(store.DuplicateJobName, match="'sales-team' already exists"):
        store.create_job(session, job_in=job_in("sales-team"), created_by="U0OTHER")

    assert [job.created_by for job in store.list_jobs(session)] == ["U0ADMIN"]


@pytest.mark.parametrize("racer", ["sales-team", "Sales-TEAM"])
def test_duplicate_name_detected_by_the_database_too(
    session: Session, monkeypatch: pytest.MonkeyPatch, racer: str
) -> None:
    """A creator that raced past the name check still gets DuplicateJobName, not IntegrityError, also when
    its name differs only in case (the unique index on lower(name))."""
    add_job(session, "sales-team")
    real_check = store.jobs._name_taken
    checks: list[str] = []

    def blind_to_the_first_check(session: Session, name: str, *, but: int | None = None) -> bool:
        checks.append(name)
        return False if len(checks) == 1 else real_check(session, name, but=but)

    monkeypatch.setattr(store.jobs, "_name_taken", blind_to_the_first_check)

    with pytest.raises(store.DuplicateJobName):
        store.create_job(session, job_in=job_in(racer), created_by="U0RACE")
    assert len(checks) == 2
    assert [job.created_by for job in store.list_jobs(session)] == ["U0ADMIN"]  # session still usable


def test_names_are_unique_ignoring_case(engine: Engine, session: Session) -> None:
    first = add_job(session, "Sales Team")
    with pytest.raises(store.DuplicateJobName):
        store.create_job(session, job_in=job_in("SALES team"), created_by="U0OTHER")
    second = add_job(session, "Partners")
    with pytest.raises(store.DuplicateJobName):
        store.update_job(session, job=second, job_in=SyncJobUpdate(name="sales TEAM"))
    session.rollback()
    store.update_job(session, job=first, job_in=SyncJobUpdate(name="SALES TEAM"))  # itself, in other case: fine
    session.commit()
    with Session(engine) as other:  # renamed, as typed (a look-up by name ignores case: read it by id)
        renamed = store.get_job(other, job_id=job_id(first))
        assert renamed is not None and renamed.name == "SALES TEAM"
        assert sorted(job.name for job in store.list_jobs(other)) == ["Partners", "SALES TEAM"]


def test_a_personal_job_needs_its_source() -> None:
    with pytest.raises(ValidationError, match="source_user_id"):
        job_in(source_user_id=None)


def test_names_are_trimmed_and_bounded() -> None:
    assert job_in("  padded  ").name == "padded"
    with pytest.raises(ValidationError):
        job_in("x" * 81)
    with pytest.raises(ValidationError):
        job_in("   ")


def test_list_jobs_sorted_by_name_and_filtered(session: Session) -> None:
    add_job(session, "zeta")
    add_job(session, "alpha", enabled=False)
    add_job(session, "mid", kind=JobKind.directory, source_user_id=None, directory_domains=["example.com"])

    assert [job.name for job in store.list_jobs(session)] == ["alpha", "mid", "zeta"]
    assert [job.name for job in store.list_jobs(session, enabled_only=True)] == ["mid", "zeta"]


def test_update_changes_only_what_is_set_and_bumps_updated_at(session: Session) -> None:
    job = add_job(session)
    before = job.updated_at

    store.update_job(session, job=job, job_in=SyncJobUpdate(schedule="0 * * * *", enabled=False))
    session.commit()

    assert (job.schedule, job.enabled, job.target_group_name) == ("0 * * * *", False, "Sales")
    assert job.updated_at >= before


def test_update_to_a_taken_name_is_refused(session: Session) -> None:
    add_job(session, "one")
    two = add_job(session, "two")

    with pytest.raises(store.DuplicateJobName):
        store.update_job(session, job=two, job_in=SyncJobUpdate(name="one"))
    store.update_job(session, job=two, job_in=SyncJobUpdate(name="two"))  # unchanged name is fine


def test_selectors_are_replaced_deduplicated_and_normalised(session: Session) -> None:
    job = add_job(session)
    store.set_selectors(
        session,
        job_id=job_id(job),
        selectors=[
            SelectorCreate(kind=SelectorKind.email, value=" Bob@Example.com ", resolved_user_id="200"),
            SelectorCreate(kind=SelectorKind.email, value="bob@example.com"),
            SelectorCreate(kind=SelectorKind.orgunit, value="/Sales"),
        ],
    )
    session.commit()

    selectors = store.list_selectors(session, job_id=job_id(job))
    assert [(s.kind, s.value, s.resolved_user_id) for s in selectors] == [
        (SelectorKind.email, "bob@example.com", "200"),
        (SelectorKind.orgunit, "/Sales", None),
    ]

    store.set_selectors(
        session, job_id=job_id(job), selectors=[SelectorCreate(kind=SelectorKind.domain, value="example.com")]
    )
    session.commit()
    assert [s.kind for s in store.list_selectors(session, job_id=job_id(job))] == [SelectorKind.domain]


def test_delete_job_cascades_but_keeps_the_audit_trail(engine: Engine, session: Session) -> None:
    job = add_job(session)
    other = add_job(session, "other")
    jid = job_id(job)
    store.set_selectors(
        session, job_id=jid, selectors=[SelectorCreate(kind=SelectorKind.email, value="b@x.io")]
    )
    store.upsert_target_state(session, job_id=jid, target_user_id="200", target_email="b@x.io")
    run = store.start_run(session, job_id=jid, trigger=RunTrigger.manual)
    run_id = run.id
    assert run_id is not None
    store.add_target_result(
        session,
        run_id=run_id,
        job_id=jid,
        target_user_id="200",
        target_email="b@x.io",
        status=TargetStatus.ok,
    )
    store.finish_run(session, run=run, status=RunStatus.ok)
    store.upsert_link(
        session,
        job_id=jid,
        target_user_id="200",
        source_key="people/c1",
        target_resource_name="people/t1",
        content_hash="h1",
    )
    store.upsert_source_contact(
        session, job_id=jid, source_key="people/c1", payload={"n": 1}, content_hash="h1"
    )
    store.record_audit(session, actor="U0ADMIN", action="job.create", job_id=jid, job_name=job.name)
    store.upsert_link(
        session,
        job_id=job_id(other),
        target_user_id="200",
        source_key="people/c1",
        target_resource_name="people/t9",
        content_hash="h1",
    )
    session.commit()
    assert store.acquire_lease(session, job_id=jid, holder="worker-1", ttl_seconds=60)

    assert store.delete_job(session, job_id=jid)
    session.commit()

    with Session(engine) as fresh:
        assert store.get_job(fresh, job_id=jid) is None
        assert store.list_selectors(fresh, job_id=jid) == []
        assert store.target_states_for_job(fresh, job_id=jid) == {}
        assert store.last_runs(fresh, job_id=jid) == []
        assert store.results_for_run(fresh, run_id=run_id) == []
        assert store.links_for_target(fresh, job_id=jid, target_user_id="200") == {}
        assert store.source_contacts(fresh, job_id=jid) == {}
        assert store.lease_for_job(fresh, job_id=jid) is None
        assert [e.action for e in store.audit_events(fresh, job_id=jid)] == ["job.create"]
        assert set(store.links_for_target(fresh, job_id=job_id(other), target_user_id="200")) == {"people/c1"}
    assert not store.delete_job(session, job_id=jid)


def test_session_scope_commits_or_rolls_back(engine: Engine) -> None:
    with store.session_scope(engine) as session:
        add_job(session, "kept")
    with pytest.raises(RuntimeError), store.session_scope(engine) as session:
        store.create_job(session, job_in=job_in("dropped"), created_by="U0ADMIN")
        raise RuntimeError("boom")

    with store.session_scope(engine) as session:
        assert [job.name for job in store.list_jobs(session)] == ["kept"]


def test_update_cannot_clear_required_fields_but_can_clear_optional_ones() -> None:
    with pytest.raises(ValidationError, match="cannot be cleared: target_group_name"):
        SyncJobUpdate(target_group_name=None)
    assert SyncJobUpdate(alert_channel=None, name=" renamed ").model_dump(exclude_unset=True) == {
        "alert_channel": None,
        "name": "renamed",
    }


def test_a_job_is_found_by_its_name_in_any_case(session: Session) -> None:
    add_job(session, "Sales Team")
    found = store.get_job_by_name(session, name="sales TEAM")
    assert found is not None and found.name == "Sales Team"
    assert store.get_job_by_name(session, name="Sales Teams") is None
