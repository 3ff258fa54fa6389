"""The source's contacts as last read (the incremental runs' baseline)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Text, bindparam
from sqlalchemy import cast as sa_cast
from sqlalchemy import delete as sa_delete
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import SourceContact
from sync_core.store.database import delete_by_key


def source_rows(session: Session, *, job_id: int) -> dict[str, tuple[dict[str, Any], str, str | None]]:
    """The hot path's read of the source cache, no ORM objects: source_key -> (payload, hash, photo)."""
    query = sa_select(
        col(SourceContact.source_key),
        col(SourceContact.payload),
        col(SourceContact.content_hash),
        col(SourceContact.photo),
    ).where(col(SourceContact.job_id) == job_id)
    return {row[0]: (row[1], row[2], row[3]) for row in session.connection().execute(query)}


def source_contacts(session: Session, *, job_id: int) -> dict[str, SourceContact]:
    rows = session.exec(select(SourceContact).where(SourceContact.job_id == job_id))
    return {row.source_key: row for row in rows}


def upsert_source_contact(
    session: Session, *, job_id: int, source_key: str, payload: dict[str, Any], content_hash: str
) -> SourceContact:
    row = session.get(SourceContact, (job_id, source_key))
    if row is None:
        row = SourceContact(job_id=job_id, source_key=source_key, payload=payload, content_hash=content_hash)
    elif row.content_hash != content_hash:
        row.payload = payload  # a new object, so the JSON column is seen as changed
        row.content_hash = content_hash
    session.add(row)
    session.flush()
    return row


def delete_source_contact(session: Session, *, job_id: int, source_key: str) -> bool:
    return delete_by_key(session, SourceContact, (job_id, source_key))


def replace_source_contacts(
    session: Session,
    *,
    job_id: int,
    contacts: Mapping[str, tuple[dict[str, Any], str] | tuple[dict[str, Any], str, str | None]],
    versions: Mapping[str, str] | None = None,
) -> None:
    """Make the cache equal `contacts` ({source_key: (payload, content_hash[, photo])}), each contact with its
    version in `versions` (none when it has no entry there).

    Only rows whose hash, photo or version changed are rewritten (bulk statements: this runs every run).
    """
    versions = versions or {}
    conn = session.connection()
    cached = {
        key: (digest, photo, version)
        for key, digest, photo, version in conn.execute(
            sa_select(
                col(SourceContact.source_key), col(SourceContact.content_hash), col(SourceContact.photo),
                col(SourceContact.version),
            ).where(col(SourceContact.job_id) == job_id)
        )
    }
    gone = cached.keys() - contacts.keys()
    if gone:
        conn.execute(
            sa_delete(SourceContact).where(col(SourceContact.job_id) == job_id, col(SourceContact.source_key).in_(gone))
        )
    inserts, updates = [], []
    for key, entry in contacts.items():
        payload, digest = entry[0], entry[1]
        photo = entry[2] if len(entry) > 2 else None
        version = versions.get(key)
        if key not in cached:
            inserts.append({"job_id": job_id, "source_key": key, "payload": payload, "content_hash": digest,
                            "photo": photo, "version": version})
        elif cached[key] != (digest, photo, version):
            updates.append({"key": key, "payload": payload, "content_hash": digest, "photo": photo,
                            "version": version})
    if inserts:
        conn.execute(sa_insert(SourceContact), inserts)
    if updates:
        conn.execute(
            sa_update(SourceContact).where(
                col(SourceContact.job_id) == job_id, col(SourceContact.source_key) == bindparam("key")
            ),
            updates,
        )
    session.expire_all()


def source_keys(session: Session, *, job_id: int) -> set[str]:
    """The keys of the cached source contacts, without their payloads (the source watch's question)."""
    query = sa_select(col(SourceContact.source_key)).where(col(SourceContact.job_id) == job_id)
    return {row[0] for row in session.connection().execute(query)}


def source_versions(session: Session, *, job_id: int) -> dict[str, tuple[str, str | None, str | None]]:
    """Each cached source contact's (content hash, photo, version), without its payload: what a watch compares."""
    query = sa_select(
        col(SourceContact.source_key), col(SourceContact.content_hash), col(SourceContact.photo),
        col(SourceContact.version),
    ).where(col(SourceContact.job_id) == job_id)
    return {row[0]: (row[1], row[2], row[3]) for row in session.connection().execute(query)}


def source_cards(session: Session, *, job_id: int) -> dict[str, tuple[dict[str, Any], str, str | None, str | None]]:
    """The hot path's read of a Directory Sync's stored users: source_key -> (payload, hash, photo, version),
    no ORM objects. Read with their payloads, so that a run keeps the card of each user who did not change.

    The payloads are read as text and parsed by orjson: twice as fast as the column's own parsing for 20,000
    cards, and it shares their keys' strings (less memory for the whole run)."""
    query = sa_select(
        col(SourceContact.source_key),
        sa_cast(col(SourceContact.payload), Text),
        col(SourceContact.content_hash),
        col(SourceContact.photo),
        col(SourceContact.version),
    ).where(col(SourceContact.job_id) == job_id)
    return {
        key: (orjson.loads(payload) if payload else {}, digest, photo, version)
        for key, payload, digest, photo, version in session.connection().execute(query)
    }
