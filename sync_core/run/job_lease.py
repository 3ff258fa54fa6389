"""A job's lease, held while a run (or a job's clean-up) writes: taken (or taken over from a holder that is gone),
renewed by a heartbeat (`LeaseKeeper`), given back at the end, even across a short database outage.

A dry run writes nothing and holds no lease: it runs under `NO_LEASE`, which is never lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Engine as DbEngine

from sync_core import store
from sync_core.leases.lease_keeper import LeaseKeeper
from sync_core.leases.processes import probe_process, this_process
from sync_core.run.outage import while_database_recovers
from sync_core.run.run_errors import JobBusy
from sync_core.scheduling.watch import WATCH_READ_WAIT_SECONDS, is_watch_holder

log = logging.getLogger(__name__)


class HeldLease(Protocol):
    """What a run asks of its lease: whether it is lost (`check` raises LeaseLost once it is)."""

    lost: threading.Event

    def check(self) -> None: ...


class _NoLease:
    """The lease of a run that writes nothing (a dry run): never lost, so every check passes."""

    def __init__(self) -> None:
        self.lost = threading.Event()

    def check(self) -> None:
        return None


NO_LEASE: HeldLease = _NoLease()


@contextmanager
def hold_lease(
    db: DbEngine,
    *,
    job_id: int,
    job_name: str,
    holder: str,
    ttl_seconds: float,
    busy: str,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LeaseKeeper]:
    """Hold the job's lease while the block runs, renewed by a heartbeat; JobBusy(`busy`) if a live run holds it.

    A holder that is gone (its lease lapsed, or its process on this host no longer runs) is taken over at
    once, and the runs it left `running` are marked abandoned."""
    # A source watch holds the lease for one read (a second or so): a run that meets it waits its turn.
    watch_over = time.monotonic() + WATCH_READ_WAIT_SECONDS
    while True:
        with store.session_scope(db) as session:
            grant = store.acquire_lease(
                session, job_id=job_id, holder=holder, ttl_seconds=ttl_seconds, me=this_process(), probe=probe_process
            )
            if grant:
                if grant.verdict.holder_dead:
                    log.info("job %s: took over the lease of a run that is gone (%s)", job_name, grant.verdict)
                store.abandon_running_runs(session, job_id=job_id)
                break
            held = store.lease_for_job(session, job_id=job_id)
        if held is None or not is_watch_holder(held.holder) or time.monotonic() > watch_over:
            raise JobBusy(busy)
        sleep(0.1)
    keeper = LeaseKeeper(db, job_id, holder, ttl_seconds=ttl_seconds).start()
    try:
        yield keeper
    finally:
        keeper.stop()

        def release() -> None:
            with store.session_scope(db) as session:
                store.release_lease(session, job_id=job_id, holder=holder)

        # If the database does not come back, the lease lapses by itself (or is taken over at once
        # by a run on this host, once this process is gone).
        while_database_recovers(release, f"give back the lease of {job_name!r}")
