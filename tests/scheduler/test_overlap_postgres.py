"""Never two runs of one job at once across processes: two schedulers, each with its own engine and
database connections, on one PostgreSQL store, firing the same job at the same moment."""

from __future__ import annotations

import functools
import queue
import threading

from sync_core import store
from sync_core.domain.models import RunStatus
from sync_core.scheduling.scheduler import RunOutcome, RunResult
from tests.scheduler.conftest import WAIT, FakeClock, FakeSyncEngine, make_harness, make_job, runs_of


def tagged(results: queue.Queue[tuple[int, RunResult]], index: int, result: RunResult) -> None:
    results.put((index, result))


def test_two_schedulers_fire_the_same_job_and_exactly_one_runs(postgres_url: str, clock: FakeClock) -> None:
    dbs = [store.make_engine(postgres_url) for _ in range(2)]
    store.upgrade(dbs[0])
    job = make_job(dbs[0], "A", "every 30m")
    harnesses = [make_harness(db, clock) for db in dbs]
    results: queue.Queue[tuple[int, RunResult]] = queue.Queue()
    for index, harness in enumerate(harnesses):
        # Two processes: two lease holders (the default holder is host:pid:thread).
        harness.engine = FakeSyncEngine(harness.db, clock, holder=f"host:{1000 + index}:1")
        harness.scheduler.engine = harness.engine
        harness.engine.gate.clear()  # the winner keeps the lease until the loser has answered
        harness.scheduler.add_listener(functools.partial(tagged, results, index))
        harness.scheduler.start()
        assert harness.next_run(job) is not None

    clock.advance(minutes=30)
    barrier = threading.Barrier(2)

    def fire(index: int) -> None:
        barrier.wait(WAIT)
        harnesses[index].step()

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        loser, lost = results.get(timeout=WAIT)
        assert lost.outcome is RunOutcome.busy, lost
        winner = 1 - loser
        assert harnesses[winner].engine.started.get(timeout=WAIT) == job
    finally:
        for harness in harnesses:
            harness.engine.gate.set()
        for thread in threads:
            thread.join(WAIT)
    index, won = results.get(timeout=WAIT)
    assert (index, won.outcome) == (winner, RunOutcome.finished)
    assert harnesses[loser].engine.calls == []
    (run,) = runs_of(dbs[0], job)
    assert run.status is RunStatus.ok
    for harness in harnesses:
        assert harness.scheduler.shutdown(timeout=WAIT).clean
    for db in dbs:
        db.dispose()
