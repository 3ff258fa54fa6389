"""The database: engine, schema upgrades, sessions, and the queries the engine and the bot use.

Usage::

    engine = open_database(settings.database_url)   # normalise, connect, migrate to head
    with session_scope(engine) as session:           # commit on success, rollback on error
        job = create_job(session, job_in=SyncJobCreate(...), created_by="U123")

Query functions take the `Session` first and everything else by keyword. They `flush()` (so ids
exist) but do not commit: the caller owns the transaction, which lets the engine commit once
per target. The exceptions are `acquire_lease`/`release_lease`, which commit, because a lease
only means something once other processes can see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NotRequired, Required, TypedDict, Unpack

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, bindparam, event, or_
from sqlalchemy import delete as sa_delete
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, col, create_engine, select

from sync_core.models import (
    ACTIVE_ALERT_STATES,
    Alert,
    AlertKind,
    AlertState,
    AuditEvent,
    ContactLink,
    JobLease,
    Run,
    RunErrorKind,
    RunStatus,
    RunTrigger,
    SelectorCreate,
    SourceContact,
    SyncJob,
    SyncJobCreate,
    SyncJobUpdate,
    TargetResult,
    TargetSelector,
    TargetState,
    TargetStatus,
    utcnow,
)

DEFAULT_DATABASE_URL = "sqlite:///contactsync.db"
MIGRATIONS = "sync_core:migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Any constant will do; it only has to be the same in every ContactSync process.
_PG_MIGRATION_LOCK_KEY = 0x436F6E74  # "Cont"


class StoreError(Exception):
    """Base class for store errors."""


class StoreConfigError(StoreError):
    """DATABASE_URL is malformed, unsupported, or the database cannot be reached."""


class DuplicateJobName(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a sync job named {name!r} already exists; choose another name")
        self.name = name


# --------------------------------------------------------------------------- engine and schema


def _parse(url: str) -> URL:
    try:
        return make_url(url.strip())
    except ArgumentError:
        # The message of ArgumentError repeats the URL, password included: don't chain it.
        raise StoreConfigError(
            "DATABASE_URL is not a valid database URL (expected e.g. sqlite:///contactsync.db "
            "or postgresql+psycopg://user:password@host/dbname)"
        ) from None


def _redacted(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def normalise_url(url: str) -> str:
    """Accept sqlite and PostgreSQL URLs; PostgreSQL always goes through psycopg 3."""
    if not url or not url.strip():
        raise StoreConfigError("DATABASE_URL is empty")
    parsed = _parse(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql"):
        if driver not in ("", "psycopg"):
            raise StoreConfigError(
                f"DATABASE_URL uses the PostgreSQL driver {driver!r}; use postgresql+psycopg:// "
                "(psycopg 3 is the driver ContactSync ships with)"
            )
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise StoreConfigError(f"DATABASE_URL uses the SQLite driver {driver!r}; use sqlite:///path")
    else:
        raise StoreConfigError(
            f"DATABASE_URL names an unsupported database {backend!r}; use sqlite:///path "
            "or postgresql+psycopg://user:password@host/dbname"
        )
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
        cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE otherwise
        # With WAL, NORMAL is safe (the database can't corrupt; a power cut may drop the last commits, which
        # the next run redoes from Google's side) and spares an fsync per commit: we commit per target.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for DATABASE_URL. Does not connect; `upgrade()` or first use will."""
    normalised = normalise_url(url)
    parsed = make_url(normalised)
    try:
        if parsed.get_backend_name() == "sqlite":
            in_memory = parsed.database in (None, "", ":memory:")
            engine = create_engine(
                normalised,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                # one shared connection, or every session would see its own empty database
                **({"poolclass": StaticPool} if in_memory else {}),
            )
            _configure_sqlite(engine)
            return engine
        return create_engine(normalised, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, TypeError) as exc:
        raise StoreConfigError(f"DATABASE_URL={_redacted(parsed)} cannot be used: {type(exc).__name__}") from None


def alembic_config() -> Config:
    """Alembic configured in code (the app ships no alembic.ini); see `upgrade()` for use."""
    config = Config()  # built in code: no alembic.ini needed in the working directory
    config.set_main_option("script_location", MIGRATIONS)
    return config


