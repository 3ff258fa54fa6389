"""The source watch: one cheap read of a sync's source, to run the job as soon as the source changes instead
of at its next scheduled slot.

The read is the one a run's source read starts with: `people.connections.list` with the job's source sync
token (same fields, so Google accepts the token). While nothing changed it lists nothing: one People call
(one "critical read") per job per watch. The watch never keeps what it read: when the source group changed,
the run it triggers reads the same changes again with the same token, so the run's source cache, links and
token stay the run's business. Only when the read shows changes that cannot matter (contacts outside the
group) does the watch move the token on, so the next watches do not list them again.

A Directory Sync's source has no sync token (the Directory API offers none for users): its watch lists the
chosen domains' users as a run does (`users.list`, 500 a page: 20 calls for 10,000 users) and compares each
one's mapped contact with the run's source cache; no People call at all.

With several replicas, each runs the watch: the one that claims a job's watch for the interval (a conditional
UPDATE of `sync_job.watched_at`) reads; the others leave it. One call a minute per job, however many replicas.

A sync with editors (issue 21): when its source shows nothing new, the watch reads each editor's account the
same way, from their target's sync token (the token the run's merge reads from, never moved by the watch), and
runs the job when an editor changed, added or deleted something in the label; echoes of our own writes (the etag
the link holds) are not a change. One more People call per editor per watch, none per reader.

A watch takes the job's lease for its one read: it never runs alongside a run of the job (and a run never
starts while a watch is reading).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sync_core import store
from sync_core.domain.contacts import memberships_of, written_by_a_sync
from sync_core.domain.directory_fields import parse_mapping
from sync_core.domain.field_rules import job_field_rules
from sync_core.domain.fields import read_fields
from sync_core.domain.models import JobKind, SyncJob, utcnow
from sync_core.google.errors import GoogleError, SyncTokenExpired
from sync_core.leases.processes import probe_process, this_process
from sync_core.run.directory_source import KnownUser, is_shared_contact, read_directory_source
from sync_core.run.editor_copies import edited_by_them
from sync_core.run.merge_phase import resolve_editors
from sync_core.run.source import SourceFailure, last_update_time
from sync_core.sync.plan import LinkState, SourceItem, source_changed

if TYPE_CHECKING:
    from sqlalchemy import Engine as DbEngine

    from sync_core.google.factory import GoogleClients

log = logging.getLogger(__name__)

Person = Mapping[str, Any]
# Long enough for one paced read; a watch that dies holding it blocks runs no longer than this (and, on
# its own host, not at all: its holder names this process, which is then found gone).
WATCH_LEASE_SECONDS = 60.0
# How long a run that meets a source watch reading its job's source waits for that read (a second or so) before
# calling the job busy: the engine's wait for the watch's lease, and the run pool's for a watch in this process.
WATCH_READ_WAIT_SECONDS = 30.0
_WATCH_HOLDER_SUFFIX = ":watch"


def is_watch_holder(holder: str) -> bool:
    """Whether a lease is held by a source watch (for one read) rather than by a run."""
    return holder.endswith(_WATCH_HOLDER_SUFFIX)


class WatchOutcome(StrEnum):
    unchanged = "unchanged"  # nothing the targets get changed: no run
    changed = "changed"  # the source group changed (or its token expired): run now
    busy = "busy"  # a run (or another watch) holds the job: the run will see the change anyway
    elsewhere = "elsewhere"  # another replica watched it this interval
    unwatched = "unwatched"  # paused, or never ran (nothing to compare with yet)
    failed = "failed"  # Google refused the read; the scheduled run will say why


@dataclass(frozen=True)
class WatchResult:
    job_id: int
    outcome: WatchOutcome
    changed_at: datetime | None = None  # the newest edit's time, when Google said
    listed: int = 0  # contacts the read listed (0 while nothing changed)


def touches_source(people: Iterable[Person], *, group: str, known: Collection[str]) -> list[Person]:
    """The changed people that matter to a source group: members now (added or edited), or known members
    that were deleted or left it. Everything else in the account is none of the sync's business."""
    touched = []
    for person in people:
        rn = person.get("resourceName")
        if not rn:
            continue
        deleted = bool((person.get("metadata") or {}).get("deleted"))
        if rn in known or (not deleted and group in memberships_of(person) and not written_by_a_sync(person)):
            touched.append(person)
    return touched


