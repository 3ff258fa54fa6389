"""A scheduled run through the real engine, against the Google emulator, really syncs."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

from sync_core import store
from sync_core.domain.models import RunStatus, RunTrigger
from sync_core.scheduling.scheduler import RunOutcome, SchedulerSettings, SyncScheduler
from tests.conftest import Google
from tests.integration.helpers import create_job, make_runtime, ours, source_keys
from tests.scheduler.conftest import FakeClock, Harness, SteppedScheduler


def test_a_scheduled_run_syncs_the_group(google: Google, tmp_path: Path, clock: FakeClock) -> None:
    rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
    name = create_job(rt, google, "email:bob@example.com", schedule="every 30m")
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        job_id, created_at = job.id, job.created_at
    clock.set(created_at.astimezone(UTC).replace(microsecond=0))
    aps = SteppedScheduler()
    scheduler = SyncScheduler(
        db=rt.db, engine=rt.engine, settings=SchedulerSettings(reconcile_seconds=0), clock=clock, apscheduler=aps
    )
    harness = Harness(rt.db, clock, None, scheduler, aps)  # type: ignore[arg-type]
    scheduler.start()
    try:
        assert scheduler.next_run_at(job_id) == clock() + timedelta(minutes=30)
        clock.advance(minutes=30)
        harness.step()
        result = harness.result()
    finally:
        assert scheduler.shutdown(timeout=10).clean
    assert (result.outcome, result.trigger) == (RunOutcome.finished, RunTrigger.schedule)
    assert result.report is not None and result.report.status is RunStatus.ok
    assert set(ours(google, "bob@example.com")) == source_keys(google)
