"""Several `serve` replicas on one database: each scheduled slot runs once, whichever replica fires first,
even when another replica's fire of the same slot comes after the first run has ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from sync_core import store
from sync_core.domain.models import RunTrigger
from sync_core.domain.schedule import MIN_INTERVAL, Schedule
from sync_core.scheduling.scheduler import RunOutcome
from sync_core.scheduling.slots import claim_window, may_claim
from tests.scheduler.conftest import FakeClock, FakeSyncEngine, make_harness, make_job, runs_of


def test_a_replica_firing_a_slot_after_it_ran_elsewhere_runs_nothing(db: Engine, clock: FakeClock) -> None:
    job = make_job(db, "A", "every 30m")
    first, second = make_harness(db, clock), make_harness(db, clock)
    second.engine = FakeSyncEngine(db, clock, holder="other-host:2000:1")
    second.scheduler.engine = second.engine
    for harness in (first, second):
        harness.scheduler.start()

    clock.advance(minutes=30)
    first.step()
    assert first.result().outcome is RunOutcome.finished
    clock.advance(seconds=3)  # the other replica's clock and wake-up: its fire of the same slot, later
    second.step()
    lost = second.result()
    assert (lost.outcome, lost.trigger) == (RunOutcome.busy, RunTrigger.schedule)
    assert second.engine.calls == []
    assert len(runs_of(db, job)) == 1

    clock.advance(minutes=30)  # the next slot: whoever fires first runs it, once
    second.step()
    assert second.result().outcome is RunOutcome.finished
    first.step()
    assert first.result().outcome is RunOutcome.busy
    assert len(runs_of(db, job)) == 2
    for harness in (first, second):
        assert harness.scheduler.shutdown(timeout=5).clean


def test_a_claim_is_one_conditional_update(engine: Engine) -> None:
    """Of fires of one slot, the first claims; a fire a window later claims again (on both databases)."""
    job = make_job(engine, "A", "every 30m")
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    window = timedelta(minutes=15)
    with store.session_scope(engine) as session:
        assert store.claim_slot(session, job_id=job, at=at, free_before=at - window)
        assert not store.claim_slot(session, job_id=job, at=at, free_before=at - window)
        later = at + timedelta(seconds=2)
        assert not store.claim_slot(session, job_id=job, at=later, free_before=later - window)
        next_slot = at + timedelta(minutes=30)
        assert store.claim_slot(session, job_id=job, at=next_slot, free_before=next_slot - window)


schedules = st.one_of(
    st.integers(min_value=5, max_value=31 * 24 * 60).map(lambda m: Schedule(interval=timedelta(minutes=m))),
    st.sampled_from(["*/5 * * * *", "0 7 * * 1-5", "0 0 1 * *", "30 */2 * * *"]).map(lambda c: Schedule(cron=c)),
)


def _spacing(schedule: Schedule) -> timedelta:
    return schedule.interval if schedule.interval is not None else MIN_INTERVAL


@given(
    schedule=schedules,
    slots=st.integers(min_value=1, max_value=6),
    replicas=st.integers(min_value=1, max_value=5),
    jitter=st.lists(st.floats(min_value=0, max_value=1), min_size=30, max_size=30),
)
def test_every_slot_is_claimed_exactly_once(schedule: Schedule, slots: int, replicas: int,
                                            jitter: list[float]) -> None:
    """Replicas fire each slot within a spread (clocks, wake-ups, a busy pool) under the claim window:
    each slot is claimed by exactly one of them, the first."""
    spacing = _spacing(schedule)
    spread = min(timedelta(seconds=60), claim_window(schedule) * 0.9)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    last: datetime | None = None
    draws = iter(jitter)
    for slot in range(slots):
        fires = sorted(start + slot * spacing + spread * next(draws) for _ in range(replicas))
        claimed = []
        for fired_at in fires:
            if may_claim(schedule, fired_at, last):
                last = fired_at
                claimed.append(fired_at)
        assert claimed == [fires[0]]
