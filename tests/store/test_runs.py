from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import Run, RunStatus, RunTrigger, TargetStatus
from sync_core.service.views import census
from tests.store.helpers import add_job, job_id

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_run_lifecycle_with_counts_and_results(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    run = store.start_run(session, job_id=jid, trigger=RunTrigger.slack, dry_run=True, now=T0)
    assert run.id is not None and run.status is RunStatus.running
    store.add_target_result(
        session,
        run_id=run.id,
        job_id=jid,
        target_user_id="200",
        target_email="bob@x.io",
        status=TargetStatus.ok,
        created=3,
        unchanged=7,
    )
    store.add_target_result(
        session,
        run_id=run.id,
        job_id=jid,
        target_user_id="300",
        target_email="old@x.io",
        status=TargetStatus.renamed,
        reason="now new@x.io",
        new_email="new@x.io",
    )
    store.add_target_result(
        session,
        run_id=run.id,
        job_id=jid,
        target_user_id=None,
        target_email="ghost@x.io",
        status=TargetStatus.not_found,
        reason="no such user",
    )
    store.finish_run(
        session,
        run=run,
        status=RunStatus.partial,
        now=T0 + timedelta(seconds=5),
        created=3,
        unchanged=7,
        targets_total=3,
        targets_ok=1,
        targets_failed=2,
        api_calls=11,
    )
    session.commit()

    with Session(engine) as fresh:
        [stored] = store.last_runs(fresh, job_id=jid)
        results = store.results_for_run(fresh, run_id=run.id)
    assert (stored.trigger, stored.dry_run, stored.status) == (RunTrigger.slack, True, RunStatus.partial)
    assert (stored.started_at, stored.finished_at) == (T0, T0 + timedelta(seconds=5))
    assert (stored.created, stored.updated, stored.unchanged, stored.api_calls) == (3, 0, 7, 11)
    assert (stored.targets_total, stored.targets_ok, stored.targets_failed) == (3, 1, 2)
    assert [(r.target_email, r.status) for r in results] == [
        ("bob@x.io", TargetStatus.ok),
        ("old@x.io", TargetStatus.renamed),
        ("ghost@x.io", TargetStatus.not_found),
    ]
    assert results[1].new_email == "new@x.io"
    assert results[2].target_user_id is None


def test_failed_run_records_why(session: Session) -> None:
    jid = job_id(add_job(session))
    run = store.start_run(session, job_id=jid, trigger=RunTrigger.schedule)
    store.finish_run(
        session,
        run=run,
        status=RunStatus.failed,
        error_kind=TargetStatus.source_empty,
        error_reason="source group has 0 contacts (had 120); confirm to continue",
    )
    session.commit()

    [stored] = store.last_runs(session, job_id=jid)
    assert stored.error_kind is TargetStatus.source_empty
    with pytest.raises(ValueError):
        store.finish_run(session, run=run, status=RunStatus.running)


def test_run_error_kinds_include_every_target_status() -> None:
    run_error_kinds = Run.__table__.c.error_kind.type.enum_cls  # type: ignore[attr-defined]
    assert {s.value for s in TargetStatus} <= {k.value for k in run_error_kinds}


def test_last_runs_newest_first_limited_and_per_job(session: Session) -> None:
    jid = job_id(add_job(session))
    other = job_id(add_job(session, "other"))
    for minutes in (0, 20, 10, 30):
        store.start_run(session, job_id=jid, trigger=RunTrigger.schedule, now=T0 + timedelta(minutes=minutes))
    store.start_run(session, job_id=other, trigger=RunTrigger.cli, now=T0 + timedelta(hours=1))
    session.commit()

    runs = store.last_runs(session, job_id=jid, limit=3)
    assert [r.started_at - T0 for r in runs] == [timedelta(minutes=m) for m in (30, 20, 10)]


def test_abandon_running_runs_only_touches_running_ones(session: Session) -> None:
    jid = job_id(add_job(session))
    done = store.start_run(session, job_id=jid, trigger=RunTrigger.schedule, now=T0)
    store.finish_run(session, run=done, status=RunStatus.ok, now=T0)
    store.start_run(session, job_id=jid, trigger=RunTrigger.schedule, now=T0 + timedelta(minutes=1))
    session.commit()

    assert store.abandon_running_runs(session, job_id=jid) == 1
    session.commit()
    assert [r.status for r in store.last_runs(session, job_id=jid)] == [RunStatus.abandoned, RunStatus.ok]


def test_audit_events_newest_first_and_per_job(session: Session) -> None:
    jid = job_id(add_job(session))
    store.record_audit(
        session, actor="U0ADMIN", action="job.create", job_id=jid, job_name="sales-team", now=T0
    )
    store.record_audit(
        session,
        actor="cli",
        action="job.run",
        job_id=jid,
        job_name="sales-team",
        detail={"dry_run": True, "targets": ["200"]},
        now=T0 + timedelta(minutes=1),
    )
    store.record_audit(session, actor="U0ADMIN", action="settings.change", now=T0 + timedelta(minutes=2))
    session.commit()

    assert [e.action for e in store.audit_events(session)] == ["settings.change", "job.run", "job.create"]
    job_events = store.audit_events(session, job_id=jid, limit=1)
    assert [(e.actor, e.detail, e.at) for e in job_events] == [
        ("cli", {"dry_run": True, "targets": ["200"]}, T0 + timedelta(minutes=1))
    ]


def _finished(session: Session, job: int, status: RunStatus, minutes: int, *, dry_run: bool = False) -> None:
    started = T0 + timedelta(minutes=minutes)
    run = store.start_run(session, job_id=job, trigger=RunTrigger.schedule, dry_run=dry_run, now=started)
    store.finish_run(session, run=run, status=status, now=started + timedelta(seconds=30))


def test_last_success_times_are_when_each_jobs_latest_ok_run_finished(session: Session) -> None:
    jid, other, never = (job_id(add_job(session, name)) for name in ("sales-team", "other", "never"))
    _finished(session, jid, RunStatus.ok, 1)
    _finished(session, jid, RunStatus.ok, 5)
    _finished(session, jid, RunStatus.partial, 10)  # later runs that did not succeed move nothing
    _finished(session, jid, RunStatus.failed, 11)
    _finished(session, jid, RunStatus.abandoned, 12)
    _finished(session, jid, RunStatus.ok, 13, dry_run=True)  # a dry run proves nothing was written
    store.start_run(session, job_id=jid, trigger=RunTrigger.slack, now=T0 + timedelta(minutes=20))  # running
    _finished(session, other, RunStatus.ok, 3)
    _finished(session, never, RunStatus.partial, 3)
    _finished(session, never, RunStatus.failed, 4)
    session.commit()

    assert store.last_success_times(session) == {
        jid: T0 + timedelta(minutes=5, seconds=30),
        other: T0 + timedelta(minutes=3, seconds=30),
    }


def test_the_census_gives_the_last_success_of_enabled_jobs_only(engine: Engine, session: Session) -> None:
    enabled, paused, deleting = (job_id(add_job(session, name)) for name in ("Partners", "Paused", "Deleting"))
    add_job(session, "Fresh")  # enabled, never succeeded: no series at all
    for job in (enabled, paused, deleting):
        _finished(session, job, RunStatus.ok, 2)
    for job, values in ((paused, {"enabled": False}), (deleting, {"enabled": False, "deleting": True})):
        row = store.get_job(session, job_id=job)
        assert row is not None
        row.sqlmodel_update(values)
        session.add(row)
    session.commit()

    seen = census(engine)
    assert seen.last_successes == {"Partners": (T0 + timedelta(minutes=2, seconds=30)).timestamp()}
    assert seen.jobs == {"enabled": 2, "paused": 1, "deleting": 1}


def test_events_since_the_last_completed_run_are_what_stopped_runs_recorded(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    actions = ("editor change",)

    def event(minutes: int, what: str) -> None:
        store.record_audit(session, actor="bob", action="editor change", job_id=jid, detail={"to": what})
        session.flush()
        last = store.audit_events(session, job_id=jid, limit=1)[0]
        last.at = t0 + timedelta(minutes=minutes)
        session.add(last)

    def run(minutes: int, status: RunStatus, *, dry_run: bool = False) -> None:
        started = store.start_run(session, job_id=jid, trigger=RunTrigger.cli, dry_run=dry_run,
                                  now=t0 + timedelta(minutes=minutes))
        store.finish_run(session, run=started, status=status, now=t0 + timedelta(minutes=minutes, seconds=30))

    event(0, "a")
    assert [e.detail["to"] for e in store.events_since_last_completed_run(session, job_id=jid, actions=actions)] \
        == ["a"]  # no run of the job ever completed: everything
    run(1, RunStatus.ok)
    event(2, "b")
    run(2, RunStatus.failed)
    event(3, "c")
    run(3, RunStatus.abandoned)
    run(4, RunStatus.ok, dry_run=True)
    session.commit()
    found = store.events_since_last_completed_run(session, job_id=jid, actions=actions)
    assert [e.detail["to"] for e in found] == ["b", "c"]  # failed, abandoned and dry runs do not close the window
    run(5, RunStatus.partial)
    session.commit()
    assert store.events_since_last_completed_run(session, job_id=jid, actions=actions) == []
    assert store.events_since_last_completed_run(session, job_id=jid, actions=("editor add",)) == []
