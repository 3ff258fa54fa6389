"""One run of one job: its state (the job, its clients and counter, its report, dry run or not, its cancel event,
its lease, its deletion guard) and its phases, in order:

    take the lease -> start -> read the source -> keep the source -> resolve the targets -> sync the targets
    -> record -> after the run (alerts, the notifier)

A `JobRun` is made for one run and thrown away; `SyncEngine.run` builds one and drives it. Targets run in
parallel on a `TargetPool` (the only axis of parallelism Google allows: one writer per user), a target waiting
for its user's quota window parked without holding a worker; each target's outcome is committed on its own, so
a crash loses at most the targets in flight, and those are repaired by the next run from the ownership tags.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError

from sync_core import store
from sync_core.alerting.notify import Notifier
from sync_core.alerting.run_alerts import record_run_alerts
from sync_core.domain.directory_fields import parse_mapping
from sync_core.domain.field_rules import job_field_rules
from sync_core.domain.models import JobKind, RunStatus, RunTrigger, SyncJob, TargetState, TargetStatus, utcnow
from sync_core.domain.reports import RunReport, TargetReport, no_targets_reason
from sync_core.google.calls import CallCounter
from sync_core.google.cooperative import OncePerKey
from sync_core.google.directory import DirectoryClient
from sync_core.google.domain_contacts import DomainContactsClient
from sync_core.google.errors import GoogleError, InvalidGrant
from sync_core.google.factory import GoogleClients
from sync_core.google.people import ConnectionsRead, PeopleClient
from sync_core.leases.lease_keeper import LeaseLost
from sync_core.observability import log_context
from sync_core.observability.metrics import Metrics
from sync_core.observability.observe import observed_run, observed_target
from sync_core.run.directory_source import KnownUser, is_shared_contact, read_directory_source, read_shared_contacts
from sync_core.run.editor_copies import ReadOnce
from sync_core.run.job_lease import NO_LEASE, HeldLease, hold_lease
from sync_core.run.merge_phase import MergeInput, advance_base, merge_editors
from sync_core.run.opt_outs import opted_out_ids, split_leavers
from sync_core.run.outage import is_outage, while_database_recovers
from sync_core.run.parking import ShuttingDown, Steps
from sync_core.run.run_errors import JobDeleting, JobNotFound
from sync_core.run.run_records import RunRecords, TargetBatch
from sync_core.run.source import SourceFailure, SourceRead, read_source_group
from sync_core.run.target_model import LinkWrite, PhotoLoader, TargetJob, TargetMemory, TargetOutcome
from sync_core.run.target_pool import TargetPool
from sync_core.run.target_sync import TargetSync
from sync_core.run.targets import Resolution, Selector, TargetResolver, TargetUser
from sync_core.settings import Settings
from sync_core.sync.deletion_guard import GuardPolicy, holds
from sync_core.sync.plan import SourceItem, source_changed, source_version
from sync_core.sync.projection import project_source
from sync_core.sync.source_view import Without

log = logging.getLogger(__name__)

Progress = Callable[[RunReport, TargetReport], None]  # told of each target as it is recorded

# Finished targets have their state and result stored this many at a time (one commit, not one each).
TARGET_FLUSH = 100


@dataclass(frozen=True)
class RunRequest:
    """What the caller asked of this run."""

    trigger: RunTrigger = RunTrigger.cli
    dry_run: bool = False
    # What the mass-deletion guard would hold goes through, and an emptied source empties the targets.
    allow_deletions: bool = False
    progress: Progress | None = None
    # Once set, targets in flight finish and no more start (a graceful shutdown); the run is recorded abandoned.
    cancel: threading.Event = field(default_factory=threading.Event)
    job_ref: int | str | None = None  # how the caller named the job (its "not found" says it so)


@dataclass(frozen=True)
class RunServices:
    """What every run of one engine shares."""

    db: DbEngine
    clients: GoogleClients  # paced by the process's one pacer (see sync_core.google.factory)
    settings: Settings
    records: RunRecords
    metrics: Metrics
    notifier: Notifier
    holder: str  # this engine's name on the leases it takes
    sleep: Callable[[float], None] = time.sleep


class RunClients:
    """This run's Google clients: each call counted on the run's counter, the Directory client made once."""

    def __init__(self, clients: GoogleClients, counter: CallCounter) -> None:
        self.clients = clients
        self.counter = counter

    @cached_property
    def directory(self) -> DirectoryClient:
        return self.clients.directory(self.counter)

    @cached_property
    def domain_contacts(self) -> DomainContactsClient:
        return self.clients.domain_contacts(self.counter)

    def people(self, subject: str) -> PeopleClient:
        return self.clients.people(subject, self.counter)

    def photo_loader(self, kind: JobKind) -> PhotoLoader:
        """Reads each source photo once per run, whatever the number of targets it goes to."""
        directory = self.directory

        def read(key: tuple[str, str]) -> bytes | None:
            source_key, fingerprint = key
            try:
                if kind is JobKind.directory:
                    return directory.get_photo(source_key)
                self.counter.add("photo.fetch")
                return self.clients.fetch(fingerprint)
            except (GoogleError, OSError) as exc:
                log.warning("could not read the photo of %s: %s", source_key, exc)
                return None

        photos = OncePerKey(read)
        return lambda source_key, fingerprint: photos.get((source_key, fingerprint))


@dataclass(frozen=True)
class RunSource:
    """The source as this run takes it: what `read_source` found (and, once editors merge into the source,
    what the merge made of it: see `JobRun.phases`)."""

    items: dict[str, SourceItem]
    user_id: str | None  # the source user's id (None for a Directory Sync)
    cached: dict[str, SourceItem]  # what the store held of the source before this run
    read_at: datetime
    sync_token: str | None = None  # a personal source's next incremental read
    group_name: str = ""  # a personal source's group, as Google names it now
    changed_at: datetime | None = None  # Google's time of the newest edit, when an incremental read says
    versions: Mapping[str, str] = field(default_factory=dict)  # a directory user's card version, stored with it


@dataclass(frozen=True)
class RunTargets:
    """The accounts this run syncs, in order: the reachable targets (by email), then the leavers it cleans."""

    states: dict[str, TargetState]  # what the store knows of each account the job has reached
    targets: list[tuple[TargetUser, bool]]  # (user, leaving)


@dataclass(frozen=True)
class _SharedByTargets:
    """What every target of one run shares: built once by `sync_targets`, read by each target's step."""

    states: dict[str, TargetState]
    target_job: TargetJob
    photos: PhotoLoader
    source_items: dict[str, SourceItem]
    source_version: str
    full_read_after: datetime  # a target not read in full since then is read in full
    label_owners: dict[str, str]  # accounts where another job keeps this job's label: user id -> its name
    finished: TargetBatch  # finished targets waiting to be stored
    new_with_links: set[str]  # of the targets with no state yet, those where the job holds links all the same
    others_wrote: dict[str, datetime]  # accounts where other jobs' last runs wrote: user id -> when (see memory)


