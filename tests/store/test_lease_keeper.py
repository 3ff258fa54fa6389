"""The heartbeat: a run's lease is renewed while it lives, and a run that lost it knows at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from sync_core import store
from sync_core.lease_keeper import LeaseKeeper, LeaseLost
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
