"""The source watch: one People call per job while nothing changes; a source edit runs the job at once."""

from __future__ import annotations

import queue

import pytest

from sync_core import store
from sync_core.domain.models import RunStatus, RunTrigger, SyncJob
from sync_core.runtime import Runtime
from sync_core.scheduling.scheduler import RunResult, SchedulerSettings, SyncScheduler
from sync_core.scheduling.watch import SourceWatcher, WatchOutcome
from tests.conftest import Google
from tests.integration.helpers import as_user, create_job, ours, source_keys

TARGETS = ("bob@example.com", "zoe@example.com")


def job_row(rt: Runtime) -> SyncJob:
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None
        session.expunge(job)
        return job


def people_calls(google: Google) -> dict[str, int]:
    return {m: n for m, n in google.handle.control.calls()["byMethod"].items() if m.startswith("people.")}


def rename_in_source(rt: Runtime, google: Google, resource_name: str, given: str) -> None:
    alice = as_user(rt, google.seed.source_email).people()
    person = alice.get(resourceName=resource_name, personFields="names").execute()
    alice.updateContact(
        resourceName=resource_name,
        updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": given, "familyName": "Edited"}]},
    ).execute()


@pytest.fixture
def synced(google: Google, rt: Runtime) -> SourceWatcher:
    create_job(rt, google, *(f"email:{t}" for t in TARGETS))
    assert rt.engine.run("Partners").status is RunStatus.ok
    return rt.watcher()


def test_while_nothing_changes_a_watch_is_one_people_call(google: Google, rt: Runtime, synced: SourceWatcher) -> None:
    job = job_row(rt)
    assert synced.watched_jobs() == [job.id]
    google.handle.control.reset_calls()
    for _ in range(3):
        assert synced.check(job.id or 0).outcome is WatchOutcome.unchanged
    assert people_calls(google) == {"people.people.connections.list": 3}
    assert job_row(rt).source_sync_token == job.source_sync_token  # nothing listed: the token stays


def test_a_source_edit_is_seen_and_the_run_it_starts_brings_it_everywhere(
    google: Google, rt: Runtime, synced: SourceWatcher
) -> None:
    job_id = job_row(rt).id or 0
    edited = sorted(source_keys(google))[0]
    rename_in_source(rt, google, edited, "Watched")

    seen = synced.check(job_id)
    assert seen.outcome is WatchOutcome.changed and seen.changed_at is not None
    assert synced.check(job_id).outcome is WatchOutcome.changed  # the watch keeps nothing: the run reads it

    report = rt.engine.run(job_id, trigger=RunTrigger.watch)
    assert report.status is RunStatus.ok
    assert [(t.created, t.updated, t.deleted) for t in report.targets] == [(0, 1, 0)] * len(TARGETS)
    for email in TARGETS:
        assert ours(google, email)[edited]["names"][0]["givenName"] == "Watched"
    job = job_row(rt)
    assert job.source_changed_at is not None and job.source_change_reached_at is not None
    assert job.source_changed_at <= job.source_change_reached_at
    assert synced.check(job_id).outcome is WatchOutcome.unchanged  # the run's token covers the edit


def test_edits_outside_the_group_run_nothing_and_are_listed_once(
    google: Google, rt: Runtime, synced: SourceWatcher
) -> None:
    job = job_row(rt)
    outside = sorted(set(google.ws.people_of(str(google.ws.user_by_key(google.seed.source_email)["id"]))["contacts"])
                     - source_keys(google))
    assert outside, "the seed gives the source user contacts outside the synced group"
    rename_in_source(rt, google, outside[0], "Unrelated")

    first = synced.check(job.id or 0)
    assert first.outcome is WatchOutcome.unchanged and first.listed == 1
    assert job_row(rt).source_sync_token != job.source_sync_token  # moved on past the unrelated edit
    assert synced.check(job.id or 0).listed == 0


def test_a_contact_leaving_the_group_is_a_change(google: Google, rt: Runtime, synced: SourceWatcher) -> None:
    leaving = sorted(source_keys(google))[0]
    alice = as_user(rt, google.seed.source_email)
    alice.contactGroups().members().modify(
        resourceName=google.seed.source_group_resource_name, body={"resourceNamesToRemove": [leaving]}
    ).execute()
    assert synced.check(job_row(rt).id or 0).outcome is WatchOutcome.changed


def test_a_watch_never_reads_alongside_a_run(google: Google, rt: Runtime, synced: SourceWatcher) -> None:
    job_id = job_row(rt).id or 0
    with store.session_scope(rt.db) as session:
        assert store.acquire_lease(session, job_id=job_id, holder="a-run-elsewhere", ttl_seconds=60)
    google.handle.control.reset_calls()
    assert synced.check(job_id).outcome is WatchOutcome.busy
    assert people_calls(google) == {}
    with store.session_scope(rt.db) as session:
        store.release_lease(session, job_id=job_id, holder="a-run-elsewhere")
        assert store.lease_for_job(session, job_id=job_id) is None
    assert synced.check(job_id).outcome is WatchOutcome.unchanged
    with store.session_scope(rt.db) as session:  # the watch gave its lease back
        assert store.lease_for_job(session, job_id=job_id) is None


