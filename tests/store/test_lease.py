"""Never two runs of one job at once, across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.leases import processes
from sync_core.leases.lease_policy import LeaseView, Verdict
from sync_core.store import leases
from tests.store.helpers import add_job, job_id

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TTL = 300


def test_a_held_lease_is_refused_to_others_and_renewed_for_its_holder(session: Session) -> None:
    jid = job_id(add_job(session))

    assert store.acquire_lease(session, job_id=jid, holder="a", ttl_seconds=TTL, now=T0)
    assert not store.acquire_lease(
        session, job_id=jid, holder="b", ttl_seconds=TTL, now=T0 + timedelta(seconds=1)
    )
    assert store.acquire_lease(
        session, job_id=jid, holder="a", ttl_seconds=TTL, now=T0 + timedelta(seconds=2)
    )

    lease = store.lease_for_job(session, job_id=jid)
    assert lease is not None
    assert (lease.holder, lease.expires_at) == ("a", T0 + timedelta(seconds=2 + TTL))


def test_an_expired_lease_is_taken_over(session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="crashed", ttl_seconds=TTL, now=T0)

    later = T0 + timedelta(seconds=TTL)
    assert store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=later)

    session.expire_all()
    lease = store.lease_for_job(session, job_id=jid)
    assert lease is not None and (lease.holder, lease.acquired_at) == ("b", later)


def test_only_the_holder_releases(session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="a", ttl_seconds=TTL)

    assert not store.release_lease(session, job_id=jid, holder="b")
    assert store.release_lease(session, job_id=jid, holder="a")
    assert store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL)


def _race(engine: Engine, job_id: int, now: datetime, contenders: int = 4, **identity: Any) -> list[str]:
    """All contenders call acquire_lease at once, each on its own connection; return the winners."""
    start = threading.Barrier(contenders)
    winners: list[str] = []
    errors: list[BaseException] = []

    def contend(holder: str) -> None:
        try:
            with Session(engine) as session:
                start.wait(timeout=10)
                if store.acquire_lease(session, job_id=job_id, holder=holder, ttl_seconds=TTL, now=now, **identity):
                    winners.append(holder)
        except BaseException as exc:  # surfaced below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"worker-{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return winners


def test_concurrent_acquirers_exactly_one_wins(engine: Engine, session: Session) -> None:
    jobs = [job_id(add_job(session, f"job-{n}")) for n in range(10)]
    for jid in jobs:
        assert len(_race(engine, jid, now=T0)) == 1  # fresh lease: INSERT races INSERT


def test_concurrent_takeover_of_an_expired_lease_exactly_one_wins(engine: Engine, session: Session) -> None:
    jobs = [job_id(add_job(session, f"job-{n}")) for n in range(10)]
    for jid in jobs:
        assert store.acquire_lease(session, job_id=jid, holder="crashed", ttl_seconds=TTL, now=T0)
    for jid in jobs:
        winners = _race(engine, jid, now=T0 + timedelta(seconds=TTL + 1))  # UPDATE races UPDATE
        assert len(winners) == 1 and winners[0] != "crashed"


# --- holders that say where they run ------------------------------------------------------------------
def _dead_pid() -> int:
    """The pid of a process that ran on this host and is gone (killed and reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child.kill()
    child.wait()
    return child.pid


def _probe(pid: int) -> tuple[bool, int | None]:
    return processes.is_running(pid), processes.started_at(pid)


HERE = processes.this_process()


def test_a_live_lease_whose_holder_on_this_host_is_gone_is_taken_over_at_once(session: Session) -> None:
    jid = job_id(add_job(session))
    dead = replace(HERE, pid=_dead_pid(), started=12345)
    assert store.acquire_lease(session, job_id=jid, holder="killed", ttl_seconds=TTL, now=T0, me=dead)

    grant = store.acquire_lease(
        session, job_id=jid, holder="next", ttl_seconds=TTL, now=T0 + timedelta(seconds=1), me=HERE, probe=_probe
    )

    assert grant and grant.verdict is Verdict.holder_gone
    assert grant.previous is not None and grant.previous.holder == "killed"
    session.expire_all()
    lease = store.lease_for_job(session, job_id=jid)
    assert lease is not None and (lease.holder, lease.pid, lease.host) == ("next", HERE.pid, HERE.host)


def test_a_live_holder_on_this_host_keeps_its_lease(session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="alive", ttl_seconds=TTL, now=T0, me=HERE)

    grant = store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=T0, me=HERE, probe=_probe)

    assert not grant and grant.verdict is Verdict.held


def test_a_pid_given_to_another_process_since_does_not_pass_for_the_holder(session: Session) -> None:
    jid = job_id(add_job(session))
    assert HERE.started is not None
    earlier_owner_of_my_pid = replace(HERE, started=HERE.started - 1)
    assert store.acquire_lease(session, job_id=jid, holder="old", ttl_seconds=TTL, now=T0, me=earlier_owner_of_my_pid)

    grant = store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=T0, me=HERE, probe=_probe)

    assert grant and grant.verdict is Verdict.holder_gone


def test_a_holder_from_before_this_host_rebooted_is_taken_over(session: Session) -> None:
    jid = job_id(add_job(session))
    before_reboot = replace(HERE, boot_id="an-earlier-boot")
    assert store.acquire_lease(session, job_id=jid, holder="old", ttl_seconds=TTL, now=T0, me=before_reboot)

    grant = store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=T0, me=HERE, probe=_probe)

    assert grant and grant.verdict is Verdict.host_rebooted


