"""The one run pool (`sync_core.scheduling.run_pool`): every way a run can end maps to one `RunResult`, in one
place, and whoever asked for the run (the scheduler under `serve`, the service's pool runner without one) is told
the same."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine

from sync_core import store
from sync_core.domain.errors import JobNotFound
from sync_core.domain.models import RunStatus, RunTrigger
from sync_core.domain.reports import RunReport
from sync_core.run.engine import JobBusy, JobDeleting
from sync_core.runtime import Runtime
from sync_core.scheduling.run_pool import RunOutcome, RunPool, RunRequest, RunResult, run_to_result
from sync_core.scheduling.scheduler import SchedulerSettings, SyncScheduler
from sync_core.service import PoolRunner
from sync_core.settings import load_settings
from tests.scheduler.conftest import WAIT, SteppedScheduler, make_job


class Ends:
    """An engine whose every run ends as it is told: a report, or what it raises."""

    def __init__(self, end: Callable[[int], RunReport]) -> None:
        self.end = end
        self.cancels: list[threading.Event | None] = []

    def run(self, job_ref: int | str, *, trigger: RunTrigger = RunTrigger.cli,
            cancel: threading.Event | None = None) -> RunReport:
        assert isinstance(job_ref, int)
        self.cancels.append(cancel)
        return self.end(job_ref)


def report(job_id: int) -> RunReport:
    return RunReport(job_id, "A", False, run_id=7, status=RunStatus.ok)


def raises(exc: Exception) -> Callable[[int], RunReport]:
    def end(_job_id: int) -> RunReport:
        raise exc

    return end


# How a run can end -> what its caller is told: (outcome, message). A report comes only with `finished`.
ENDINGS: dict[str, tuple[Callable[[int], RunReport], RunOutcome, str]] = {
    "a report": (report, RunOutcome.finished, ""),
    "a lease held elsewhere": (raises(JobBusy("job 'A' is already running")), RunOutcome.busy,
                               "job 'A' is already running"),
    "a job being deleted": (raises(JobDeleting("A")), RunOutcome.busy, str(JobDeleting("A"))),
    "a job gone": (raises(JobNotFound(3, "no sync job named 3")), RunOutcome.not_found, "no sync job named 3"),
    "a database outage": (raises(store.DatabaseUnavailable("the database is unavailable: refused")),
                          RunOutcome.error, "the database is unavailable: refused"),
    "a bug": (raises(ValueError("boom")), RunOutcome.error, "ValueError: boom"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_each_way_a_run_ends_maps_to_one_result(ending: str) -> None:
    end, outcome, message = ENDINGS[ending]
    cancel = threading.Event()
    engine = Ends(end)
    result = run_to_result(engine, 3, RunTrigger.slack, cancel)
    assert (result.job_id, result.trigger, result.outcome, result.message) == (3, RunTrigger.slack, outcome, message)
    assert (result.report is not None) is (outcome is RunOutcome.finished)
    assert engine.cancels == [cancel]  # a shutdown reaches the run


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    store.upgrade(engine)
    yield engine
    engine.dispose()


def through_the_scheduler(db: Engine, engine: Ends, job_id: int) -> RunResult:
    scheduler = SyncScheduler(db=db, engine=engine, settings=SchedulerSettings(reconcile_seconds=0),
                              apscheduler=SteppedScheduler())
    done: queue.Queue[RunResult] = queue.Queue()
    try:
        assert scheduler.run_now(job_id, trigger=RunTrigger.slack, on_done=done.put) is RunRequest.queued
        return done.get(timeout=WAIT)
    finally:
        scheduler.shutdown(timeout=WAIT)
        scheduler.runs.pool.shutdown(wait=True)  # what follows a run (a job gone: unscheduled) is done too


def through_the_service(db: Engine, engine: Ends, job_id: int) -> RunResult:
    runtime = Runtime(load_settings(DATABASE_URL=str(db.url)))
    vars(runtime).update(db=db, engine=engine)  # built: the runner takes them from the runtime
    done: queue.Queue[RunResult] = queue.Queue()
    with ThreadPoolExecutor(max_workers=1) as pool:
        runner = PoolRunner(runtime, pool)
        assert runner.run_now(job_id, trigger=RunTrigger.slack, on_done=done.put) is RunRequest.queued
        return done.get(timeout=WAIT)


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_the_scheduler_and_the_service_tell_the_same(db: Engine, ending: str) -> None:
    end, outcome, message = ENDINGS[ending]
    job_id = make_job(db, "A")
    told = [ask(db, Ends(end), job_id) for ask in (through_the_scheduler, through_the_service)]
    assert [(r.job_id, r.trigger, r.outcome, r.message) for r in told] == [
        (job_id, RunTrigger.slack, outcome, message)] * 2
    if outcome is RunOutcome.finished:
        assert [r.report for r in told] == [report(job_id)] * 2


def test_every_outcome_comes_from_one_place(db: Engine) -> None:
    """Besides the engine's endings: a slot skipped (a run in flight here), a slot another replica took, and a
    queued run dropped by a shutdown. Together they are every outcome there is."""
    running, queued, elsewhere = make_job(db, "A"), make_job(db, "B"), make_job(db, "C")
    started, gate = threading.Event(), threading.Event()

    def held(job: int) -> RunReport:
        started.set()
        assert gate.wait(WAIT)
        return report(job)

    results: queue.Queue[RunResult] = queue.Queue()
    with ThreadPoolExecutor(max_workers=1) as pool:
        runs = RunPool(lambda: Ends(held), db, pool, listeners=[results.put])
        assert runs.run_now(running, trigger=RunTrigger.slack) is RunRequest.queued
        assert runs.run_now(running, trigger=RunTrigger.slack) is RunRequest.already_running
        assert runs.run_now(queued, trigger=RunTrigger.slack) is RunRequest.queued  # behind A: one worker
        assert started.wait(WAIT)
        runs.run_slot(running, claim=lambda _job: True)
        runs.run_slot(elsewhere, claim=lambda _job: False)
        runs.stop()
        assert runs.run_now(elsewhere, trigger=RunTrigger.slack) is RunRequest.shutting_down
        gate.set()
        assert runs.wait(WAIT).clean
        told = [results.get(timeout=WAIT) for _ in range(4)]
    assert [(r.job_id, r.outcome) for r in told] == [
        (running, RunOutcome.skipped), (elsewhere, RunOutcome.busy), (queued, RunOutcome.cancelled),
        (running, RunOutcome.finished)]
    seen = {outcome for _end, outcome, _message in ENDINGS.values()} | {r.outcome for r in told}
    assert seen == set(RunOutcome)
