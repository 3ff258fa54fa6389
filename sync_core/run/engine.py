"""Runs a job: resolve the source and the targets, sync each target, record the run, notify.

One engine serves the CLI, Slack's "run now" and the scheduler. Targets run in parallel on a bounded
pool (the only axis of parallelism Google allows: one writer per user); each target's outcome is
committed on its own, so a crash loses at most the target in flight, and that one is repaired by
the next run from the ownership tags.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError
from tenacity import RetryError, retry_if_exception, stop_after_delay, wait_exponential
from tenacity import Retrying as TenacityRetrying

from sync_core import store
from sync_core.alerting.notify import Notifier, NullNotifier
from sync_core.alerting.run_alerts import record_run_alerts
from sync_core.domain.errors import JobNotFound
from sync_core.domain.models import (
    JobKind,
    RunStatus,
    RunTrigger,
    SyncJob,
    TargetSelector,
    TargetState,
    TargetStatus,
    utcnow,
)
from sync_core.domain.reports import AccountCleanup, Cleanup, RunReport, TargetReport, no_targets_reason
from sync_core.google.calls import CallCounter
from sync_core.google.directory import DirectoryClient
from sync_core.google.errors import GoogleError, InvalidGrant
from sync_core.google.factory import GoogleClients
from sync_core.google.pacer import Pacer
from sync_core.google.people import PeopleClient
from sync_core.leases.lease_keeper import LeaseKeeper, LeaseLost
from sync_core.leases.processes import lease_holder, probe_process, this_process
from sync_core.observability import log_context
from sync_core.observability.metrics import Metrics
from sync_core.observability.observe import observed_run, observed_target
from sync_core.run.directory_source import read_directory_source
from sync_core.run.run_records import InSyncBatch, RunRecords
from sync_core.run.source import SourceFailure, SourceRead, read_source_group
from sync_core.run.target_sync import LinkWrite, PhotoLoader, TargetJob, TargetMemory, TargetOutcome, TargetSync
from sync_core.run.targets import Resolution, Selector, TargetResolver, TargetUser
from sync_core.scheduling.watch import WATCH_READ_WAIT_SECONDS, is_watch_holder
from sync_core.settings import Settings
from sync_core.sync.deletion_guard import GuardPolicy, holds
from sync_core.sync.plan import SourceItem, source_changed, source_version

log = logging.getLogger(__name__)


class JobBusy(Exception):
    """Another run of this job holds its lease."""


class JobDeleting(JobBusy):
    """The job is being deleted (some accounts still hold its contacts): it never runs again. A kind of
    `JobBusy`, so every caller that reports a busy job reports this one in its words."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"sync {name!r} is being deleted (some accounts still hold its contacts); delete it again to retry"
        )


# After a database error, how long a run goes on trying to record how it ended and to give its lease back
# (a restarted server is back within seconds). Past that, the next run marks it abandoned.
DATABASE_RECOVERY_SECONDS = 30.0


def _outage(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError) and store.is_outage(exc)


def _while_database_recovers(action: Callable[[], Any], what: str) -> bool:
    """Do `action`, trying again while the database is unavailable (up to DATABASE_RECOVERY_SECONDS).
    False if it never came back: logged in one line, no traceback."""
    try:
        for attempt in TenacityRetrying(
            retry=retry_if_exception(_outage),
            stop=stop_after_delay(DATABASE_RECOVERY_SECONDS),
            wait=wait_exponential(multiplier=0.25, max=4),
            reraise=False,
        ):
            with attempt:
                action()
    except RetryError as exc:
        log.warning("could not %s: %s", what, store.outage(exc.last_attempt.exception() or exc))
        return False
    return True


@contextmanager
def _database_errors() -> Iterator[None]:
    """The database failing outside a run's own handling: one line (DatabaseUnavailable), not a traceback."""
    try:
        yield
    except SQLAlchemyError as exc:
        if store.is_outage(exc):
            raise store.outage(exc) from None
        raise