def test_a_holder_on_another_host_is_waited_for_until_its_lease_lapses(session: Session) -> None:
    jid = job_id(add_job(session))
    elsewhere = replace(HERE, host="another-host", pid=_dead_pid())
    assert store.acquire_lease(session, job_id=jid, holder="far", ttl_seconds=TTL, now=T0, me=elsewhere)

    soon = T0 + timedelta(seconds=TTL - 1)
    assert not store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=soon, me=HERE, probe=_probe)
    later = T0 + timedelta(seconds=TTL)
    grant = store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=TTL, now=later, me=HERE, probe=_probe)
    assert grant and grant.verdict is Verdict.expired


def test_the_heartbeat_renews_only_its_own_lease(session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="a", ttl_seconds=45, now=T0, me=HERE)

    assert store.renew_lease(session, job_id=jid, holder="a", ttl_seconds=45, now=T0 + timedelta(seconds=40))
    assert not store.renew_lease(session, job_id=jid, holder="b", ttl_seconds=45, now=T0 + timedelta(seconds=41))

    session.expire_all()
    lease = store.lease_for_job(session, job_id=jid)
    assert lease is not None and (lease.holder, lease.expires_at) == ("a", T0 + timedelta(seconds=85))
    assert not store.acquire_lease(session, job_id=jid, holder="b", ttl_seconds=45, now=T0 + timedelta(seconds=60))


def test_concurrent_takeover_of_a_dead_holder_exactly_one_wins(engine: Engine, session: Session) -> None:
    jobs = [job_id(add_job(session, f"job-{n}")) for n in range(10)]
    dead = replace(HERE, pid=_dead_pid())
    for jid in jobs:
        assert store.acquire_lease(session, job_id=jid, holder="killed", ttl_seconds=TTL, now=T0, me=dead)
    for jid in jobs:
        winners = _race(engine, jid, now=T0 + timedelta(seconds=1), me=HERE, probe=_probe)  # lease still live
        assert len(winners) == 1 and winners[0] != "killed"


def test_only_a_live_holder_keeps_new_runs_out(session: Session) -> None:
    """What "Run now" asks before queueing a run: the same judgement as taking the lease, without taking it."""
    alive, killed, far, free = (job_id(add_job(session, name=n)) for n in ("alive", "killed", "far", "free"))
    assert store.acquire_lease(session, job_id=alive, holder="a", ttl_seconds=TTL, now=T0, me=HERE)
    assert store.acquire_lease(session, job_id=killed, holder="k", ttl_seconds=TTL, now=T0,
                               me=replace(HERE, pid=_dead_pid()))
    assert store.acquire_lease(session, job_id=far, holder="f", ttl_seconds=TTL, now=T0,
                               me=replace(HERE, host="another-host", pid=_dead_pid()))

    def keeps_out(jid: int, at: datetime = T0 + timedelta(seconds=1)) -> bool:
        return store.lease_keeps_runs_out(session, job_id=jid, me=HERE, probe=_probe, now=at)

    assert keeps_out(alive) and keeps_out(far)
    assert not keeps_out(killed), "a holder on this host that is gone keeps nobody out"
    assert not keeps_out(free)
    assert not keeps_out(far, T0 + timedelta(seconds=TTL)), "a lapsed lease keeps nobody out"
    lease = store.lease_for_job(session, job_id=killed)
    assert lease is not None and lease.holder == "k", "asking takes nothing"


# --- a holder that renews while another process takes over ----------------------------------------------
@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = store.make_engine(postgres_url)
    store.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_a_lease_renewed_between_the_read_and_the_takeover_is_not_taken(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder's heartbeat commits a renewal after a contender read the lease as lapsed and before its
    UPDATE: the holder's run goes on, so the contender must not take the job (two runs would write). Only on
    PostgreSQL can the two interleave: on SQLite the contender's INSERT holds the write lock until it commits."""
    with Session(pg_engine) as session:
        jid = job_id(add_job(session))
        assert store.acquire_lease(session, job_id=jid, holder="slow", ttl_seconds=TTL, now=T0)
    later = T0 + timedelta(seconds=TTL + 1)  # lapsed when the contender reads it
    real_read = leases._read

    def read_then_the_holder_renews(session: Session, jid: int) -> LeaseView | None:
        lease = real_read(session, jid)
        with Session(pg_engine) as holder:  # the heartbeat, on its own connection
            assert store.renew_lease(holder, job_id=jid, holder="slow", ttl_seconds=TTL, now=later)
        return lease

    monkeypatch.setattr(leases, "_read", read_then_the_holder_renews)
    with Session(pg_engine) as session:
        grant = store.acquire_lease(session, job_id=jid, holder="next", ttl_seconds=TTL, now=later)

    assert not grant and grant.verdict is Verdict.held
    assert grant.previous is not None and grant.previous.expires_at <= later  # it was read as lapsed
    with Session(pg_engine) as session:
        lease = store.lease_for_job(session, job_id=jid)
        assert lease is not None and (lease.holder, lease.expires_at) == ("slow", later + timedelta(seconds=TTL))
