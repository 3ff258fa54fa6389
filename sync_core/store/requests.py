"""Change requests (`models.ChangeRequest`): changes waiting for an admin. Every decision is a conditional
UPDATE from `pending` (and not yet expired): of two deciders at the same moment, exactly one wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import ChangeRequest, RequestState


def add_request(session: Session, request: ChangeRequest) -> ChangeRequest:
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, *, request_id: str) -> ChangeRequest | None:
    query = select(ChangeRequest).where(col(ChangeRequest.id) == request_id)
    return session.exec(query.execution_options(populate_existing=True)).first()


def list_requests(session: Session, *, states: tuple[RequestState, ...] | None = None,
                  limit: int = 100) -> list[ChangeRequest]:
    """Newest first."""
    query = select(ChangeRequest).order_by(col(ChangeRequest.created_at).desc()).limit(limit)
    if states is not None:
        query = query.where(col(ChangeRequest.state).in_([s.value for s in states]))
    return list(session.exec(query.execution_options(populate_existing=True)))


def expire_requests(session: Session, *, now: datetime) -> list[str]:
    """Mark the pending requests past their time as expired; their ids."""
    ids = list(session.exec(select(ChangeRequest.id).where(
        col(ChangeRequest.state) == RequestState.pending.value, col(ChangeRequest.expires_at) <= now)))
    if ids:
        session.exec(sa_update(ChangeRequest)
                     .where(col(ChangeRequest.id).in_(ids), col(ChangeRequest.state) == RequestState.pending.value)
                     .values(state=RequestState.expired.value, decided_at=now))
    return ids


def claim_expired_to_tell(session: Session, *, now: datetime) -> list[str]:
    """The expired requests whose expiry nobody has told yet, each claimed by one conditional UPDATE: of two
    replicas claiming one, exactly one gets it (and tells it once). Their ids, oldest expiry first."""
    untold = (col(ChangeRequest.state) == RequestState.expired.value, col(ChangeRequest.expiry_told_at).is_(None))
    candidates = list(session.exec(select(ChangeRequest.id).where(*untold).order_by(col(ChangeRequest.expires_at))))
    claimed = []
    for request_id in candidates:
        result = session.connection().execute(
            sa_update(ChangeRequest).where(col(ChangeRequest.id) == request_id, *untold).values(expiry_told_at=now))
        if int(result.rowcount) == 1:
            claimed.append(request_id)
    session.expire_all()
    return claimed


def decide_request(session: Session, *, request_id: str, state: RequestState, decided_by: str, now: datetime,
                   reason: str = "") -> bool:
    """Move a pending, unexpired request to `state`; False when it was not pending (decided, expired, unknown)."""
    result = session.exec(
        sa_update(ChangeRequest)
        .where(col(ChangeRequest.id) == request_id, col(ChangeRequest.state) == RequestState.pending.value,
               col(ChangeRequest.expires_at) > now)
        .values(state=state.value, decided_by=decided_by, decided_at=now, reason=reason)
    )
    return int(result.rowcount) == 1


def reopen_request(session: Session, *, request_id: str) -> None:
    """An approval that could not be carried out (the change no longer passes the checks): pending again. Only
    the approver that just won the decision calls it, before the change is done; an edit's or a delete's
    request names its job from the start, so the job id says nothing here."""
    session.exec(
        sa_update(ChangeRequest)
        .where(col(ChangeRequest.id) == request_id, col(ChangeRequest.state) == RequestState.approved.value)
        .values(state=RequestState.pending.value, decided_by=None, decided_at=None)
    )


def set_request_fields(session: Session, *, request_id: str, **values: Any) -> None:
    session.exec(sa_update(ChangeRequest).where(col(ChangeRequest.id) == request_id).values(**values))
