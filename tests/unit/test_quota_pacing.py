"""The pure quota windows, the pacer on a fake clock, 429 parsing, and the executor's handling of 429s."""

from __future__ import annotations

import json
from typing import Any

import httplib2
import pytest
from googleapiclient.errors import HttpError
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.google import errors
from sync_core.google.calls import Executor
from sync_core.google.pacer import DailyQuotaExhausted, Pacer, QuotaWaitTooLong
from sync_core.google.quota import (
    METHOD_COSTS,
    Metric,
    QuotaLimits,
    QuotaWindow,
    cost_of,
    quota_bound_minutes,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# --- QuotaWindow: the pure decision ---------------------------------------------------------------------
def _max_in_any_window(log: list[tuple[float, int]], window: float) -> int:
    """The most units spent in any window of `window` seconds (checked at every spend's moment)."""
    return max((sum(u for t, u in log if end - window < t <= end) for end, _ in log), default=0)


@settings(max_examples=300, deadline=None)
@given(
    limit=st.integers(1, 50),
    window=st.floats(0.5, 120),
    calls=st.lists(st.tuples(st.floats(0, 30), st.integers(1, 12)), max_size=60),
)
def test_waiting_as_told_never_overfills_any_window(
    limit: int, window: float, calls: list[tuple[float, int]]
) -> None:
    q = QuotaWindow(limit, window)
    now, log = 0.0, []
    for gap, units in calls:
        now += gap
        wait = q.wait(units, now)
        assert wait >= 0
        now += wait
        assert q.wait(units, now) == 0, "after waiting as told, the call fits"
        q.spend(units, now)
        log.append((now, units))
    big = [(t, u) for t, u in log if u <= limit]
    if len(big) == len(log):  # calls bigger than the whole limit are let through alone; see QuotaWindow.wait
        assert _max_in_any_window(log, window) <= limit


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 50),
    window=st.floats(0.5, 120),
    calls=st.lists(st.tuples(st.floats(0, 30), st.integers(1, 12)), min_size=1, max_size=40),
)
def test_the_wait_is_the_shortest_that_fits(limit: int, window: float, calls: list[tuple[float, int]]) -> None:
    """No pacing slower than needed: a moment before the wait is over, the call would not fit."""
    q = QuotaWindow(limit, window)
    now = 0.0
    for gap, units in calls:
        now += gap
        wait = q.wait(units, now)
        if wait > 1e-5:  # waits end a microsecond after the window frees room (see quota._EPSILON)
            probe = QuotaWindow(limit, window)
            for entry in list(q._log):
                probe.spend(entry.units, entry.at)
            assert probe.spent(now + wait - 2e-6) + units > limit
        now += wait
        q.spend(units, now)


def test_a_refund_gives_the_units_back_and_settling_dates_them_later() -> None:
    q = QuotaWindow(30, 60)
    first = q.spend(24, 0.0)
    assert first is not None and q.wait(12, 1.0) == pytest.approx(59.0)
    q.refund(first)
    assert q.wait(12, 1.0) == 0
    second = q.spend(30, 1.0)
    assert second is not None
    q.settle(second, 3.0)  # Google answered at 3.0: its window runs from then
    assert q.wait(6, 61.5) > 0 and q.wait(6, 63.0) == 0


def test_a_429_blocks_the_metric_for_a_window_and_lowers_the_limit_then_it_recovers() -> None:
    q = QuotaWindow(30, 60)
    q.spend(18, 0.0)
    q.exhausted(1.0)  # someone else spent the rest
    assert q.limit == 18
    assert q.wait(6, 30.0) == pytest.approx(31.0)
    assert q.wait(6, 61.0) == 0
    assert q.spent(200.0) == 0 and q.limit > 18  # a clean window later it climbs back
    for t in range(300, 1000, 61):
        q.spent(float(t))
    assert q.limit == 30


def test_a_call_larger_than_the_limit_goes_alone_instead_of_waiting_forever() -> None:
    q = QuotaWindow(5, 60)
    q.spend(3, 0.0)
    assert q.wait(10, 1.0) == pytest.approx(59.0)
    assert q.wait(10, 60.0) == 0


# --- costs ----------------------------------------------------------------------------------------------
def test_costs_follow_googles_table() -> None:
    assert cost_of("people.batchCreateContacts", contacts=200) == {
        Metric.critical_read: 6,
        Metric.critical_write: 6,
        Metric.daily_write: 200,
    }
    assert cost_of("people.batchDeleteContacts") == {Metric.delete_group_write: 10}
    assert cost_of("contactGroups.list") == {Metric.group_read: 1}
    assert cost_of("people.connections.list") == {Metric.critical_read: 1}
    assert cost_of("people.updateContactPhoto") == {Metric.photo_write: 1}
    assert cost_of("directory.users.get") == {}
    assert all(units > 0 for cost in METHOD_COSTS.values() for units in cost.values())


