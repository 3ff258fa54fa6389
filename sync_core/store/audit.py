"""The audit trail: who changed which job, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sync_core.domain.models import AuditEvent, Run, RunStatus, utcnow


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    job_id: int | None = None,
    job_name: str = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    event_ = AuditEvent(
        actor=actor,
        action=action,
        job_id=job_id,
        job_name=job_name,
        detail=detail or {},
        at=now or utcnow(),
    )
    session.add(event_)
    session.flush()
    return event_


def audit_events(session: Session, *, job_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
    """Newest first; all jobs, or one job's (including after it was deleted)."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if job_id is not None:
        query = query.where(AuditEvent.job_id == job_id)
    return list(session.exec(query))


def last_audit_at(session: Session, *, job_id: int, actions: tuple[str, ...]) -> datetime | None:
    """When one of these actions was last recorded for the job, if ever."""
    query = (
        select(AuditEvent.at)
        .where(AuditEvent.job_id == job_id, col(AuditEvent.action).in_(actions))
        .order_by(col(AuditEvent.at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def events_since_last_completed_run(session: Session, *, job_id: int, actions: tuple[str, ...]) -> list[AuditEvent]:
    """The job's events of these actions recorded since its last run that completed (`ok`, `partial` or
    `no_targets`: past its source's read and write; not a dry run), oldest first: what runs since then that were
    killed or failed recorded (every event, when no run of the job ever completed)."""
    completed = (
        select(func.max(col(Run.finished_at)))
        .where(Run.job_id == job_id, col(Run.dry_run).is_(False),
               col(Run.status).in_([RunStatus.ok, RunStatus.partial, RunStatus.no_targets]))
    )
    since = session.exec(completed).first()
    query = select(AuditEvent).where(AuditEvent.job_id == job_id, col(AuditEvent.action).in_(actions))
    if since is not None:
        query = query.where(col(AuditEvent.at) > since)
    return list(session.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))))