def _connection_error(engine: Engine, exc: OperationalError) -> StoreConfigError:
    lines = str(exc.orig or exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    password = engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return StoreConfigError(f"cannot open the database at DATABASE_URL={_redacted(engine.url)}: {reason}")


def connect(engine: Engine) -> Connection:
    """Open a connection, turning "cannot connect" into a one-line StoreConfigError."""
    try:
        return engine.connect()
    except OperationalError as exc:
        raise _connection_error(engine, exc) from None


def _migrate_sqlite(connection: Connection, config: Config, revision: str) -> None:
    # Batch mode rebuilds a table as copy-drop-rename; with foreign keys on, dropping sync_job
    # would cascade into every child table. The pragma is ignored inside a transaction, so it
    # goes first; integrity is checked explicitly before committing instead.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        # IMMEDIATE takes the write lock now: one migrator at a time, all-or-nothing DDL.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        command.upgrade(config, revision)
        violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise StoreError(f"migration to {revision} broke foreign keys: {violations[:5]}")
        connection.commit()
    finally:
        connection.rollback()  # a no-op after a commit
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _migrate_postgresql(connection: Connection, config: Config, revision: str) -> None:
    # Two processes starting at once must not both create the tables.
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
    command.upgrade(config, revision)
    connection.commit()


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Migrate the schema to `revision` (alembic, in one transaction).

    Safe to call at every start-up, and from several processes at once.
    """
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = alembic_config()
    try:
        with connect(engine) as connection:
            config.attributes["connection"] = connection
            if connection.dialect.name == "sqlite":
                _migrate_sqlite(connection, config, revision)
            else:
                _migrate_postgresql(connection, config, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def open_database(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """What the app calls at start-up: an engine whose schema is at head."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises.

    Objects stay usable after the block (no expire on commit), so callers can pass them on.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# --------------------------------------------------------------------------- jobs


def get_job(session: Session, *, job_id: int) -> SyncJob | None:
    return session.get(SyncJob, job_id)


def get_job_by_name(session: Session, *, name: str) -> SyncJob | None:
    return session.exec(select(SyncJob).where(SyncJob.name == name)).first()


def job_names(session: Session) -> list[str]:
    """Every job's name (names are compared ignoring case, in Python: SQLite's lower() knows only ASCII)."""
    return list(session.exec(select(SyncJob.name)))


def _name_taken(session: Session, name: str, *, but: int | None = None) -> bool:
    wanted = name.casefold()
    return any(
        job_name.casefold() == wanted
        for job_id, job_name in session.exec(select(SyncJob.id, SyncJob.name))
        if job_id != but
    )


def list_jobs(session: Session, *, enabled_only: bool = False) -> list[SyncJob]:
    query = select(SyncJob).order_by(col(SyncJob.name))
    if enabled_only:
        query = query.where(col(SyncJob.enabled).is_(True))
    return list(session.exec(query))


def _flush_job(session: Session, job: SyncJob) -> None:
    """Flush; turn a clash on the unique name into DuplicateJobName.

    On a clash the session is rolled back (a failed flush leaves it unusable otherwise).
    """
    name = job.name
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        if _name_taken(session, name):
            raise DuplicateJobName(name) from None
        raise


def create_job(session: Session, *, job_in: SyncJobCreate, created_by: str) -> SyncJob:
    if _name_taken(session, job_in.name):
        raise DuplicateJobName(job_in.name)
    job = SyncJob.model_validate(job_in, update={"created_by": created_by})
    session.add(job)
    _flush_job(session, job)  # a concurrent creator can still win the race
    return job


def update_job(session: Session, *, job: SyncJob, job_in: SyncJobUpdate) -> SyncJob:
    changes = job_in.model_dump(exclude_unset=True)
    new_name = changes.get("name", job.name)
    if new_name != job.name and _name_taken(session, new_name, but=job.id):
        raise DuplicateJobName(new_name)
    job.sqlmodel_update(changes)
    job.updated_at = utcnow()
    session.add(job)
    _flush_job(session, job)
    return job


def delete_job(session: Session, *, job_id: int) -> bool:
    """Delete a job and, through ON DELETE CASCADE, everything that hangs off it.

    Audit events are kept (they carry no foreign key). Returns False if there was no such job.
    """
    job = session.get(SyncJob, job_id)
    if job is None:
        return False
    session.delete(job)
    session.flush()
    # The ORM does not know the database cascaded; drop stale child objects from the identity map.
    session.expire_all()
    return True


# --------------------------------------------------------------------------- selectors


def list_selectors(session: Session, *, job_id: int) -> list[TargetSelector]:
    query = (
        select(TargetSelector)
        .where(TargetSelector.job_id == job_id)
        .order_by(col(TargetSelector.kind), col(TargetSelector.value))
    )
    return list(session.exec(query))


def set_selectors(session: Session, *, job_id: int, selectors: Iterable[SelectorCreate]) -> list[TargetSelector]:
    """Replace a job's target selectors. Repeats of the same (kind, value) collapse into one."""
    session.exec(sa_delete(TargetSelector).where(col(TargetSelector.job_id) == job_id))
    unique: dict[tuple[str, str], SelectorCreate] = {}
    for selector in selectors:
        unique.setdefault((selector.kind, selector.value), selector)
    rows = [TargetSelector.model_validate(s, update={"job_id": job_id}) for s in unique.values()]
    session.add_all(rows)
    session.flush()
    return list_selectors(session, job_id=job_id)


# --------------------------------------------------------------------------- target state


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


def force_full_reads(session: Session, *, job_id: int) -> None:
    """Make the next run read every target in full (after an edit that changes what they hold)."""
    session.exec(
        sa_update(TargetState).where(col(TargetState.job_id) == job_id).values(sync_token=None, last_full_read_at=None)
    )
    session.expire_all()


def delete_target_state(session: Session, *, job_id: int, target_user_id: str) -> bool:
    state = session.get(TargetState, (job_id, target_user_id))
    if state is None:
        return False
    session.delete(state)
    session.flush()
    return True


# --------------------------------------------------------------------------- runs


class RunCounts(TypedDict, total=False):
    created: int
    updated: int
    deleted: int
    unchanged: int
    targets_total: int
    targets_ok: int
    targets_failed: int
    api_calls: int


def start_run(
    session: Session,
    *,
    job_id: int,
    trigger: RunTrigger,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Run:
    run = Run(job_id=job_id, trigger=trigger, dry_run=dry_run, started_at=now or utcnow())
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    *,
    run: Run,
    status: RunStatus,
    error_kind: RunErrorKind | None = None,
    error_reason: str = "",
    now: datetime | None = None,
    **counts: Unpack[RunCounts],
) -> Run:
    if status is RunStatus.running:
        raise ValueError("finish_run needs a final status, not 'running'")
    run.sqlmodel_update(dict(counts))
    run.status = status
    run.error_kind = error_kind
    run.error_reason = error_reason
    run.finished_at = now or utcnow()
    session.add(run)
    session.flush()
    return run


def abandon_running_runs(session: Session, *, job_id: int, now: datetime | None = None) -> int:
    """Mark the job's `running` runs as abandoned. Call right after acquiring the job's lease:
    whoever held it before is gone, so any run still `running` died with it."""
    result = session.exec(
        sa_update(Run)
        .where(col(Run.job_id) == job_id, col(Run.status) == RunStatus.running)
        .values(status=RunStatus.abandoned, finished_at=now or utcnow())
    )  # ORM-enabled UPDATE: Run objects already in the session are updated too
    return int(result.rowcount)


def add_target_result(
    session: Session,
    *,
    run_id: int,
    job_id: int,
    target_user_id: str | None,
    target_email: str,
    status: TargetStatus,
    reason: str = "",
    new_email: str | None = None,
    created: int = 0,
    updated: int = 0,
    deleted: int = 0,
    unchanged: int = 0,
) -> TargetResult:
    result = TargetResult(
        run_id=run_id,
        job_id=job_id,
        target_user_id=target_user_id,
        target_email=target_email,
        status=status,
        reason=reason,
        new_email=new_email,
        created=created,
        updated=updated,
        deleted=deleted,
        unchanged=unchanged,
    )
    session.add(result)
    session.flush()
    return result


def last_runs(session: Session, *, job_id: int, limit: int = 10) -> list[Run]:
    """The job's most recent runs, newest first."""
    query = (
        select(Run).where(Run.job_id == job_id).order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit)
    )
    return list(session.exec(query))