def test_the_quota_bound_of_google_facts() -> None:
    # 3,000 contacts: 15 batch creates, 90 write units: two more minutes after the first.
    assert quota_bound_minutes(6 * 15) == 2
    assert quota_bound_minutes(6 * 5) == 0
    assert quota_bound_minutes(0) == 0


# --- the pacer ------------------------------------------------------------------------------------------
def pacer(clock: FakeClock, **kw: Any) -> Pacer:
    return Pacer(QuotaLimits(window_seconds=60), clock=clock, sleep=clock.sleep, **kw)


def test_a_first_sync_of_3000_contacts_spreads_its_batches_over_three_minutes() -> None:
    clock = FakeClock()
    user = pacer(clock).for_user("bob@example.com")
    start = clock.now
    for _ in range(15):
        user.settle(user.reserve("people.batchCreateContacts", contacts=200))
    assert clock.now - start == pytest.approx(120.0)  # the quota bound: 2 minutes after the first window


def test_users_have_their_own_quota_and_one_user_is_shared_by_every_handle() -> None:
    clock = FakeClock()
    p = pacer(clock)
    for _ in range(5):
        p.for_user("bob@example.com").reserve("people.batchCreateContacts", contacts=200)
    p.for_user("zoe@example.com").reserve("people.batchCreateContacts", contacts=200)
    assert clock.slept == []
    p.for_user("BOB@example.com").reserve("people.batchCreateContacts", contacts=200)
    assert clock.slept == [pytest.approx(60.0)]


def test_a_target_gives_up_once_its_waits_add_up_to_the_limit() -> None:
    clock = FakeClock()
    user = pacer(clock, max_wait=150).for_user("bob@example.com")
    with pytest.raises(QuotaWaitTooLong) as raised:
        for _ in range(100):
            user.reserve("people.batchCreateContacts", contacts=200)
    assert "waited 120 s" in raised.value.reason and raised.value.kind == "quota"


def test_a_spent_daily_quota_fails_at_once() -> None:
    clock = FakeClock()
    p = Pacer(QuotaLimits(per_window={Metric.daily_write: 400}, window_seconds=60), clock=clock, sleep=clock.sleep)
    user = p.for_user("bob@example.com")
    user.reserve("people.batchCreateContacts", contacts=200)
    user.reserve("people.batchCreateContacts", contacts=200)
    with pytest.raises(DailyQuotaExhausted):
        user.reserve("people.batchCreateContacts", contacts=200)
    assert clock.slept == []


def test_a_park_is_the_wait_reserve_would_sleep_and_counts_against_the_budget() -> None:
    clock = FakeClock()
    user = pacer(clock, max_wait=100).for_user("bob@example.com")
    for _ in range(5):
        assert user.park_for("people.batchCreateContacts", contacts=200) == 0  # room now: no park
        user.settle(user.reserve("people.batchCreateContacts", contacts=200))
    wait = user.park_for("people.batchCreateContacts", contacts=200)
    assert wait == pytest.approx(60.0) and user.waited == pytest.approx(60.0)
    assert clock.slept == []  # a park sleeps nowhere: the caller gives up its worker
    clock.sleep(wait)
    user.settle(user.reserve("people.batchCreateContacts", contacts=200))
    assert clock.slept == [pytest.approx(60.0)]  # the park's own wait: reserve found room at once
    for _ in range(4):
        user.settle(user.reserve("people.batchCreateContacts", contacts=200))
    with pytest.raises(QuotaWaitTooLong):  # 60 s parked + 60 s more would pass the 100 s budget
        user.park_for("people.batchCreateContacts", contacts=200)


def test_a_wait_shorter_than_a_park_is_worth_is_left_to_reserve_and_not_counted_twice() -> None:
    clock = FakeClock()
    p = Pacer(QuotaLimits(window_seconds=0.2), clock=clock, sleep=clock.sleep)
    user = p.for_user("bob@example.com")
    for _ in range(5):
        user.settle(user.reserve("people.batchCreateContacts", contacts=200))
    assert user.park_for("people.batchCreateContacts", contacts=200, at_least=0.5) == 0  # 0.2 s: not a park
    assert user.waited == 0
    user.settle(user.reserve("people.batchCreateContacts", contacts=200))  # reserve sleeps it, and counts it
    assert user.waited == pytest.approx(0.2, abs=1e-3) and clock.slept == [pytest.approx(0.2, abs=1e-3)]


def test_a_park_on_a_spent_daily_quota_fails_at_once() -> None:
    clock = FakeClock()
    p = Pacer(QuotaLimits(per_window={Metric.daily_write: 200}, window_seconds=60), clock=clock, sleep=clock.sleep)
    user = p.for_user("bob@example.com")
    user.reserve("people.batchCreateContacts", contacts=200)
    with pytest.raises(DailyQuotaExhausted):
        user.park_for("people.batchCreateContacts", contacts=200)


