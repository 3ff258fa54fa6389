"""How "run now" starts runs: through the scheduler (`contactsync serve`), or, when the bot is built without
one (tests that need no schedule), through a small runner on a worker pool with the same "run now"
contract: never two runs of one job at once, `already_running` instead of a duplicate."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol

from .. import store
from ..engine import JobBusy, JobNotFound
from ..models import RunTrigger
from ..runtime import Runtime
from ..scheduler import RunCallback, RunOutcome, RunRequest, RunResult

log = logging.getLogger(__name__)


class Runs(Protocol):
    """What "run now" and the schedule-following need of `SyncScheduler`."""

    def run_now(
        self, job_id: int, *, trigger: RunTrigger = ..., on_done: RunCallback | None = None
    ) -> RunRequest: ...

    def sync(self, job_id: int) -> object: ...

    def next_run_at(self, job_id: int) -> datetime | None: ...


class PoolRunner:
    """"Run now" on the bot's worker pool, without schedules (`next_run_at` is always None)."""

    def __init__(self, runtime: Runtime, pool: ThreadPoolExecutor) -> None:
        self.runtime = runtime
        self.pool = pool
        self._inflight: set[int] = set()
        self._lock = threading.Lock()

    def run_now(
        self, job_id: int, *, trigger: RunTrigger = RunTrigger.manual, on_done: RunCallback | None = None
    ) -> RunRequest:
        with store.session_scope(self.runtime.db) as session:
            if store.get_job(session, job_id=job_id) is None:
                return RunRequest.not_found
        with self._lock:
            if job_id in self._inflight:
                return RunRequest.already_running
            self._inflight.add(job_id)
        try:
            self.pool.submit(self._run, job_id, trigger, on_done)
        except RuntimeError:  # the pool is shut down
            with self._lock:
                self._inflight.discard(job_id)
            return RunRequest.shutting_down
        return RunRequest.queued

    def _run(self, job_id: int, trigger: RunTrigger, on_done: RunCallback | None) -> None:
        try:
            report = self.runtime.engine.run(job_id, trigger=trigger)
            result = RunResult(job_id, trigger, RunOutcome.finished, report=report)
        except JobBusy as exc:
            result = RunResult(job_id, trigger, RunOutcome.busy, message=str(exc))
        except JobNotFound as exc:
            result = RunResult(job_id, trigger, RunOutcome.not_found, message=str(exc))
        except Exception as exc:  # the worker's boundary: logged with its traceback, reported to Slack
            log.exception("run of job %s failed", job_id)
            result = RunResult(job_id, trigger, RunOutcome.error, message=f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._inflight.discard(job_id)
        if on_done is not None:
            on_done(result)

    def sync(self, job_id: int) -> None:
        return None

    def next_run_at(self, job_id: int) -> datetime | None:
        return None