def results_for_run(session: Session, *, run_id: int) -> list[TargetResult]:
    """A run's per-target results, in the order they were recorded."""
    query = select(TargetResult).where(TargetResult.run_id == run_id).order_by(col(TargetResult.id))
    return list(session.exec(query))


# --------------------------------------------------------------------------- links


def links_for_target(session: Session, *, job_id: int, target_user_id: str) -> dict[str, ContactLink]:
    """Contacts we created for this job in this target's account, keyed by source key."""
    query = select(ContactLink).where(ContactLink.job_id == job_id, ContactLink.target_user_id == target_user_id)
    return {link.source_key: link for link in session.exec(query)}


def _write_link(
    session: Session,
    link: ContactLink | None,
    *,
    job_id: int,
    target_user_id: str,
    source_key: str,
    target_resource_name: str,
    content_hash: str,
    target_etag: str | None,
) -> ContactLink:
    if link is None:
        link = ContactLink(
            job_id=job_id,
            target_user_id=target_user_id,
            source_key=source_key,
            target_resource_name=target_resource_name,
            content_hash=content_hash,
            target_etag=target_etag,
        )
    else:
        link.target_resource_name = target_resource_name
        link.content_hash = content_hash
        link.target_etag = target_etag
    session.add(link)
    return link


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
    existing = session.exec(
        select(ContactLink).where(
            ContactLink.job_id == job_id,
            ContactLink.target_user_id == target_user_id,
            ContactLink.source_key == source_key,
        )
    ).first()
    link = _write_link(
        session,
        existing,
        job_id=job_id,
        target_user_id=target_user_id,
        source_key=source_key,
        target_resource_name=target_resource_name,
        content_hash=content_hash,
        target_etag=target_etag,
    )
    session.flush()
    return link


