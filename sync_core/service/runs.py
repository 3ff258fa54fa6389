"""How "run now" starts runs: through the scheduler (`contactsync serve`), or, when the bot is built without
one (tests that need no schedule, the demo), through the same run pool on the bot's worker pool
(`sync_core.scheduling.run_pool.RunPool`: never two runs of one job at once, `already_running` instead of a duplicate,
one answer for how a run ended), without schedules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol

from sync_core.domain.models import RunTrigger
from sync_core.runtime import Runtime
from sync_core.scheduling.run_pool import RunCallback, RunPool, RunRequest


class Runs(Protocol):
    """What "run now" and the schedule-following need of `SyncScheduler`."""

    def run_now(
        self, job_id: int, *, trigger: RunTrigger = ..., on_done: RunCallback | None = None
    ) -> RunRequest: ...

    def follow_schedule(self, job_id: int) -> object: ...

    def next_run_at(self, job_id: int) -> datetime | None: ...


class PoolRunner(RunPool):
    """"Run now" on the bot's worker pool, without schedules (`next_run_at` is always None). The pool is the
    bot's: it shuts it down."""

    def __init__(self, runtime: Runtime, pool: ThreadPoolExecutor) -> None:
        super().__init__(lambda: runtime.engine, runtime.db, pool)  # the engine is built at the first run

    def follow_schedule(self, job_id: int) -> None:
        return None

    def next_run_at(self, job_id: int) -> datetime | None:
        return None
