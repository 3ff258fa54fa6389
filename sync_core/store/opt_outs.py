"""Who left which job (`job_opt_out`): the targets no run of that job writes to until they re-join."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sync_core.domain.models import JobOptOut, utcnow


def opt_outs(session: Session, *, job_id: int) -> list[JobOptOut]:
    """The job's opt-outs, by address."""
    query = select(JobOptOut).where(JobOptOut.job_id == job_id).order_by(col(JobOptOut.email))
    return list(session.exec(query))


def opted_out_ids(session: Session, *, job_id: int) -> set[str]:
    return set(session.exec(select(JobOptOut.user_id).where(JobOptOut.job_id == job_id)))


def jobs_left_by(session: Session, *, user_id: str) -> set[int]:
    """The ids of the jobs this user left."""
    return set(session.exec(select(JobOptOut.job_id).where(JobOptOut.user_id == user_id)))


def add_opt_out(session: Session, *, job_id: int, user_id: str, email: str, actor: str) -> bool:
    """Record that the user left the job; False when they already had (nothing changes)."""
    if session.get(JobOptOut, (job_id, user_id)) is not None:
        return False
    session.add(JobOptOut(job_id=job_id, user_id=user_id, email=email, actor=actor, at=utcnow()))
    session.flush()
    return True


def remove_opt_out(session: Session, *, job_id: int, user_id: str) -> JobOptOut | None:
    """Forget that the user left (they re-joined, or an admin cleared it); the row removed, or None."""
    row = session.get(JobOptOut, (job_id, user_id))
    if row is not None:
        session.delete(row)
        session.flush()
    return row
