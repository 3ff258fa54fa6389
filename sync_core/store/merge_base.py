"""The merge's base: per job and source contact, the synced fields the source and every copy last agreed on.

Read whole at the start of a job's merge (it is as big as the source, never bigger), advanced only for the
contacts whose content moved, and only once the source holds the merge's result (`sync_core.sync.merge`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import delete as sa_delete
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from sync_core.domain.contacts import content_hash
from sync_core.domain.models import ContactLink, MergeBase, MergeBaseVersion
from sync_core.sync.merge import Fields, normalised

# Keys per IN (...) list: SQLite takes at most 32,766 bound values a statement, and a label may hold 25,000.
_CHUNK = 500


def _rows_by_key(session: Session, model: Any, job_id: int, keys: Iterable[str], *columns: Any,
                 distinct: bool = False) -> Iterator[Any]:
    """`columns` of the job's rows of `model` (a table keyed by job and source key) whose source key is among
    `keys`, read an IN list of `_CHUNK` keys at a time."""
    ordered = sorted(set(keys))
    conn = session.connection()
    for start in range(0, len(ordered), _CHUNK):
        query = sa_select(*columns).where(
            col(model.job_id) == job_id, col(model.source_key).in_(ordered[start : start + _CHUNK]))
        yield from conn.execute(query.distinct() if distinct else query)


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
    """Make the job's base equal `entries` (the whole source once every editor's copy holds it): rows of
    contacts the source no longer has go. A target that did not get this run's version (a reader whose account
    failed, who may be made an editor before it is reached) still holds the base it replaces: that version is
    kept, by the hash the target's link names it by, and so is any other a link still names; the rest go.
    Returns how many base rows changed."""
    known = base_hashes(session, job_id=job_id)
    stale = known.keys() - entries.keys()
    moving = [key for key, fields in entries.items() if key in known and base_entry(fields)[1] != known[key]]
    named = _named_by_links(session, job_id=job_id, keys=moving)
    if named:
        held = read_versions(session, job_id=job_id, wanted=named)
        unkept = sorted(named - held.keys())
        was = _base_contents(session, job_id=job_id, keys={key for key, _ in unkept})
        _insert_versions(session, job_id=job_id, rows=[(key, digest, was[key]) for key, digest in unkept])
    changed = advance_base(session, job_id=job_id, entries=entries, removed=stale)
    _drop_unnamed_versions(session, job_id=job_id)
    return changed


def delete_base(session: Session, *, job_id: int, keys: Iterable[str] | None = None) -> int:
    """Forget the base of some contacts, or (keys None) of the whole job: the next run takes the source's
    version of them as it stands (a job whose editors were removed, or a base to start again)."""
    if keys is not None:
        return advance_base(session, job_id=job_id, entries={}, removed=keys)
    result = session.connection().execute(sa_delete(MergeBase).where(col(MergeBase.job_id) == job_id))
    drop_versions(session, job_id=job_id)
    session.expire_all()
    return result.rowcount or 0


# --- the versions written while the base is behind --------------------------------------------------------------
def keep_versions(session: Session, *, job_id: int, entries: Mapping[str, tuple[str, Fields]]) -> int:
    """Keep each (source key -> (its hash as our links name it, its fields)) not kept yet. How many were new."""
    if not entries:
        return 0
    known = {(k, h) for k, h in _rows_by_key(session, MergeBaseVersion, job_id, entries,
                                             col(MergeBaseVersion.source_key), col(MergeBaseVersion.content_hash))}
    rows = [(key, digest, fields) for key, (digest, fields) in entries.items() if (key, digest) not in known]
    _insert_versions(session, job_id=job_id, rows=rows)
    session.expire_all()
    return len(rows)


def read_versions(session: Session, *, job_id: int, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Fields]:
    """The kept versions among `wanted` ((source key, hash) pairs): (key, hash) -> fields."""
    pairs = set(wanted)
    if not pairs:
        return {}
    found: dict[tuple[str, str], Fields] = {}
    for key, digest, content in _rows_by_key(session, MergeBaseVersion, job_id, {k for k, _ in pairs},
                                             col(MergeBaseVersion.source_key), col(MergeBaseVersion.content_hash),
                                             col(MergeBaseVersion.content)):
        if (key, digest) in pairs:
            found[(key, digest)] = content
    return found


def drop_versions(session: Session, *, job_id: int) -> int:
    """Forget every kept version (the job's base is forgotten too)."""
    result = session.connection().execute(sa_delete(MergeBaseVersion).where(col(MergeBaseVersion.job_id) == job_id))
    session.expire_all()
    return result.rowcount or 0


def _insert_versions(session: Session, *, job_id: int, rows: Iterable[tuple[str, str, Fields]]) -> None:
    values = [{"job_id": job_id, "source_key": key, "content_hash": digest, "content": normalised(fields)}
              for key, digest, fields in rows]
    if values:
        session.connection().execute(sa_insert(MergeBaseVersion), values)


def _base_contents(session: Session, *, job_id: int, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The base of some contacts: source key -> fields."""
    return {key: content for key, content in _rows_by_key(session, MergeBase, job_id, keys,
                                                          col(MergeBase.source_key), col(MergeBase.content))}


def _named_by_links(session: Session, *, job_id: int, keys: Iterable[str]) -> set[tuple[str, str]]:
    """The (source key, hash) pairs the job's links name, for `keys`: the versions its targets hold."""
    return {(key, digest) for key, digest in _rows_by_key(session, ContactLink, job_id, keys,
                                                          col(ContactLink.source_key), col(ContactLink.content_hash),
                                                          distinct=True)}


def _drop_unnamed_versions(session: Session, *, job_id: int) -> int:
    """Forget the kept versions no target holds any more (no link names them), and those equal to the base
    (a target holding one is told against the base, the same fields). How many went."""
    conn = session.connection()
    query = sa_select(col(MergeBaseVersion.source_key), col(MergeBaseVersion.content_hash),
                      col(MergeBaseVersion.content)).where(col(MergeBaseVersion.job_id) == job_id)
    versions = list(conn.execute(query))
    if not versions:
        return 0
    keys = {key for key, _, _ in versions}
    base = _base_contents(session, job_id=job_id, keys=keys)
    named = _named_by_links(session, job_id=job_id, keys=keys)
    gone = [(key, digest) for key, digest, content in versions
            if (key, digest) not in named or base.get(key) == content]
    for key, digest in gone:
        conn.execute(sa_delete(MergeBaseVersion).where(
            col(MergeBaseVersion.job_id) == job_id, col(MergeBaseVersion.source_key) == key,
            col(MergeBaseVersion.content_hash) == digest))
    session.expire_all()
    return len(gone)


def base_content(session: Session, *, job_id: int, key: str) -> dict[str, Any] | None:
    """One contact's fields as last synced (how a conflict's message names the contact)."""
    query = sa_select(col(MergeBase.content)).where(col(MergeBase.job_id) == job_id,
                                                    col(MergeBase.source_key) == key)
    found = session.connection().execute(query).first()
    return dict(found[0]) if found is not None else None
