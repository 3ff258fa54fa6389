"""The run's target pool (sync_core.run.target_pool): a parked target holds no worker, targets in flight stay
within their bound, and a shutdown or a failing step ends it as the engine needs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from sync_core.run.parking import Park, ShuttingDown, Steps, drive
from sync_core.run.target_pool import TargetPool

LONG = 1000.0  # a park no test waits out on the real clock


class Warp:
    """A clock that, once `ready()` says so, jumps two long parks ahead at each reading: parks end only when
    the test allows it, and then soon."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        self.ready = ready
        self.jumps = 0

    def __call__(self) -> float:
        if self.ready():
            self.jumps += 1
        return time.monotonic() + 2 * LONG * self.jumps


def pool(clock: Callable[[], float] = time.monotonic, **kw: object) -> TargetPool[str]:
    options: dict[str, object] = {"workers": 1, "max_in_flight": 100, "cancel": threading.Event(),
                                  "stop": lambda: ShuttingDown("stopped by a shutdown")}
    options.update(kw)
    return TargetPool(clock=clock, **options)  # type: ignore[arg-type]


def test_a_parked_target_gives_its_worker_to_the_next_one() -> None:
    events: list[str] = []

    def target(name: str) -> Steps[str]:
        events.append(f"start {name}")
        yield Park(LONG)
        events.append(f"resume {name}")
        return name

    names = ["a", "b", "c"]
    p = pool(Warp(lambda: len(events) >= len(names)), workers=1)
    done: list[str] = []
    p.run(((lambda n=n: target(n)) for n in names), done.append)
    # One worker, yet all three started before any went on: each gave the worker up while it waited.
    assert events[:3] == ["start a", "start b", "start c"]
    assert sorted(done) == names and p.parks == 3 and p.peak_in_flight == 3


def test_targets_in_flight_stay_within_their_bound_and_started_ones_go_first() -> None:
    events: list[str] = []
    in_flight: list[int] = [0]
    most = [0]

    def target(name: str) -> Steps[str]:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        events.append(f"start {name}")
        yield Park(0.01)
        events.append(f"resume {name}")
        in_flight[0] -= 1
        return name

    p = pool(workers=1, max_in_flight=2)
    done: list[str] = []
    p.run(((lambda n=n: target(n)) for n in "abcde"), done.append)
    assert sorted(done) == list("abcde")
    assert most[0] == 2 and p.peak_in_flight == 2


def test_a_shutdown_stops_each_parked_target_at_its_park() -> None:
    cancel = threading.Event()
    parked: list[str] = []

    def target(name: str) -> Steps[str]:
        parked.append(name)
        if len(parked) == 2:
            cancel.set()  # the shutdown comes while both wait for their windows
        try:
            yield Park(LONG)
        except ShuttingDown as stop:
            return f"{name}: {stop.reason}"
        return f"{name}: went on"

    p = pool(workers=2, cancel=cancel)
    done: list[str] = []
    started = time.monotonic()
    p.run(((lambda n=n: target(n)) for n in "ab"), done.append)
    assert sorted(done) == ["a: stopped by a shutdown", "b: stopped by a shutdown"]
    assert time.monotonic() - started < LONG  # nobody waited their window out


def test_a_step_that_raises_stops_the_pool_with_its_exception() -> None:
    def target(name: str) -> Steps[str]:
        yield Park(0.0)
        if name == "b":
            raise RuntimeError("the lease is lost")
        return name

    with pytest.raises(RuntimeError, match="the lease is lost"):
        pool(workers=2).run(((lambda n=n: target(n)) for n in "abc"), lambda _: None)


def test_a_parked_target_is_checked_before_it_goes_on() -> None:
    checks: list[str] = []

    def check() -> None:
        checks.append("checked")
        raise RuntimeError("another run holds the job")

    wrote: list[str] = []

    def target() -> Steps[str]:
        yield Park(0.0)
        wrote.append("after the park")  # never: the check stops it first
        return "done"

    with pytest.raises(RuntimeError, match="another run holds the job"):
        pool(before_resume=check).run([target], lambda _: None)
    assert checks == ["checked"] and wrote == []


def test_drive_sleeps_through_each_park_on_this_thread() -> None:
    slept: list[float] = []

    def target() -> Steps[int]:
        yield Park(2.0)
        yield Park(3.0)
        return 7

    assert drive(target(), sleep=slept.append) == 7 and slept == [2.0, 3.0]
