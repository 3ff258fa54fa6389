"""The heartbeat of a run's lease: a background thread renews it every `every` seconds while the run lives,
however long one target takes, so the lease can be short (`CONTACTSYNC_LEASE_SECONDS`) and a run that died
blocks the job for at most that long (on its own host, not at all: see `lease_policy`).

When the lease cannot be renewed (another run took it, or the database did not answer before it lapsed)
the keeper says so (`lost`) and stops: from then on another run may hold the job, so this one must stop
writing (`check` raises `LeaseLost`) and end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import SQLAlchemyError

from sync_core import store

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The run no longer holds its job's lease: it must stop writing."""


class LeaseKeeper:
    def __init__(
        self,
        db: DbEngine,
        job_id: int,
        holder: str,
        *,
        ttl_seconds: float,
        every: float | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """`on_lost` is called once, on the keeper's thread, when the lease is lost."""
        self.db, self.job_id, self.holder = db, job_id, holder
        self.ttl = ttl_seconds
        self.every = every if every is not None else ttl_seconds / 4
        self.on_lost = on_lost
        self.lost = threading.Event()
        self.reason = ""
        self.renewals = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LeaseKeeper:
        # The lease was just acquired (with a fresh expiry): the first renewal is due in `every` seconds.
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every + 5)

    def __enter__(self) -> LeaseKeeper:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def check(self) -> None:
        """Raise `LeaseLost` if the lease is lost (call before or after each write)."""
        if self.lost.is_set():
            raise LeaseLost(self.reason)

    def _beat(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.every):
            try:
                with store.session_scope(self.db) as session:
                    held = store.renew_lease(
                        session, job_id=self.job_id, holder=self.holder, ttl_seconds=self.ttl
                    )
            except SQLAlchemyError as exc:
                # The database did not answer: try again next beat, unless the lease will have lapsed by then.
                if time.monotonic() + self.every - renewed >= self.ttl:
                    self._lose(f"could not renew the job's lease: the database did not answer ({type(exc).__name__})")
                    return
                log.warning("job %s: could not renew its lease (%s); trying again", self.job_id, type(exc).__name__)
                continue
            if not held:
                self._lose("another run took over the job's lease")
                return
            renewed = time.monotonic()
            self.renewals += 1

    def _lose(self, reason: str) -> None:
        self.reason = reason
        log.warning("job %s: %s; this run stops writing", self.job_id, reason)
        self.lost.set()
        if self.on_lost is not None:
            self.on_lost()
