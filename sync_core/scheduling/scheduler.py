"""The scheduler: runs every enabled job on its schedule, through the same engine as "run now".

Shape (after cds-snc/sre-bot: one engine behind both the Slack "run now" and the scheduler; scheduled
runs guarded by a lease in the database with a stale-lock timeout):

- **Decisions are pure.** `plan_next_run` says when a job runs next from (its schedule, its last run,
  now, the grace time); `plan_changes` says which scheduler action each store change needs. Both take
  `now`/state explicitly and are tested without any scheduler.
- **APScheduler 3 does the timing.** A `BackgroundScheduler` (UTC) holds one job per store job, id
  `job-<id>`, with `coalesce=True` (missed slots run once), `max_instances=1` and a
  `misfire_grace_time`: a slot later than that is skipped to the next one.
- **The store is the truth.** `SyncScheduler.follow_schedule(job_id)` makes the scheduler match the job's row
  (create, edit, pause, resume, delete); the bot and the CLI call it right after a change in this
  process. A periodic reconcile (`follow_schedules`) picks up changes made by other processes.
- **One bounded pool runs every run**, scheduled or "run now" (`sync_core.scheduling.run_pool.RunPool`, which also says
  how each run ended), so Slack keeps being answered while syncs run. Never two runs of one job at once: in
  this process by a table of runs in flight (a second "run now" is answered `already_running`, a scheduled
  slot that finds a run going is skipped), across processes by the engine's lease (`JobBusy`: nothing is
  recorded).
- **Any number of replicas.** Every `serve` on one database schedules every job; a slot is run by the
  replica whose fire claims it on the job's row first (`sync_core.scheduling.slots`), the others answer `busy` and
  record nothing, even when the winner's run has already ended.
- **Shutdown** (`shutdown`, or SIGTERM/SIGINT via `install_signal_handlers`) stops scheduling, drops
  runs that were queued but not started, sets the cancel event of the runs in flight (their targets in
  flight finish, no more start, the engine records the run `abandoned`) and waits for them up to a
  timeout. A run still going after the timeout goes on finishing its targets in flight (the
  interpreter's exit waits for the pool's threads); if the process is killed first, its run stays
  `running` and its lease expires (the engine's stale-lock timeout), and the next holder of the lease
  marks the run abandoned. Every target result is committed on its own, so nothing is half-recorded.

When a job runs next (`plan_next_run`): on the schedule's slots after the job's *reference*, its last
run's start (any trigger), or its creation if it never ran; for an interval the slots are
reference + k * interval, so a restart does not reset the clock. If slots were missed (the process was
down) and the latest one is within the grace time, it runs at once, once however many were missed;
if it is older, the job waits for its next slot.

Cron expressions are standard crontab (0 or 7 = Sunday; day-of-month and day-of-week both restricted
means either), translated for APScheduler 3, whose own `from_crontab` counts weekdays from Monday.

Settings (environment, prefix `CONTACTSYNC_SCHEDULER_`, see `SchedulerSettings`):

- `CONTACTSYNC_SCHEDULER_MAX_CONCURRENT_RUNS` (2): runs executing at once in this process.
- `CONTACTSYNC_SCHEDULER_MISFIRE_GRACE_SECONDS` (900): how late a slot may still run.
- `CONTACTSYNC_SCHEDULER_RECONCILE_SECONDS` (60): how often to re-read the jobs for changes made by
  other processes; 0 turns it off.
- `CONTACTSYNC_SCHEDULER_SHUTDOWN_TIMEOUT_SECONDS` (60): how long a shutdown waits for runs in flight.
- `CONTACTSYNC_SCHEDULER_WATCH_SECONDS` (60): how often the source watch reads each Personal sync's source
  (one incremental read; a change runs the job at once, see `sync_core.scheduling.watch`); 0 turns it off.

- `CONTACTSYNC_SCHEDULER_WATCH_WORKERS` (4): how many sources the watch reads at once.

The source watch reads the sources side by side (each is another user's quota; at ~0.1 s a read, 4 workers
watch about 2,000 jobs a minute), skipping jobs with a run in flight; a run that comes due while its job's
source is being read waits for that read (a second or so).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import RunTrigger, SyncJob, utcnow
from sync_core.domain.schedule import Schedule, ScheduleError, crontab_trigger, parse_schedule
from sync_core.scheduling import slots
from sync_core.scheduling.run_pool import (
    JobRunner,
    RunCallback,
    RunOutcome,
    RunPool,
    RunRequest,
    RunResult,
    ShutdownReport,
)
from sync_core.scheduling.watch import WatchOutcome, WatchResult
from sync_core.settings import SettingsError

if TYPE_CHECKING:
    from sync_core.runtime import Runtime

log = logging.getLogger(__name__)

JOB_ID_PREFIX = "job-"
RECONCILE_JOB_ID = "contactsync-reconcile"
WATCH_JOB_ID = "contactsync-watch"
_CONTROL_EXECUTOR = "control"  # reconcile runs here, never behind long syncs in the run pool
_WATCH_EXECUTOR = "watch"  # the source watch: never behind a reconcile, never behind the runs


# --------------------------------------------------------------------------- settings


class SchedulerSettings(BaseSettings):
    """Scheduler settings, from `CONTACTSYNC_SCHEDULER_*` (and `.env`)."""

    model_config = SettingsConfigDict(
        env_prefix="CONTACTSYNC_SCHEDULER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Each description is the setting's meaning in the README's table (generated: contactsync.settings_doc).
    max_concurrent_runs: int = Field(default=2, ge=1, le=32, description="runs executing at once")
    misfire_grace_seconds: int = Field(default=15 * 60, ge=1, le=7 * 24 * 3600,
                                       description="how late a missed slot may still run (once)")
    reconcile_seconds: float = Field(
        default=60.0, ge=0, description="how often jobs changed by other processes (the CLI) are picked up")
    shutdown_timeout_seconds: float = Field(default=60.0, ge=0,
                                            description="how long SIGTERM waits for runs in flight")
    watch_seconds: float = Field(
        default=60.0, ge=0, description="how often each Personal sync's source is watched for edits; 0: never")
    watch_workers: int = Field(
        default=4, ge=1, le=32,
        description="how many sources the watch reads at once (each reads several hundred a minute)")

    @property
    def misfire_grace(self) -> timedelta:
        return timedelta(seconds=self.misfire_grace_seconds)


def load_scheduler_settings(**overrides: Any) -> SchedulerSettings:
    """Read the scheduler settings; a bad one is a one-line `SettingsError` naming the variable."""
    try:
        return SchedulerSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"CONTACTSYNC_SCHEDULER_{str(first['loc'][0]).upper()}" if first["loc"] else "?"
        raise SettingsError(f"{name}: {first['msg']}") from None


# --------------------------------------------------------------------------- pure decisions: triggers

def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def schedule_trigger(schedule: Schedule, *, reference: datetime) -> BaseTrigger:
    """The APScheduler trigger for a schedule; an interval counts from `reference` (the last run)."""
    if schedule.cron is not None:
        return crontab_trigger(schedule.cron)
    assert schedule.interval is not None
    return IntervalTrigger(
        seconds=int(schedule.interval.total_seconds()),
        start_date=_whole_seconds(reference) + schedule.interval,
        timezone=UTC,
    )


@dataclass(frozen=True)
class NextRun:
    """When a job runs next, and why."""

    trigger: BaseTrigger
    at: datetime | None  # None: the schedule never fires again
    missed: bool = False  # slots came and went since the reference without a run
    catch_up: bool = False  # `at` is the latest missed slot, within the grace time: it runs at once


def plan_next_run(schedule: Schedule, *, reference: datetime, now: datetime, grace: timedelta) -> NextRun:
    """Decide a job's next run from its schedule, its reference (last run's start, else its creation),
    the time now and the misfire grace time. Pure.

    No slot missed: the first slot after the reference. Slots missed: the latest of them if it is at
    most `grace` old (one run for all of them), else the first slot after now.
    """
    trigger = schedule_trigger(schedule, reference=reference)
    after = _whole_seconds(reference) + timedelta(seconds=1)  # a slot the reference run itself served is past
    first: datetime | None = trigger.get_next_fire_time(None, after)
    if first is None or first > now:
        return NextRun(trigger, first)
    slot: datetime | None = trigger.get_next_fire_time(None, max(after, now - grace))
    if slot is None or slot > now:
        return NextRun(trigger, slot, missed=True)
    while True:  # the latest slot not after now; at most grace / (the shortest slot spacing) steps
        following: datetime | None = trigger.get_next_fire_time(slot, slot)
        if following is None or following > now:
            return NextRun(trigger, slot, missed=True, catch_up=True)
        slot = following


# --------------------------------------------------------------------------- pure decisions: following the store


@dataclass(frozen=True)
class JobSpec:
    """What of a job's row matters to the scheduler."""

    schedule: str
    enabled: bool
    valid: bool = True  # False: the schedule text does not parse

    @classmethod
    def of(cls, job: SyncJob) -> JobSpec:
        try:
            return cls(str(parse_schedule(job.schedule)), job.enabled)
        except ScheduleError:
            return cls(job.schedule, job.enabled, valid=False)

    @property
    def wanted(self) -> bool:
        """Should the scheduler hold this job?"""
        return self.enabled and self.valid


