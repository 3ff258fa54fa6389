"""`TargetPool`: a run's targets on a few workers, a parked target holding none.

Each target is a generator of `Park`s (sync_core.run.parking). A worker advances one target until it parks (its
user's quota window is full) or ends; a parked target waits on a timer heap, holding no thread, and the next
free worker resumes it once its window has opened. So a job's targets wait for their windows side by side, as
Google's per-user quotas allow, instead of a few at a time on threads that sleep.

- **Workers** (`workers`): targets making calls at once. Each user's calls stay one at a time (a target is
  advanced by one worker at a time), as the People API asks.
- **Targets in flight** (`max_in_flight`): started and not yet finished, parked ones included. This is what
  bounds a run's memory (a parked target keeps what it still has to write); new targets start only below it.
  A parked target whose window opened goes before a new one, so started targets finish first.
- **Finished targets** are handed to `on_done` at once, on the run's thread, in the order they finish.
- **Shutdown** (`cancel` set): targets not started still start (each sees the cancel and reports itself not
  reached, as before parking); parked ones are resumed at once with `stop()` thrown in at their park, so each
  reports what it wrote and stops.
- **A target's step raising** (a lost lease, a database outage: what stops the whole run) stops the pool:
  the exception comes out of `run` once the workers in flight have returned; parked targets are dropped.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from threading import Event
from typing import Generic, TypeVar

from sync_core.run.parking import Park, Steps

T = TypeVar("T")

# While parked targets wait and a shutdown may come, the run's thread looks at least this often.
_POLL_SECONDS = 1.0


class _Target(Generic[T]):
    __slots__ = ("steps", "throw")

    def __init__(self, steps: Steps[T]) -> None:
        self.steps = steps
        self.throw: BaseException | None = None  # what to raise at its park when it is next advanced


class TargetPool(Generic[T]):
    def __init__(
        self,
        *,
        workers: int,
        max_in_flight: int,
        cancel: Event,
        stop: Callable[[], BaseException],
        before_resume: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`stop()`: the exception a parked target gets at its park on shutdown. `before_resume`: called on
        the worker before a parked target goes on (the run checks it still holds the job's lease)."""
        self.workers = max(1, workers)
        self.max_in_flight = max(self.workers, max_in_flight)
        self.cancel = cancel
        self.stop = stop
        self.before_resume = before_resume
        self.clock = clock
        self.peak_in_flight = 0  # the most targets started and not finished at once (for tests and logs)
        self.parks = 0  # how many times a target gave up its worker to wait for its window

    def _advance(self, target: _Target[T], resumed: bool) -> tuple[Park | None, T | None]:
        """On a worker: run the target to its next park (Park, None) or its end (None, result)."""
        try:
            if resumed:
                throw, target.throw = target.throw, None
                if throw is not None:
                    return target.steps.throw(throw), None
                self.before_resume()
                return target.steps.send(None), None
            return next(target.steps), None
        except StopIteration as done:
            return None, done.value

    def run(self, starts: Iterable[Callable[[], Steps[T]]], on_done: Callable[[T], None]) -> None:
        """Start each target (`start()` makes its generator) and advance them all to their ends."""
        pending = iter(starts)
        more = True
        ready: deque[tuple[_Target[T], bool]] = deque()  # (target, resumed): ready for a worker
        parked: list[tuple[float, int, _Target[T]]] = []  # a heap by the time each may go on
        order = itertools.count()
        running: dict[Future[tuple[Park | None, T | None]], _Target[T]] = {}
        in_flight = 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="target") as pool:
            while True:
                now = self.clock()
                if self.cancel.is_set():
                    for _, _, target in parked:  # each stops at its park, keeping what it wrote
                        target.throw = self.stop()
                        ready.append((target, True))
                    parked.clear()
                while parked and parked[0][0] <= now:
                    ready.append((heapq.heappop(parked)[2], True))
                while len(running) < self.workers:
                    if ready:
                        target, resumed = ready.popleft()
                    elif more and in_flight < self.max_in_flight:
                        start = next(pending, None)
                        if start is None:
                            more = False
                            continue
                        target, resumed = _Target(start()), False
                        in_flight += 1
                        self.peak_in_flight = max(self.peak_in_flight, in_flight)
                    else:
                        break
                    running[pool.submit(self._advance, target, resumed)] = target
                if not running and not parked and not ready and not more:
                    return
                timeout = _POLL_SECONDS if parked else None
                if parked:
                    timeout = min(timeout or _POLL_SECONDS, max(0.0, parked[0][0] - self.clock()))
                if not running:
                    self.cancel.wait(timeout)
                    continue
                done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    target = running.pop(future)
                    park, result = future.result()  # a step that raises stops the run (see the docstring)
                    if park is None:
                        in_flight -= 1
                        on_done(result)  # type: ignore[arg-type]  # a finished target's result
                    else:
                        self.parks += 1
                        heapq.heappush(parked, (self.clock() + park.seconds, next(order), target))