def _their_edits(job_uid: str, group_rn: str, links: dict[str, LinkState]) -> Callable[[Person], Person | None]:
    """What an editor's read keeps: only what they did to the label (not our own writes' echoes)."""
    by_rn = {link.target_resource_name: link for link in links.values()}

    def keep(person: Person) -> Person | None:
        return person if edited_by_them(dict(person), job_uid=job_uid, group_rn=group_rn, links=links,
                                        by_rn=by_rn) else None

    return keep


class SourceWatcher:
    """Watches the sources of a database's syncs through the process's (paced) Google clients."""

    def __init__(
        self,
        clients: GoogleClients,
        db: DbEngine,
        *,
        holder: str,
        max_contacts: int,
        every_seconds: float | None = None,
    ) -> None:
        """`holder`: the process's lease holder (the watch holds leases as `<holder>:watch`); `max_contacts`: a
        Directory Sync's source limit, as a run reads it. `every_seconds`: the watch interval, when replicas
        share the watch (one claims each job's watch per interval); None: this process watches every job each
        time it is asked."""
        self.clients = clients
        self.db = db
        self.max_contacts = max_contacts
        self.every_seconds = every_seconds
        self.holder = f"{holder}{_WATCH_HOLDER_SUFFIX}"

    def watched_jobs(self) -> list[int]:
        """The enabled syncs: Directory Syncs, and Personal syncs that have run once (a token to watch with)."""
        with store.session_scope(self.db) as session:
            return store.watchable_job_ids(session)

    def check(self, job_id: int) -> WatchResult:
        with store.session_scope(self.db) as session:
            job = store.get_job(session, job_id=job_id)
            if job is None or not job.enabled or (job.kind is JobKind.personal and not job.source_sync_token):
                return WatchResult(job_id, WatchOutcome.unwatched)
            now = utcnow()
            if self.every_seconds and not store.claim_watch(
                session, job_id=job_id, at=now, free_before=now - timedelta(seconds=0.8 * self.every_seconds)
            ):
                return WatchResult(job_id, WatchOutcome.elsewhere)
            if not store.acquire_lease(session, job_id=job_id, holder=self.holder, ttl_seconds=WATCH_LEASE_SECONDS,
                                       me=this_process(), probe=probe_process):
                return WatchResult(job_id, WatchOutcome.busy)
            session.expunge(job)
        try:
            if job.kind is JobKind.directory:
                return self._list_directory(job)
            with store.session_scope(self.db) as session:
                known = store.source_keys(session, job_id=job_id)
            return self._read_contacts(job, known)
        finally:
            with store.session_scope(self.db) as session:
                store.release_lease(session, job_id=job_id, holder=self.holder)

    def _list_directory(self, job: SyncJob) -> WatchResult:
        assert job.id is not None
        with store.session_scope(self.db) as session:
            stored = store.source_versions(session, job_id=job.id)
        if not stored:
            return WatchResult(job.id, WatchOutcome.unwatched)  # never ran: the first run is the schedule's
        # Without their bodies: the watch only compares, so a user whose card version is the stored one is not
        # mapped again (see read_directory_source), and the others' hashes say whether they changed.
        users = {k: SourceItem(k, {}, digest, photo) for k, (digest, photo, _) in stored.items()
                 if not is_shared_contact(k)}
        known = {k: KnownUser(users[k], version) for k, (_, _, version) in stored.items()
                 if version is not None and k in users}
        try:
            items = read_directory_source(
                self.clients.directory(),
                domains=job.directory_domains,
                include_ous=job.include_ous,
                exclude_ous=job.exclude_ous,
                include_aliases=job.include_aliases,
                max_contacts=self.max_contacts,
                rules=parse_mapping(job.directory_fields),
                known=known,
            ).items
            changed = source_changed(users, items)
            if not changed and job.include_shared_contacts:
                changed = self._shared_contacts_changed(job)
        except (GoogleError, SourceFailure) as exc:
            log.info("job %s: the directory watch could not list the users (%s)", job.id, exc)
            return WatchResult(job.id, WatchOutcome.failed)
        outcome = WatchOutcome.changed if changed else WatchOutcome.unchanged
        return WatchResult(job.id, outcome, listed=len(items))

    def _shared_contacts_changed(self, job: SyncJob) -> bool:
        """Whether the domain's shared contacts changed since the job's last run (its sync token, which the watch
        reads with but never advances: the run's token also covers its source cache)."""
        if not job.source_sync_token:
            return True
        try:
            return bool(self.clients.domain_contacts().read(sync_token=job.source_sync_token).people)
        except SyncTokenExpired:
            return True  # the run reads them in full

    def _read_contacts(self, job: SyncJob, known: set[str]) -> WatchResult:
        assert job.id is not None and job.source_email and job.source_group_resource_name
        group = job.source_group_resource_name
        try:
            delta = self.clients.people(job.source_email).read_connections(
                sync_token=job.source_sync_token,
                person_fields=",".join(read_fields(job_field_rules(job).extra)),  # as the run's: its token
                keep=lambda person: person if touches_source([person], group=group, known=known) else None,
            )
        except SyncTokenExpired:
            return WatchResult(job.id, WatchOutcome.changed)  # the run reads the source in full
        except GoogleError as exc:
            # A renamed, suspended or deleted source user: the scheduled run reports it and alerts once.
            log.info("job %s: the source watch could not read %s's contacts (%s)", job.id, job.source_email, exc.kind)
            return WatchResult(job.id, WatchOutcome.failed)
        if delta.people:
            return WatchResult(job.id, WatchOutcome.changed, last_update_time(delta.people), delta.listed)
        if delta.listed and delta.next_sync_token:
            # Only changes outside the group were listed: move past them, unless a run replaced the token.
            with store.session_scope(self.db) as session:
                store.advance_source_token(session, job_id=job.id, seen=job.source_sync_token,
                                           token=delta.next_sync_token)
        edited = self._editors_edited(job)
        if edited is not None:
            return WatchResult(job.id, WatchOutcome.changed, edited, delta.listed)
        return WatchResult(job.id, WatchOutcome.unchanged, listed=delta.listed)

    def _editors_edited(self, job: SyncJob) -> datetime | None:
        """When an editor last changed their copy of the label, if one did since the last run; else None."""
        assert job.id is not None
        with store.session_scope(self.db) as session:
            rows = store.list_editors(session, job_id=job.id)
            states = store.target_states_for_job(session, job_id=job.id) if rows else {}
        if not rows:
            return None
        try:
            editors = resolve_editors(self.clients.directory(), rows, source_user_id=job.source_user_id)
        except GoogleError as exc:
            log.info("job %s: the watch could not resolve the editors (%s)", job.id, exc.kind)
            return None
        for user_id, user in sorted(editors.items()):
            state = states.get(user_id)
            if state is None or not state.sync_token or not state.target_group_resource_name:
                continue
            with store.session_scope(self.db) as session:
                rows_ = store.link_rows(session, job_id=job.id, target_user_id=user_id)
            links = {k: LinkState(k, rn, digest, etag or "", photo, adopted)
                     for k, (rn, digest, etag, photo, adopted) in rows_.items()}
            try:
                delta = self.clients.people(user.email).read_connections(
                    sync_token=state.sync_token, keep=_their_edits(job.uid, state.target_group_resource_name, links),
                )
            except SyncTokenExpired:
                return utcnow()  # the run reads their copy in full
            except GoogleError as exc:
                log.info("job %s: the watch could not read an editor's contacts (%s)", job.id, exc.kind)
                continue
            if delta.people:
                return last_update_time(delta.people) or utcnow()
        return None
