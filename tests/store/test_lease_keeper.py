"""The heartbeat: a run's lease is renewed while it lives, and a run that lost it knows at once."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.domain.models import utcnow
from sync_core.leases.lease_keeper import LeaseKeeper, LeaseLost
from tests.pg_instance import postgres_instance
from tests.store.helpers import add_job, job_id


def _expiry(engine: Engine, jid: int) -> object:
    with Session(engine) as session:
        lease = store.lease_for_job(session, job_id=jid)
        return None if lease is None else lease.expires_at


def test_the_heartbeat_pushes_the_expiry_on_while_the_run_lives(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="run", ttl_seconds=5)
    first = _expiry(engine, jid)

    with LeaseKeeper(engine, jid, "run", ttl_seconds=5, every=0.05) as keeper:
        for _ in range(200):
            if keeper.renewals >= 3:
                break
            threading.Event().wait(0.02)
        keeper.check()  # still held: does not raise

    assert keeper.renewals >= 3 and not keeper.lost.is_set()
    assert _expiry(engine, jid) > first  # type: ignore[operator]


def test_a_lease_taken_over_is_lost_the_next_beat_and_the_run_is_told(engine: Engine, session: Session) -> None:
    jid = job_id(add_job(session))
    assert store.acquire_lease(session, job_id=jid, holder="slow", ttl_seconds=5)
    told = threading.Event()

    with LeaseKeeper(engine, jid, "slow", ttl_seconds=5, every=0.05, on_lost=told.set) as keeper:
        with Session(engine) as other:  # what a takeover leaves: the row names another holder
            store.release_lease(other, job_id=jid, holder="slow")
            assert store.acquire_lease(other, job_id=jid, holder="next", ttl_seconds=5)
        assert told.wait(5)

    assert keeper.lost.is_set() and "another run" in keeper.reason
    with pytest.raises(LeaseLost):
        keeper.check()


def test_a_run_that_cannot_renew_stops_before_its_lease_lapses(caplog: pytest.LogCaptureFixture) -> None:
    """The database goes away (the test's own PostgreSQL, stopped): the heartbeat keeps trying while the lease
    still holds, and gives up, telling the run, before it lapses, so that the run has stopped writing before
    another may take the job."""
    ttl, every = 3.0, 0.2
    with postgres_instance() as server:
        engine = store.make_engine(server.url)
        store.upgrade(engine)
        with Session(engine) as session:
            jid = job_id(add_job(session))
            assert store.acquire_lease(session, job_id=jid, holder="run", ttl_seconds=ttl)
        told: list[datetime] = []
        with caplog.at_level(logging.WARNING, logger="sync_core.leases.lease_keeper"), LeaseKeeper(
            engine, jid, "run", ttl_seconds=ttl, every=every, on_lost=lambda: told.append(utcnow())
        ) as keeper:
            deadline = time.monotonic() + 10
            while keeper.renewals < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert keeper.renewals >= 2
            server.stop("fast")
            assert keeper.lost.wait(ttl + 5), "the heartbeat never gave up"
        server.start()
        expires = _expiry(engine, jid)  # as the last renewal left it
        engine.dispose()

    assert told and told[0] < expires, f"told at {told[0]}, after the lease lapsed at {expires}"  # type: ignore[operator]
    assert "the database did not answer" in keeper.reason
    assert any("trying again" in r.getMessage() for r in caplog.records), "gave up without trying again"
    with pytest.raises(LeaseLost):
        keeper.check()
