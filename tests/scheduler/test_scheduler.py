"""SyncScheduler over a real store (SQLite) and APScheduler 3, driven by a fake clock: no sleeping."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import pytest
from apscheduler.schedulers.base import STATE_STOPPED
from sqlalchemy import Engine

from sync_core import store
from sync_core.domain.models import RunStatus, RunTrigger, SyncJobUpdate, utcnow
from sync_core.scheduling.scheduler import (
    Change,
    RunOutcome,
    RunRequest,
    RunResult,
    SchedulerSettings,
    SyncScheduler,
    install_signal_handlers,
)
from sync_core.scheduling.watch import WatchOutcome, WatchResult
from tests.scheduler.conftest import (
    START,
    WAIT,
    FakeClock,
    FakeSyncEngine,
    Harness,
    add_run,
    make_harness,
    make_job,
    runs_of,
)

MIN = timedelta(minutes=1)


def update(db: Engine, job_id: int, **changes: object) -> None:
    with store.session_scope(db) as session:
        job = store.get_job(session, job_id=job_id)
        assert job is not None
        store.update_job(session, job=job, job_in=SyncJobUpdate(**changes))  # type: ignore[arg-type]


# --- schedules ----------------------------------------------------------------------------------------
def test_an_interval_job_runs_on_each_slot_and_not_before(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    assert harness.next_run(job) == START + 30 * MIN

    clock.advance(minutes=29)
    harness.step()
    assert harness.engine.calls == []

    clock.advance(minutes=1)
    harness.step()
    result = harness.result()
    assert (result.job_id, result.trigger, result.outcome) == (job, RunTrigger.schedule, RunOutcome.finished)
    assert result.report is not None and result.report.status is RunStatus.ok
    assert harness.next_run(job) == START + 60 * MIN

    clock.advance(minutes=30)
    harness.step()
    harness.result()
    assert [run.started_at for run in runs_of(db, job)] == [START + 30 * MIN, START + 60 * MIN]
    assert all(run.trigger is RunTrigger.schedule for run in runs_of(db, job))


def test_a_cron_job_runs_at_its_crontab_times(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "Mornings", "cron 0 7 * * 1-5")  # created Monday 10:00
    harness.scheduler.start()
    tuesday_7 = START.replace(day=8, hour=7)
    assert harness.next_run(job) == tuesday_7
    clock.set(tuesday_7)
    harness.step()
    assert harness.result().outcome is RunOutcome.finished
    assert harness.next_run(job) == tuesday_7 + timedelta(days=1)


def test_three_missed_slots_are_coalesced_into_one_run(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    clock.advance(minutes=100)  # 10:30, 11:00 and 11:30 went by; 11:30 is 10 minutes late (grace 15)
    harness.step()
    assert harness.result().outcome is RunOutcome.finished
    assert harness.no_more_results()
    assert len(harness.engine.calls) == 1
    assert harness.next_run(job) == START + 120 * MIN


def test_missed_slots_beyond_the_grace_time_are_skipped(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    clock.advance(minutes=110)  # the latest slot, 11:30, is 20 minutes late
    harness.step()
    assert harness.engine.calls == []
    assert harness.missed == [f"job-{job}"]
    assert harness.next_run(job) == START + 120 * MIN


# --- restart -----------------------------------------------------------------------------------------
def test_a_restart_keeps_the_clock_of_the_last_run(db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    first = make_harness(db, clock)
    first.scheduler.start()
    clock.advance(minutes=30)
    first.step()
    assert first.result().outcome is RunOutcome.finished  # ran at 10:30
    first.scheduler.shutdown(timeout=WAIT)

    clock.advance(minutes=20)  # back up at 10:50
    second = make_harness(db, clock)
    second.scheduler.start()
    assert second.next_run(job) == START + 60 * MIN  # 10:30 + 30m, not 10:50 + 30m
    second.scheduler.shutdown(timeout=WAIT)


def test_a_new_scheduler_picks_up_every_enabled_job_with_its_next_run(db: Engine, clock: FakeClock) -> None:
    now = START  # Monday 10:00
    recent = make_job(db, "recent", "every 30m", created_at=now - timedelta(days=1))
    add_run(db, recent, now - 10 * MIN)
    catch_up = make_job(db, "catch-up", "every 30m", created_at=now - timedelta(days=1))
    add_run(db, catch_up, now - 40 * MIN)  # its 09:50 slot went by 10 minutes ago
    too_late = make_job(db, "too-late", "every 30m", created_at=now - timedelta(days=1))
    add_run(db, too_late, now - 110 * MIN)  # 08:40, 09:10, 09:40: the latest is 20 minutes late
    never_ran = make_job(db, "never-ran", "every 1h", created_at=now - 15 * MIN)
    cron = make_job(db, "cron", "cron 0 7 * * *", created_at=now - timedelta(days=1))
    add_run(db, cron, now.replace(hour=7, second=2))
    paused = make_job(db, "paused", "every 30m", enabled=False)
    broken = make_job(db, "broken", "every 1s")

    harness = make_harness(db, clock)
    harness.scheduler.start()
    assert harness.scheduler.scheduled_job_ids() == sorted([recent, catch_up, too_late, never_ran, cron])
    assert {job: harness.next_run(job) for job in (recent, catch_up, too_late, never_ran, cron, paused, broken)} == {
        recent: now + 20 * MIN,
        catch_up: now - 10 * MIN,  # due: runs at the next wake-up
        too_late: now + 10 * MIN,
        never_ran: now + 45 * MIN,
        cron: now.replace(day=8, hour=7),
        paused: None,
        broken: None,
    }

    harness.step()
    result = harness.result()
    assert (result.job_id, result.outcome) == (catch_up, RunOutcome.finished)
    assert harness.no_more_results()
    assert harness.next_run(catch_up) == now + 20 * MIN
    harness.scheduler.shutdown(timeout=WAIT)


# --- following the store -----------------------------------------------------------------------------
def test_create_edit_pause_resume_delete_change_the_schedule_at_once(
    harness: Harness, db: Engine, clock: FakeClock
) -> None:
    sched = harness.scheduler
    sched.start()
    assert sched.scheduled_job_ids() == []

    job = make_job(db, "A", "every 30m")
    assert sched.follow_schedule(job) is Change.schedule
    assert harness.next_run(job) == START + 30 * MIN

    update(db, job, description="something else")
    assert sched.follow_schedule(job) is None  # not a scheduling change: the next run stays
    assert harness.next_run(job) == START + 30 * MIN

    update(db, job, schedule="every 2h")
    assert sched.follow_schedule(job) is Change.reschedule
    assert harness.next_run(job) == START + 120 * MIN

    update(db, job, enabled=False)
    assert sched.follow_schedule(job) is Change.unschedule
    assert harness.next_run(job) is None
    clock.advance(hours=2, minutes=30)
    harness.step()
    assert harness.engine.calls == []

    update(db, job, enabled=True)  # at 12:30: the 12:00 slot went by while paused, beyond the grace time
    assert sched.follow_schedule(job) is Change.schedule
    assert harness.next_run(job) == START + 240 * MIN

    with store.session_scope(db) as session:
        store.delete_job(session, job_id=job)
    assert sched.follow_schedule(job) is Change.unschedule
    assert sched.scheduled_job_ids() == []


def test_changes_made_by_another_process_are_picked_up_by_the_reconcile(db: Engine, clock: FakeClock) -> None:
    harness = make_harness(db, clock, reconcile_seconds=60)
    harness.scheduler.start()
    job = make_job(db, "A", "every 30m")  # written by someone else: no follow_schedule() call
    assert harness.scheduler.scheduled_job_ids() == []

    clock.advance(seconds=60)
    harness.step()  # the reconcile runs (on its own executor)
    assert harness.scheduler.scheduled_job_ids() == [job]
    assert harness.next_run(job) == START + 30 * MIN

    update(db, job, schedule="every 45m")
    clock.advance(seconds=60)
    harness.step()
    assert harness.next_run(job) == START + 45 * MIN

    update(db, job, enabled=False)
    clock.advance(seconds=60)
    harness.step()
    assert harness.scheduler.scheduled_job_ids() == []
    harness.scheduler.shutdown(timeout=WAIT)


def test_each_reconcile_does_the_tasks_asked_of_it_and_one_failing_stops_neither_the_others_nor_the_next(
    db: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    harness = make_harness(db, clock, reconcile_seconds=60)
    done: list[str] = []

    def failing() -> None:
        done.append("failing")
        raise RuntimeError("boom")

    harness.scheduler.on_reconcile("a failing task", failing)
    harness.scheduler.on_reconcile("a task", lambda: done.append("task"))
    harness.scheduler.start()
    assert done == []  # first one period from now
    for _ in range(2):
        clock.advance(seconds=60)
        harness.step()
    assert done == ["failing", "task", "failing", "task"]
    assert "a failing task failed" in caplog.text
    harness.scheduler.shutdown(timeout=WAIT)


def test_a_job_deleted_before_its_slot_is_dropped_when_it_fires(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    with store.session_scope(db) as session:
        store.delete_job(session, job_id=job)  # by another process; the reconcile has not run yet
    clock.advance(minutes=30)
    harness.step()
    assert harness.result().outcome is RunOutcome.not_found
    assert harness.scheduler.scheduled_job_ids() == []


# --- run now -----------------------------------------------------------------------------------------
def test_run_now_queues_a_run_and_reports_it(harness: Harness, db: Engine) -> None:
    job = make_job(db, "A")
    harness.scheduler.start()
    replies: list[RunResult] = []
    assert harness.scheduler.run_now(job, trigger=RunTrigger.slack, on_done=replies.append) is RunRequest.queued
    result = harness.result()
    assert (result.job_id, result.trigger, result.outcome) == (job, RunTrigger.slack, RunOutcome.finished)
    assert replies == [result]
    assert [run.trigger for run in runs_of(db, job)] == [RunTrigger.slack]


def test_run_now_while_a_run_is_in_progress_says_so(harness: Harness, db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    harness.engine.gate.clear()
    assert harness.scheduler.run_now(job) is RunRequest.queued
    assert harness.engine.started.get(timeout=WAIT) == job

    assert harness.scheduler.run_now(job, trigger=RunTrigger.slack) is RunRequest.already_running
    clock.advance(minutes=30)  # its scheduled slot comes while the manual run goes on
    harness.step()
    skipped = harness.result()
    assert (skipped.trigger, skipped.outcome) == (RunTrigger.schedule, RunOutcome.skipped)

    harness.engine.gate.set()
    assert harness.result().outcome is RunOutcome.finished
    assert harness.engine.calls == [(job, RunTrigger.manual)]
    assert harness.scheduler.run_now(job) is RunRequest.queued  # and once it is over, it may run again
    assert harness.result().outcome is RunOutcome.finished


def test_run_now_respects_a_lease_held_by_another_process(harness: Harness, db: Engine) -> None:
    job = make_job(db, "A")
    with store.session_scope(db) as session:
        assert store.acquire_lease(session, job_id=job, holder="other-host:1:1", ttl_seconds=600)
    assert harness.scheduler.run_now(job) is RunRequest.already_running
    assert harness.engine.calls == []

    with store.session_scope(db) as session:  # a stale lease (its holder died) does not block
        store.release_lease(session, job_id=job, holder="other-host:1:1")
        store.acquire_lease(
            session, job_id=job, holder="other-host:1:1", ttl_seconds=60, now=utcnow() - timedelta(hours=1)
        )
    assert harness.scheduler.run_now(job) is RunRequest.queued
    assert harness.result().outcome is RunOutcome.finished


def test_run_now_after_a_crash_on_this_host_is_queued_at_once(harness: Harness, db: Engine) -> None:
    """A serve killed mid-run leaves a lease that has not lapsed: its process is gone, so Run now runs."""
    from dataclasses import replace

    from sync_core.leases import processes
    from tests.store.test_lease import _dead_pid

    job = make_job(db, "A")
    killed = replace(processes.this_process(), pid=_dead_pid())
    with store.session_scope(db) as session:
        assert store.acquire_lease(session, job_id=job, holder="killed-serve", ttl_seconds=600, me=killed)
    harness.engine.gate.set()
    assert harness.scheduler.run_now(job, trigger=RunTrigger.slack) is RunRequest.queued
    assert harness.result().outcome is RunOutcome.finished


def test_a_run_a_killed_process_left_is_finished_at_start_and_a_live_one_is_left_alone(
    db: Engine, clock: FakeClock
) -> None:
    from dataclasses import replace

    from sync_core.leases import processes
    from tests.store.test_lease import _dead_pid

    h = make_harness(db, clock)
    cut_off, still_running, done, dry = (make_job(db, n, "every 1d") for n in ("cut off", "elsewhere", "done", "dry"))
    killed = replace(processes.this_process(), pid=_dead_pid())
    far = replace(processes.this_process(), host="another-host")
    with store.session_scope(db) as session:
        for job, me in ((cut_off, killed), (still_running, far)):
            store.start_run(session, job_id=job, trigger=RunTrigger.schedule, now=START)  # never finished
            assert store.acquire_lease(session, job_id=job, holder=f"run-{job}", ttl_seconds=3600, me=me)
        store.start_run(session, job_id=dry, trigger=RunTrigger.cli, dry_run=True, now=START)
    add_run(db, done, START)
    h.engine.gate.set()
    try:
        h.scheduler.start()
        resumed = h.result()
        assert (resumed.job_id, resumed.trigger, resumed.outcome) == (cut_off, RunTrigger.schedule, RunOutcome.finished)
        assert h.engine.calls == [(cut_off, RunTrigger.schedule)], "nothing else ran: each job's slot is a day away"
    finally:
        assert h.scheduler.shutdown(timeout=WAIT).clean


def test_a_scheduled_run_finding_the_lease_taken_records_nothing(
    harness: Harness, db: Engine, clock: FakeClock
) -> None:
    job = make_job(db, "A", "every 30m")
    harness.scheduler.start()
    with store.session_scope(db) as session:
        assert store.acquire_lease(session, job_id=job, holder="other-host:1:1", ttl_seconds=600)
    clock.advance(minutes=30)
    harness.step()
    assert harness.result().outcome is RunOutcome.busy
    assert runs_of(db, job) == []


def test_run_now_of_an_unknown_job(harness: Harness) -> None:
    assert harness.scheduler.run_now(999) is RunRequest.not_found


def test_runs_share_a_bounded_pool(db: Engine, clock: FakeClock) -> None:
    harness = make_harness(db, clock, max_concurrent_runs=2)
    jobs = [make_job(db, name) for name in ("A", "B", "C")]
    harness.engine.gate.clear()
    assert [harness.scheduler.run_now(job) for job in jobs] == [RunRequest.queued] * 3  # answered at once
    started = {harness.engine.started.get(timeout=WAIT) for _ in range(2)}
    assert started == set(jobs[:2])
    assert harness.engine.started.empty()  # both workers are busy: C waits
    harness.engine.gate.set()
    assert harness.engine.started.get(timeout=WAIT) == jobs[2]
    assert sorted(harness.result().job_id for _ in jobs) == jobs
    harness.scheduler.shutdown(timeout=WAIT)


# --- shutdown ----------------------------------------------------------------------------------------
def test_shutdown_cancels_the_run_in_flight_records_it_and_starts_nothing_new(db: Engine, clock: FakeClock) -> None:
    harness = make_harness(db, clock, max_concurrent_runs=1)
    in_flight, queued = make_job(db, "A"), make_job(db, "B")
    harness.scheduler.start()
    harness.engine.gate.clear()  # the run only ends when cancelled
    assert harness.scheduler.run_now(in_flight) is RunRequest.queued
    assert harness.engine.started.get(timeout=WAIT) == in_flight
    assert harness.scheduler.run_now(queued) is RunRequest.queued  # waits for the only worker

    report = harness.scheduler.shutdown(timeout=WAIT)

    assert report.clean and report.still_running == []
    outcomes = {r.job_id: r.outcome for r in (harness.result(), harness.result())}
    assert outcomes == {in_flight: RunOutcome.finished, queued: RunOutcome.cancelled}
    (run,) = runs_of(db, in_flight)
    assert run.status is RunStatus.abandoned and run.finished_at is not None
    assert harness.engine.calls == [(in_flight, RunTrigger.manual)]
    assert runs_of(db, queued) == []
    with store.session_scope(db) as session:
        assert store.lease_for_job(session, job_id=in_flight) is None  # given back
    assert harness.scheduler.run_now(queued) is RunRequest.shutting_down
    assert harness.aps.state == STATE_STOPPED


def test_shutdown_gives_up_waiting_after_the_timeout(harness: Harness, db: Engine) -> None:
    job = make_job(db, "A")
    harness.engine.gate.clear()
    harness.engine.ignore_cancel = True  # a run that does not stop when asked
    assert harness.scheduler.run_now(job) is RunRequest.queued
    harness.engine.started.get(timeout=WAIT)

    report = harness.scheduler.shutdown(timeout=0.05)

    assert not report.clean and report.still_running == [job]
    harness.engine.gate.set()
    assert harness.result().outcome is RunOutcome.finished  # it still ends, and is recorded


def test_sigterm_shuts_the_scheduler_down(harness: Harness) -> None:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        install_signal_handlers(harness.scheduler, timeout=WAIT)
        with pytest.raises(SystemExit) as exit_info:
            signal.raise_signal(signal.SIGTERM)
        assert exit_info.value.code == 0
        assert harness.scheduler.stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- the real APScheduler thread -----------------------------------------------------------------------
def test_the_background_scheduler_runs_a_due_job_on_its_own(db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m", created_at=START - timedelta(days=1))
    add_run(db, job, START - 40 * MIN)  # a slot 10 minutes ago: due at start
    engine = FakeSyncEngine(db, clock)
    results: list[RunResult] = []
    scheduler = SyncScheduler(
        db=db,
        engine=engine,
        settings=SchedulerSettings(reconcile_seconds=0),
        clock=clock,
        on_run_finished=results.append,
    )
    scheduler.start()
    try:
        assert engine.started.get(timeout=WAIT) == job
    finally:
        report = scheduler.shutdown(timeout=WAIT)
    assert report.clean
    assert [r.outcome for r in results] == [RunOutcome.finished]
    assert scheduler.next_run_at(job) is None  # stopped: nothing scheduled any more


def test_a_periodic_task_meeting_a_database_outage_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy.exc import OperationalError

    from sync_core.scheduling.scheduler import _log_failure

    outage = OperationalError("SELECT ...", {"secret": "contact data"}, Exception("connection refused\nmore"))
    with caplog.at_level("DEBUG", logger="sync_core.scheduling.scheduler"):
        _log_failure("reconciling the schedule with the store", outage)
        _log_failure("listing the jobs to watch", ValueError("a bug"))
    first, second = caplog.records
    assert first.levelname == "WARNING" and first.exc_info is None
    assert first.getMessage() == ("reconciling the schedule with the store failed: the database is unavailable: "
                                  "connection refused")
    assert second.levelname == "ERROR" and second.exc_info is not None  # a bug keeps its traceback


class _SideBySideWatcher:
    """Every check waits until `width` checks are reading at once: it can only pass if they run side by side."""

    def __init__(self, job_ids: list[int], width: int, changed: set[int], broken: set[int]) -> None:
        self.job_ids, self.changed, self.broken = job_ids, changed, broken
        self.together = threading.Barrier(width, timeout=WAIT)

    def watched_jobs(self) -> list[int]:
        return self.job_ids

    def check(self, job_id: int) -> WatchResult:
        self.together.wait()
        if job_id in self.broken:
            raise RuntimeError("a bug in one job's watch")
        return WatchResult(job_id, WatchOutcome.changed if job_id in self.changed else WatchOutcome.unchanged)


def test_the_watch_reads_sources_side_by_side_and_runs_the_changed_ones(db: Engine, clock: FakeClock) -> None:
    h = make_harness(db, clock, watch_seconds=0, watch_workers=4)
    jobs = [make_job(db, f"job {i}", "every 1h") for i in range(8)]
    h.scheduler.watcher = _SideBySideWatcher(jobs, width=4, changed={jobs[1], jobs[6]}, broken={jobs[3]})
    try:
        h.engine.gate.set()
        results = h.scheduler.watch_sources()
        assert [r.job_id for r in results] == [j for j in jobs if j != jobs[3]]  # in order; the broken one left out
        ran = [h.result(), h.result()]
        assert {r.job_id for r in ran} == {jobs[1], jobs[6]}
        assert all(r.trigger is RunTrigger.watch for r in ran)
    finally:
        assert h.scheduler.shutdown(timeout=WAIT).clean
