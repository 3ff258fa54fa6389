"""Sync jobs and their target selectors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import or_
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sync_core.domain.models import (
    EditorSelector,
    JobKind,
    SelectorCreate,
    SyncJob,
    SyncJobCreate,
    SyncJobUpdate,
    TargetSelector,
    utcnow,
)
from sync_core.store.database import delete_by_key
from sync_core.store.errors import DuplicateJobName


def get_job(session: Session, *, job_id: int) -> SyncJob | None:
    return session.get(SyncJob, job_id)


def get_job_by_name(session: Session, *, name: str) -> SyncJob | None:
    """The job of that name, written in any case: names are unique ignoring case, so "sales" finds "Sales"."""
    exact = session.exec(select(SyncJob).where(SyncJob.name == name)).first()
    if exact is not None:
        return exact
    wanted = name.casefold()
    for job_id, job_name in session.exec(select(SyncJob.id, SyncJob.name)):
        if job_name.casefold() == wanted:
            return session.get(SyncJob, job_id)
    return None


def job_names(session: Session) -> list[str]:
    """Every job's name (names are compared ignoring case, in Python: SQLite's lower() knows only ASCII)."""
    return list(session.exec(select(SyncJob.name)))


def _name_taken(session: Session, name: str, *, but: int | None = None) -> bool:
    wanted = name.casefold()
    return any(
        job_name.casefold() == wanted
        for job_id, job_name in session.exec(select(SyncJob.id, SyncJob.name))
        if job_id != but
    )


def list_jobs(session: Session, *, enabled_only: bool = False) -> list[SyncJob]:
    query = select(SyncJob).order_by(col(SyncJob.name))
    if enabled_only:
        query = query.where(col(SyncJob.enabled).is_(True))
    return list(session.exec(query))


def _flush_job(session: Session, job: SyncJob) -> None:
    """Flush; turn a clash on the unique name into DuplicateJobName.

    On a clash the session is rolled back (a failed flush leaves it unusable otherwise).
    """
    name = job.name
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        if _name_taken(session, name):
            raise DuplicateJobName(name) from None
        raise


def create_job(session: Session, *, job_in: SyncJobCreate, created_by: str) -> SyncJob:
    if _name_taken(session, job_in.name):
        raise DuplicateJobName(job_in.name)
    job = SyncJob.model_validate(job_in, update={"created_by": created_by})
    session.add(job)
    _flush_job(session, job)  # a concurrent creator can still win the race
    return job


def update_job(session: Session, *, job: SyncJob, job_in: SyncJobUpdate) -> SyncJob:
    changes = job_in.model_dump(exclude_unset=True)
    new_name = changes.get("name", job.name)
    if new_name != job.name and _name_taken(session, new_name, but=job.id):
        raise DuplicateJobName(new_name)
    job.sqlmodel_update(changes)
    job.updated_at = utcnow()
    session.add(job)
    _flush_job(session, job)
    return job


def delete_job(session: Session, *, job_id: int) -> bool:
    """Delete a job and, through ON DELETE CASCADE, everything that hangs off it.

    Audit events are kept (they carry no foreign key). Returns False if there was no such job.
    """
    if not delete_by_key(session, SyncJob, job_id):
        return False
    # The ORM does not know the database cascaded; drop stale child objects from the identity map.
    session.expire_all()
    return True


def list_selectors(session: Session, *, job_id: int) -> list[TargetSelector]:
    query = (
        select(TargetSelector)
        .where(TargetSelector.job_id == job_id)
        .order_by(col(TargetSelector.kind), col(TargetSelector.value))
    )
    return list(session.exec(query))


def set_selectors(session: Session, *, job_id: int, selectors: Iterable[SelectorCreate]) -> list[TargetSelector]:
    """Replace a job's target selectors. Repeats of the same (kind, value) collapse into one."""
    session.exec(sa_delete(TargetSelector).where(col(TargetSelector.job_id) == job_id))
    unique: dict[tuple[str, str], SelectorCreate] = {}
    for selector in selectors:
        unique.setdefault((selector.kind, selector.value), selector)
    rows = [TargetSelector.model_validate(s, update={"job_id": job_id}) for s in unique.values()]
    session.add_all(rows)
    session.flush()
    return list_selectors(session, job_id=job_id)


def list_editors(session: Session, *, job_id: int) -> list[EditorSelector]:
    """Who may edit the job's label, as selectors (issue 21)."""
    query = (
        select(EditorSelector)
        .where(EditorSelector.job_id == job_id)
        .order_by(col(EditorSelector.kind), col(EditorSelector.value))
    )
    return list(session.exec(query))


def set_editors(session: Session, *, job_id: int, selectors: Iterable[SelectorCreate]) -> list[EditorSelector]:
    """Replace a job's editor selectors (none: a read-only label). Repeats collapse into one."""
    session.exec(sa_delete(EditorSelector).where(col(EditorSelector.job_id) == job_id))
    unique: dict[tuple[str, str], SelectorCreate] = {}
    for selector in selectors:
        unique.setdefault((selector.kind, selector.value), selector)
    rows = [EditorSelector.model_validate(s, update={"job_id": job_id}) for s in unique.values()]
    session.add_all(rows)
    session.flush()
    return list_editors(session, job_id=job_id)


def _claim(session: Session, job_id: int, column: Any, at: datetime, free_before: datetime) -> bool:
    """Set a job's claim `column` to `at` unless it was set after `free_before`. Atomic: of several replicas
    claiming at once, exactly one gets True."""
    result = session.exec(
        sa_update(SyncJob)
        .where(col(SyncJob.id) == job_id, or_(column.is_(None), column <= free_before))
        .values({column: at})
    )
    return int(result.rowcount) == 1


def claim_slot(session: Session, *, job_id: int, at: datetime, free_before: datetime) -> bool:
    """Take a scheduled slot of a job at `at`, unless a slot was taken after `free_before` (another replica's
    fire of the same slot)."""
    return _claim(session, job_id, col(SyncJob.slot_claimed_at), at, free_before)


def claim_watch(session: Session, *, job_id: int, at: datetime, free_before: datetime) -> bool:
    """Take this interval's source watch of a job, unless a watch was taken after `free_before` (another
    replica's)."""
    return _claim(session, job_id, col(SyncJob.watched_at), at, free_before)


def watchable_job_ids(session: Session) -> list[int]:
    """The enabled jobs a source watch can compare with something: Directory Syncs, and Personal syncs that
    have run once (a source sync token to watch with)."""
    rows = session.exec(
        select(SyncJob.id).where(
            col(SyncJob.enabled).is_(True),
            or_(col(SyncJob.kind) == JobKind.directory, col(SyncJob.source_sync_token).is_not(None)),
        )
    )
    return sorted(job_id for job_id in rows if job_id is not None)


def advance_source_token(session: Session, *, job_id: int, seen: str | None, token: str) -> bool:
    """Replace the job's source sync token `seen` by `token`, unless a run replaced it meanwhile (a run's
    token also covers its source cache). True if it did."""
    result = session.exec(
        sa_update(SyncJob)
        .where(col(SyncJob.id) == job_id, col(SyncJob.source_sync_token) == seen)
        .values(source_sync_token=token)
    )
    return int(result.rowcount) == 1