def link_rows(
    session: Session, *, job_id: int, target_user_id: str
) -> dict[str, tuple[str, str, str | None, str | None]]:
    """The hot path's read of a target's links, no ORM objects:
    source_key -> (resource name, content hash, etag, photo fingerprint)."""
    query = sa_select(
        col(ContactLink.source_key),
        col(ContactLink.target_resource_name),
        col(ContactLink.content_hash),
        col(ContactLink.target_etag),
        col(ContactLink.photo),
    ).where(col(ContactLink.job_id) == job_id, col(ContactLink.target_user_id) == target_user_id)
    rows = session.connection().execute(query).all()  # one fetchall, not a fetchone per row
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


_LINK_COLUMNS = (
    "job_id", "target_user_id", "source_key", "target_resource_name", "content_hash", "target_etag", "photo"
)


def _insert_links(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A first sync stores a link per contact written: the rows go to the driver's executemany as tuples,
    without SQLAlchemy's per-row parameter processing (which cost more than the insert itself)."""
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(_LINK_COLUMNS))
    statement = f"INSERT INTO contact_link ({', '.join(_LINK_COLUMNS)}) VALUES ({marks})"
    conn.exec_driver_sql(statement, [tuple(row[c] for c in _LINK_COLUMNS) for row in rows])


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


def save_link_changes(
    session: Session,
    *,
    job_id: int,
    target_user_id: str,
    writes: Iterable[tuple[str, str, str, str | None] | tuple[str, str, str, str | None, str | None]],
    dropped: Iterable[str] = (),
) -> None:
    """Apply one target's link changes after a sync: one read, then bulk inserts and updates.

    `writes` are (source_key, target_resource_name, content_hash, target_etag[, photo]) to insert
    or update; `dropped` are source keys whose contacts are gone from the target.
    """
    writes = list(writes)
    dropped = list(dropped)
    if writes:
        # The ids of these keys' existing links only: a sync stores its links a batch at a time, and reading
        # every link of the target for each batch made a 20,000-contact first sync quadratic.
        keys = list({w[0] for w in writes})
        ids: dict[str, int | None] = {}
        for start in range(0, len(keys), 500):
            ids.update(
                session.connection().execute(
                    sa_select(col(ContactLink.source_key), col(ContactLink.id)).where(
                        col(ContactLink.job_id) == job_id,
                        col(ContactLink.target_user_id) == target_user_id,
                        col(ContactLink.source_key).in_(keys[start : start + 500]),
                    )
                ).all()
            )
        inserts, updates = [], []
        for write in writes:
            source_key = write[0]
            values = {
                "target_resource_name": write[1],
                "content_hash": write[2],
                "target_etag": write[3],
                "photo": write[4] if len(write) > 4 else None,
            }
            if source_key in ids:
                updates.append({"id": ids[source_key], **values})
            else:
                ids[source_key] = -1  # a key written twice in one batch is inserted once
                inserts.append({"job_id": job_id, "target_user_id": target_user_id, "source_key": source_key, **values})
        if inserts:
            _insert_links(session.connection(), inserts)
        if updates:  # executemany of an UPDATE keyed by primary key, not the ORM's bulk-by-pk form
            session.connection().execute(
                sa_update(ContactLink).where(col(ContactLink.id) == bindparam("link_id")),
                [
                    {
                        "link_id": u["id"],
                        "target_resource_name": u["target_resource_name"],
                        "content_hash": u["content_hash"],
                        "target_etag": u["target_etag"],
                        "photo": u["photo"],
                    }
                    for u in updates
                ],
            )
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