class Change(StrEnum):
    schedule = "schedule"  # new, resumed, or fixed: add it
    reschedule = "reschedule"  # its schedule changed
    unschedule = "unschedule"  # deleted, paused, or its schedule no longer parses
    invalid = "invalid"  # enabled but its schedule does not parse (reported once per text)


def plan_change(known: JobSpec | None, current: JobSpec | None) -> Change | None:
    """The action that takes the scheduler from `known` (what it applied last; None: never seen, or
    forgotten) to `current` (the row now; None: deleted). None: nothing to do. Pure."""
    if known == current:
        return None
    held = known is not None and known.wanted
    if current is not None and current.wanted:
        if not held:
            return Change.schedule
        assert known is not None
        return Change.reschedule if known.schedule != current.schedule else None
    if current is not None and current.enabled and not current.valid:
        return Change.unschedule if held else Change.invalid
    return Change.unschedule if held else None


def plan_changes(known: Mapping[int, JobSpec], current: Mapping[int, JobSpec]) -> dict[int, Change]:
    """`plan_change` for every job either side knows. Pure."""
    changes: dict[int, Change] = {}
    for job_id in sorted(known.keys() | current.keys()):
        change = plan_change(known.get(job_id), current.get(job_id))
        if change is not None:
            changes[job_id] = change
    return changes


