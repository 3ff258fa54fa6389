"""Runs and the per-target results they record."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, func, select

from sync_core.domain.models import Run, RunStatus, RunTrigger, SyncJob, TargetResult, TargetStatus, utcnow


class RunCounts(TypedDict, total=False):
    created: int
    updated: int
    deleted: int
    unchanged: int
    targets_total: int
    targets_ok: int
    targets_failed: int
    api_calls: int


def start_run(
    session: Session,
    *,
    job_id: int,
    trigger: RunTrigger,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Run:
    run = Run(job_id=job_id, trigger=trigger, dry_run=dry_run, started_at=now or utcnow())
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    *,
    run: Run,
    status: RunStatus,
    error_kind: TargetStatus | None = None,
    error_reason: str = "",
    now: datetime | None = None,
    **counts: Unpack[RunCounts],
) -> Run:
    if status is RunStatus.running:
        raise ValueError("finish_run needs a final status, not 'running'")
    run.sqlmodel_update(dict(counts))
    run.status = status
    run.error_kind = error_kind
    run.error_reason = error_reason
    run.finished_at = now or utcnow()
    session.add(run)
    session.flush()
    return run


def abandon_running_runs(session: Session, *, job_id: int, now: datetime | None = None) -> int:
    """Mark the job's `running` runs as abandoned. Call right after acquiring the job's lease:
    whoever held it before is gone, so any run still `running` died with it."""
    result = session.exec(
        sa_update(Run)
        .where(col(Run.job_id) == job_id, col(Run.status) == RunStatus.running)
        .values(status=RunStatus.abandoned, finished_at=now or utcnow())
    )  # ORM-enabled UPDATE: Run objects already in the session are updated too
    return int(result.rowcount)


def interrupted_job_ids(session: Session) -> list[int]:
    """Enabled jobs (not being deleted) whose newest real run never finished: still `running` in the store
    (its process killed, or running now: the lease tells), or found `abandoned` with nothing after it."""
    newest = (
        select(col(Run.job_id).label("job_id"), func.max(Run.id).label("run_id"))
        .where(col(Run.dry_run).is_(False))
        .group_by(col(Run.job_id))
        .subquery()
    )
    query = (
        select(col(Run.job_id))
        .join(newest, col(Run.id) == newest.c.run_id)
        .join(SyncJob, col(SyncJob.id) == col(Run.job_id))
        .where(col(Run.status).in_([RunStatus.running, RunStatus.abandoned]),
               col(SyncJob.enabled).is_(True), col(SyncJob.deleting).is_(False))
        .order_by(col(Run.job_id))
    )
    return list(session.exec(query))


def add_target_result(
    session: Session,
    *,
    run_id: int,
    job_id: int,
    target_user_id: str | None,
    target_email: str,
    status: TargetStatus,
    reason: str = "",
    new_email: str | None = None,
    created: int = 0,
    updated: int = 0,
    deleted: int = 0,
    unchanged: int = 0,
) -> TargetResult:
    result = TargetResult(
        run_id=run_id,
        job_id=job_id,
        target_user_id=target_user_id,
        target_email=target_email,
        status=status,
        reason=reason,
        new_email=new_email,
        created=created,
        updated=updated,
        deleted=deleted,
        unchanged=unchanged,
    )
    session.add(result)
    session.flush()
    return result


class TargetResultRow(TypedDict):
    """One target's result, as `add_target_results` stores it (`add_target_result`'s arguments)."""

    run_id: int
    job_id: int
    target_user_id: str | None
    target_email: str
    status: TargetStatus
    reason: str
    new_email: str | None
    created: int
    updated: int
    deleted: int
    unchanged: int


def add_target_results(session: Session, rows: list[TargetResultRow]) -> None:
    """Many targets' results in one statement (a run stores the targets it found in sync a batch at a time:
    an ORM object and a flush each cost more than the rows themselves)."""
    if rows:
        session.execute(sa_insert(TargetResult), rows)


def last_runs(session: Session, *, job_id: int, limit: int = 10) -> list[Run]:
    """The job's most recent runs, newest first."""
    query = (
        select(Run).where(Run.job_id == job_id).order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit)
    )
    return list(session.exec(query))


def last_success_times(session: Session) -> dict[int, datetime]:
    """When each job's latest successful run (status `ok`: every target synced) finished, by job id; jobs
    that never had one are left out. Dry runs are never counted."""
    query = (
        select(col(Run.job_id), func.max(col(Run.finished_at)))
        .where(col(Run.status) == RunStatus.ok, col(Run.dry_run).is_(False), col(Run.finished_at).is_not(None))
        .group_by(col(Run.job_id))
    )
    return {int(job_id): finished for job_id, finished in session.exec(query) if finished is not None}


def results_for_run(session: Session, *, run_id: int) -> list[TargetResult]:
    """A run's per-target results, in the order they were recorded."""
    query = select(TargetResult).where(TargetResult.run_id == run_id).order_by(col(TargetResult.id))
    return list(session.exec(query))


def runs_started_since(session: Session, *, job_id: int, since: datetime, other_than: int | None = None) -> int:
    """How many runs of the job started after `since` (leaving out the run `other_than`)."""
    query = select(func.count()).select_from(Run).where(Run.job_id == job_id, col(Run.started_at) > since)
    if other_than is not None:
        query = query.where(Run.id != other_than)
    return int(session.exec(query).one())