def test_paused_and_never_run_jobs_are_not_watched(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    watcher = rt.watcher()
    assert watcher.watched_jobs() == []  # no run yet: no token to watch with
    rt.engine.run("Partners")
    assert watcher.watched_jobs() == [job_row(rt).id]
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None
        job.enabled = False
        session.add(job)
    assert watcher.watched_jobs() == []


def test_the_scheduler_runs_a_changed_job_at_once(google: Google, rt: Runtime, synced: SourceWatcher) -> None:
    finished: queue.Queue[RunResult] = queue.Queue()
    scheduler = SyncScheduler(
        db=rt.db,
        engine=rt.engine,
        settings=SchedulerSettings(reconcile_seconds=0, watch_seconds=0),  # driven by hand below
        on_run_finished=finished.put,
        watcher=synced,
    )
    try:
        assert [r.outcome for r in scheduler.watch_sources()] == [WatchOutcome.unchanged]
        assert finished.empty()
        edited = sorted(source_keys(google))[-1]
        rename_in_source(rt, google, edited, "Scheduled")
        assert [r.outcome for r in scheduler.watch_sources()] == [WatchOutcome.changed]
        result = finished.get(timeout=60)
    finally:
        assert scheduler.shutdown(timeout=30).clean
    assert result.trigger is RunTrigger.watch and result.report is not None
    assert result.report.status is RunStatus.ok
    assert all(ours(google, email)[edited]["names"][0]["givenName"] == "Scheduled" for email in TARGETS)


def test_a_directory_sync_is_watched_by_listing_its_users(google: Google, rt: Runtime) -> None:
    from tests.integration.test_directory_sync import create as create_directory_job
    from tests.integration.test_directory_sync import edit_user

    create_directory_job(rt, "email:bob@example.com")
    watcher = rt.watcher()
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name="Staff")
        assert job is not None and job.id is not None
        job_id = job.id
    assert watcher.check(job_id).outcome is WatchOutcome.unwatched  # never ran: nothing to compare with
    rt.engine.run("Staff")

    google.handle.control.reset_calls()
    quiet = watcher.check(job_id)
    assert quiet.outcome is WatchOutcome.unchanged and quiet.listed > 0
    calls = google.handle.control.calls()["byMethod"]
    assert set(calls) == {"directory.users.list"}, calls  # no People call; a page per 500 users and domain

    edit_user(google, "carol@example.com", organizations=[{"title": "CEO", "primary": True}])
    assert watcher.check(job_id).outcome is WatchOutcome.changed
    rt.engine.run("Staff")
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged
    edit_user(google, "carol@example.com", lastLoginTime="2026-12-03T10:00:00.000Z")  # not on the card
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged


def test_a_run_that_meets_a_watch_reading_waits_for_it(google: Google, rt: Runtime, synced: SourceWatcher) -> None:
    import threading

    from sync_core.run.engine import JobBusy

    job_id = job_row(rt).id or 0
    with store.session_scope(rt.db) as session:
        assert store.acquire_lease(session, job_id=job_id, holder=synced.holder, ttl_seconds=60)

    def watch_done() -> None:
        with store.session_scope(rt.db) as session:
            store.release_lease(session, job_id=job_id, holder=synced.holder)

    releaser = threading.Timer(0.5, watch_done)
    releaser.start()
    try:
        assert rt.engine.run(job_id).status is RunStatus.ok  # waited for the watch's read, then ran
    finally:
        releaser.join()
    with store.session_scope(rt.db) as session:  # a run's lease, though, is a busy job
        assert store.acquire_lease(session, job_id=job_id, holder="another-run", ttl_seconds=60)
    with pytest.raises(JobBusy):
        rt.engine.run(job_id)


def test_replicas_share_the_watch_one_read_a_job_per_interval(
    google: Google, rt: Runtime, synced: SourceWatcher
) -> None:
    from datetime import timedelta

    from sync_core.domain.models import utcnow

    job_id = job_row(rt).id or 0
    replicas = [rt.watcher(every_seconds=60) for _ in range(3)]
    google.handle.control.reset_calls()
    outcomes = [w.check(job_id).outcome for w in replicas]
    assert outcomes == [WatchOutcome.unchanged, WatchOutcome.elsewhere, WatchOutcome.elsewhere]
    assert people_calls(google) == {"people.people.connections.list": 1}
    with store.session_scope(rt.db) as session:  # the interval has passed: the next to ask watches
        job = store.get_job(session, job_id=job_id)
        assert job is not None and job.watched_at is not None
        job.watched_at = utcnow() - timedelta(seconds=61)
        session.add(job)
    assert [w.check(job_id).outcome for w in reversed(replicas)] == [
        WatchOutcome.unchanged, WatchOutcome.elsewhere, WatchOutcome.elsewhere]


def test_an_editors_change_is_seen_by_the_watch_and_our_own_writes_are_not(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", editors=["email:zoe@example.com"])
    rt.engine.run("Partners")
    rt.engine.run("Partners")
    watcher = rt.watcher()
    job_id = job_row(rt).id or 0
    google.handle.control.reset_calls()
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged
    assert people_calls(google) == {"people.people.connections.list": 2}, "the source, and the one editor"

    key = sorted(ours(google, "zoe@example.com"))[0]
    copy = ours(google, "zoe@example.com")[key]
    as_user(rt, "zoe@example.com").people().updateContact(
        resourceName=copy["resourceName"], updatePersonFields="names",
        body={"etag": copy["etag"], "names": [{"givenName": "ByZoe", "familyName": "Edited"}]}).execute()
    assert watcher.check(job_id).outcome is WatchOutcome.changed

    rt.engine.run(job_id, trigger=RunTrigger.watch)
    assert ours(google, "bob@example.com")[key]["names"][0]["givenName"] == "ByZoe"
    # The run's own writes (at the source, at bob's and zoe's copies) are no edit of anyone's: no run again.
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged
