"""Links: which contact at a target is the copy of which source contact."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, func
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import ContactLink


def links_for_target(session: Session, *, job_id: int, target_user_id: str) -> dict[str, ContactLink]:
    """Contacts we created for this job in this target's account, keyed by source key."""
    query = select(ContactLink).where(ContactLink.job_id == job_id, ContactLink.target_user_id == target_user_id)
    return {link.source_key: link for link in session.exec(query)}


def upsert_link(
    session: Session,
    *,
    job_id: int,
    target_user_id: str,
    source_key: str,
    target_resource_name: str,
    content_hash: str,
    target_etag: str | None = None,
) -> ContactLink:
    """One link, written on its own (the engine's hot path saves a target's links in bulk instead)."""
    link = session.exec(
        select(ContactLink).where(
            ContactLink.job_id == job_id,
            ContactLink.target_user_id == target_user_id,
            ContactLink.source_key == source_key,
        )
    ).first()
    values = {"target_resource_name": target_resource_name, "content_hash": content_hash, "target_etag": target_etag}
    if link is None:
        link = ContactLink.model_validate({"job_id": job_id, "target_user_id": target_user_id,
                                           "source_key": source_key, **values})
    else:
        link.sqlmodel_update(values)
    session.add(link)
    session.flush()
    return link


def link_rows(
    session: Session, *, job_id: int, target_user_id: str
) -> dict[str, tuple[str, str, str | None, str | None, bool]]:
    """The hot path's read of a target's links, no ORM objects:
    source_key -> (resource name, content hash, etag, photo fingerprint, adopted)."""
    query = sa_select(
        col(ContactLink.source_key),
        col(ContactLink.target_resource_name),
        col(ContactLink.content_hash),
        col(ContactLink.target_etag),
        col(ContactLink.photo),
        col(ContactLink.adopted),
    ).where(col(ContactLink.job_id) == job_id, col(ContactLink.target_user_id) == target_user_id)
    rows = session.connection().execute(query).all()  # one fetchall, not a fetchone per row
    return {row[0]: (row[1], row[2], row[3], row[4], bool(row[5])) for row in rows}


_LINK_COLUMNS = (
    "job_id", "target_user_id", "source_key", "target_resource_name", "content_hash", "target_etag", "photo",
    "adopted",
)


def _marks(conn: Connection, count: int) -> str:
    return _placeholders(conn.dialect.paramstyle, count)


@functools.lru_cache(maxsize=64)
def _placeholders(paramstyle: str, count: int) -> str:
    """`count` driver placeholders, comma separated (SQLite's `?`, PostgreSQL drivers' `%s`)."""
    return ", ".join(["?" if paramstyle == "qmark" else "%s"] * count)


