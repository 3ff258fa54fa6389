"""Merge conflicts: a field sides changed to different values, what won, what lost and who set each, open until
an admin keeps the winner or puts a losing value back (`jobs show` and Slack list them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import ConflictState, MergeConflict, utcnow
from sync_core.sync.merge import Claim, Conflict, Side, Why

RESOLUTION_MAX = 200


def _claim_json(claim: Claim) -> dict[str, Any]:
    return {
        "value": claim.value,
        "sides": [str(side) for side in claim.sides],
        "updated": claim.updated.isoformat() if claim.updated is not None else None,
    }


def _claim_of(data: dict[str, Any]) -> Claim:
    updated = data.get("updated")
    return Claim(
        data.get("value"),
        tuple(Side.parse(side) for side in data.get("sides", [])),
        datetime.fromisoformat(updated) if updated else None,
    )


def conflict_of(row: MergeConflict) -> Conflict:
    """A stored conflict as the merge reported it: what *put the losing value back* works from."""
    return Conflict(
        key=row.contact_key,
        field=row.contact_field,
        winner=_claim_of(row.winner),
        losers=tuple(_claim_of(loser) for loser in row.losers),
        why=Why(row.why),
    )


def record_conflicts(
    session: Session,
    *,
    job_id: int,
    conflicts: Iterable[Conflict],
    run_id: int | None = None,
    now: datetime | None = None,
) -> list[MergeConflict]:
    """Store a run's conflicts; one that is open already (the same decision: `Conflict.identity`, as a run
    that merges the same edits again reports it) is not added twice. Returns the rows added."""
    fresh = {c.identity: c for c in conflicts}
    if not fresh:
        return []
    query = select(MergeConflict.identity).where(
        MergeConflict.job_id == job_id,
        MergeConflict.state == ConflictState.open,
        col(MergeConflict.identity).in_(list(fresh)),
    )
    known = set(session.exec(query))
    at = now or utcnow()
    rows = [
        MergeConflict(
            job_id=job_id,
            run_id=run_id,
            found_at=at,
            contact_key=c.key,
            contact_field=c.field,
            why=str(c.why),
            winner=_claim_json(c.winner),
            losers=[_claim_json(loser) for loser in c.losers],
            identity=identity,
            state=ConflictState.open,
        )
        for identity, c in fresh.items()
        if identity not in known
    ]
    session.add_all(rows)
    session.flush()
    return rows


def list_conflicts(
    session: Session, *, job_id: int, state: ConflictState | None = ConflictState.open, limit: int | None = None
) -> list[MergeConflict]:
    """The job's conflicts (open ones by default; state None: all), newest first."""
    query = select(MergeConflict).where(MergeConflict.job_id == job_id)
    if state is not None:
        query = query.where(MergeConflict.state == state)
    query = query.order_by(col(MergeConflict.found_at).desc(), col(MergeConflict.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def open_conflict_count(session: Session, *, job_id: int) -> int:
    query = select(func.count()).select_from(MergeConflict).where(
        MergeConflict.job_id == job_id, MergeConflict.state == ConflictState.open
    )
    return int(session.exec(query).one())


def get_conflict(session: Session, *, conflict_id: int) -> MergeConflict | None:
    return session.get(MergeConflict, conflict_id)


def resolve_conflict(
    session: Session, *, conflict_id: int, by: str, resolution: str, now: datetime | None = None
) -> bool:
    """Close an open conflict (a conditional UPDATE: of two admins pressing at once, or two replicas, one
    wins). False when it was resolved already, or is not there."""
    result = session.connection().execute(
        sa_update(MergeConflict)
        .where(col(MergeConflict.id) == conflict_id, col(MergeConflict.state) == ConflictState.open)
        .values(
            state=ConflictState.resolved,
            resolved_at=now or utcnow(),
            resolved_by=by,
            resolution=resolution[:RESOLUTION_MAX],
        )
    )
    session.expire_all()
    return bool(result.rowcount)


# How long a claim to post a conflict holds: a poster that died after claiming (before Slack answered) leaves
# it to the next run's poster once this has passed (as for alerts).
POST_CLAIM_SECONDS = 300.0


def claim_conflicts_for_posting(session: Session, *, job_id: int, now: datetime | None = None) -> list[int]:
    """Claim the job's open, unposted conflicts for this process to post, oldest first: the ids it got. One
    conditional UPDATE per conflict, so of two replicas claiming one, exactly one gets it."""
    now = now or utcnow()
    stale = now - timedelta(seconds=POST_CLAIM_SECONDS)
    free = (col(MergeConflict.posting_since).is_(None)) | (col(MergeConflict.posting_since) <= stale)
    unposted = (
        col(MergeConflict.job_id) == job_id,
        col(MergeConflict.state) == ConflictState.open,
        col(MergeConflict.message_ts).is_(None),
    )
    query = select(col(MergeConflict.id)).where(*unposted, free).order_by(col(MergeConflict.id))
    candidates = list(session.exec(query))
    claimed = []
    for conflict_id in candidates:
        result = session.connection().execute(
            sa_update(MergeConflict).where(col(MergeConflict.id) == conflict_id, *unposted, free)
            .values(posting_since=now)
        )
        if int(result.rowcount) == 1:
            claimed.append(int(conflict_id))  # type: ignore[arg-type]  # a primary key
    session.expire_all()
    return claimed


def release_conflict_claim(session: Session, *, conflict_id: int) -> None:
    """Give a claim back (Slack refused the post): the next run's poster posts it."""
    session.connection().execute(
        sa_update(MergeConflict)
        .where(col(MergeConflict.id) == conflict_id, col(MergeConflict.message_ts).is_(None))
        .values(posting_since=None)
    )
    session.expire_all()


def set_conflict_message(session: Session, *, conflict_id: int, channel: str, message_ts: str) -> None:
    session.connection().execute(
        sa_update(MergeConflict).where(col(MergeConflict.id) == conflict_id).values(channel=channel,
                                                                                  message_ts=message_ts)
    )
    session.expire_all()
