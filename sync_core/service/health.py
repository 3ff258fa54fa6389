"""What a readiness probe asks of the store: does the database answer a trivial query now?"""

from __future__ import annotations

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError

from sync_core import store


def database_problem(db: DbEngine) -> str | None:
    """None when the database answers `SELECT 1`; else why not, in one line (no URL, no password)."""
    try:
        with db.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        return str(store.outage(exc))
    return None
