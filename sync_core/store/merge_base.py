"""The merge's base: per job and source contact, the synced fields the source and every copy last agreed on.

Read whole at the start of a job's merge (it is as big as the source, never bigger), advanced only for the
contacts whose content moved, and only once the source holds the merge's result (`sync_core.sync.merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import delete as sa_delete
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from sync_core.domain.contacts import content_hash
from sync_core.domain.models import MergeBase
from sync_core.sync.merge import Fields, normalised

# Keys per IN (...) list: SQLite takes at most 32,766 bound values a statement, and a label may hold 25,000.
_CHUNK = 500


def base_entry(fields: Fields) -> tuple[dict[str, Any], str]:
    """A contact's fields as the base keeps them: normalised (empty fields left out, in field order), hashed."""
    content = normalised(fields)
    return content, content_hash(content)


def read_base(session: Session, *, job_id: int) -> dict[str, dict[str, Any]]:
    """The job's base: source key -> the canonical fields last synced."""
    query = sa_select(col(MergeBase.source_key), col(MergeBase.content)).where(col(MergeBase.job_id) == job_id)
    return {key: content for key, content in session.connection().execute(query)}


def base_hashes(session: Session, *, job_id: int) -> dict[str, str]:
    """The job's base without its contents: source key -> content hash."""
    query = sa_select(col(MergeBase.source_key), col(MergeBase.content_hash)).where(col(MergeBase.job_id) == job_id)
    return {key: digest for key, digest in session.connection().execute(query)}


def advance_base(
    session: Session, *, job_id: int, entries: Mapping[str, Fields], removed: Iterable[str] = ()
) -> int:
    """Set the base of the contacts in `entries` (source key -> fields now synced everywhere) and drop those
    in `removed`. Rows whose hash did not change are not rewritten. Returns how many rows changed."""
    conn = session.connection()
    gone = sorted(set(removed) - entries.keys())
    changed = 0
    for start in range(0, len(gone), _CHUNK):
        result = conn.execute(
            sa_delete(MergeBase).where(
                col(MergeBase.job_id) == job_id, col(MergeBase.source_key).in_(gone[start : start + _CHUNK])
            )
        )
        changed += result.rowcount or 0
    if entries:
        known = base_hashes(session, job_id=job_id)
        inserts, updates = [], []
        for key, fields in entries.items():
            content, digest = base_entry(fields)
            if key not in known:
                inserts.append({"job_id": job_id, "source_key": key, "content": content, "content_hash": digest})
            elif known[key] != digest:
                updates.append({"key": key, "content": content, "content_hash": digest})
        if inserts:
            conn.execute(sa_insert(MergeBase), inserts)
        if updates:
            conn.execute(
                sa_update(MergeBase).where(
                    col(MergeBase.job_id) == job_id, col(MergeBase.source_key) == bindparam("key")
                ),
                updates,
            )
        changed += len(inserts) + len(updates)
    session.expire_all()
    return changed


def replace_base(session: Session, *, job_id: int, entries: Mapping[str, Fields]) -> int:
    """Make the job's base equal `entries` (the whole source once every write succeeded): rows of contacts
    the source no longer has go. Returns how many rows changed."""
    stale = base_hashes(session, job_id=job_id).keys() - entries.keys()
    return advance_base(session, job_id=job_id, entries=entries, removed=stale)


def delete_base(session: Session, *, job_id: int, keys: Iterable[str] | None = None) -> int:
    """Forget the base of some contacts, or (keys None) of the whole job: the next run takes the source's
    version of them as it stands (a job whose editors were removed, or a base to start again)."""
    if keys is not None:
        return advance_base(session, job_id=job_id, entries={}, removed=keys)
    result = session.connection().execute(sa_delete(MergeBase).where(col(MergeBase.job_id) == job_id))
    session.expire_all()
    return result.rowcount or 0


def base_content(session: Session, *, job_id: int, key: str) -> dict[str, Any] | None:
    """One contact's fields as last synced (how a conflict's message names the contact)."""
    query = sa_select(col(MergeBase.content)).where(col(MergeBase.job_id) == job_id,
                                                    col(MergeBase.source_key) == key)
    found = session.connection().execute(query).first()
    return dict(found[0]) if found is not None else None
