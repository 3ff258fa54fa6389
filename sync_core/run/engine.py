"""The engine: what the CLI, Slack's "run now" and the scheduler call to run a job, or to clean up after one.

A thin facade. `run` loads the job and hands it to a `JobRun` (sync_core.run.job_run), which holds that run's
state and goes through its phases; `remove_all` takes a deleted job's contacts out of every account it wrote to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.alerting.notify import Notifier, NullNotifier
from sync_core.domain.models import RunTrigger, SyncJob, TargetStatus, utcnow
from sync_core.domain.reports import AccountCleanup, Cleanup, RunReport
from sync_core.google.calls import CallCounter
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import GoogleError
from sync_core.google.factory import GoogleClients
from sync_core.google.pacer import Pacer
from sync_core.google.people import PeopleClient
from sync_core.leases.lease_keeper import LeaseKeeper
from sync_core.leases.processes import lease_holder
from sync_core.observability.metrics import Metrics
from sync_core.run.job_lease import hold_lease
from sync_core.run.job_run import JobRun, Progress, RunRequest, RunServices, after_run, describe_source, target_job
from sync_core.run.outage import database_errors
from sync_core.run.run_errors import JobBusy, JobDeleting, JobNotFound
from sync_core.run.run_records import RunRecords
from sync_core.run.target_model import TargetOutcome
from sync_core.run.target_sync import TargetSync
from sync_core.run.targets import TargetUser
from sync_core.settings import Settings

# Callers take the reasons a job does not run, and the words for its source, from here.
__all__ = ["JobBusy", "JobDeleting", "JobNotFound", "RunReport", "SyncEngine", "describe_source"]


class SyncEngine:
    def __init__(
        self,
        *,
        db: DbEngine,
        clients: GoogleClients,
        settings: Settings,
        notifier: Notifier | None = None,
        sleep: Callable[[float], None] = time.sleep,
        holder: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics or Metrics()
        # Every Google client of a run comes from here, paced by the process's one pacer: two jobs writing to
        # one user share that user's quota (see sync_core.google.factory).
        self.clients = clients
        self.settings = settings
        self.notifier = notifier or NullNotifier()
        self.sleep = sleep
        # Unique per engine: two engines in one process must not share a lease holder.
        self.holder = holder or lease_holder()
        self.records = RunRecords(db)

    # --- clients --------------------------------------------------------------------------------
    @property
    def pacer(self) -> Pacer:
        """The quota pacer every run of this engine is paced by (the clients')."""
        return self.clients.pacer

    def directory(self, counter: CallCounter | None = None) -> DirectoryClient:
        return self.clients.directory(counter)

    def people(self, subject: str, counter: CallCounter | None = None) -> PeopleClient:
        return self.clients.people(subject, counter)

    def services(self) -> RunServices:
        """What a run of this engine is given (the notifier as it is now: the bot sets its own after start)."""
        return RunServices(db=self.db, clients=self.clients, settings=self.settings, records=self.records,
                           metrics=self.metrics, notifier=self.notifier, holder=self.holder, sleep=self.sleep)

    # --- a run ------------------------------------------------------------------------------------
    def run(
        self,
        job_ref: int | str,
        *,
        trigger: RunTrigger = RunTrigger.cli,
        dry_run: bool = False,
        allow_deletions: bool = False,
        allow_empty_source: bool = False,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> RunReport:
        """Run a job now. `cancel`, once set, lets targets in flight finish and starts no more
        (a graceful shutdown); the run is then recorded as abandoned. `allow_deletions`: what the
        mass-deletion guard would hold goes through, and an emptied source empties the targets
        (`allow_empty_source` is its old name)."""
        request = RunRequest(trigger=trigger, dry_run=dry_run, allow_deletions=allow_deletions or allow_empty_source,
                             progress=progress, cancel=cancel or threading.Event(), job_ref=job_ref)
        with database_errors():
            with store.session_scope(self.db) as session:
                job = _load_job(session, job_ref)
            if job.deleting:
                raise JobDeleting(job.name)
            return self.job_run(job, request).drive()

    def job_run(self, job: SyncJob, request: RunRequest) -> JobRun:
        """The run of `job` that `run` drives (a test's engine may make one whose work is fake)."""
        return JobRun(job, request, self.services())

    def after_run(self, job: SyncJob, report: RunReport) -> None:
        """What every recorded run ends with, whoever started it: its alerts decided and recorded here (in
        `report.alerts`), then the notifier told (the bot posts what needs posting)."""
        after_run(self.services(), job, report)

    # --- a deleted job ----------------------------------------------------------------------------
    def remove_all(self, job_ref: int | str, *, keep_contacts: bool = False) -> Cleanup:
        """Remove every contact the job created, from every account it ever wrote to; with `keep_contacts`,
        release them instead (our tags go, the contacts and the label stay as the user's own)."""
        with database_errors():
            with store.session_scope(self.db) as session:
                job = _load_job(session, job_ref)
            job_id = _stored_id(job)
            busy = f"job {job.name!r} is running; try again when it has finished"
            with hold_lease(self.db, job_id=job_id, job_name=job.name, holder=self.holder,
                            ttl_seconds=self.settings.lease_seconds, busy=busy, sleep=self.sleep) as lease:
                return self._remove_all(job, job_id, lease, keep_contacts)

    def _remove_all(self, job: SyncJob, job_id: int, lease: LeaseKeeper, keep: bool) -> Cleanup:
        with store.session_scope(self.db) as session:
            states = store.target_states_for_job(session, job_id=job_id)
        counter = CallCounter()
        cleanup = Cleanup(job.name, kept=keep)
        account_job = target_job(job, self.settings.max_contacts_per_account)
        directory = self.directory(counter)
        for user_id, state in sorted(states.items(), key=lambda kv: kv[1].target_email):
            lease.check()
            user = directory.get_user(user_id)
            if user is None:
                self.records.forget_target(job_id, user_id)
                cleanup.accounts.append(
                    AccountCleanup(state.target_email, TargetStatus.removed, keep, gone=True))
                continue
            email = str(user["primaryEmail"]).lower()
            memory = self.records.memory(job_id, user_id, state, utcnow())
            sync = TargetSync(self.people(email, counter), account_job)
            try:
                outcome = sync.release(memory) if keep else sync.remove(memory)
            except GoogleError as exc:
                outcome = TargetOutcome(status=exc.kind, reason=exc.reason)
            self.records.persist_target(job_id, TargetUser(user_id, email, TargetStatus.ok), outcome, leaving=True)
            cleanup.accounts.append(AccountCleanup(
                email, outcome.status, keep, outcome.updated if keep else outcome.deleted, outcome.label,
                outcome.reason))
        cleanup.api_calls = counter.total
        return cleanup


def _load_job(session: Any, job_ref: int | str) -> SyncJob:
    job = (
        store.get_job(session, job_id=job_ref)
        if isinstance(job_ref, int)
        else store.get_job_by_name(session, name=job_ref)
    )
    if job is None:
        raise JobNotFound(job_ref, f"no sync job named {job_ref!r}")
    return job


def _stored_id(job: SyncJob) -> int:
    if job.id is None:  # a job loaded from the store always has one
        raise JobNotFound(job.name, f"no sync job named {job.name!r}")
    return job.id
