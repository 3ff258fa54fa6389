"""How many calls a run keeps out at once (sync_core.google.backlog): as many as the server answers within the
wait allowed, never fewer than the floor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_core.google.backlog import MIN_SPAN_SECONDS, Backlog

answer_times = st.lists(st.floats(min_value=0.0, max_value=30.0, allow_nan=False), max_size=200).map(sorted)


def _backlog_after(times: list[float], **kwargs: float) -> Backlog:
    backlog = Backlog(max_wait=30.0, **kwargs)  # type: ignore[arg-type]
    for t in times:
        backlog.answered(t)
    return backlog


@given(times=answer_times, out=st.integers(min_value=0, max_value=31))
def test_below_the_floor_a_call_always_goes(times: list[float], out: int) -> None:
    assert _backlog_after(times).allows(out, 30.0)


@given(times=answer_times, out=st.integers(min_value=0, max_value=5000), more=st.integers(min_value=0, max_value=500))
def test_more_calls_out_never_let_more_go(times: list[float], out: int, more: int) -> None:
    backlog = _backlog_after(times)
    if backlog.allows(out + more, 30.0):
        assert backlog.allows(out, 30.0)


@given(times=answer_times, out=st.integers(min_value=32, max_value=5000))
def test_a_call_goes_when_its_expected_wait_is_within_the_limit(times: list[float], out: int) -> None:
    backlog = _backlog_after(times)
    recent = [t for t in times if t > 30.0 - backlog.rate_seconds]
    rate = len(recent) / max(MIN_SPAN_SECONDS, 30.0 - recent[0]) if recent else 0.0
    assert backlog.rate(30.0) == rate
    assert backlog.allows(out, 30.0) == (out + 1 <= rate * 30.0)


def test_a_server_answering_200_calls_a_second_takes_6000_out() -> None:
    backlog = _backlog_after([i / 200 for i in range(2000)])  # 10 s of answers, 200 a second
    now = 2000 / 200
    assert backlog.rate(now) == pytest.approx(200.0)
    assert backlog.allows(5990, now) and not backlog.allows(6010, now)


def test_a_slow_server_takes_a_few() -> None:
    backlog = _backlog_after([float(i) for i in range(10)])  # one answer a second
    assert backlog.allows(28, 10.0) and not backlog.allows(40, 10.0)


def test_answers_older_than_the_window_are_forgotten() -> None:
    backlog = _backlog_after([0.0, 0.5, 1.0])
    assert backlog.rate(5.0) > 0
    assert backlog.rate(11.0) == 0.0
    assert backlog.allows(31, 11.0) and not backlog.allows(32, 11.0)  # nothing answered lately: the floor only


def test_the_first_answers_are_not_taken_for_a_rate_of_thousands() -> None:
    backlog = _backlog_after([0.0, 0.001, 0.002])
    assert backlog.rate(0.003) == 3.0  # over at least a second


answers_with_waits = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=30.0, allow_nan=False),
              st.floats(min_value=0.0, max_value=120.0, allow_nan=False)),
    max_size=200,
).map(sorted)


@given(answers=answers_with_waits, out=st.integers(min_value=32, max_value=5000))
def test_the_worst_recent_wait_shrinks_the_calls_allowed_out(answers: list[tuple[float, float]], out: int) -> None:
    backlog = Backlog(max_wait=30.0)
    for t, waited in answers:
        backlog.answered(t, waited)
    recent = [(t, w) for t, w in answers if t > 30.0 - backlog.rate_seconds]
    slowest = max((w for _, w in recent), default=0.0)
    assert backlog.slowest(30.0) == slowest
    allowed = backlog.rate(30.0) * 30.0 * min(1.0, 30.0 / slowest if slowest else 1.0)
    assert backlog.allows(out, 30.0) == (out + 1 <= allowed)


def test_a_server_that_keeps_some_answers_past_the_mean_gets_fewer_calls() -> None:
    # 70 answers a second, an expected wait of 23 s with 1,600 out: within 30 s, but one answer took 60 s
    backlog = Backlog(max_wait=30.0)
    for i in range(700):
        backlog.answered(i / 70, 23.0)
    assert backlog.allows(1600, 10.0)
    backlog.answered(10.0, 60.0)
    assert not backlog.allows(1100, 10.0) and backlog.allows(1000, 10.0)  # half as many: 70 x 30 x 30/60
    for i in range(701, 1408):
        backlog.answered(i / 70, 23.0)
    assert backlog.allows(1600, 1407 / 70)  # ten seconds later, that answer is forgotten
