"""Syncs for every employee: who a member is, which syncs reach them, and what they may do there.

Who is who: a Slack user is the Google user their verified Slack profile address names (the bot reads it with
`users.info`, never from anything the client sends), found in the directory and kept by Google's immutable id
(`Member`). `MemberDirectory` does the look-up, cached briefly (`CONTACTSYNC_MEMBER_CACHE_SECONDS`).

What a member may do is decided here, on the server, for every request, whatever the button said:
- Leave: only on a sync that allows opting out (`opt_out` allowed) and that reaches them; the next run removes
  its label and the contacts it wrote from their account (and only those), and no run writes there again until
  they re-join (`sync_core.run.opt_outs`).
- Re-join: only themselves, on a sync they left; the next run brings the contacts back.
- Join: only on an open sync (`joinable`); adds them (`email:` their address) as a target.
Each is recorded in the job's history (who, what, when). Roles: the source user and the people a job's editor
selectors name are editors (`role_of`); everyone else it reaches is a reader.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine as DbEngine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import EditorSelector, JobKind, OptOut, SelectorKind, SyncJob, TargetSelector
from sync_core.domain.status import TargetStatus
from sync_core.google.directory import DirectoryClient
from sync_core.kinds.base import EMAIL_RE
from sync_core.run.engine import describe_source
from sync_core.run.targets import Selector, TargetResolver
from sync_core.service.errors import JobInputError


@dataclass(frozen=True)
class Member:
    """A person acting on their own syncs: their Google user (by immutable id) and primary address, and who
    acts (their Slack user id, or "cli")."""

    user_id: str
    email: str
    actor: str


class NotAMember(Exception):
    """Nobody to act as: the Slack profile has no (verified) address, or no active Google user has it. The
    message says so in words, for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MemberRefused(JobInputError):
    """A member's action that is not theirs to take (a sync that cannot be left, one that is not open...)."""

    def __init__(self, message: str) -> None:
        super().__init__("member", message)


class Action(StrEnum):
    """What a member may do on one sync (the button's name is the value)."""

    LEAVE = "leave"
    REJOIN = "rejoin"
    JOIN = "join"


READER = "reader"  # their edits of the label are put back
EDITOR = "editor"  # their edits of the label reach every copy (issue 21)


def role_of(job: SyncJob, member: Member, editor_ids: set[str]) -> str:
    """The member's role in the job: an editor if the job's editor selectors name them now (`editor_ids`), or
    they are its source user; else a reader."""
    is_source = job.kind is JobKind.personal and job.source_user_id == member.user_id
    return EDITOR if is_source or member.user_id in editor_ids else READER