class JobRun:
    def __init__(self, job: SyncJob, request: RunRequest, services: RunServices) -> None:
        if job.id is None:
            raise ValueError(f"the job {job.name!r} is not stored: it cannot run")
        self.job = job
        self.job_id: int = job.id
        self.request = request
        self.trigger = request.trigger
        self.dry_run = request.dry_run
        self.cancel = request.cancel
        self.services = services
        self.db = services.db
        self.settings = services.settings
        self.records = services.records
        self.metrics = services.metrics
        self.counter = CallCounter()
        self.google = RunClients(services.clients, self.counter)
        self.report = RunReport(job.id, job.name, self.dry_run, source_email=describe_source(job))
        self.lease: HeldLease = NO_LEASE  # a dry run writes nothing and holds none; see take_lease
        self.run_id: int | None = None  # the run's row, once started (a dry run has none)
        # Editors' accounts the merge read already (user id -> the token, the read, the bodies): `merge_phase`.
        self.shared_reads: dict[str, tuple[str, ConnectionsRead, dict[str, Any]]] = {}
        self.merge: MergeInput | None = None  # what the merge phase found, for the base's advance

    # --- the run, start to end ----------------------------------------------------------------------
    def drive(self) -> RunReport:
        """The whole run: the job's lease (a dry run takes none), then `execute`."""
        if self.dry_run:
            return self.execute()
        with self.take_lease():
            return self.execute()

    @contextmanager
    def take_lease(self) -> Iterator[None]:
        """The job's lease, held (renewed by a heartbeat) while the block runs; JobBusy if a live run holds it.
        The job is read again once it is held: deleted, or marked for deletion meanwhile, it does not run."""
        busy = f"job {self.job.name!r} is already running"
        with hold_lease(self.db, job_id=self.job_id, job_name=self.job.name, holder=self.services.holder,
                        ttl_seconds=self.settings.lease_seconds, busy=busy, sleep=self.services.sleep) as keeper:
            with store.session_scope(self.db) as session:
                fresh = store.get_job(session, job_id=self.job_id)
            if fresh is None:
                asked_as = self.job.name if self.request.job_ref is None else self.request.job_ref
                raise JobNotFound(asked_as, f"no sync job named {asked_as!r}")
            if fresh.deleting:  # marked while we loaded it: the delete goes first
                raise JobDeleting(self.job.name)
            self.lease = keeper
            yield

    @observed_run
    def execute(self) -> RunReport:
        """Start, the phases, record. A target's failure is its own; the source failing, Google failing as the
        admin, the lease lost or the database gone end the whole run as failed (and it is recorded so)."""
        report = self.report
        self.start()
        try:
            self.phases()
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
            conclude(report, cancelled=self.cancel.is_set())
        report.api_calls = self.counter.total
        report.calls_by_method = dict(self.counter.by_method)
        self.record()
        return report

    def phases(self) -> None:
        """The run's work, phase by phase; each hands the next what it needs."""
        guard = self.deletion_guard()
        source = self.read_source()
        # Editors (issue 21): their edits merged into the source (and written there); everything below sees
        # only the merged source: the store keeps it as the source's contacts, and every target gets it.
        source = self.merge_editors(source, guard)
        self.keep_source(source)
        targets = self.resolve_targets(source, guard)
        self.sync_targets(source, targets, guard)
        self.advance_merge_base()

    def start(self) -> None:
        """The run's row (a dry run has none), and its id on every log line from here on."""
        if not self.dry_run:
            with store.session_scope(self.db) as session:
                self.run_id = store.start_run(session, job_id=self.job_id, trigger=self.trigger,
                                              dry_run=self.dry_run).id
        self.report.run_id = self.run_id
        log_context.RUN_ID.set(self.run_id)

    def record(self) -> None:
        """How the run ended, in the store; then its alerts and the notifier (`after_run`)."""
        run_id = self.run_id
        if self.dry_run or run_id is None:
            return
        if self.lease.lost.is_set():
            pass  # the run's row belongs to the new holder now, who marked it abandoned
        elif not while_database_recovers(lambda: self.records.finish(run_id, self.report), "record the run's end"):
            return  # left `running`: the next run to take the lease marks it abandoned
        after_run(self.services, self.job, self.report)

    # --- the mass-deletion guard (sync_core.sync.deletion_guard) ---------------------------------------------
    def deletion_guard(self) -> GuardPolicy | None:
        """The guard this run keeps; None when its deletions go through: the run was told to allow them, or
        an admin applied the held ones since the last run."""
        if self.request.allow_deletions or self.records.deletions_applied(self.job_id, self.run_id):
            return None
        return self.settings.deletion_guard()

    # --- the source ---------------------------------------------------------------------------------
    def read_source(self) -> RunSource:
        """The source's contacts as Google has them now (nothing is stored yet: see `keep_source`). An emptied
        source fails the run, unless the run allows deletions."""
        job = self.job
        read_at = utcnow()
        cached, versions = self._cached_source()
        if job.kind is JobKind.directory:
            source = self._read_directory(cached, versions, read_at)
        else:
            user_id, read = self._read_personal_source(cached)
            source = RunSource(read.items, user_id, cached, read_at, read.sync_token, read.group_name,
                               read.changed_at)
        if not source.items and cached and not self.request.allow_deletions:
            raise SourceFailure(
                TargetStatus.source_empty,
                f"the source is now empty (it held {len(cached)} contacts); nothing was deleted. "
                "If that is intended, run again allowing an empty source.",
            )
        return source

    def _cached_source(self) -> tuple[dict[str, SourceItem], dict[str, str]]:
        """What the store holds of the source, and the versions stored with its contacts. A Directory Sync lists
        every user each run: its users' stored cards and their versions are what saves building again the cards
        of users who did not change (see read_directory_source)."""
        with store.session_scope(self.db) as session:
            if self.job.kind is not JobKind.directory:
                rows = store.source_rows(session, job_id=self.job_id)
                versions: dict[str, str] = {}
            else:
                cards = store.source_cards(session, job_id=self.job_id)
                rows = {k: (payload, digest, photo) for k, (payload, digest, photo, _) in cards.items()}
                versions = {k: version for k, (_, _, _, version) in cards.items() if version is not None}
        cached = {k: SourceItem(k, payload, digest, photo) for k, (payload, digest, photo) in rows.items()}
        return cached, versions

    def _read_directory(self, cached: dict[str, SourceItem], versions: dict[str, str], read_at: datetime) -> RunSource:
        """The listed users (with the job's field mapping; a user whose stored card is of their version keeps it)
        and, when the job includes them, the domain's shared contacts (read since the job's sync token when it
        has one)."""
        job = self.job
        limit = self.settings.max_contacts_per_account
        known = {k: KnownUser(cached[k], version) for k, version in versions.items() if not is_shared_contact(k)}
        listing = read_directory_source(
            self.google.directory,
            domains=job.directory_domains,
            include_ous=job.include_ous,
            exclude_ous=job.exclude_ous,
            include_aliases=job.include_aliases,
            max_contacts=limit,
            rules=parse_mapping(job.directory_fields),
            known=known,
        )
        items = listing.items
        if not job.include_shared_contacts:
            return RunSource(items, None, cached, read_at, versions=listing.versions)
        shared = read_shared_contacts(self.google.domain_contacts, cached=cached, sync_token=job.source_sync_token)
        items.update(shared.items)
        if len(items) > limit:
            raise SourceFailure(
                TargetStatus.too_many_contacts,
                f"the directory's users and shared contacts are more than {limit}, Google's limit of contacts per "
                "account; narrow it with domains or organizational units",
            )
        return RunSource(items, None, cached, read_at, shared.sync_token, versions=listing.versions)

    def _read_personal_source(self, cached: dict[str, SourceItem]) -> tuple[str, SourceRead]:
        job = self.job
        if not (job.source_user_id and job.source_group_resource_name):
            raise ValueError(f"the personal job {job.name!r} has no source user or group")
        user = self.google.directory.get_user(job.source_user_id)
        if user is None:
            raise SourceFailure(TargetStatus.not_found, f"the source user {job.source_email} no longer exists")
        if user.get("suspended") or user.get("archived"):
            raise SourceFailure(TargetStatus.suspended, f"the source user {user['primaryEmail']} is suspended")
        current = str(user["primaryEmail"]).lower()
        if current != (job.source_email or "").lower():
            self.report.source_renamed_to = current  # followed by id; the admin is told
        try:
            read = read_source_group(
                self.google.people(current),
                group_resource_name=job.source_group_resource_name,
                cached=cached,
                sync_token=job.source_sync_token,
                extra=job_field_rules(job).extra,
            )
        except InvalidGrant as exc:
            reason = f"cannot act as the source user {current}: {exc.reason}"
            raise SourceFailure(TargetStatus.not_found, reason) from None
        return str(user["id"]), read

    def merge_editors(self, source: RunSource, guard: GuardPolicy | None) -> RunSource:
        """The editors' changes merged into the source, written there (see `merge_phase`)."""
        if self.job.kind is not JobKind.personal:
            return source
        given = MergeInput(
            db=self.db, job=self.job, source_email=self.report.source_renamed_to or self.job.source_email or "",
            directory=self.google.directory, people=self.google.people,
            links=partial(self.records.links, self.job_id), report=self.report, dry_run=self.dry_run,
            run_id=self.run_id, guard=guard, source_token=source.sync_token,
        )
        merged = merge_editors(given, source.items, source.user_id)
        self.shared_reads = given.shared_reads
        self.merge = given
        if merged is source.items:
            return source
        return replace(source, items=merged, sync_token=given.next_source_token or source.sync_token)

    def advance_merge_base(self) -> None:
        """The merge's base moves on once every editor's copy holds the merged source (see `merge_phase`): an
        editor whose target failed, or was not reached, keeps it where it was, and the next run merges again."""
        merge = self.merge
        if self.dry_run or merge is None or merge.next_base is None or self.cancel.is_set():
            return
        done = {t.user_id for t in self.report.targets if t.status in (TargetStatus.ok, TargetStatus.renamed)
                and not t.held}
        if merge.editor_ids <= done:
            advance_base(self.db, self.job_id, merge.next_base)

    def keep_source(self, source: RunSource) -> None:
        """The source as this run takes it, stored as the job's source contacts (with when it last changed, and
        a personal source's sync token and group name). A dry run stores nothing."""
        job = self.job
        if not self.dry_run:
            with store.session_scope(self.db) as session:
                store.replace_source_contacts(
                    session, job_id=self.job_id,
                    contacts={k: (i.body, i.hash, i.photo) for k, i in source.items.items()},
                    versions=source.versions,
                )
                fresh = session.get(SyncJob, self.job_id)
                if fresh is not None and source_changed(source.cached, source.items):
                    # Google's time of the newest edit when an incremental read says; else when we saw it.
                    fresh.source_changed_at = min(source.changed_at or source.read_at, source.read_at)
                    session.add(fresh)
                if fresh is not None and job.kind is JobKind.directory and job.include_shared_contacts:
                    fresh.source_sync_token = source.sync_token  # the shared contacts' token
                    session.add(fresh)
                if fresh is not None and job.kind is JobKind.personal:
                    fresh.source_sync_token = source.sync_token
                    if source.group_name and source.group_name != fresh.source_group_name:
                        fresh.source_group_name = source.group_name
                    session.add(fresh)
        self.report.source_count = len(source.items)

    # --- the targets --------------------------------------------------------------------------------
    def resolve_targets(self, source: RunSource, guard: GuardPolicy | None) -> RunTargets:
        """The accounts this run goes to: the selected users, and the former targets that left (unless the
        guard holds their removal). Those that cannot be synced are recorded here, as are held leavers."""
        report = self.report
        with store.session_scope(self.db) as session:
            selector_rows = store.list_selectors(session, job_id=self.job_id)
            editor_rows = store.list_editors(session, job_id=self.job_id) if job_has_editors(self.job) else []
            states = store.target_states_for_job(session, job_id=self.job_id)
        # The source user is never a target of their own contacts, nor is a user who left the job (opt_outs).
        opted_out = opted_out_ids(self.db, self.job_id)
        # An editor always receives the label too.
        selectors = [Selector(s.kind.value, s.value, s.resolved_user_id) for s in [*selector_rows, *editor_rows]]
        resolution = TargetResolver(self.google.directory).resolve(
            selectors, exclude_ids=({source.user_id} if source.user_id else set()) | opted_out
        )
        if not self.dry_run:  # the ids found for email selectors are remembered, so that a rename is followed
            self.records.remember_email_ids(self.job_id, selector_rows, resolution.email_ids)
        leavers = self._leavers(states, resolution)
        report.targets_expected = len(resolution.unreachable) + len(resolution.reachable) + len(leavers)
        report.reached = len(resolution.reachable)
        report.selectors = [f"{s.kind.value}:{s.value}" for s in selector_rows]
        left, leavers = split_leavers(leavers, opted_out)  # one's own choice is not for the guard to hold
        leavers = left + self._hold_leavers(guard, states, leavers)
        self._record_unreachable(resolution.unreachable)
        targets = [(u, False) for u in sorted(resolution.reachable.values(), key=lambda u: u.email)]
        targets += [(u, True) for u in leavers]
        return RunTargets(states, targets)

    def _leavers(self, states: dict[str, TargetState], resolution: Resolution) -> list[TargetUser]:
        """Former targets that are no longer selected and still hold our contacts: this run removes them. One
        whose account is gone, suspended or archived is forgotten instead (nothing to clean there)."""
        leavers: list[TargetUser] = []
        unreachable_ids = {u.user_id for u in resolution.unreachable if u.user_id}
        for user_id in states:
            if user_id in resolution.reachable or user_id in unreachable_ids:
                continue
            user = self.google.directory.get_user(user_id)
            if user is None or user.get("suspended") or user.get("archived"):
                if not self.dry_run:
                    self.records.forget_target(self.job_id, user_id)
                continue
            leavers.append(TargetUser(user_id, str(user["primaryEmail"]).lower(), TargetStatus.ok))
        return leavers

    def _hold_leavers(
        self, guard: GuardPolicy | None, states: dict[str, TargetState], leavers: list[TargetUser]
    ) -> list[TargetUser]:
        """The leavers whose contacts this run removes. When most of the accounts the job wrote to left the
        target set at once (a mistyped OU, a group emptied by mistake), none: each is reported with what it
        keeps, and keeps its state, so every run holds them again until an admin applies the removals."""
        if guard is None or not leavers:
            return leavers
        counts = self.records.link_counts(self.job_id, [u.user_id for u in leavers if u.user_id])
        if not holds(guard, before=len(states), leaving=len(leavers), deletions=sum(counts.values())):
            return leavers
        for user in leavers:
            n = counts.get(user.user_id or "", 0)
            reason = (f"left the sync with {len(leavers)} of its {len(states)} accounts at once; removing its "
                      f"{n} contacts waits for an admin")
            self._record(TargetReport(user.email, user.user_id, TargetStatus.ok, reason, held=n))
        return []

    def _record_unreachable(self, unreachable: list[TargetUser]) -> None:
        """Each selected target that cannot be synced (suspended, not found), recorded as such. A suspended
        member of a group, domain, OU or role is left out as expected; one chosen by address is a failure."""
        for missing in unreachable:
            status = TargetStatus.suspended if missing.reach is TargetStatus.suspended else TargetStatus.not_found
            self._record(
                TargetReport(
                    missing.email,
                    missing.user_id,
                    status,
                    missing.reason,
                    excluded=status is TargetStatus.suspended
                    and not any(label.startswith("email:") for label in missing.selected_by),
                )
            )

    def sync_targets(self, source: RunSource, targets: RunTargets, guard: GuardPolicy | None) -> None:
        """Every target synced (or, for a leaver, cleaned) on the bounded pool, each recorded as it finishes."""
        job = self.job
        rules = job_field_rules(job)
        items = project_source(source.items, rules)  # only the fields the job copies (the default: all)
        shared = _SharedByTargets(
            states=targets.states,
            target_job=target_job(job, self.settings.max_contacts_per_account, guard),
            photos=self.google.photo_loader(job.kind),
            source_items=items,
            source_version=source_version(
                items, job.uid, job.kind.value, job.target_group_name, job.add_to_my_contacts, job.include_self,
                *((rules.token(), rules.match_existing) if not rules.is_default or rules.match_existing else ()),
            ),
            full_read_after=utcnow() - timedelta(hours=self.settings.full_read_every_hours),
            label_owners=self._label_owners(targets.states),
            finished=self.records.target_batch(TARGET_FLUSH),
            new_with_links=self._reached(targets),
            others_wrote=self.records.others_last_writes(self.job_id),
        )
        # As many targets making calls at once as the contacts-in-flight budget allows (none holds a thread
        # while it waits for Google: sync_core.google.cooperative); more in flight, parked while their users'
        # quota windows are full (sync_core.run.target_pool): what a run holds is bounded by the targets in
        # flight, never by the number of targets. Each is recorded as soon as it is done.
        held = contacts_held(len(source.items), len(targets.targets), self._new_targets(targets, shared))
        workers = in_flight_width(self.settings.max_parallel_targets, self.settings.max_contacts_in_flight, held)
        pool: TargetPool[TargetReport] = TargetPool(
            workers=workers,
            max_in_flight=parked_width(workers, self.settings.max_contacts_in_flight, held),
            cancel=self.cancel,
            stop=lambda: ShuttingDown("stopped by a shutdown"),
            before_resume=self.lease.check,  # a parked target whose run lost the job's lease writes no more
        )
        try:
            work = observed_target(self.metrics, dry_run=self.dry_run)(partial(self._target_steps, shared))
            pool.run((partial(work, target, leaving) for target, leaving in targets.targets),
                     lambda report: self._record(report, stored=True))
        finally:
            shared.finished.flush()
        if pool.parks:
            log.info("%d targets, at most %d in flight; they gave up their worker %d times to wait for their "
                     "users' quota windows", len(targets.targets), pool.peak_in_flight, pool.parks)
        self.report.targets.sort(key=lambda t: t.email)

    @staticmethod
    def _new_targets(targets: RunTargets, shared: _SharedByTargets) -> int:
        """How many of the run's targets hold nothing of the job yet (no state, no links): a first sync there
        reads nothing of ours and writes what its plan says, holding only the plan (see `contacts_held`)."""
        known = targets.states.keys() | shared.new_with_links
        return sum(1 for user, leaving in targets.targets if not leaving and _user_id(user) not in known)

    def _reached(self, targets: RunTargets) -> set[str]:
        """Every account this run may write to that has no state yet, recorded before anything is written
        there, so a run killed half way through still knows it holds contacts of ours there (a leaver's
        clean-up, a job deletion find it). One commit for all of them: a round trip per target before its
        first call held up thousands of targets at a first sync. The ids of those where the job holds links
        nonetheless."""
        if self.dry_run:
            return set()
        new = [user for user, _ in targets.targets if _user_id(user) not in targets.states]
        return self.records.reached(self.job_id, new)

    def _label_owners(self, states: dict[str, TargetState]) -> dict[str, str]:
        """The accounts where another job keeps a label of this job's name: user id -> that job's name. The
        job that came first keeps it; where both were before this rule, the older job."""
        with store.session_scope(self.db) as session:
            keepers = store.label_keepers(session, label=self.job.target_group_name, other_than=self.job_id)
        owners = {}
        for user_id, (other_id, other_name) in keepers.items():
            mine = states.get(user_id)
            here_first = (mine is not None and mine.target_group_resource_name is not None
                          and mine.last_status is not TargetStatus.conflict and self.job_id < other_id)
            if not here_first:
                owners[user_id] = other_name
        return owners

    # --- one target's step (on the pool's threads) ----------------------------------------------------------
    def _target_steps(self, shared: _SharedByTargets, user: TargetUser, leaving: bool) -> Steps[TargetReport]:
        """One target: sync it (or, for a leaver, remove what we wrote there), and store its outcome. It parks
        while its user's quota window is full (sync_core.run.target_pool)."""
        user_id = _user_id(user)
        if self.cancel.is_set():
            return TargetReport(user.email, user_id, TargetStatus.error, "not reached: shutting down")
        self.lease.check()
        state = shared.states.get(user_id)  # None: a new target, recorded as reached by `_reached`
        memory = self.records.memory(self.job_id, user_id, state, shared.full_read_after,
                                     has_links=self.dry_run or user_id in shared.new_with_links,
                                     others_wrote_at=shared.others_wrote.get(user_id))
        outcome = yield from self._target_outcome(shared, user, user_id, memory, leaving)
        status = outcome.status
        if status is TargetStatus.ok and user.reach is TargetStatus.renamed:
            status = TargetStatus.renamed
        target_report = TargetReport(
            user.email,
            user_id,
            status,
            outcome.reason or user.reason,
            user.new_email,
            outcome.plan if self.dry_run else None,  # only a dry run shows plans; they go out as they come
            **outcome.counts(),
        )
        if not self.dry_run:
            self._store_target(shared.finished, user, outcome, leaving, target_report)
        return target_report

    def _target_outcome(
        self, shared: _SharedByTargets, user: TargetUser, user_id: str, memory: TargetMemory, leaving: bool
    ) -> Steps[TargetOutcome]:
        """What syncing (or cleaning) one target came to. A target's failure is its outcome, never the run's:
        only a lost lease or a database outage stops the whole run (see execute)."""
        owner = None if leaving else shared.label_owners.get(user_id)
        people = self.google.people(user.email)
        if user_id in self.shared_reads:
            people = ReadOnce(people, *self.shared_reads[user_id])
        sync = TargetSync(
            people,
            shared.target_job,
            dry_run=self.dry_run,
            photos=shared.photos,
            on_links=None if self.dry_run else self._link_saver(shared.finished, user_id),
            after_batch=self.lease.check,  # written by now; but another run holds the job: write no more
        )
        try:
            if owner is not None:  # one label, one owner: nothing is written here
                return TargetOutcome(status=TargetStatus.conflict, reason=(
                    f"the sync {owner!r} keeps a label named {self.job.target_group_name!r} in this account; "
                    "nothing was written here. Give this sync's label another name to sync here."))
            if leaving:
                return sync.remove(memory)
            if self.merge is not None and user_id in self.merge.held_by:
                return self._held_editor(shared, user_id, self.merge.held_by[user_id])
            if self.merge is not None and user_id in self.merge.unread:
                failure = self.merge.unread[user_id]
                return TargetOutcome(status=failure.kind, reason=(
                    f"their edits could not be read ({failure.reason}); nothing was written to their copy, so "
                    "none of their edits is overwritten: they are merged once it can be read"))
            return (yield from sync.sync_steps(self._source_for(user, shared.source_items), memory,
                                               source_version=shared.source_version))
        except GoogleError as exc:
            return TargetOutcome(status=exc.kind, reason=exc.reason)
        except LeaseLost:
            raise  # the whole run stops (see execute)
        except Exception as exc:  # noqa: BLE001 - one target failing never stops the others
            if is_outage(exc):
                raise  # nor can the others store anything: the whole run stops (see execute)
            log.exception("target %s failed", user.email)
            return TargetOutcome(status=TargetStatus.error, reason=f"{exc.__class__.__name__}: {exc}"[:300])

    def _held_editor(self, shared: _SharedByTargets, user_id: str, held: int) -> TargetOutcome:
        """An editor whose deletions the deletion guard holds: their copy is left as it is (its token and label
        kept, nothing put back) so the held deletions are still there to apply; planned again next run."""
        state = shared.states.get(user_id)
        reason = (f"deleted {held} contacts of the label at once; deleting them everywhere waits for an admin "
                  "(run with --allow-deletions), or for them to be restored here")
        return TargetOutcome(status=TargetStatus.ok, reason=reason, held=held,
                             sync_token=state.sync_token if state else None,
                             group_resource_name=state.target_group_resource_name if state else None)

    def _link_saver(self, finished: TargetBatch, user_id: str) -> Callable[[list[LinkWrite]], None]:
        """Where the links a target hands on before its end go: the run's next commit (see TargetBatch)."""

        def store_links(writes: list[LinkWrite]) -> None:
            finished.add_links(self.job_id, user_id, writes)

        return store_links

    def _store_target(
        self, finished: TargetBatch, user: TargetUser, outcome: TargetOutcome, leaving: bool, report: TargetReport
    ) -> None:
        """The target's state and its result row, in the run's batch (a leaver's clean-up, at once: its links
        and state go)."""
        self.lease.check()  # the new holder's state for this target is not ours to overwrite
        result = (self.run_id, report) if self.run_id is not None else None
        if not leaving:
            finished.add(self.job_id, user, outcome, result)
        else:
            self.records.persist_target(self.job_id, user, outcome, leaving, result=result)

    def _source_for(self, user: TargetUser, items: dict[str, SourceItem]) -> Mapping[str, SourceItem]:
        """A Directory Sync target does not get their own card unless the admin asked for it (the run's source
        less that card, not a copy of it: see `Without`)."""
        if self.job.kind is JobKind.directory and not self.job.include_self and user.user_id in items:
            return Without(items, user.user_id)
        return items

    def _record(self, target: TargetReport, *, stored: bool = False) -> None:
        # The report keeps counts; a dry run's plan goes to `progress` (which prints it) and no further.
        report = self.report
        report.targets.append(replace(target, plan=None) if target.plan is not None else target)
        if not self.dry_run:
            self.metrics.target_finished(target.status.value)
        if self.request.progress:
            self.request.progress(report, target)
        if not self.dry_run and not stored and self.run_id is not None:
            self.records.add_result(self.run_id, self.job_id, target)


