"""What the engine remembers per job and target between runs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NotRequired, Required, TypedDict, Unpack

from sqlalchemy import func
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import SyncJob, TargetState, TargetStatus, utcnow
from sync_core.store.database import delete_by_key, upsert_insert


class TargetStateChanges(TypedDict, total=False):
    target_email: Required[str]
    target_group_resource_name: NotRequired[str | None]
    sync_token: NotRequired[str | None]
    last_status: NotRequired[TargetStatus | None]
    last_reason: NotRequired[str]
    last_full_read_at: NotRequired[datetime | None]
    source_version: NotRequired[str | None]
    echo_digest: NotRequired[str | None]


def target_states_for_job(session: Session, *, job_id: int) -> dict[str, TargetState]:
    """The job's target memory, keyed by target user id."""
    rows = session.exec(select(TargetState).where(TargetState.job_id == job_id))
    return {row.target_user_id: row for row in rows}


def upsert_target_state(
    session: Session, *, job_id: int, target_user_id: str, **changes: Unpack[TargetStateChanges]
) -> TargetState:
    """Create or update one target's state; fields not passed keep their value."""
    state = session.get(TargetState, (job_id, target_user_id))
    if state is None:
        state = TargetState(job_id=job_id, target_user_id=target_user_id, target_email=changes["target_email"])
    state.sqlmodel_update(dict(changes))
    state.updated_at = utcnow()
    session.add(state)
    session.flush()
    return state


def upsert_target_states(
    session: Session, *, job_id: int, changes: dict[str, TargetStateChanges]
) -> None:
    """`upsert_target_state` for many targets (target user id -> its changes) in a few statements: one read
    of which rows exist, one executemany UPDATE by primary key for those; a target without a row gets one as
    `upsert_target_state` makes it."""
    if not changes:
        return
    users = list(changes)
    existing: set[str] = set()
    for start in range(0, len(users), 500):
        part = users[start : start + 500]
        existing.update(session.exec(
            select(TargetState.target_user_id)
            .where(TargetState.job_id == job_id, col(TargetState.target_user_id).in_(part))
        ))
    now = utcnow()
    rows = [
        {"job_id": job_id, "target_user_id": user_id, **change, "updated_at": now}
        for user_id, change in changes.items() if user_id in existing
    ]
    if rows:  # ORM bulk UPDATE by primary key: rows with the same keys go in one executemany
        session.execute(sa_update(TargetState), rows)
    for user_id, change in changes.items():
        if user_id not in existing:
            upsert_target_state(session, job_id=job_id, target_user_id=user_id, **change)


def ensure_target_states(session: Session, *, job_id: int, targets: Iterable[tuple[str, str]]) -> None:
    """A first state row for each of these targets ((user id, email) each) that has none; a row there is left as
    it is. One statement: a run records every account it is about to write to at once, before any first write
    there, not in a round trip per target before its first call."""
    rows = [{"job_id": job_id, "target_user_id": user_id, "target_email": email, "updated_at": utcnow()}
            for user_id, email in targets]
    if not rows:
        return
    insert = upsert_insert(session.get_bind().dialect.name)
    statement = insert(TargetState).on_conflict_do_nothing(index_elements=["job_id", "target_user_id"])
    session.connection().execute(statement, rows)


def force_full_reads(session: Session, *, job_id: int) -> None:
    """Make the next run read every target in full (after an edit that changes what they hold)."""
    session.exec(
        sa_update(TargetState).where(col(TargetState.job_id) == job_id).values(sync_token=None, last_full_read_at=None)
    )
    session.expire_all()


def delete_target_state(session: Session, *, job_id: int, target_user_id: str) -> bool:
    return delete_by_key(session, TargetState, (job_id, target_user_id))


def others_last_writes(session: Session, *, job_id: int) -> dict[str, datetime]:
    """The accounts where another job's last run wrote and it has not run there since (its echo digest is
    kept): target user id -> when the latest such run finished there. In the steady state there are none."""
    rows = session.exec(
        select(TargetState.target_user_id, func.max(TargetState.updated_at))
        .where(TargetState.job_id != job_id, col(TargetState.echo_digest).is_not(None))
        .group_by(col(TargetState.target_user_id))
    )
    return {user_id: at for user_id, at in rows}


def label_keepers(session: Session, *, label: str, other_than: int | None) -> dict[str, tuple[int, str]]:
    """The accounts where another job keeps a label named `label` (compared case-insensitively): target user
    id -> (that job's id, name); where several do, the oldest job. A job keeps a label in an account once it
    made or adopted it there and was not refused there for a conflict."""
    name = label.strip().casefold()
    jobs = {
        job_id: job_name
        for job_id, job_name, job_label in session.exec(
            select(SyncJob.id, SyncJob.name, SyncJob.target_group_name)
        )
        if job_id is not None and job_id != other_than and job_label.casefold() == name
    }
    if not jobs:
        return {}
    rows = session.exec(
        select(TargetState.target_user_id, TargetState.job_id, TargetState.last_status)
        .where(col(TargetState.job_id).in_(list(jobs)), col(TargetState.target_group_resource_name).is_not(None))
        .order_by(col(TargetState.job_id).desc())
    )
    return {
        user_id: (job_id, jobs[job_id]) for user_id, job_id, status in rows if status is not TargetStatus.conflict
    }
