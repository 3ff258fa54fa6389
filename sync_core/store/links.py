"""Links: which contact at a target is the copy of which source contact."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import Connection, func
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
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


@functools.lru_cache(maxsize=64)
def _placeholders(paramstyle: str, count: int) -> str:
    """`count` driver placeholders, comma separated (SQLite's `?`, PostgreSQL drivers' `%s`)."""
    return ", ".join(["?" if paramstyle == "qmark" else "%s"] * count)


# A link written again (an update, a photo, a relink) replaces the row of its key in place.
_ON_CONFLICT = " ON CONFLICT (job_id, target_user_id, source_key) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in ("target_resource_name", "content_hash", "target_etag", "photo", "adopted")
)
# Rows an INSERT carries: 2,000 parameters, well inside SQLite's 32,766 and PostgreSQL's 65,535.
LINK_ROWS_PER_STATEMENT = 250


@functools.lru_cache(maxsize=64)
def _upsert_statement(paramstyle: str, rows: int) -> str:
    row = f"({_placeholders(paramstyle, len(_LINK_COLUMNS))})"
    return f"INSERT INTO contact_link ({', '.join(_LINK_COLUMNS)}) VALUES {', '.join([row] * rows)}{_ON_CONFLICT}"


def _upsert_links(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Links written (tuples in `_LINK_COLUMNS` order, one a source key), inserted or, for a key the target has,
    updated in place (SQLite and PostgreSQL both have ON CONFLICT, on the unique (job_id, target_user_id,
    source_key)): no read of the keys' rows first. Many rows a statement, through the driver: one statement a
    row (executemany) cost half as much again, and SQLAlchemy's per-row parameter processing more than the
    insert itself."""
    paramstyle = conn.dialect.paramstyle
    for start in range(0, len(rows), LINK_ROWS_PER_STATEMENT):
        part = rows[start : start + LINK_ROWS_PER_STATEMENT]
        conn.exec_driver_sql(_upsert_statement(paramstyle, len(part)), tuple(chain.from_iterable(part)))


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
    """Apply one target's link changes: links written (inserted, or updated in place), links dropped.

    `writes` are (source_key, target_resource_name, content_hash, target_etag[, photo[, adopted]]) to insert
    or update; `dropped` are source keys whose contacts are gone from the target.
    """
    # One row a key, its last write: a statement may not touch a row twice (PostgreSQL refuses it).
    rows = {
        w[0]: (job_id, target_user_id, w[0], w[1], w[2], w[3], w[4] if len(w) > 4 else None,
               bool(w[5]) if len(w) > 5 else False)  # type: ignore[misc]
        for w in writes
    }
    save_link_rows(session, list(rows.values()))
    dropped = list(dropped)
    if dropped:
        delete_links(session, job_id=job_id, target_user_id=target_user_id, source_keys=dropped)


LinkRow = tuple[int, str, str, str, str, str | None, str | None, bool]


def save_link_rows(session: Session, rows: list[LinkRow]) -> None:
    """Links written, as whole rows (`_LINK_COLUMNS`, at most one a (job, target, source key)): inserted, or
    updated in place. The engine's hot path, which makes its rows in one pass (run.run_records)."""
    if rows:
        _upsert_links(session.connection(), rows)
        session.expire_all()


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