def after_run(services: RunServices, job: SyncJob, report: RunReport) -> None:
    """What every recorded run ends with, whoever started it: its alerts decided and recorded here (in
    `report.alerts`), then the notifier told (the bot posts what needs posting)."""
    try:
        report.alerts = record_run_alerts(services.db, job, report,
                                          transient_after=services.settings.alert_transient_runs)
    except SQLAlchemyError:  # the run is recorded; its alerts are decided again by the next run
        log.exception("could not record the alerts of run %s of %s", report.run_id, job.name)
    try:
        services.notifier.run_finished(job, report)
    except Exception:  # noqa: BLE001 - the run is recorded; telling Slack failing must not undo that
        log.exception("the notifier failed after run %s of %s", report.run_id, job.name)


def conclude(report: RunReport, *, cancelled: bool) -> None:
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


# A target new to the job (no state, no links: its first sync) reads nothing of ours and keeps no links: it holds
# its plan (a reference a contact to the run's shared source) and the batch it sends or has been answered, about
# a quarter of what a target syncing again holds a contact (its read of our contacts and their links). The
# contacts-in-flight budget counts a new target's contacts at this fraction. Measured (bench S9): 2,000 new
# targets of a 500-contact source making calls at once, 195 MiB above the run's start (bench/RESULTS.md).
NEW_TARGET_WEIGHT = 4


