"""PostgreSQL restarted in the middle of a run: the run ends cleanly and says why (error kind `database`,
one line, no traceback), the scheduler goes on, and its next run finishes the sync from what was saved
(links go in a few batches at a time, here every batch, each time in one transaction: none is half written),
without duplicates.

The server is one of the test's own (tests/pg_instance.py): stopping it disturbs no other test."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core import store
from sync_core.domain.models import RunStatus
from sync_core.domain.status import TargetStatus
from sync_core.run import batch_writer
from sync_core.run.run_records import RunRecords, TargetBatch
from sync_core.scheduling.scheduler import RunOutcome, RunResult, SchedulerSettings, SyncScheduler
from tests.conftest import Google
from tests.integration.helpers import SALES_TARGETS, create_job, make_runtime, ours, source_keys, user_id
from tests.pg_instance import PostgresInstance, postgres_instance
from tests.scheduler.conftest import FakeClock, SteppedScheduler


@pytest.fixture
def own_postgres() -> Iterator[PostgresInstance]:
    with postgres_instance() as instance:
        yield instance


@pytest.fixture
def google(tmp_path: Path) -> Iterator[Google]:
    """The demo tenant with a source of 600 contacts: three batches per target, so a run lasts a while."""
    ws = Workspace()
    seed = seed_workspace(ws, contacts=600)
    with running_emulator(ws, tmp_path) as handle:
        yield Google(handle, seed)


def _ours_written(google: Google) -> int:
    with google.ws.lock:
        return sum(len(google.ws.people_of(user_id(google, e))["contacts"]) for e in SALES_TARGETS)


def test_a_restart_of_postgres_mid_run_fails_the_run_cleanly_and_the_next_run_finishes(
    google: Google, own_postgres: PostgresInstance, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run stores the links its targets hand on every 20,000 (or 5 s, or as its targets end): here every batch,
    # so that the run goes to the database between its targets' batches, where the restart lands.
    monkeypatch.setattr(RunRecords, "target_batch",
                        lambda records, size: TargetBatch(records, size, max_links=batch_writer.BATCH_CREATE_MAX))
    rt = make_runtime(google, own_postgres.url)
    name = create_job(rt, google, "group:sales@example.com")
    with store.session_scope(rt.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        job_id = job.id
    clock = FakeClock()
    clock.set(job.created_at.astimezone(UTC).replace(microsecond=0))
    scheduler = SyncScheduler(
        db=rt.db, engine=rt.engine, settings=SchedulerSettings(reconcile_seconds=0), clock=clock,
        apscheduler=SteppedScheduler(),
    )
    results: queue.Queue[RunResult] = queue.Queue()
    before = _ours_written(google)
    google.handle.control.set_latency(40)  # each batch takes a while: the restart lands between two
    scheduler.start()
    try:
        with caplog.at_level(logging.INFO):
            assert scheduler.run_now(job_id, on_done=results.put).value == "queued"
            deadline = time.monotonic() + 60
            while _ours_written(google) == before and time.monotonic() < deadline:  # the run is writing
                time.sleep(0.005)
            assert _ours_written(google) > before
            own_postgres.stop("fast")  # every session ends; the run's next write finds no server
            threading.Event().wait(1.5)
            own_postgres.start()  # back (pg_ctl -w waits for it): the run can say how it ended
            first = results.get(timeout=90)
        google.handle.control.set_latency(0)
        written = _ours_written(google)

        assert first.outcome is RunOutcome.finished, first  # the scheduler's worker did not die
        report = first.report
        assert report is not None and report.status is RunStatus.failed
        assert report.error_kind is TargetStatus.database
        assert "database is unavailable" in report.error_reason and "\n" not in report.error_reason
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
        assert before < written < before + 600 * len(SALES_TARGETS), "the restart was not in the middle"

        assert scheduler.run_now(job_id, on_done=results.put).value == "queued"  # the lease was given back
        second = results.get(timeout=90)
    finally:
        google.handle.control.set_latency(0)
        assert scheduler.shutdown(timeout=30).clean

    assert second.report is not None and second.report.status is RunStatus.ok, second
    expected = source_keys(google)
    for email in SALES_TARGETS:
        assert set(ours(google, email)) == expected  # `ours` asserts no source contact is there twice
    with store.session_scope(rt.db) as session:
        runs = store.last_runs(session, job_id=job_id)
    assert [(r.status, r.error_kind) for r in runs] == [
        (RunStatus.ok, None),
        (RunStatus.failed, TargetStatus.database),
    ]
