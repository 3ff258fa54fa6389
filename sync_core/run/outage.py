"""A run and the database going away under it: what counts as an outage, waiting for it to come back for what
must be recorded, and one line (not a traceback) for the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from tenacity import RetryError, retry_if_exception, stop_after_delay, wait_exponential
from tenacity import Retrying as TenacityRetrying

from sync_core import store

log = logging.getLogger(__name__)

# After a database error, how long a run goes on trying to record how it ended and to give its lease back
# (a restarted server is back within seconds). Past that, the next run marks it abandoned.
DATABASE_RECOVERY_SECONDS = 30.0


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError) and store.is_outage(exc)


def while_database_recovers(action: Callable[[], Any], what: str) -> bool:
    """Do `action`, trying again while the database is unavailable (up to DATABASE_RECOVERY_SECONDS).
    False if it never came back: logged in one line, no traceback."""
    try:
        for attempt in TenacityRetrying(
            retry=retry_if_exception(is_outage),
            stop=stop_after_delay(DATABASE_RECOVERY_SECONDS),
            wait=wait_exponential(multiplier=0.25, max=4),
            reraise=False,
        ):
            with attempt:
                action()
    except RetryError as exc:
        log.warning("could not %s: %s", what, store.outage(exc.last_attempt.exception() or exc))
        return False
    return True


@contextmanager
def database_errors() -> Iterator[None]:
    """The database failing outside a run's own handling: one line (DatabaseUnavailable), not a traceback."""
    try:
        yield
    except SQLAlchemyError as exc:
        if store.is_outage(exc):
            raise store.outage(exc) from None
        raise
