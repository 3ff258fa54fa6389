"""The emulator lets requests into its handlers in the order they came (emulator.server.Admission)."""

from __future__ import annotations

import threading
import time

from emulator.server import Admission


def _wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_go_in_the_order_they_came_and_newcomers_queue_behind_them() -> None:
    admission = Admission(1)
    entered: list[int] = []
    inside = threading.Event()
    go_on = threading.Event()

    def request(i: int) -> None:
        with admission:
            entered.append(i)
            if i == 0:  # the first waiter lets a newcomer arrive while it holds the place
                inside.set()
                go_on.wait(5)

    admission.__enter__()  # a request being handled
    threads = []
    for i in range(6):
        thread = threading.Thread(target=request, args=(i,))
        thread.start()
        threads.append(thread)
        _wait_for(lambda i=i: len(admission._queue) == i + 1)  # noqa: SLF001 - queued in this order
    admission.__exit__(None, None, None)
    assert inside.wait(5)
    newcomer = threading.Thread(target=request, args=(6,))
    newcomer.start()
    _wait_for(lambda: len(admission._queue) == 6)  # noqa: SLF001 - behind the five still waiting
    go_on.set()
    for thread in [*threads, newcomer]:
        thread.join(5)
    assert entered == [0, 1, 2, 3, 4, 5, 6]


def test_places_are_shared_up_to_the_limit() -> None:
    admission = Admission(3)
    most = now = 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal most, now
        with admission:
            with lock:
                now += 1
                most = max(most, now)
            time.sleep(0.01)
            with lock:
                now -= 1

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert most == 3 and now == 0