@dataclass
class _TargetRun:
    """What every target of one run shares: built once by `_sync_targets`, read by each target's step."""

    job: SyncJob
    report: RunReport
    dry_run: bool
    cancel: threading.Event
    lease: LeaseKeeper | None  # None for a dry run, which writes nothing
    counter: CallCounter
    states: dict[str, TargetState]  # what the store knows of each account the job has reached
    target_job: TargetJob
    photos: PhotoLoader
    source_items: dict[str, SourceItem]
    source_version: str
    full_read_after: datetime  # a target not read in full since then is read in full
    label_owners: dict[str, str]  # accounts where another job keeps this job's label: user id -> its name
    in_sync: InSyncBatch


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

    # --- a run ------------------------------------------------------------------------------------
    def run(
        self,
        job_ref: int | str,
        *,
        trigger: RunTrigger = RunTrigger.cli,
        dry_run: bool = False,
        allow_deletions: bool = False,
        allow_empty_source: bool = False,
        progress: Callable[[RunReport, TargetReport], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> RunReport:
        """Run a job now. `cancel`, once set, lets targets in flight finish and starts no more
        (a graceful shutdown); the run is then recorded as abandoned. `allow_deletions`: what the
        mass-deletion guard would hold goes through, and an emptied source empties the targets
        (`allow_empty_source` is its old name)."""
        allow_deletions = allow_deletions or allow_empty_source
        with _database_errors():
            with store.session_scope(self.db) as session:
                job = _load_job(session, job_ref)
            assert job.id is not None
            if job.deleting:
                raise JobDeleting(job.name)
            if dry_run:
                return self._run(job, trigger, dry_run, allow_deletions, progress, cancel or threading.Event())
            with self._lease(job, busy=f"job {job.name!r} is already running") as lease:
                with store.session_scope(self.db) as session:
                    fresh = store.get_job(session, job_id=job.id)
                if fresh is None:
                    raise JobNotFound(job_ref, f"no sync job named {job_ref!r}")
                if fresh.deleting:  # marked while we loaded it: the delete goes first
                    raise JobDeleting(job.name)
                return self._run(
                    job, trigger, dry_run, allow_deletions, progress, cancel or threading.Event(), lease=lease
                )

    @contextmanager
    def _lease(self, job: SyncJob, *, busy: str) -> Iterator[LeaseKeeper]:
        """Hold the job's lease while the block runs, renewed by a heartbeat; JobBusy if a live run holds it.

        A holder that is gone (its lease lapsed, or its process on this host no longer runs) is taken over at
        once, and the runs it left `running` are marked abandoned."""
        assert job.id is not None
        ttl = self.settings.lease_seconds
        # A source watch holds the lease for one read (a second or so): a run that meets it waits its turn.
        watch_over = time.monotonic() + WATCH_READ_WAIT_SECONDS
        while True:
            with store.session_scope(self.db) as session:
                grant = store.acquire_lease(
                    session, job_id=job.id, holder=self.holder, ttl_seconds=ttl, me=this_process(), probe=probe_process
                )
                if grant:
                    if grant.verdict.holder_dead:
                        log.info("job %s: took over the lease of a run that is gone (%s)", job.name, grant.verdict)
                    store.abandon_running_runs(session, job_id=job.id)
                    break
                held = store.lease_for_job(session, job_id=job.id)
            if held is None or not is_watch_holder(held.holder) or time.monotonic() > watch_over:
                raise JobBusy(busy)
            self.sleep(0.1)
        keeper = LeaseKeeper(self.db, job.id, self.holder, ttl_seconds=ttl).start()
        try:
            yield keeper
        finally:
            keeper.stop()
            job_id = job.id

            def release() -> None:
                with store.session_scope(self.db) as session:
                    store.release_lease(session, job_id=job_id, holder=self.holder)

            # If the database does not come back, the lease lapses by itself (or is taken over at once
            # by a run on this host, once this process is gone).
            _while_database_recovers(release, f"give back the lease of {job.name!r}")

    def remove_all(self, job_ref: int | str, *, keep_contacts: bool = False) -> Cleanup:
        """Remove every contact the job created, from every account it ever wrote to; with `keep_contacts`,
        release them instead (our tags go, the contacts and the label stay as the user's own)."""
        with _database_errors():
            with store.session_scope(self.db) as session:
                job = _load_job(session, job_ref)
            with self._lease(job, busy=f"job {job.name!r} is running; try again when it has finished") as lease:
                return self._remove_all(job, lease, keep_contacts)

    def _remove_all(self, job: SyncJob, lease: LeaseKeeper, keep: bool) -> Cleanup:
        assert job.id is not None
        with store.session_scope(self.db) as session:
            states = store.target_states_for_job(session, job_id=job.id)
        counter = CallCounter()
        cleanup = Cleanup(job.name, kept=keep)
        target_job = self._target_job(job)
        directory = self.directory(counter)
        for user_id, state in sorted(states.items(), key=lambda kv: kv[1].target_email):
            lease.check()
            user = directory.get_user(user_id)
            if user is None:
                self.records.forget_target(job.id, user_id)
                cleanup.accounts.append(
                    AccountCleanup(state.target_email, TargetStatus.removed, keep, gone=True))
                continue
            email = str(user["primaryEmail"]).lower()
            memory = self.records.memory(job.id, user_id, state, utcnow())
            sync = TargetSync(self.people(email, counter), target_job)
            try:
                outcome = sync.release(memory) if keep else sync.remove(memory)
            except GoogleError as exc:
                outcome = TargetOutcome(status=exc.kind, reason=exc.reason)
            self.records.persist_target(job.id, TargetUser(user_id, email, TargetStatus.ok), outcome, leaving=True)
            cleanup.accounts.append(AccountCleanup(
                email, outcome.status, keep, outcome.updated if keep else outcome.deleted, outcome.label,
                outcome.reason))
        cleanup.api_calls = counter.total
        return cleanup

    def _target_job(self, job: SyncJob, guard: GuardPolicy | None = None) -> TargetJob:
        return TargetJob(
            job_uid=job_tag(job),
            group_name=job.target_group_name,
            add_to_my_contacts=job.add_to_my_contacts,
            max_contacts=self.settings.max_contacts_per_account,
            deletion_guard=guard,
        )

    # --- the mass-deletion guard (sync_core.sync.deletion_guard) ---------------------------------------------
    def _deletion_guard(self, job: SyncJob, allow_deletions: bool, run_id: int | None) -> GuardPolicy | None:
        """The guard this run keeps; None when its deletions go through: the run was told to allow them, or
        an admin applied the held ones since the last run."""
        assert job.id is not None
        if allow_deletions or self.records.deletions_applied(job.id, run_id):
            return None
        return self.settings.deletion_guard()

    def _hold_leavers(
        self,
        job: SyncJob,
        guard: GuardPolicy | None,
        states: dict[str, TargetState],
        leavers: list[TargetUser],
        report: RunReport,
        dry_run: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
    ) -> list[TargetUser]:
        """The leavers whose contacts this run removes. When most of the accounts the job wrote to left the
        target set at once (a mistyped OU, a group emptied by mistake), none: each is reported with what it
        keeps, and keeps its state, so every run holds them again until an admin applies the removals."""
        assert job.id is not None
        if guard is None or not leavers:
            return leavers
        counts = self.records.link_counts(job.id, [u.user_id for u in leavers if u.user_id])
        if not holds(guard, before=len(states), leaving=len(leavers), deletions=sum(counts.values())):
            return leavers
        for user in leavers:
            n = counts.get(user.user_id or "", 0)
            reason = (f"left the sync with {len(leavers)} of its {len(states)} accounts at once; removing its "
                      f"{n} contacts waits for an admin")
            self._record(job, report, TargetReport(user.email, user.user_id, TargetStatus.ok, reason, held=n),
                         dry_run, progress)
        return []

    @observed_run
    def _run(
        self,
        job: SyncJob,
        trigger: RunTrigger,
        dry_run: bool,
        allow_deletions: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
        cancel: threading.Event,
        *,
        lease: LeaseKeeper | None = None,
    ) -> RunReport:
        """`lease`: the heartbeat of the job's lease (None for a dry run, which writes nothing)."""
        assert job.id is not None
        counter = CallCounter()
        report = RunReport(job.id, job.name, dry_run, source_email=describe_source(job))
        run_id: int | None = None
        if not dry_run:
            with store.session_scope(self.db) as session:
                run_id = store.start_run(session, job_id=job.id, trigger=trigger, dry_run=dry_run).id
        report.run_id = run_id
        log_context.RUN_ID.set(run_id)
        try:
            guard = self._deletion_guard(job, allow_deletions, run_id)
            directory = self.directory(counter)
            source_user_id, source_items = self._read_source(
                job, directory, counter, report, dry_run, allow_deletions
            )
            report.source_count = len(source_items)
            self._sync_targets(
                job, directory, counter, source_user_id, source_items, report, dry_run, progress, cancel, lease,
                guard=guard,
            )
        except SourceFailure as failure:
            report.status = RunStatus.failed
            report.error_kind, report.error_reason = failure.kind, failure.reason
        except GoogleError as exc:
            report.status = RunStatus.failed
            report.error_kind, report.error_reason = exc.kind, exc.reason
        except LeaseLost as exc:
            report.status = RunStatus.failed
            report.error_kind = TargetStatus.lease_lost
            report.error_reason = f"{exc}; stopped writing (the run that holds it now goes on)"
        except SQLAlchemyError as exc:
            if not store.is_outage(exc):
                raise
            # Links are committed a batch at a time and a target's state only with its last links: what went
            # through is consistent, and what did not is found again from the ownership tags by the next run.
            report.status = RunStatus.failed
            report.error_kind = TargetStatus.database
            report.error_reason = f"{store.outage(exc)}; stopped (the next run goes on from what was saved)"
        else:
            _conclude(report, cancelled=cancel.is_set())
        report.api_calls = counter.total
        report.calls_by_method = dict(counter.by_method)
        if not dry_run and run_id is not None:
            self._finish(job, run_id, report, lease)
        return report

    def _finish(self, job: SyncJob, run_id: int, report: RunReport, lease: LeaseKeeper | None) -> None:
        """Record how the run ended, then its alerts, then tell the notifier."""
        if lease is not None and lease.lost.is_set():
            pass  # the run's row belongs to the new holder now, who marked it abandoned
        elif not _while_database_recovers(lambda: self.records.finish(run_id, report), "record the run's end"):
            return  # left `running`: the next run to take the lease marks it abandoned
        self.after_run(job, report)

    def after_run(self, job: SyncJob, report: RunReport) -> None:
        """What every recorded run ends with, whoever started it: its alerts decided and recorded here (in
        `report.alerts`), then the notifier told (the bot posts what needs posting)."""
        try:
            report.alerts = record_run_alerts(self.db, job, report,
                                              transient_after=self.settings.alert_transient_runs)
        except SQLAlchemyError:  # the run is recorded; its alerts are decided again by the next run
            log.exception("could not record the alerts of run %s of %s", report.run_id, job.name)
        try:
            self.notifier.run_finished(job, report)
        except Exception:  # noqa: BLE001 - the run is recorded; telling Slack failing must not undo that
            log.exception("the notifier failed after run %s of %s", report.run_id, job.name)

    # --- source -------------------------------------------------------------------------------------
    def _read_source(
        self,
        job: SyncJob,
        directory: DirectoryClient,
        counter: CallCounter,
        report: RunReport,
        dry_run: bool,
        allow_empty_source: bool,
    ) -> tuple[str | None, dict[str, SourceItem]]:
        """The source's contacts, and the source user's id (None for a Directory Sync)."""
        assert job.id is not None
        read_at = utcnow()
        with store.session_scope(self.db) as session:
            cached_rows = store.source_rows(session, job_id=job.id)
        cached = {k: SourceItem(k, payload, digest, photo) for k, (payload, digest, photo) in cached_rows.items()}
        source_user_id: str | None = None
        sync_token: str | None = None
        group_name = ""
        changed_at: datetime | None = None
        if job.kind is JobKind.directory:
            items = read_directory_source(
                directory,
                domains=job.directory_domains,
                include_ous=job.include_ous,
                exclude_ous=job.exclude_ous,
                include_aliases=job.include_aliases,
                max_contacts=self.settings.max_contacts_per_account,
            )
        else:
            source_user_id, read = self._read_personal_source(job, directory, counter, report, cached)
            items, sync_token, group_name, changed_at = read.items, read.sync_token, read.group_name, read.changed_at
        if not items and cached and not allow_empty_source:
            raise SourceFailure(
                TargetStatus.source_empty,
                f"the source is now empty (it held {len(cached)} contacts); nothing was deleted. "
                "If that is intended, run again allowing an empty source.",
            )
        if not dry_run:
            with store.session_scope(self.db) as session:
                store.replace_source_contacts(
                    session, job_id=job.id, contacts={k: (i.body, i.hash, i.photo) for k, i in items.items()}
                )
                fresh = session.get(SyncJob, job.id)
                if fresh is not None and source_changed(cached, items):
                    # Google's time of the newest edit when an incremental read says; else when we saw it.
                    fresh.source_changed_at = min(changed_at or read_at, read_at)
                    session.add(fresh)
                if fresh is not None and job.kind is JobKind.personal:
                    fresh.source_sync_token = sync_token
                    if group_name and group_name != fresh.source_group_name:
                        fresh.source_group_name = group_name
                    session.add(fresh)
        return source_user_id, items

    def _read_personal_source(
        self,
        job: SyncJob,
        directory: DirectoryClient,
        counter: CallCounter,
        report: RunReport,
        cached: dict[str, SourceItem],
    ) -> tuple[str, SourceRead]:
        assert job.source_user_id and job.source_group_resource_name
        user = directory.get_user(job.source_user_id)
        if user is None:
            raise SourceFailure(TargetStatus.not_found, f"the source user {job.source_email} no longer exists")
        if user.get("suspended") or user.get("archived"):
            raise SourceFailure(TargetStatus.suspended, f"the source user {user['primaryEmail']} is suspended")
        current = str(user["primaryEmail"]).lower()
        if current != (job.source_email or "").lower():
            report.source_renamed_to = current  # followed by id; the admin is told
        try:
            read = read_source_group(
                self.people(current, counter),
                group_resource_name=job.source_group_resource_name,
                cached=cached,
                sync_token=job.source_sync_token,
            )
        except InvalidGrant as exc:
            reason = f"cannot act as the source user {current}: {exc.reason}"
            raise SourceFailure(TargetStatus.not_found, reason) from None
        return str(user["id"]), read

    # --- targets ------------------------------------------------------------------------------------
    def _sync_targets(
        self,
        job: SyncJob,
        directory: DirectoryClient,
        counter: CallCounter,
        source_user_id: str | None,
        source_items: dict[str, SourceItem],
        report: RunReport,
        dry_run: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
        cancel: threading.Event,
        lease: LeaseKeeper | None = None,
        *,
        guard: GuardPolicy | None = None,
    ) -> None:
        assert job.id is not None
        with store.session_scope(self.db) as session:
            selector_rows = store.list_selectors(session, job_id=job.id)
            states = store.target_states_for_job(session, job_id=job.id)
        resolution = self._resolve_targets(job, directory, selector_rows, source_user_id, dry_run)
        leavers = self._leavers(job, directory, states, resolution, dry_run)
        report.targets_expected = len(resolution.unreachable) + len(resolution.reachable) + len(leavers)
        report.reached = len(resolution.reachable)
        report.selectors = [f"{s.kind.value}:{s.value}" for s in selector_rows]
        leavers = self._hold_leavers(job, guard, states, leavers, report, dry_run, progress)
        self._record_unreachable(job, report, resolution.unreachable, dry_run, progress)

        run = _TargetRun(
            job=job,
            report=report,
            dry_run=dry_run,
            cancel=cancel,
            lease=lease,
            counter=counter,
            states=states,
            target_job=self._target_job(job, guard),
            photos=self._photo_loader(job, directory, counter),
            source_items=source_items,
            source_version=source_version(
                source_items, job.uid, job.kind.value, job.target_group_name, job.add_to_my_contacts, job.include_self
            ),
            full_read_after=utcnow() - timedelta(hours=self.settings.full_read_every_hours),
            label_owners=self._label_owners(job, states),
            in_sync=self.records.in_sync_batch(IN_SYNC_FLUSH),
        )
        targets = [(u, False) for u in sorted(resolution.reachable.values(), key=lambda u: u.email)]
        targets += [(u, True) for u in leavers]
        # At most `max_parallel_targets` in flight, each recorded as soon as it is done (not in submission
        # order): what a run holds is bounded by the targets in flight, never by the number of targets.
        width = in_flight_width(
            self.settings.max_parallel_targets, self.settings.max_contacts_in_flight, len(source_items)
        )
        try:
            work = observed_target(self.metrics, dry_run=dry_run)(partial(self._sync_target, run))
            self._run_targets(targets, work, width, job, report, dry_run, progress)
        finally:
            run.in_sync.flush()
        report.targets.sort(key=lambda t: t.email)

    def _resolve_targets(
        self,
        job: SyncJob,
        directory: DirectoryClient,
        selector_rows: list[TargetSelector],
        source_user_id: str | None,
        dry_run: bool,
    ) -> Resolution:
        """The job's selectors resolved to users (the source user is never a target of their own contacts);
        the ids found for email selectors are remembered, so that a later rename is followed."""
        assert job.id is not None
        selectors = [Selector(s.kind.value, s.value, s.resolved_user_id) for s in selector_rows]
        resolution = TargetResolver(directory).resolve(
            selectors, exclude_ids={source_user_id} if source_user_id else set()
        )
        if not dry_run:
            self.records.remember_email_ids(job.id, selector_rows, resolution.email_ids)
        return resolution

    def _leavers(
        self,
        job: SyncJob,
        directory: DirectoryClient,
        states: dict[str, TargetState],
        resolution: Resolution,
        dry_run: bool,
    ) -> list[TargetUser]:
        """Former targets that are no longer selected and still hold our contacts: this run removes them. One
        whose account is gone, suspended or archived is forgotten instead (nothing to clean there)."""
        assert job.id is not None
        leavers: list[TargetUser] = []
        unreachable_ids = {u.user_id for u in resolution.unreachable if u.user_id}
        for user_id in states:
            if user_id in resolution.reachable or user_id in unreachable_ids:
                continue
            user = directory.get_user(user_id)
            if user is None or user.get("suspended") or user.get("archived"):
                if not dry_run:
                    self.records.forget_target(job.id, user_id)
                continue
            leavers.append(TargetUser(user_id, str(user["primaryEmail"]).lower(), TargetStatus.ok))
        return leavers

    def _record_unreachable(
        self,
        job: SyncJob,
        report: RunReport,
        unreachable: list[TargetUser],
        dry_run: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
    ) -> None:
        """Each selected target that cannot be synced (suspended, not found), recorded as such. A suspended
        member of a group, domain, OU or role is left out as expected; one chosen by address is a failure."""
        for missing in unreachable:
            status = TargetStatus.suspended if missing.reach is TargetStatus.suspended else TargetStatus.not_found
            self._record(
                job,
                report,
                TargetReport(
                    missing.email,
                    missing.user_id,
                    status,
                    missing.reason,
                    excluded=status is TargetStatus.suspended
                    and not any(label.startswith("email:") for label in missing.selected_by),
                ),
                dry_run,
                progress,
            )

    def _sync_target(self, run: _TargetRun, user: TargetUser, leaving: bool) -> TargetReport:
        """One target's step: sync it (or, for a leaver, remove what we wrote there), and store its outcome."""
        job = run.job
        assert job.id is not None and user.user_id is not None
        if run.cancel.is_set():
            return TargetReport(user.email, user.user_id, TargetStatus.error, "not reached: shutting down")
        if run.lease is not None:
            run.lease.check()
        state = run.states.get(user.user_id)
        if state is None and not run.dry_run:
            # Recorded before anything is written there, so a run killed half way through this account
            # still knows it holds contacts of ours (a leaver's clean-up, a job deletion find it).
            self.records.reached(job.id, user)
        memory = self.records.memory(job.id, user.user_id, state, run.full_read_after)
        outcome = self._target_outcome(run, user, memory, leaving)
        status = outcome.status
        if status is TargetStatus.ok and user.reach is TargetStatus.renamed:
            status = TargetStatus.renamed
        target_report = TargetReport(
            user.email,
            user.user_id,
            status,
            outcome.reason or user.reason,
            user.new_email,
            outcome.plan if run.dry_run else None,  # only a dry run shows plans; they go out as they come
            **outcome.counts(),
        )
        if not run.dry_run:
            self._store_target(run, user, outcome, leaving, target_report)
        return target_report

    def _target_outcome(
        self, run: _TargetRun, user: TargetUser, memory: TargetMemory, leaving: bool
    ) -> TargetOutcome:
        """What syncing (or cleaning) one target came to. A target's failure is its outcome, never the run's:
        only a lost lease or a database outage stops the whole run (see _run)."""
        assert user.user_id is not None
        owner = None if leaving else run.label_owners.get(user.user_id)
        sync = TargetSync(
            self.people(user.email, run.counter),
            run.target_job,
            dry_run=run.dry_run,
            photos=run.photos,
            on_links=None if run.dry_run else self._link_saver(run, user.user_id),
        )
        try:
            if owner is not None:  # one label, one owner: nothing is written here
                return TargetOutcome(status=TargetStatus.conflict, reason=(
                    f"the sync {owner!r} keeps a label named {run.job.target_group_name!r} in this account; "
                    "nothing was written here. Give this sync's label another name to sync here."))
            if leaving:
                return sync.remove(memory)
            source = self._source_for(run.job, user, run.source_items)
            return sync.sync(source, memory, source_version=run.source_version)
        except GoogleError as exc:
            return TargetOutcome(status=exc.kind, reason=exc.reason)
        except LeaseLost:
            raise  # the whole run stops (see _run)
        except Exception as exc:  # noqa: BLE001 - one target failing never stops the others
            if _outage(exc):
                raise  # nor can the others store anything: the whole run stops (see _run)
            log.exception("target %s failed", user.email)
            return TargetOutcome(status=TargetStatus.error, reason=f"{exc.__class__.__name__}: {exc}"[:300])

    def _link_saver(self, run: _TargetRun, user_id: str) -> Callable[[list[LinkWrite]], None]:
        """Stores a target's links a batch at a time, as soon as the batch is written."""
        job_id, lease = run.job.id, run.lease
        assert job_id is not None

        def store_links(writes: list[LinkWrite]) -> None:
            self.records.save_links(job_id, user_id, writes)
            if lease is not None:
                lease.check()  # written by now, and linked; but another run holds the job: write no more

        return store_links

    def _store_target(
        self, run: _TargetRun, user: TargetUser, outcome: TargetOutcome, leaving: bool, target_report: TargetReport
    ) -> None:
        """The target's state and its result row; a target found in sync waits in the run's batch."""
        job_id = run.job.id
        assert job_id is not None
        if run.lease is not None:
            run.lease.check()  # the new holder's state for this target is not ours to overwrite
        report = run.report
        result = (report.run_id, target_report) if report.run_id is not None else None
        if outcome.in_sync and not leaving:
            run.in_sync.add(job_id, user, outcome, result)
        else:
            self.records.persist_target(job_id, user, outcome, leaving, result=result)

    def _label_owners(self, job: SyncJob, states: dict[str, TargetState]) -> dict[str, str]:
        """The accounts where another job keeps a label of this job's name: user id -> that job's name. The
        job that came first keeps it; where both were before this rule, the older job."""
        assert job.id is not None
        with store.session_scope(self.db) as session:
            keepers = store.label_keepers(session, label=job.target_group_name, other_than=job.id)
        owners = {}
        for user_id, (other_id, other_name) in keepers.items():
            mine = states.get(user_id)
            here_first = (mine is not None and mine.target_group_resource_name is not None
                          and mine.last_status is not TargetStatus.conflict and job.id < other_id)
            if not here_first:
                owners[user_id] = other_name
        return owners

    def _run_targets(
        self,
        targets: list[tuple[TargetUser, bool]],
        sync_target: Callable[[TargetUser, bool], TargetReport],
        width: int,
        job: SyncJob,
        report: RunReport,
        dry_run: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
    ) -> None:
        """Sync the targets `width` at a time, recording each as it finishes."""
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="target") as pool:
            in_flight: set[Future[TargetReport]] = set()

            def record(done: set[Future[TargetReport]]) -> None:
                for future in done:  # sync_target has stored each one's result row with its state
                    self._record(job, report, future.result(), dry_run, progress, stored=True)

            for target, leaving in targets:
                if len(in_flight) >= width:
                    done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    record(done)
                in_flight.add(pool.submit(sync_target, target, leaving))
            while in_flight:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                record(done)

    def _photo_loader(
        self, job: SyncJob, directory: DirectoryClient, counter: CallCounter
    ) -> Callable[[str, str], bytes | None]:
        """Reads each source photo once per run, whatever the number of targets it goes to."""
        cache: dict[tuple[str, str], bytes | None] = {}
        lock = threading.Lock()

        def load(source_key: str, fingerprint: str) -> bytes | None:
            with lock:
                if (source_key, fingerprint) in cache:
                    return cache[(source_key, fingerprint)]
                try:
                    if job.kind is JobKind.directory:
                        data = directory.get_photo(source_key)
                    else:
                        counter.add("photo.fetch")
                        data = self.clients.fetch(fingerprint)
                except (GoogleError, OSError) as exc:
                    log.warning("could not read the photo of %s: %s", source_key, exc)
                    data = None
                cache[(source_key, fingerprint)] = data
                return data

        return load

    @staticmethod
    def _source_for(job: SyncJob, user: TargetUser, items: dict[str, SourceItem]) -> dict[str, SourceItem]:
        """A Directory Sync target does not get their own card unless the admin asked for it."""
        if job.kind is JobKind.directory and not job.include_self and user.user_id in items:
            return {k: v for k, v in items.items() if k != user.user_id}
        return items

    def _record(
        self,
        job: SyncJob,
        report: RunReport,
        target: TargetReport,
        dry_run: bool,
        progress: Callable[[RunReport, TargetReport], None] | None,
        *,
        stored: bool = False,
    ) -> None:
        # The report keeps counts; a dry run's plan goes to `progress` (which prints it) and no further.
        report.targets.append(replace(target, plan=None) if target.plan is not None else target)
        if not dry_run:
            self.metrics.target_finished(target.status.value)
        if progress:
            progress(report, target)
        if not dry_run and not stored and report.run_id is not None:
            assert job.id is not None
            self.records.add_result(report.run_id, job.id, target)


# Targets found in sync have their state and result stored this many at a time (one commit, not one each).
IN_SYNC_FLUSH = 100


def _conclude(report: RunReport, *, cancelled: bool) -> None:
    """A run that went through to the end: its status from its targets' (or abandoned, if a shutdown
    stopped it)."""
    failed = len(report.failed_targets)
    if cancelled:
        report.status = RunStatus.abandoned
        report.error_reason = "stopped by a shutdown; targets not reached are synced by the next run"
    elif failed == 0 and report.reached == 0:  # nothing failed, and nobody was there to get the contacts
        report.status = RunStatus.no_targets
        report.error_kind = TargetStatus.no_targets
        report.error_reason = no_targets_reason(report.selectors)
    elif failed == 0:
        report.status = RunStatus.ok
    elif failed == len(report.targets):
        report.status = RunStatus.failed
        report.error_kind = report.failed_targets[0].status
        report.error_reason = f"all {failed} targets failed"
    else:
        report.status = RunStatus.partial
        report.error_reason = f"{failed} of {len(report.targets)} targets failed"


def in_flight_width(max_targets: int, max_contacts: int, source_size: int) -> int:
    """How many targets a run syncs at once: the setting, unless the source is so big that many targets in
    flight would pass the contacts-in-flight budget (memory follows the contacts in flight)."""
    return max(1, min(max_targets, max_contacts // max(1, source_size)))


def _load_job(session: Any, job_ref: int | str) -> SyncJob:
    job = (
        store.get_job(session, job_id=job_ref)
        if isinstance(job_ref, int)
        else store.get_job_by_name(session, name=job_ref)
    )
    if job is None:
        raise JobNotFound(job_ref, f"no sync job named {job_ref!r}")
    return job


def describe_source(job: SyncJob) -> str:
    if job.kind is JobKind.directory:
        return "the directory of " + ", ".join(job.directory_domains)
    return job.source_email or ""


def job_tag(job: SyncJob) -> str:
    """The value our ownership tags carry for this job (stable across renames of the job)."""
    return job.uid