def _insert_links(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """A first sync stores a link per contact written: the rows (tuples in `_LINK_COLUMNS` order) go to the
    driver's executemany, without SQLAlchemy's per-row parameter processing (which cost more than the insert
    itself)."""
    statement = f"INSERT INTO contact_link ({', '.join(_LINK_COLUMNS)}) VALUES ({_marks(conn, len(_LINK_COLUMNS))})"
    conn.exec_driver_sql(statement, rows)


def _link_ids(conn: Connection, job_id: int, target_user_id: str, keys: list[str]) -> dict[str, int]:
    """The ids of these source keys' links, 500 keys a query. Plain driver SQL: SQLAlchemy's expanding IN
    compiled 500 parameters per query, more than the query itself cost."""
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        statement = (
            "SELECT source_key, id FROM contact_link WHERE job_id = {0} AND target_user_id = {0} "
            "AND source_key IN ({1})".format(_marks(conn, 1), _marks(conn, len(part)))
        )
        ids.update(conn.exec_driver_sql(statement, (job_id, target_user_id, *part)).all())  # type: ignore[arg-type]
    return ids


def linked_resource_names(
    session: Session, *, job_id: int, target_user_id: str, resource_names: Iterable[str]
) -> set[str]:
    """Which of these target contacts the job has links to (without reading every link)."""
    names = list(resource_names)
    found: set[str] = set()
    for start in range(0, len(names), 500):
        query = sa_select(col(ContactLink.target_resource_name)).where(
            col(ContactLink.job_id) == job_id,
            col(ContactLink.target_user_id) == target_user_id,
            col(ContactLink.target_resource_name).in_(names[start : start + 500]),
        )
        found.update(row[0] for row in session.connection().execute(query))
    return found


def users_with_links(session: Session, *, job_id: int, target_user_ids: Iterable[str]) -> set[str]:
    """Which of these targets the job has any link at (one query per 500, not one per target)."""
    ids = list(target_user_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        query = sa_select(col(ContactLink.target_user_id)).distinct().where(
            col(ContactLink.job_id) == job_id, col(ContactLink.target_user_id).in_(ids[start : start + 500])
        )
        found.update(row[0] for row in session.connection().execute(query))
    return found


def save_link_changes(
    session: Session,
    *,
    job_id: int,
    target_user_id: str,
    writes: Iterable[
        tuple[str, str, str, str | None]
        | tuple[str, str, str, str | None, str | None]
        | tuple[str, str, str, str | None, str | None, bool]
    ],
    dropped: Iterable[str] = (),
) -> None:
    """Apply one target's link changes after a sync: one read, then bulk inserts and updates.

    `writes` are (source_key, target_resource_name, content_hash, target_etag[, photo[, adopted]]) to insert
    or update; `dropped` are source keys whose contacts are gone from the target.
    """
    writes = list(writes)
    dropped = list(dropped)
    if writes:
        conn = session.connection()
        # The ids of these keys' existing links only: a sync stores its links a batch at a time, and reading
        # every link of the target for each batch made a 20,000-contact first sync quadratic.
        ids: dict[str, int | None] = dict(_link_ids(conn, job_id, target_user_id, list({w[0] for w in writes})))
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        for write in writes:
            source_key = write[0]
            photo = write[4] if len(write) > 4 else None
            adopted = bool(write[5]) if len(write) > 5 else False  # type: ignore[misc]
            if source_key in ids:
                updates.append({
                    "link_id": ids[source_key], "target_resource_name": write[1], "content_hash": write[2],
                    "target_etag": write[3], "photo": photo, "adopted": adopted,
                })
            else:
                ids[source_key] = -1  # a key written twice in one batch is inserted once
                inserts.append((job_id, target_user_id, source_key, write[1], write[2], write[3], photo, adopted))
        if inserts:
            _insert_links(conn, inserts)
        if updates:  # executemany of an UPDATE keyed by primary key, not the ORM's bulk-by-pk form
            conn.execute(sa_update(ContactLink).where(col(ContactLink.id) == bindparam("link_id")), updates)
        session.expire_all()
    if dropped:
        delete_links(session, job_id=job_id, target_user_id=target_user_id, source_keys=dropped)


def delete_links(
    session: Session, *, job_id: int, target_user_id: str, source_keys: Iterable[str] | None = None
) -> int:
    """Delete the target's links for `source_keys`, or all of them if None. Returns the count."""
    statement = sa_delete(ContactLink).where(
        col(ContactLink.job_id) == job_id, col(ContactLink.target_user_id) == target_user_id
    )
    if source_keys is not None:
        keys = list(source_keys)
        if not keys:
            return 0
        statement = statement.where(col(ContactLink.source_key).in_(keys))
    result = session.exec(statement)  # ORM-enabled DELETE: in-session links are marked deleted
    return int(result.rowcount)


def link_counts(session: Session, *, job_id: int, target_user_ids: Iterable[str]) -> dict[str, int]:
    """How many contacts the job has linked in each of these accounts (those with none are left out)."""
    ids = list(target_user_ids)
    counts: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        query = (
            sa_select(col(ContactLink.target_user_id), func.count())
            .where(col(ContactLink.job_id) == job_id, col(ContactLink.target_user_id).in_(ids[start : start + 500]))
            .group_by(col(ContactLink.target_user_id))
        )
        counts.update({row[0]: int(row[1]) for row in session.connection().execute(query)})
    return counts


def adopted_count(session: Session, *, job_id: int) -> int:
    """How many of the job's linked contacts were the targets' own before it adopted them (--match-existing)."""
    query = sa_select(func.count()).where(col(ContactLink.job_id) == job_id, col(ContactLink.adopted).is_(True))
    return int(session.connection().execute(query).scalar() or 0)