# --------------------------------------------------------------------------- the source watch, as the scheduler sees it


class SourceWatch(Protocol):
    """What the scheduler needs of the source watch (`sync_core.scheduling.watch.SourceWatcher` is one)."""

    def watched_jobs(self) -> list[int]: ...

    def check(self, job_id: int) -> WatchResult: ...


class _SharedPoolExecutor(BasePoolExecutor):
    """APScheduler's view of our run pool. The pool is ours: APScheduler's shutdown leaves it alone."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        super().__init__(pool)

    def shutdown(self, wait: bool = True) -> None:
        pass


# --------------------------------------------------------------------------- the scheduler


class SyncScheduler:
    """Runs the store's enabled jobs on their schedules, and "run now" requests, on one bounded pool.

    Usage (serve)::

        scheduler = SyncScheduler(db=runtime.db, engine=runtime.engine, on_run_finished=bot.report_run)
        scheduler.start()                        # schedules every enabled job from the store
        install_signal_handlers(scheduler)
        ...
        scheduler.follow_schedule(job.id)        # right after creating/editing/pausing/deleting a job
        scheduler.run_now(job.id, trigger=RunTrigger.slack, on_done=reply)   # -> RunRequest

    `clock` is the scheduler's own time source (next-run decisions); APScheduler reads the system
    clock. `apscheduler` lets tests pass a scheduler that only moves when told.
    """

    def __init__(
        self,
        *,
        db: DbEngine,
        engine: JobRunner,
        settings: SchedulerSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        apscheduler: BaseScheduler | None = None,
        on_run_finished: RunCallback | None = None,
        watcher: SourceWatch | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.watcher = watcher
        self.settings = settings or SchedulerSettings()
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=self.settings.max_concurrent_runs, thread_name_prefix="sync-run")
        # Every run, scheduled or not, goes through the run pool (the engine read at each run: a test may swap it).
        self.runs = RunPool(lambda: self.engine, db, self._pool,
                            listeners=[on_run_finished] if on_run_finished else [], after_run=self._after_run)
        self._aps = apscheduler or BackgroundScheduler()
        self._aps.configure(
            timezone=UTC,
            executors={
                "default": _SharedPoolExecutor(self._pool),
                _CONTROL_EXECUTOR: ApsThreadPoolExecutor(1),
                _WATCH_EXECUTOR: ApsThreadPoolExecutor(1),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.settings.misfire_grace_seconds,
            },
        )
        self._aps.add_listener(self._on_aps_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        self._follow_lock = threading.RLock()  # one store-following pass at a time
        self._known: dict[int, JobSpec] = {}
        self._on_reconcile: list[tuple[str, Callable[[], object]]] = []

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start scheduling: every enabled job in the store, and the periodic reconcile; and finish at once
        the runs a killed process left."""
        self._aps.start()
        self.follow_schedules()
        self._resume_interrupted()
        if self.settings.reconcile_seconds > 0:
            self._every(self.settings.reconcile_seconds, self._reconcile, RECONCILE_JOB_ID,
                        "reconcile with the store", _CONTROL_EXECUTOR)
        if self.watcher is not None and self.settings.watch_seconds > 0:
            self._every(self.settings.watch_seconds, self.watch_sources, WATCH_JOB_ID,
                        "watch the sources", _WATCH_EXECUTOR)

    def _every(self, seconds: float, func: Callable[[], object], job_id: str, name: str, executor: str) -> None:
        """A periodic task of the scheduler itself, first one period from now."""
        every = timedelta(seconds=seconds)
        self._aps.add_job(
            func,
            IntervalTrigger(seconds=every.total_seconds(), start_date=self.clock() + every, timezone=UTC),
            id=job_id,
            name=name,
            executor=executor,
            misfire_grace_time=None,
            replace_existing=True,
        )

    @property
    def stopping(self) -> bool:
        return self.runs.stopping

    @property
    def running(self) -> bool:
        """Scheduling now: started and not shutting down (what a readiness probe asks)."""
        return bool(self._aps.running) and not self.stopping

    def shutdown(self, timeout: float | None = None) -> ShutdownReport:
        """Stop scheduling; drop queued runs; cancel and wait (up to `timeout`) for runs in flight.

        Runs in flight get the cancel event: their targets in flight finish, no more start, and the
        engine records them `abandoned`. Idempotent.
        """
        timeout = self.settings.shutdown_timeout_seconds if timeout is None else timeout
        self.runs.stop()
        if self._aps.state != STATE_STOPPED:
            self._aps.shutdown(wait=False)
        report = self.runs.wait(timeout)
        self._pool.shutdown(wait=False)  # whatever APScheduler queued sees the cancel and returns at once
        if report.clean:
            log.info("scheduler stopped; no runs in flight")
        else:
            log.warning(
                "scheduler stopped with runs still in flight after %.0fs (jobs %s): they stop after their "
                "current targets; if the process is killed first, the next run marks them abandoned",
                timeout,
                report.still_running,
            )
        return report

    def on_reconcile(self, what: str, task: Callable[[], object]) -> None:
        """Also do `task` at each periodic reconcile (e.g. the bot telling requests that expired): a failure is
        logged as `what` failing, and the next reconcile does it again."""
        self._on_reconcile.append((what, task))

    def add_listener(self, callback: RunCallback) -> None:
        """Call `callback(RunResult)` after every run, scheduled or not (on the worker thread)."""
        self.runs.add_listener(callback)

    # --- following the store ---------------------------------------------------------------------
    def follow_schedule(self, job_id: int) -> Change | None:
        """Make the scheduler match job `job_id` in the store now (after a create, edit, pause, resume
        or delete in this process). Returns what it did."""
        with self._follow_lock, store.session_scope(self.db) as session:
            job = store.get_job(session, job_id=job_id)
            current = JobSpec.of(job) if job is not None else None
            change = plan_change(self._known.get(job_id), current)
            if change is not None:
                self._apply(session, job_id, job, change)
            self._remember(job_id, current)
            return change

    def follow_schedules(self) -> dict[int, Change]:
        """Make the scheduler match every job in the store (at start, and periodically)."""
        with self._follow_lock, store.session_scope(self.db) as session:
            jobs = {job.id: job for job in store.list_jobs(session) if job.id is not None}
            current = {job_id: JobSpec.of(job) for job_id, job in jobs.items()}
            changes = plan_changes(self._known, current)
            for job_id, change in changes.items():
                self._apply(session, job_id, jobs.get(job_id), change)
            for job_id in self._known.keys() | current.keys():
                self._remember(job_id, current.get(job_id))
            return changes

    def next_run_at(self, job_id: int) -> datetime | None:
        """When the job runs next here (None: not scheduled: paused, unknown, or a bad schedule)."""
        aps_job = self._aps.get_job(f"{JOB_ID_PREFIX}{job_id}")
        return None if aps_job is None else aps_job.next_run_time

    def scheduled_job_ids(self) -> list[int]:
        return sorted(
            int(job.id.removeprefix(JOB_ID_PREFIX)) for job in self._aps.get_jobs() if job.id.startswith(JOB_ID_PREFIX)
        )

    def _remember(self, job_id: int, spec: JobSpec | None) -> None:
        if spec is None:
            self._known.pop(job_id, None)
        else:
            self._known[job_id] = spec

    def _apply(self, session: Session, job_id: int, job: SyncJob | None, change: Change) -> None:
        aps_id = f"{JOB_ID_PREFIX}{job_id}"
        if change is Change.invalid:
            assert job is not None
            log.error("job %r (%s): schedule %r does not parse; it is not scheduled", job.name, job_id, job.schedule)
            return
        if change is Change.unschedule:
            with contextlib.suppress(JobLookupError):
                self._aps.remove_job(aps_id)
            log.info("job %s unscheduled (%s)", job_id, "deleted" if job is None else "paused or invalid")
            return
        assert job is not None
        runs = store.last_runs(session, job_id=job_id, limit=1)
        reference = runs[0].started_at if runs else job.created_at
        plan = plan_next_run(
            parse_schedule(job.schedule), reference=reference, now=self.clock(), grace=self.settings.misfire_grace
        )
        if plan.at is None:
            log.warning("job %r (%s): schedule %r never fires again; not scheduled", job.name, job_id, job.schedule)
            with contextlib.suppress(JobLookupError):
                self._aps.remove_job(aps_id)
            return
        self._aps.add_job(
            self._fire,
            plan.trigger,
            args=(job_id,),
            id=aps_id,
            name=job.name,
            replace_existing=True,
            next_run_time=plan.at,
        )
        if plan.catch_up:
            log.info("job %r (%s): missed a run while stopped; running it now (once)", job.name, job_id)
        elif plan.missed:
            log.info("job %r (%s): missed runs beyond the grace time; next run %s", job.name, job_id, plan.at)
        else:
            log.info("job %r (%s) %sd: next run %s", job.name, job_id, change.value, plan.at)

    def _reconcile(self) -> None:
        if self.stopping:
            return
        try:
            self.follow_schedules()
        except Exception as exc:  # the next reconcile tries again; the scheduler must keep running
            _log_failure("reconciling the schedule with the store", exc)
        self._resume_interrupted()
        for what, task in self._on_reconcile:
            try:
                task()
            except Exception as exc:  # the next reconcile tries again
                _log_failure(what, exc)

    def _resume_interrupted(self) -> list[int]:
        """Run at once each job whose newest run was cut off (its process killed: the row still says
        `running`, and the lease keeps nobody out), so the work it left is finished now, not at its next slot,
        which may be a day away. A run still going anywhere keeps its lease, and is left alone."""
        if self.stopping:
            return []
        try:
            with store.session_scope(self.db) as session:
                job_ids = store.interrupted_job_ids(session)
        except Exception as exc:  # the next reconcile tries again
            _log_failure("looking for runs a killed process left", exc)
            return []
        resumed = [j for j in job_ids if self.run_now(j, trigger=RunTrigger.schedule) is RunRequest.queued]
        for job_id in resumed:
            log.info("job %s: its last run was cut off (its process is gone); running it now", job_id)
        return resumed

    # --- the source watch -------------------------------------------------------------------------
    def watch_sources(self) -> list[WatchResult]:
        """Read each watched job's source once; run at once each job whose source changed."""
        if self.watcher is None:
            return []
        try:
            job_ids = self.watcher.watched_jobs()
        except Exception as exc:  # the next watch tries again; the scheduler must keep running
            _log_failure("listing the jobs to watch", exc)
            return []
        workers = min(self.settings.watch_workers, len(job_ids)) or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="source-watch") as readers:
            watched = list(readers.map(partial(self._watch_one, self.watcher), job_ids))
        return [result for result in watched if result is not None]

    def _watch_one(self, watcher: SourceWatch, job_id: int) -> WatchResult | None:
        """One job's watch (None: not read, or the read failed and was logged); runs the job if it changed."""
        with self.runs.watching(job_id) as free:
            if not free:
                return None  # a run in flight reads the source itself
            try:
                result = watcher.check(job_id)
            except Exception as exc:
                _log_failure(f"job {job_id}: watching its source", exc)
                return None
        if result.outcome is WatchOutcome.changed:
            log.info("job %s: its source changed; running it now", job_id)
            self.run_now(job_id, trigger=RunTrigger.watch)
        return result

    # --- runs ------------------------------------------------------------------------------------
    def run_now(
        self, job_id: int, *, trigger: RunTrigger = RunTrigger.manual, on_done: RunCallback | None = None
    ) -> RunRequest:
        """Queue a run of the job on the pool, unless one is already in progress (in this process, or
        anywhere per its lease). `on_done(RunResult)` is called when it ends (on the worker thread)."""
        return self.runs.run_now(job_id, trigger=trigger, on_done=on_done)

    def _fire(self, job_id: int) -> None:
        """A scheduled slot (called by APScheduler on a pool thread)."""
        self.runs.run_slot(job_id, self._claim_slot)

    def _claim_slot(self, job_id: int) -> bool:
        """Take this slot on the job's row, so that of every replica firing it only one runs it (see
        `sync_core.scheduling.slots`). A job gone or unparsable is let through: the run says so as usual."""
        try:
            with store.session_scope(self.db) as session:
                job = store.get_job(session, job_id=job_id)
                if job is None:
                    return True
                try:
                    schedule = parse_schedule(job.schedule)
                except ScheduleError:
                    return True
                now = self.clock()
                return store.claim_slot(session, job_id=job_id, at=now, free_before=slots.free_before(schedule, now))
        except SQLAlchemyError as exc:  # an outage: the slot is not run here (nor anywhere, most likely)
            log.warning("job %s: not run: %s", job_id, store.outage(exc))
            return False

    def _after_run(self, result: RunResult) -> None:
        if result.outcome is RunOutcome.not_found and not self.stopping:
            self.follow_schedule(result.job_id)  # deleted meanwhile: stop scheduling it

    def _on_aps_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED and isinstance(event, JobExecutionEvent):
            log.warning(
                "%s: the run due at %s was missed by more than the grace time (%ss); waiting for the next slot",
                event.job_id,
                event.scheduled_run_time,
                self.settings.misfire_grace_seconds,
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.info("%s: still running; this slot is skipped", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            log.error("%s raised: %s", event.job_id, getattr(event, "exception", None))


# --------------------------------------------------------------------------- wiring


def _log_failure(what: str, exc: BaseException) -> None:
    """A periodic task failed: a database outage is one line (it comes back; the next pass tries again),
    anything else is a bug worth its traceback."""
    if isinstance(exc, SQLAlchemyError) and store.is_outage(exc):
        log.warning("%s failed: %s", what, store.outage(exc))
    elif isinstance(exc, store.DatabaseUnavailable):
        log.warning("%s failed: %s", what, exc)
    else:
        log.error("%s failed", what, exc_info=exc)


def build_scheduler(
    runtime: Runtime, settings: SchedulerSettings | None = None, *, on_run_finished: RunCallback | None = None
) -> SyncScheduler:
    """The scheduler over a runtime's database, engine and source watch (what `contactsync serve` starts)."""
    settings = settings or load_scheduler_settings()
    return SyncScheduler(
        db=runtime.db,
        engine=runtime.engine,
        settings=settings,
        on_run_finished=on_run_finished,
        watcher=runtime.watcher(every_seconds=settings.watch_seconds or None),
    )


def install_signal_handlers(
    scheduler: SyncScheduler,
    *,
    timeout: float | None = None,
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """On SIGTERM/SIGINT: shut the scheduler down (waiting up to `timeout` for runs in flight), then
    raise SystemExit in the main thread so the server loop unwinds. A second signal while waiting
    exits at once. Call from the main thread."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if scheduler.stopping:
            log.warning("%s again: exiting without waiting for runs in flight", name)
            raise SystemExit(128 + signum)
        log.info("%s: stopping the scheduler", name)
        scheduler.shutdown(timeout)
        raise SystemExit(0)

    for sig in signals:
        signal.signal(sig, handle)
