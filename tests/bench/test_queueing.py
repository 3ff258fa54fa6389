"""The bench's queued-while-quota-allowed figure, on call logs made by hand, and its quota rule against the
emulator's own ledger."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.queueing import Call, Limits, queue_figures, ready_at, target_queue
from emulator.quota import QuotaConfig, QuotaLedger

BATCH = {"critical_read": 6, "critical_write": 6}
READ = {"critical_read": 1}
WINDOW = 60.0
LIMITS = Limits({"critical_read": 60, "critical_write": 30}, {"critical_read": WINDOW, "critical_write": WINDOW})


def call(at: float, units: dict[str, int], took: float = 0.5, refused: bool = False) -> Call:
    return Call(at, at if refused else at + took, units, refused)


def test_a_target_waiting_for_a_worker_is_queued_from_the_run_start() -> None:
    q = target_queue("t@x", [call(10, READ), call(11, BATCH)], run_start=0, finished=12, limits=LIMITS)
    assert q.first_call_s == 10 and q.before_start_s == 10  # a fresh user's quota has room at once
    assert q.between_calls_s == 0.5  # 10.5 (read answered) to 11 (batch sent): room, not sent
    assert q.queued_s == 10.5 and q.finished_s == 12


def test_a_wait_for_its_own_window_counts_only_past_the_moment_it_had_room() -> None:
    batches = [call(i, BATCH, took=0.2) for i in range(5)]  # 0..4: the window's 30 write units
    late = call(70, BATCH)  # room again at 60 (the first batch leaves the window), sent at 70
    q = target_queue("t@x", [*batches, late], run_start=0, finished=71, limits=LIMITS)
    assert q.before_start_s == 0
    assert math.isclose(q.between_calls_s, 4 * 0.8 + 10, abs_tol=1e-5)  # the gaps between the first five, then 60..70


def test_a_refused_call_spends_nothing_and_the_retry_on_time_is_not_queued() -> None:
    batches = [call(0, BATCH, took=0) for _ in range(5)]
    calls = [*batches, call(1, BATCH, refused=True), call(60, BATCH)]
    q = target_queue("t@x", calls, run_start=0, finished=61, limits=LIMITS)
    assert q.between_calls_s < 1e-5


def test_after_its_last_call_and_during_its_calls_a_target_is_not_queued() -> None:
    q = target_queue("t@x", [call(0, READ, took=5)], run_start=0, finished=30, limits=LIMITS)
    assert q.queued_s == 0


def test_a_call_is_busy_from_when_its_request_was_read() -> None:
    calls = [call(0, READ, took=1), Call(started=3, ended=4, units=READ, received=2)]
    q = target_queue("t@x", calls, run_start=0, finished=4, limits=LIMITS)
    assert q.between_calls_s == 1  # 1 (answered) to 2 (the next request read), not to 3 (metered)


def test_no_quotas_means_any_idle_moment_is_queued() -> None:
    off = Limits({}, {}, enabled=False)
    q = target_queue("t@x", [call(0, BATCH, took=1), call(3, BATCH)], run_start=0, finished=4, limits=off)
    assert q.between_calls_s == 2


def test_figures_over_targets() -> None:
    log = [{"user": "A@x", "started": 100.0 + 4, "ended": 100.0 + 5, "units": READ, "refused": False},
           {"user": "b@x", "started": 100.0, "ended": 100.0 + 5, "units": READ, "refused": False},
           {"user": "source@x", "started": 100.0, "ended": 101.0, "units": READ, "refused": False}]
    figures = queue_figures(log, 100.0, {"a@x": 106.0, "b@x": 106.0}, wall_s=8.0, limits=LIMITS)
    assert figures["targets"] == 2
    assert figures["mean_s"] == 2 and figures["max_s"] == 4 and figures["mean_over_wall"] == 0.25
    assert figures["before_start_mean_s"] == 2 and figures["between_calls_mean_s"] == 0
    assert figures["started_s"] == [0.0, 4.0] and figures["finished_s"] == [6.0, 6.0]


COSTS = st.sampled_from([BATCH, READ, {"critical_write": 1, "critical_read": 1}])


@settings(max_examples=200, deadline=None)
@given(history=st.lists(st.tuples(st.floats(0, 200), COSTS), max_size=30), cost=COSTS,
       after=st.floats(0, 300))
def test_ready_at_is_the_emulators_rule(history: list[tuple[float, dict[str, int]]], cost: dict[str, int],
                                        after: float) -> None:
    """The emulator's ledger accepts the call at `ready_at`, and refuses it just before (when it is later)."""
    config = QuotaConfig.google(window_seconds=WINDOW)
    calls: list[Call] = []
    ledger = QuotaLedger(config)
    for at, units in sorted(history, key=lambda h: h[0]):
        calls.append(Call(at, at, units, refused=ledger.spend("u", units, at=at) is not None))
    after = max(after, max((c.started for c in calls), default=0))

    def accepted(at: float) -> bool:
        replay = QuotaLedger(config)
        for c in calls:
            if not c.refused:
                replay.spend("u", c.units, at=c.started)
        return replay.spend("u", cost, at=at) is None

    ready = ready_at(calls, cost, after, LIMITS)
    assert ready >= after and accepted(ready)
    if ready > after:
        assert not accepted(ready - 1e-5)
