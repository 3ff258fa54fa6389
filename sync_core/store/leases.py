"""Job leases: at most one run of a job at a time, across processes.

These functions commit: a lease only means something once other processes can see it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete as sa_delete
from sqlalchemy import or_
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from sync_core.models import (
    JobLease,
    utcnow,
)


def acquire_lease(
    session: Session, *, job_id: int, holder: str, ttl_seconds: float, now: datetime | None = None
) -> bool:
    """Take the job's lease for `ttl_seconds`; True if `holder` now holds it. Commits.

    Atomic across processes: an INSERT that does nothing if a lease row exists, then a
    conditional UPDATE that only matches an expired lease (or one `holder` already holds, which
    renews it). On PostgreSQL, a concurrent UPDATE of the same row waits for the first to commit
    and re-checks the condition against the new row, so exactly one contender wins.
    """
    now = now or utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    values = {"job_id": job_id, "holder": holder, "acquired_at": now, "expires_at": expires_at}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.exec(insert(JobLease).values(**values).on_conflict_do_nothing(index_elements=["job_id"]))
    won = inserted.rowcount == 1
    if not won:
        taken_over = session.exec(
            sa_update(JobLease)
            .where(
                col(JobLease.job_id) == job_id,
                or_(col(JobLease.expires_at) <= now, col(JobLease.holder) == holder),
            )
            .values(holder=holder, acquired_at=now, expires_at=expires_at)
        )
        won = taken_over.rowcount == 1
    session.commit()
    return won


def release_lease(session: Session, *, job_id: int, holder: str) -> bool:
    """Give the lease back if `holder` still holds it. Commits."""
    result = session.exec(sa_delete(JobLease).where(col(JobLease.job_id) == job_id, col(JobLease.holder) == holder))
    session.commit()
    return int(result.rowcount) == 1


def lease_for_job(session: Session, *, job_id: int) -> JobLease | None:
    return session.get(JobLease, job_id)