class MemberDirectory:
    """Address -> Google user, through the directory, each answer trusted for `ttl_seconds` (0: never cached).
    Only an active user counts (a suspended or archived account is nobody to sync to)."""

    def __init__(self, directory: Callable[[], DirectoryClient], *, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._directory = directory
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._known: dict[str, tuple[float, tuple[str, str] | None]] = {}
        self._lock = threading.Lock()

    def member(self, email: str, *, actor: str) -> Member:
        address = (email or "").strip().lower()
        if not EMAIL_RE.match(address):
            raise NotAMember("Your Slack profile has no email address, so I can't tell which Google account "
                             "is yours. Nothing was changed.")
        found = self._lookup(address)
        if found is None:
            raise NotAMember(f"No active Google Workspace account has the address {address} (your Slack "
                             "profile's), so ContactSync has no syncs for you. Nothing was changed.")
        return Member(user_id=found[0], email=found[1], actor=actor)

    def _lookup(self, address: str) -> tuple[str, str] | None:
        now = self._clock()
        with self._lock:
            known = self._known.get(address)
            if known is not None and now - known[0] < self.ttl_seconds:
                return known[1]
        user = self._directory().get_user(address)
        found = None
        if user is not None and not user.get("suspended") and not user.get("archived"):
            found = (str(user["id"]), str(user["primaryEmail"]).lower())
        with self._lock:
            self._known[address] = (now, found)
        return found


@dataclass(frozen=True)
class MySync:
    """One sync as a member sees it."""

    job_id: int
    name: str
    label: str  # the contact group (label) it keeps in the member's account
    source: str  # the source address, or "Directory"
    role: str
    selected: bool  # its targets name the member now (opted out or not)
    opted_out: bool
    joinable: bool
    status: TargetStatus | None  # the member's result at the last run that reached them; None: not yet
    contacts: int  # the contacts it keeps in the member's account now
    actions: tuple[Action, ...]  # what the member may do


SelectedIds = Callable[[SyncJob, Sequence[TargetSelector | EditorSelector]], set[str]]


def resolver_ids(directory: Callable[[], DirectoryClient]) -> SelectedIds:
    """The users a job's selectors name, asked of the directory as a run asks (no snapshot at hand)."""
    def selected(job: SyncJob, rows: Sequence[TargetSelector | EditorSelector]) -> set[str]:
        selectors = [Selector(s.kind.value, s.value, s.resolved_user_id) for s in rows]
        return set(TargetResolver(directory()).resolve(selectors).reachable)
    return selected


def _actions(job: SyncJob, *, selected: bool, opted_out: bool, is_source: bool) -> tuple[Action, ...]:
    if opted_out:
        return (Action.REJOIN,)
    if selected:
        return (Action.LEAVE,) if job.opt_out is OptOut.allowed else ()
    if job.joinable and not is_source:
        return (Action.JOIN,)
    return ()


def my_syncs(db: DbEngine, member: Member, selected_ids: SelectedIds) -> list[MySync]:
    """The syncs that reach the member (or that they left, or may join), by name."""
    rows: list[MySync] = []
    with store.session_scope(db) as session:
        left = store.jobs_left_by(session, user_id=member.user_id)
        for job in store.list_jobs(session):
            assert job.id is not None
            if job.deleting:
                continue
            is_source = job.kind is JobKind.personal and job.source_user_id == member.user_id
            selectors = store.list_selectors(session, job_id=job.id)
            editors = store.list_editors(session, job_id=job.id) if job.kind is JobKind.personal else []
            editor_ids = selected_ids(job, editors) if editors else set()
            # An editor always receives the label too.
            reached = member.user_id in editor_ids or member.user_id in selected_ids(job, selectors)
            selected = not is_source and reached
            opted_out = job.id in left
            if not (selected or opted_out or (job.joinable and not is_source)):
                continue
            state = store.target_states_for_job(session, job_id=job.id).get(member.user_id)
            contacts = store.link_counts(session, job_id=job.id, target_user_ids=[member.user_id])
            rows.append(MySync(
                job_id=job.id, name=job.name, label=job.target_group_name,
                source="Directory" if job.kind is JobKind.directory else describe_source(job),
                role=role_of(job, member, editor_ids), selected=selected, opted_out=opted_out, joinable=job.joinable,
                status=state.last_status if state is not None else None,
                contacts=contacts.get(member.user_id, 0),
                actions=_actions(job, selected=selected, opted_out=opted_out, is_source=is_source),
            ))
    return sorted(rows, key=lambda r: r.name.casefold())


def _job(session: Session, job_id: int) -> SyncJob:
    job = store.get_job(session, job_id=job_id)
    if job is None or job.deleting:
        raise MemberRefused("That sync no longer exists. Nothing was changed.")
    return job


def _audit(session: Session, job: SyncJob, member: Member, action: str) -> None:
    store.record_audit(session, actor=member.actor, action=action, job_id=job.id, job_name=job.name,
                       detail={"member": member.email, "google_id": member.user_id})


def leave(db: DbEngine, member: Member, job_id: int, selected_ids: SelectedIds) -> SyncJob:
    """The member leaves the job: refused unless the job allows opting out and reaches them now."""
    with store.session_scope(db) as session:
        job = _job(session, job_id)
        assert job.id is not None
        if job.opt_out is not OptOut.allowed:
            raise MemberRefused(f"The sync {job.name!r} does not allow leaving it; ask a ContactSync admin. "
                                "Nothing was changed.")
        if job.id in store.jobs_left_by(session, user_id=member.user_id):
            raise MemberRefused(f"You already left {job.name!r}. Nothing was changed.")
        reaches = member.user_id in selected_ids(job, store.list_selectors(session, job_id=job.id))
        holds = member.user_id in store.target_states_for_job(session, job_id=job.id)
        if not (reaches or holds):
            raise MemberRefused(f"The sync {job.name!r} does not reach you. Nothing was changed.")
        store.add_opt_out(session, job_id=job.id, user_id=member.user_id, email=member.email, actor=member.actor)
        _audit(session, job, member, "leave")
        return job


def rejoin(db: DbEngine, member: Member, job_id: int) -> SyncJob:
    """The member comes back to a job they left: the next run brings its contacts back."""
    with store.session_scope(db) as session:
        job = _job(session, job_id)
        assert job.id is not None
        if store.remove_opt_out(session, job_id=job.id, user_id=member.user_id) is None:
            raise MemberRefused(f"You have not left {job.name!r}. Nothing was changed.")
        _audit(session, job, member, "re-join")
        return job


def join(db: DbEngine, member: Member, job_id: int, selected_ids: SelectedIds) -> SyncJob:
    """The member adds themselves (`email:` their address) to an open job's targets."""
    with store.session_scope(db) as session:
        job = _job(session, job_id)
        assert job.id is not None
        if not job.joinable:
            raise MemberRefused(f"The sync {job.name!r} is not open to join; ask a ContactSync admin. "
                                "Nothing was changed.")
        if job.kind is JobKind.personal and job.source_user_id == member.user_id:
            raise MemberRefused(f"You are the source of {job.name!r}: its contacts are yours already. "
                                "Nothing was changed.")
        rows = store.list_selectors(session, job_id=job.id)
        if job.id in store.jobs_left_by(session, user_id=member.user_id):
            raise MemberRefused(f"You left {job.name!r}: press Re-join to come back. Nothing was changed.")
        if member.user_id in selected_ids(job, rows):
            raise MemberRefused(f"You are already in {job.name!r}. Nothing was changed.")
        if not any(r.kind is SelectorKind.email and r.value == member.email for r in rows):
            session.add(TargetSelector(job_id=job.id, kind=SelectorKind.email, value=member.email,
                                       resolved_user_id=member.user_id, resolved_email=member.email))
            session.flush()
        _audit(session, job, member, "join")
        return job


@dataclass(frozen=True)
class OptOutRow:
    email: str
    user_id: str
    actor: str
    at: str  # ISO 8601, UTC


def opt_out_rows(db: DbEngine, job_id: int) -> list[OptOutRow]:
    with store.session_scope(db) as session:
        return [OptOutRow(o.email, o.user_id, o.actor, o.at.isoformat())
                for o in store.opt_outs(session, job_id=job_id)]


def clear_opt_out(db: DbEngine, job_id: int, email: str, *, actor: str) -> None:
    """An admin lets a member back in (as if they re-joined); refused when that address has not left."""
    address = email.strip().lower()
    with store.session_scope(db) as session:
        job = _job(session, job_id)
        assert job.id is not None
        row = next((o for o in store.opt_outs(session, job_id=job.id) if o.email == address), None)
        if row is None:
            raise JobInputError("clear", f"nobody with the address {address!r} left sync {job.name!r}")
        store.remove_opt_out(session, job_id=job.id, user_id=row.user_id)
        store.record_audit(session, actor=actor, action="clear opt-out", job_id=job.id, job_name=job.name,
                           detail={"member": row.email, "google_id": row.user_id})