# --------------------------------------------------------------------------- source cache


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
    row = session.get(SourceContact, (job_id, source_key))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def replace_source_contacts(
    session: Session,
    *,
    job_id: int,
    contacts: Mapping[str, tuple[dict[str, Any], str] | tuple[dict[str, Any], str, str | None]],
) -> None:
    """Make the cache equal `contacts` ({source_key: (payload, content_hash[, photo])}).

    Only rows whose hash or photo changed are rewritten (bulk statements: this runs every run).
    """
    conn = session.connection()
    cached = {
        key: (digest, photo)
        for key, digest, photo in conn.execute(
            sa_select(col(SourceContact.source_key), col(SourceContact.content_hash), col(SourceContact.photo)).where(
                col(SourceContact.job_id) == job_id
            )
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
        if key not in cached:
            inserts.append(
                {"job_id": job_id, "source_key": key, "payload": payload, "content_hash": digest, "photo": photo}
            )
        elif cached[key] != (digest, photo):
            updates.append({"key": key, "payload": payload, "content_hash": digest, "photo": photo})
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


# --------------------------------------------------------------------------- audit


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    job_id: int | None = None,
    job_name: str = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    event_ = AuditEvent(
        actor=actor,
        action=action,
        job_id=job_id,
        job_name=job_name,
        detail=detail or {},
        at=now or utcnow(),
    )
    session.add(event_)
    session.flush()
    return event_


def audit_events(session: Session, *, job_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
    """Newest first; all jobs, or one job's (including after it was deleted)."""
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if job_id is not None:
        query = query.where(AuditEvent.job_id == job_id)
    return list(session.exec(query))


# --------------------------------------------------------------------------- alerts


def active_alerts(session: Session, *, job_id: int) -> list[Alert]:
    """The job's pending, open and kept alerts, oldest first."""
    query = (
        select(Alert).where(Alert.job_id == job_id, col(Alert.state).in_(ACTIVE_ALERT_STATES)).order_by(col(Alert.id))
    )
    return list(session.exec(query))


def get_alert(session: Session, *, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)


def add_alert(
    session: Session,
    *,
    job_id: int,
    key: str,
    kind: AlertKind,
    state: AlertState,
    subject: str,
    user_id: str | None = None,
    new_email: str | None = None,
    reason: str = "",
    streak: int = 1,
    run_id: int | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> Alert:
    alert = Alert(
        job_id=job_id,
        key=key,
        kind=kind,
        state=state,
        subject=subject,
        user_id=user_id,
        new_email=new_email,
        reason=reason[:500],
        streak=streak,
        run_id=run_id,
        channel=channel,
        opened_at=now or utcnow(),
    )
    session.add(alert)
    session.flush()
    return alert


def update_alert(session: Session, *, alert_id: int, **values: Any) -> bool:
    """Change an alert that is still active; False if it is gone or was closed meanwhile."""
    result = session.exec(
        sa_update(Alert).where(col(Alert.id) == alert_id, col(Alert.state).in_(ACTIVE_ALERT_STATES)).values(**values)
    )
    session.expire_all()
    return int(result.rowcount) == 1


def close_alert(
    session: Session,
    *,
    alert_id: int,
    state: AlertState,
    outcome: str,
    closed_by: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Close an active alert (fixed, resolved, superseded). Atomic: of two people (or a person and a run)
    closing the same alert at once, exactly one gets True."""
    if state in ACTIVE_ALERT_STATES:
        raise ValueError(f"close_alert needs a closed state, not {state.value!r}")
    return update_alert(
        session,
        alert_id=alert_id,
        state=state,
        outcome=outcome[:500],
        closed_by=closed_by,
        closed_at=now or utcnow(),
    )


def delete_alert(session: Session, *, alert_id: int) -> None:
    session.exec(sa_delete(Alert).where(col(Alert.id) == alert_id))


def set_alert_message(session: Session, *, alert_ids: Iterable[int], channel: str, message_ts: str) -> None:
    ids = list(alert_ids)
    if ids:
        session.exec(sa_update(Alert).where(col(Alert.id).in_(ids)).values(channel=channel, message_ts=message_ts))
        session.expire_all()


def alerts_of_message(session: Session, *, channel: str, message_ts: str) -> list[Alert]:
    """Every alert one message shows, in the order it shows them."""
    query = select(Alert).where(Alert.channel == channel, Alert.message_ts == message_ts).order_by(col(Alert.id))
    return list(session.exec(query))


# --------------------------------------------------------------------------- leases


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