def contacts_held(source_size: int, targets: int, new: int) -> int:
    """What the contacts-in-flight budget counts for a target of this run, on average: the source's size, a new
    target's at 1/NEW_TARGET_WEIGHT."""
    if targets <= 0 or source_size <= 0:
        return source_size
    weighed = source_size * (targets - new) * NEW_TARGET_WEIGHT + source_size * new
    return max(1, -(-weighed // (targets * NEW_TARGET_WEIGHT)))  # rounded up


def in_flight_width(max_targets: int, max_contacts: int, source_size: int) -> int:
    """How many targets a run advances at once (its workers): the setting, unless the source is so big that
    many targets reading and writing would pass the contacts-in-flight budget (memory follows them)."""
    return max(1, min(max_targets, max_contacts // max(1, source_size)))


# A parked target holds its plan (a reference or two per contact still to write, about a hundred bytes), a
# running one also its reads and the bodies it sends: the contacts-in-flight budget counts a parked target's
# contacts at this fraction. 250,000 (the default budget) lets a 2,000-contact job park 500 targets.
PARKED_WEIGHT = 4


def parked_width(workers: int, max_contacts: int, source_size: int) -> int:
    """How many targets a run has started and not finished, parked ones included: the workers, and as many
    more as the contacts-in-flight budget holds of parked targets."""
    return max(workers, PARKED_WEIGHT * max_contacts // max(1, source_size))


def target_job(job: SyncJob, max_contacts: int, guard: GuardPolicy | None = None) -> TargetJob:
    """The job as each of its target accounts' syncs sees it."""
    return TargetJob(
        job_uid=job_tag(job),
        group_name=job.target_group_name,
        add_to_my_contacts=job.add_to_my_contacts,
        max_contacts=max_contacts,
        deletion_guard=guard,
        rules=job_field_rules(job),
    )


def job_has_editors(job: SyncJob) -> bool:
    """Only a personal job has editors (a Directory Sync's are refused when it is made)."""
    return job.kind is JobKind.personal


def describe_source(job: SyncJob) -> str:
    if job.kind is JobKind.directory:
        return "the directory of " + ", ".join(job.directory_domains)
    return job.source_email or ""


def job_tag(job: SyncJob) -> str:
    """The value our ownership tags carry for this job (stable across renames of the job)."""
    return job.uid


def _user_id(user: TargetUser) -> str:
    """A resolved target's id: every account a run syncs was resolved (or stored) by its Google id."""
    if user.user_id is None:
        raise ValueError(f"the target {user.email} was never resolved to a user id")
    return user.user_id
