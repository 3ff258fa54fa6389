"""`RunPool`: the one place a job runs in the background, whoever asked (Slack's *Run now*, App Home, an alert
button, a scheduled slot, the source watch, a run a killed process left).

- **Never two runs of one job at once**: in this process by a table of runs in flight (a second "run now" is
  answered `already_running`, a scheduled slot that finds a run going is skipped), across processes by the
  job's lease (a lease that keeps runs out answers `already_running`; one taken meanwhile is the engine's
  `JobBusy`: the run ends `busy` and nothing is recorded).
- **One answer for how a run ended**: `run_to_result` maps what the engine returned or raised to the
  `RunResult` every caller is told (Slack's reply, the scheduler's listeners), with its one log line.
- **A run waits for a watch's read**: a source watch reading a job's source here (`watching`) holds its lease
  for that read; a run of the job waits for it, up to `WATCH_READ_WAIT_SECONDS`.
- **Shutdown** (`stop`, then `wait`): queued runs are dropped (`cancelled`), runs in flight get the cancel
  event (their targets in flight finish, no more start, the engine records the run `abandoned`) and are
  waited for up to a timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.domain.errors import JobNotFound
from sync_core.domain.models import RunTrigger
from sync_core.domain.reports import RunReport
from sync_core.leases.processes import probe_process, this_process
from sync_core.run.engine import JobBusy
from sync_core.scheduling.watch import WATCH_READ_WAIT_SECONDS

log = logging.getLogger(__name__)


class JobRunner(Protocol):
    """What a run pool needs of the engine (`SyncEngine` is one)."""

    def run(
        self, job_ref: int | str, *, trigger: RunTrigger = ..., cancel: threading.Event | None = None
    ) -> RunReport: ...


class RunRequest(StrEnum):
    """The answer to "run now"."""

    queued = "queued"  # submitted to the pool; the completion hooks get the result
    already_running = "already_running"  # a run of the job is in progress (here, or its lease is held)
    not_found = "not_found"
    shutting_down = "shutting_down"


class RunOutcome(StrEnum):
    finished = "finished"  # the engine ran and recorded the run; `report.status` says how it went
    busy = "busy"  # another process holds the job's lease, or took this scheduled slot; nothing was recorded
    skipped = "skipped"  # a scheduled slot found a run of the job already in progress here
    cancelled = "cancelled"  # queued, then the pool shut down before it started
    not_found = "not_found"  # the job is gone (or is of a kind the engine does not run)
    error = "error"  # the engine raised; logged with its traceback


@dataclass(frozen=True)
class RunResult:
    job_id: int
    trigger: RunTrigger
    outcome: RunOutcome
    report: RunReport | None = None
    message: str = ""


RunCallback = Callable[[RunResult], None]


@dataclass(frozen=True)
class ShutdownReport:
    clean: bool  # every run in flight finished within the timeout
    still_running: list[int] = field(default_factory=list)  # job ids of runs that did not


def run_to_result(engine: JobRunner, job_id: int, trigger: RunTrigger, cancel: threading.Event) -> RunResult:
    """Run the job in this thread and say how it went: the one mapping from how a run ended (its report, or
    what the engine raised) to what its caller is told, each with its one log line. Never raises (but for
    what is no `Exception`): a run failing must never take a worker down."""
    try:
        report = engine.run(job_id, trigger=trigger, cancel=cancel)
    except JobBusy as exc:
        log.info("job %s: %s (in another process); not run", job_id, exc)
        return RunResult(job_id, trigger, RunOutcome.busy, message=str(exc))
    except JobNotFound as exc:
        log.warning("job %s: %s", job_id, exc)
        return RunResult(job_id, trigger, RunOutcome.not_found, message=str(exc))
    except store.DatabaseUnavailable as exc:  # before the run could start or record anything
        log.warning("job %s: not run: %s", job_id, exc)
        return RunResult(job_id, trigger, RunOutcome.error, message=str(exc))
    except Exception as exc:  # the worker's boundary: logged with its traceback, reported to the caller
        log.exception("job %s: the run failed", job_id)
        return RunResult(job_id, trigger, RunOutcome.error, message=f"{type(exc).__name__}: {exc}")
    return RunResult(job_id, trigger, RunOutcome.finished, report=report)


@dataclass
class _InFlight:
    trigger: RunTrigger
    started: bool
    on_done: RunCallback | None = None
    future: Future[None] | None = None


class RunPool:
    """Runs jobs on a bounded thread pool (not its own: the caller shuts it down), never two of a job at once.

    `engine`: called for the engine at each run (built on first use; a test may swap it). `after_run`: told
    each run's result once it is done and counted out (the scheduler stops scheduling a job found gone)."""

    def __init__(
        self,
        engine: Callable[[], JobRunner],
        db: DbEngine,
        pool: ThreadPoolExecutor,
        *,
        listeners: list[RunCallback] | None = None,
        after_run: RunCallback | None = None,
    ) -> None:
        self._engine = engine
        self.db = db
        self.pool = pool
        self._listeners = listeners if listeners is not None else []
        self._after_run = after_run
        self._cancel = threading.Event()
        self._state = threading.Condition()  # guards the run bookkeeping below
        self._inflight: dict[int, _InFlight] = {}
        self._watching: set[int] = set()  # the jobs whose sources a watch is reading now
        self._working = 0  # runs executing engine.run (or about to)
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def add_listener(self, callback: RunCallback) -> None:
        """Call `callback(RunResult)` after every run, whoever asked (on the worker thread)."""
        self._listeners.append(callback)

    # --- asking for a run --------------------------------------------------------------------------
    def run_now(
        self, job_id: int, *, trigger: RunTrigger = RunTrigger.manual, on_done: RunCallback | None = None
    ) -> RunRequest:
        """Queue a run of the job on the pool, unless one is already in progress (in this process, or
        anywhere per its lease). `on_done(RunResult)` is called when it ends (on the worker thread)."""
        with self._state:
            if self._stopping:
                return RunRequest.shutting_down
            if job_id in self._inflight:
                return RunRequest.already_running
        with store.session_scope(self.db) as session:
            if store.get_job(session, job_id=job_id) is None:
                return RunRequest.not_found
            # Leases are written in wall-clock time by the engine, so they are judged in it too; a holder on
            # this host whose process is gone (killed) keeps nobody out.
            if store.lease_keeps_runs_out(session, job_id=job_id, me=this_process(), probe=probe_process):
                return RunRequest.already_running
        with self._state:
            if self._stopping:
                return RunRequest.shutting_down
            if job_id in self._inflight:
                return RunRequest.already_running
            entry = _InFlight(trigger, started=False, on_done=on_done)
            self._inflight[job_id] = entry
            try:
                entry.future = self.pool.submit(self._run_queued, job_id, entry)
            except RuntimeError:  # the pool was shut down by its owner
                del self._inflight[job_id]
                return RunRequest.shutting_down
        return RunRequest.queued

    def run_slot(self, job_id: int, claim: Callable[[int], bool]) -> None:
        """A scheduled slot, run in this (pool) thread: skipped when a run of the job is in flight here; not
        run when `claim(job_id)` says another replica took the slot (checked only then: it costs a query)."""
        entry = _InFlight(RunTrigger.schedule, started=True)
        for claiming in (False, True):  # in-process first (no database), then the slot across replicas
            with self._state:
                if self._cancel.is_set():
                    return
                running = self._inflight.get(job_id)
                if running is None and claiming:
                    self._inflight[job_id] = entry
                    self._working += 1
            if running is not None:
                log.info("job %s: a %s run is in progress; this scheduled run is skipped", job_id, running.trigger)
                self._notify(None, RunResult(job_id, RunTrigger.schedule, RunOutcome.skipped,
                                             message="already running"))
                return
            if not claiming and not claim(job_id):
                log.info("job %s: another process took this scheduled slot; not run here", job_id)
                self._notify(None, RunResult(job_id, RunTrigger.schedule, RunOutcome.busy,
                                             message="another process took this slot"))
                return
        self._execute(job_id, entry)

    @contextmanager
    def watching(self, job_id: int) -> Iterator[bool]:
        """While a source watch reads the job's source here: a run of the job waits for the read to end. False
        (nothing held) when the job has a run in flight (which reads the source itself) or the pool is
        stopping: the watch then reads nothing."""
        with self._state:
            if self._stopping or job_id in self._inflight:
                free = False
            else:
                free = True
                self._watching.add(job_id)
        try:
            yield free
        finally:
            if free:
                with self._state:
                    self._watching.discard(job_id)
                    self._state.notify_all()

    # --- running -----------------------------------------------------------------------------------
    def _run_queued(self, job_id: int, entry: _InFlight) -> None:
        with self._state:
            if self._cancel.is_set():
                cancelled = True
            else:
                cancelled = False
                entry.started = True
                self._working += 1
        if cancelled:
            self._done(job_id, entry, RunResult(job_id, entry.trigger, RunOutcome.cancelled, message="shut down"))
            return
        self._execute(job_id, entry)

    def _execute(self, job_id: int, entry: _InFlight) -> None:
        result = RunResult(job_id, entry.trigger, RunOutcome.error, message="interrupted")
        with self._state:  # a watch reading this job's source holds its lease for that one read
            self._state.wait_for(lambda: job_id not in self._watching, timeout=WATCH_READ_WAIT_SECONDS)
        try:
            result = run_to_result(self._engine(), job_id, entry.trigger, self._cancel)
        finally:
            try:
                self._done(job_id, entry, result)
            finally:
                with self._state:
                    self._working -= 1
                    self._state.notify_all()
        if self._after_run is not None:
            self._after_run(result)

    def _done(self, job_id: int, entry: _InFlight, result: RunResult) -> None:
        with self._state:
            if self._inflight.get(job_id) is entry:
                del self._inflight[job_id]
            self._state.notify_all()
        self._notify(entry.on_done, result)

    def _notify(self, on_done: RunCallback | None, result: RunResult) -> None:
        for callback in [*self._listeners, *([on_done] if on_done else [])]:
            try:
                callback(result)
            except Exception:  # a reporting hook failing must not fail the run
                log.exception("run completion hook %r failed", callback)

    # --- shutdown ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Take no more runs; drop the queued ones (`cancelled`); cancel the runs in flight. Idempotent."""
        with self._state:
            self._stopping = True
            self._cancel.set()
            queued = [(job_id, entry) for job_id, entry in self._inflight.items() if not entry.started]
        for job_id, entry in queued:
            if entry.future is not None and entry.future.cancel():
                self._done(job_id, entry, RunResult(job_id, entry.trigger, RunOutcome.cancelled, message="shut down"))

    def wait(self, timeout: float | None) -> ShutdownReport:
        """Wait (up to `timeout`) for the runs in flight to end."""
        with self._state:
            clean = self._state.wait_for(lambda: self._working == 0, timeout=timeout)
            still_running = sorted(self._inflight)
        return ShutdownReport(clean, still_running)
