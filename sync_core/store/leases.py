"""Job leases: at most one run of a job at a time, across processes.

These functions commit: a lease only means something once other processes can see it. Whether a lease
may be taken is decided by `sync_core.leases.lease_policy` (pure); here it is read and written atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from sync_core.domain.models import JobLease, utcnow
from sync_core.leases.lease_policy import LeaseView, ProcessIdentity, Verdict, decide, needs_probe
from sync_core.store.database import upsert_insert

# Looks a pid up on this host: (is a process with that pid running, its start time or None).
ProcessProbe = Callable[[int], tuple[bool, int | None]]


@dataclass(frozen=True)
class LeaseGrant:
    """The answer of `acquire_lease`: true if the caller now holds the lease. `verdict` says why it was
    (not) given; `previous` is the lease as it was found (None if there was none)."""

    won: bool
    verdict: Verdict
    previous: LeaseView | None = None

    def __bool__(self) -> bool:
        return self.won


def _identity_values(me: ProcessIdentity | None) -> dict[str, Any]:
    if me is None:
        return {"host": None, "boot_id": None, "pid": None, "pid_started": None}
    return {"host": me.host, "boot_id": me.boot_id or None, "pid": me.pid, "pid_started": me.started}


def _read(session: Session, job_id: int) -> LeaseView | None:
    # Read as committed now, not as the session may have cached it.
    query = select(JobLease).where(col(JobLease.job_id) == job_id).execution_options(populate_existing=True)
    row = session.exec(query).first()
    if row is None:
        return None
    return LeaseView(row.holder, row.expires_at, row.host, row.boot_id, row.pid, row.pid_started)


def acquire_lease(
    session: Session,
    *,
    job_id: int,
    holder: str,
    ttl_seconds: float,
    now: datetime | None = None,
    me: ProcessIdentity | None = None,
    probe: ProcessProbe | None = None,
) -> LeaseGrant:
    """Take the job's lease for `ttl_seconds`; true if `holder` now holds it. Commits.

    `me`: where the caller runs, recorded with the lease; with `probe`, a lease whose holder ran on this
    host and whose process is gone is taken over at once instead of when it lapses.

    Atomic across processes: an INSERT that does nothing if a lease row exists; else the row is read, judged
    (`lease_policy.decide`), and taken by an UPDATE that only matches the holder it was judged on (and, for
    a lapsed lease, only while it is still lapsed). On PostgreSQL, a concurrent UPDATE of the same row waits
    for the first to commit and re-checks its condition against the new row, so exactly one contender wins.
    """
    now = now or utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    values = {"job_id": job_id, "holder": holder, "acquired_at": now, "expires_at": expires_at}
    values |= _identity_values(me)
    insert = upsert_insert(session.get_bind().dialect.name)
    inserted = session.exec(insert(JobLease).values(**values).on_conflict_do_nothing(index_elements=["job_id"]))
    if inserted.rowcount == 1:
        session.commit()
        return LeaseGrant(True, Verdict.free)
    lease = _read(session, job_id)
    verdict = _judge(lease, holder, me, now, probe)
    won = False
    if verdict is Verdict.free:  # released between the INSERT and the read: try again from the top
        session.commit()
        return acquire_lease(
            session, job_id=job_id, holder=holder, ttl_seconds=ttl_seconds, now=now, me=me, probe=probe
        )
    if verdict.may_take and lease is not None:
        condition = [col(JobLease.job_id) == job_id, col(JobLease.holder) == lease.holder]
        if verdict is Verdict.expired:
            condition.append(col(JobLease.expires_at) <= now)  # unless its holder renewed it meanwhile
        taken = session.exec(sa_update(JobLease).where(*condition).values(**values))
        won = taken.rowcount == 1
    session.commit()
    return LeaseGrant(won, verdict if won else Verdict.held, lease)


def _judge(
    lease: LeaseView | None, holder: str, me: ProcessIdentity | None, now: datetime, probe: ProcessProbe | None
) -> Verdict:
    if me is None:
        # A caller that does not say where it runs cannot judge processes: only time and its own name count.
        me = ProcessIdentity(host="", boot_id="", pid=0, started=None)
    running, started = True, None
    if lease is not None and probe is not None and needs_probe(lease, me):
        assert lease.pid is not None
        running, started = probe(lease.pid)
    return decide(lease, holder=holder, me=me, now=now, holder_started=started, holder_running=running)


def lease_keeps_runs_out(
    session: Session,
    *,
    job_id: int,
    me: ProcessIdentity | None = None,
    probe: ProcessProbe | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether the job's lease would refuse a new run now: held, not lapsed, and (judged as `acquire_lease`
    judges) not by a process on this host that is gone. Read only: a run asked for after a crash is queued
    at once, and takes the dead holder's lease when it starts."""
    return _judge(_read(session, job_id), "", me, now or utcnow(), probe) is Verdict.held


def renew_lease(session: Session, *, job_id: int, holder: str, ttl_seconds: float, now: datetime | None = None) -> bool:
    """Push the lease's expiry on if `holder` still holds it (the heartbeat). False: it was taken or released.
    Commits."""
    now = now or utcnow()
    result = session.exec(
        sa_update(JobLease)
        .where(col(JobLease.job_id) == job_id, col(JobLease.holder) == holder)
        .values(expires_at=now + timedelta(seconds=ttl_seconds))
    )
    session.commit()
    return int(result.rowcount) == 1


def release_lease(session: Session, *, job_id: int, holder: str) -> bool:
    """Give the lease back if `holder` still holds it. Commits."""
    result = session.exec(sa_delete(JobLease).where(col(JobLease.job_id) == job_id, col(JobLease.holder) == holder))
    session.commit()
    return int(result.rowcount) == 1


def lease_for_job(session: Session, *, job_id: int) -> JobLease | None:
    return session.get(JobLease, job_id)
