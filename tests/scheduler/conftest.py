"""Scheduler test kit: a fake clock for APScheduler, a scheduler that only moves when stepped, and an
engine whose `run` is the real `SyncEngine.run` (lookup, lease, JobBusy, release) around a fake sync."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from sync_core import store
from sync_core.domain.models import JobKind, Run, RunStatus, RunTrigger, SyncJob, SyncJobCreate
from sync_core.run.engine import RunReport, SyncEngine
from sync_core.run.job_run import JobRun, RunRequest, RunServices
from sync_core.scheduling.scheduler import RunResult, SchedulerSettings, SyncScheduler
from sync_core.settings import load_settings

START = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)  # a Monday
WAIT = 10.0  # upper bound for thread hand-offs; never reached when things work


class FakeClock:
    """The time, as the scheduler and APScheduler see it. Moves only when told."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def datetime_class(self) -> type[datetime]:
        clock = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return clock.now.astimezone(tz) if tz is not None else clock.now.replace(tzinfo=None)

        return FakeDatetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock, also patched into APScheduler 3: its scheduler loop (`_process_jobs`, adding
    jobs) and its executors' misfire check are the only places it reads the time."""
    fake = FakeClock()
    cls = fake.datetime_class()
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", cls)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", cls)
    return fake


class SteppedScheduler(BaseScheduler):
    """An APScheduler scheduler without a thread: due jobs are processed when `step()` is called."""

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


class FakeSyncEngine(SyncEngine):
    """`SyncEngine.run` as is (job lookup, lease across processes, JobBusy, release); the run's work itself
    is fake: it records a run (at the fake clock's time), then waits for `gate` (if closed) or cancel."""

    def __init__(self, db: Engine, clock: FakeClock, *, holder: str | None = None) -> None:
        super().__init__(db=db, clients=None, settings=load_settings(), holder=holder)  # type: ignore[arg-type]
        self.clock = clock
        self.calls: list[tuple[int, RunTrigger]] = []
        self.started: queue.Queue[int] = queue.Queue()
        self.gate = threading.Event()
        self.gate.set()
        self.ignore_cancel = False

    def job_run(self, job: SyncJob, request: RunRequest) -> JobRun:
        return FakeJobRun(job, request, self.services(), self)


class FakeJobRun(JobRun):
    """A run whose lease is taken as any run's, and whose work is `FakeSyncEngine`'s fake sync."""

    def __init__(self, job: SyncJob, request: RunRequest, services: RunServices, engine: FakeSyncEngine) -> None:
        super().__init__(job, request, services)
        self.engine = engine

    def execute(self) -> RunReport:
        engine, job, trigger, cancel = self.engine, self.job, self.trigger, self.cancel
        assert job.id is not None
        engine.calls.append((job.id, trigger))
        with store.session_scope(engine.db) as session:
            run_id = store.start_run(session, job_id=job.id, trigger=trigger, now=engine.clock()).id
        engine.started.put(job.id)
        if engine.ignore_cancel:
            assert engine.gate.wait(WAIT)
        else:
            _wait_either(engine.gate, cancel)
        status = RunStatus.abandoned if cancel.is_set() else RunStatus.ok
        with store.session_scope(engine.db) as session:
            run = session.get(Run, run_id)
            assert run is not None
            store.finish_run(session, run=run, status=status, now=engine.clock())
        return RunReport(job.id, job.name, False, run_id=run_id, status=status)


def _wait_either(a: threading.Event, b: threading.Event) -> None:
    """Wait (bounded) until either event is set; polls in 2 ms steps."""
    for _ in range(int(WAIT / 0.002)):
        if a.is_set() or b.is_set():
            return
        a.wait(0.002)
    raise AssertionError("neither event was set")


def make_job(
    db: Engine, name: str, schedule: str = "every 30m", *, created_at: datetime = START, enabled: bool = True
) -> int:
    with store.session_scope(db) as session:
        job = store.create_job(
            session,
            job_in=SyncJobCreate(
                name=name,
                kind=JobKind.personal,
                source_user_id="u-source",
                source_email="source@example.com",
                source_group_resource_name="contactGroups/partners",
                target_group_name="Partners",
                schedule=schedule,
                enabled=enabled,
            ),
            created_by="U1",
        )
        job.created_at = job.updated_at = created_at
        session.add(job)
        session.flush()
        assert job.id is not None
        return job.id


def add_run(db: Engine, job_id: int, started_at: datetime, status: RunStatus = RunStatus.ok) -> None:
    with store.session_scope(db) as session:
        run = store.start_run(session, job_id=job_id, trigger=RunTrigger.schedule, now=started_at)
        store.finish_run(session, run=run, status=status, now=started_at + timedelta(minutes=1))


def runs_of(db: Engine, job_id: int) -> list[Run]:
    with store.session_scope(db) as session:
        return list(reversed(store.last_runs(session, job_id=job_id, limit=100)))


@dataclass
class Harness:
    """A SyncScheduler on a stepped APScheduler and a fake engine, with its results collected."""

    db: Engine
    clock: FakeClock
    engine: FakeSyncEngine
    scheduler: SyncScheduler
    aps: SteppedScheduler
    results: queue.Queue[RunResult] = field(default_factory=queue.Queue)
    missed: list[str] = field(default_factory=list)
    _submitted: int = 0
    _done: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.scheduler.add_listener(self.results.put)
        self.aps.add_listener(
            self._count, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR
        )

    def _count(self, event: JobEvent) -> None:
        with self._cond:
            if event.code == EVENT_JOB_SUBMITTED:
                self._submitted += 1
            else:
                self._done += 1
                if event.code == EVENT_JOB_MISSED:
                    self.missed.append(event.job_id)
            self._cond.notify_all()

    def step(self) -> None:
        """One scheduler wake-up at the fake time; returns once every job it submitted has finished."""
        self.aps._process_jobs()
        with self._cond:
            assert self._cond.wait_for(lambda: self._done >= self._submitted, timeout=WAIT)

    def result(self) -> RunResult:
        return self.results.get(timeout=WAIT)

    def no_more_results(self) -> bool:
        return self.results.empty()

    def next_run(self, job_id: int) -> datetime | None:
        return self.scheduler.next_run_at(job_id)


def make_harness(db: Engine, clock: FakeClock, **settings: Any) -> Harness:
    engine = FakeSyncEngine(db, clock)
    aps = SteppedScheduler()
    options: dict[str, Any] = {"reconcile_seconds": 0, "misfire_grace_seconds": 15 * 60} | settings
    scheduler = SyncScheduler(db=db, engine=engine, settings=SchedulerSettings(**options), clock=clock, apscheduler=aps)
    return Harness(db, clock, engine, scheduler, aps)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'cs.db'}")
    store.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def harness(db: Engine, clock: FakeClock) -> Iterator[Harness]:
    h = make_harness(db, clock)
    yield h
    if not h.scheduler.stopping:
        h.engine.gate.set()
        h.scheduler.shutdown(timeout=WAIT)
