"""Never two runs of one job at once, across processes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
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


def _race(engine: Engine, job_id: int, now: datetime, contenders: int = 4) -> list[str]:
    """All contenders call acquire_lease at once, each on its own connection; return the winners."""
    start = threading.Barrier(contenders)
    winners: list[str] = []
    errors: list[BaseException] = []

    def contend(holder: str) -> None:
        try:
            with Session(engine) as session:
                start.wait(timeout=10)
                if store.acquire_lease(session, job_id=job_id, holder=holder, ttl_seconds=TTL, now=now):
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
