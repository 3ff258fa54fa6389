"""Drafts: forms half filled in, kept between requests so any replica can carry them on (see `models.StoredDraft`).

Every write after the first is conditional on the version the writer read: of two writers that read the
same version, exactly one saves (`save_draft` says which)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import StoredDraft


def add_draft(session: Session, *, draft_id: str, owner: str, payload: str, expires_at: datetime) -> StoredDraft:
    draft = StoredDraft(id=draft_id, owner=owner, version=1, payload=payload, expires_at=expires_at)
    session.add(draft)
    session.flush()
    return draft


def get_draft(session: Session, *, draft_id: str, now: datetime) -> StoredDraft | None:
    """The draft as committed now; None if there is none or it has expired."""
    query = select(StoredDraft).where(col(StoredDraft.id) == draft_id, col(StoredDraft.expires_at) > now)
    return session.exec(query.execution_options(populate_existing=True)).first()


def save_draft(
    session: Session, *, draft_id: str, version: int, payload: str, expires_at: datetime, now: datetime
) -> int | None:
    """Write a new payload if the draft is still at `version` (and not expired): its new version, else None."""
    result = session.exec(
        sa_update(StoredDraft)
        .where(col(StoredDraft.id) == draft_id, col(StoredDraft.version) == version, col(StoredDraft.expires_at) > now)
        .values(payload=payload, version=version + 1, expires_at=expires_at)
    )
    return version + 1 if int(result.rowcount) == 1 else None


def delete_draft(session: Session, *, draft_id: str) -> None:
    session.exec(sa_delete(StoredDraft).where(col(StoredDraft.id) == draft_id))


def delete_expired_drafts(session: Session, *, now: datetime) -> int:
    result = session.exec(sa_delete(StoredDraft).where(col(StoredDraft.expires_at) <= now))
    return int(result.rowcount)