# --- 429s as Google words them --------------------------------------------------------------------------
def quota_error(metric: str, per: str = "minute") -> HttpError:
    body = {
        "error": {
            "code": 429,
            "message": f"Quota exceeded for quota metric '{metric}' and limit '{metric} per {per} per user' of "
            "service 'people.googleapis.com' for consumer 'project_number:123'.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {"service": "people.googleapis.com", "quota_location": "global"},
                }
            ],
        }
    }
    return HttpError(httplib2.Response({"status": "429"}), json.dumps(body).encode())


@pytest.mark.parametrize("metric", list(Metric))
def test_every_metric_is_recognised_in_a_429(metric: Metric) -> None:
    error = errors.translate(quota_error(metric.value, "day" if metric.daily else "minute"))
    assert isinstance(error, errors.RateLimited)
    assert error.metric is metric and error.daily is metric.daily


def test_a_429_naming_an_unknown_metric_still_paces() -> None:
    error = errors.translate(quota_error("Something new"))
    assert isinstance(error, errors.RateLimited) and error.metric is None and not error.daily


class ScriptedRequest:
    """A request whose answers are scripted: exceptions are raised, anything else returned."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls = 0

    def execute(self, http: Any = None, num_retries: int = 0) -> Any:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_per_minute_429_is_waited_out_not_counted_as_an_attempt() -> None:
    clock = FakeClock()
    p = pacer(clock)
    refusals = [quota_error(Metric.critical_write.value) for _ in range(4)]
    request = ScriptedRequest([*refusals, {"ok": True}])
    ex = Executor(attempts=2, sleep=clock.sleep, pacer=p.for_user("bob@example.com"))
    assert ex.execute(request, "people.batchCreateContacts", contacts=10) == {"ok": True}
    assert request.calls == 5 and p.rate_limited == 4
    assert sum(clock.slept) == pytest.approx(4 * 60.0)  # each 429 blocks the metric for a window


def test_a_daily_429_stops_the_target_at_once() -> None:
    clock = FakeClock()
    request = ScriptedRequest([quota_error(Metric.daily_write.value, "day"), {"ok": True}])
    ex = Executor(sleep=clock.sleep, pacer=pacer(clock).for_user("bob@example.com"))
    with pytest.raises(DailyQuotaExhausted):
        ex.execute(request, "people.batchCreateContacts", contacts=10)
    assert request.calls == 1


def test_without_a_pacer_a_429_is_retried_with_backoff_and_then_reported() -> None:
    waits: list[float] = []
    request = ScriptedRequest([quota_error(Metric.critical_read.value)])
    with pytest.raises(errors.QuotaExhausted):
        Executor(attempts=3, sleep=waits.append).execute(request, "directory.users.list")
    assert request.calls == 3 and len(waits) == 2


def test_targets_in_flight_follow_the_contacts_in_flight_budget() -> None:
    from sync_core.run.job_run import in_flight_width

    assert in_flight_width(64, 400_000, 2_000) == 64  # small sources: the setting
    assert in_flight_width(64, 400_000, 20_000) == 20  # big ones: the budget
    assert in_flight_width(64, 400_000, 1_000_000) == 1  # never none
    assert in_flight_width(64, 400_000, 0) == 64


def test_parked_targets_follow_the_budget_at_a_parked_targets_weight() -> None:
    from sync_core.run.job_run import PARKED_WEIGHT, parked_width

    assert parked_width(64, 250_000, 2_000) == 125 * PARKED_WEIGHT  # S8's 200 targets all wait side by side
    assert parked_width(64, 250_000, 500) >= 2_000  # a whole company receiving 500 contacts
    assert parked_width(12, 250_000, 20_000) == PARKED_WEIGHT * 250_000 // 20_000  # big sources: fewer
    assert parked_width(64, 250_000, 10_000_000) == 64  # never fewer than the workers


def test_a_target_new_to_the_job_counts_a_fraction_of_its_source_against_the_budget() -> None:
    from sync_core.run.job_run import NEW_TARGET_WEIGHT, contacts_held, in_flight_width

    assert contacts_held(500, 2_000, 2_000) == 500 // NEW_TARGET_WEIGHT  # a whole company's first sync
    assert in_flight_width(5_000, 250_000, contacts_held(500, 2_000, 2_000)) == 2_000  # all of it at once
    assert contacts_held(20_000, 50, 0) == 20_000  # a run after the first: every target reads what it holds
    assert contacts_held(2_000, 200, 100) == 1_250  # half and half: the mean, rounded up
    assert contacts_held(3, 7, 7) == 1  # never none
    assert contacts_held(0, 10, 10) == 0 and contacts_held(500, 0, 0) == 500


@given(st.integers(0, 100_000), st.integers(1, 5_000), st.data())
def test_the_budget_s_count_lies_between_a_new_target_s_and_the_source_s_size(
    source: int, targets: int, data: st.DataObject
) -> None:
    from sync_core.run.job_run import NEW_TARGET_WEIGHT, contacts_held

    new = data.draw(st.integers(0, targets))
    held = contacts_held(source, targets, new)
    assert source // NEW_TARGET_WEIGHT <= held <= max(1, source)
    assert contacts_held(source, targets, max(0, new - 1)) >= held  # fewer new targets never count less
