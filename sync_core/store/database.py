"""The database itself: URLs, the engine, schema upgrades (alembic) and sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from sync_core.store.errors import DatabaseUnavailable, StoreConfigError, StoreError

DEFAULT_DATABASE_URL = "sqlite:///contactsync.db"
MIGRATIONS = "sync_core:migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# libpq waits for a connection forever by default: a database host that drops packets would hang a run, the
# scheduler and /readyz with it. A URL that sets its own `connect_timeout` keeps it.
PG_CONNECT_TIMEOUT_SECONDS = 10
# Any constant will do; it only has to be the same in every ContactSync process.
_PG_MIGRATION_LOCK_KEY = 0x436F6E74  # "Cont"


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
        if "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict({"connect_timeout": str(PG_CONNECT_TIMEOUT_SECONDS)})
        return create_engine(parsed, pool_pre_ping=True)
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


def _migrate_sqlite(connection: Connection, config: Config, revision: str) -> SchemaChange:
    # Batch mode rebuilds a table as copy-drop-rename; with foreign keys on, dropping sync_job
    # would cascade into every child table. The pragma is ignored inside a transaction, so it
    # goes first; integrity is checked explicitly before committing instead.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        # IMMEDIATE takes the write lock now: one migrator at a time, all-or-nothing DDL.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        before = _revision(connection)
        command.upgrade(config, revision)
        violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise StoreError(f"migration to {revision} broke foreign keys: {violations[:5]}")
        after = _revision(connection)
        connection.commit()
        return SchemaChange(before, after)
    finally:
        connection.rollback()  # a no-op after a commit
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _migrate_postgresql(connection: Connection, config: Config, revision: str) -> SchemaChange:
    # Two processes starting at once must not both create the tables.
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
    before = _revision(connection)
    command.upgrade(config, revision)
    after = _revision(connection)
    connection.commit()
    return SchemaChange(before, after)


class SchemaChange(NamedTuple):
    """The schema's revision before and after an upgrade (`before` None: a new, empty database)."""

    before: str | None
    after: str | None


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> SchemaChange:
    """Migrate the schema to `revision` (alembic, in one transaction); say from which revision to which.

    Safe to call at every start-up, and from several processes at once.
    """
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = alembic_config()
    try:
        with connect(engine) as connection:
            config.attributes["connection"] = connection
            if connection.dialect.name == "sqlite":
                return _migrate_sqlite(connection, config, revision)
            return _migrate_postgresql(connection, config, revision)
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


def upsert_insert(dialect_name: str) -> Any:
    """The INSERT that has ON CONFLICT clauses (`on_conflict_do_nothing`, `on_conflict_do_update`) for the
    database behind a session or engine (`bind.dialect.name`): PostgreSQL's or SQLite's, which agree on them."""
    return pg_insert if dialect_name == "postgresql" else sqlite_insert


def delete_by_key(session: Session, model: type[SQLModel], key: object) -> bool:
    """Delete the row of `model` with primary key `key`; False if there was none."""
    row = session.get(model, key)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def is_outage(exc: BaseException) -> bool:
    """Whether a database error means the database (or the way to it) failed, not the statement."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def outage(exc: BaseException) -> DatabaseUnavailable:
    """A one-line DatabaseUnavailable for a database error: the driver's first line, without the SQL and
    the parameters SQLAlchemy appends (which may hold contact data)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    reason = (lines[0] if lines else type(orig).__name__)[:200]
    return DatabaseUnavailable(f"the database is unavailable: {reason}")
