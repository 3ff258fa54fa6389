"""`TargetPool`: a run's targets side by side on the run's thread, a parked target holding nothing but its plan.

Each target is a generator of `Park`s (sync_core.run.parking). The pool advances each one in a greenlet of its
own under an asyncio loop on the calling thread (sync_core.google.cooperative): a target waiting for Google's
answer lets the others go on, holding no thread, and one whose user's quota window is full parks on a timer
heap and is advanced again once its window has opened. So a job's targets wait for Google, and for their
windows, side by side, as Google's per-user quotas allow, instead of a few at a time on threads that sleep.

- **Workers** (`workers`): targets being advanced (making calls) at once. Each user's calls stay one at a
  time (a target is advanced by one greenlet at a time), as the People API asks.
- **Targets in flight** (`max_in_flight`): started and not yet finished, parked ones included. This is what
  bounds a run's memory (a parked target keeps what it still has to write); new targets start only below it.
  A parked target whose window opened goes before a new one, so started targets finish first.
- **Finished targets** are handed to `on_done` at once, on the run's thread, in the order they finish.
- **Shutdown** (`cancel` set): targets not started still start (each sees the cancel and reports itself not
  reached, as before parking); parked ones are resumed at once with `stop()` thrown in at their park, so each
  reports what it wrote and stops.
- **A target's step raising** (a lost lease, a database outage: what stops the whole run) stops the pool:
  the exception comes out of `run` once the targets being advanced have returned; parked targets are dropped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from threading import Event
from typing import Generic, TypeVar

from sync_core.google.cooperative import HTTP_TIMEOUT_SECONDS, CallIo, in_greenlet
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

    async def _advance_into(self, io: CallIo, steps: asyncio.Queue[_Step[T]], target: _Target[T],
                            resumed: bool) -> None:
        steps.put_nowait(await in_greenlet(io, self._advance, target, resumed))

    def _advance(self, target: _Target[T], resumed: bool) -> _Step[T]:
        """In the target's greenlet: run the target to its next park or its end (or what it raised)."""
        try:
            if resumed:
                throw, target.throw = target.throw, None
                if throw is not None:
                    return _Step(target, park=target.steps.throw(throw))
                self.before_resume()
                return _Step(target, park=target.steps.send(None))
            return _Step(target, park=next(target.steps))
        except StopIteration as done:
            return _Step(target, result=done.value, finished=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the run's loop, which raises it
            return _Step(target, error=exc)

    def run(self, starts: Iterable[Callable[[], Steps[T]]], on_done: Callable[[T], None]) -> None:
        """Start each target (`start()` makes its generator) and advance them all to their ends, on this thread
        (on a thread of its own when this one runs an event loop already: its loop must not wait on ours)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._run(starts, on_done))
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="targets") as own:
            own.submit(asyncio.run, self._run(starts, on_done)).result()

    async def _run(self, starts: Iterable[Callable[[], Steps[T]]], on_done: Callable[[T], None]) -> None:
        io = CallIo(timeout_seconds=HTTP_TIMEOUT_SECONDS)
        await io.open()
        try:
            await self._schedule(io, starts, on_done)
        finally:
            await io.close()

    async def _schedule(self, io: CallIo, starts: Iterable[Callable[[], Steps[T]]],
                        on_done: Callable[[T], None]) -> None:
        pending = iter(starts)
        more = True
        ready: deque[tuple[_Target[T], bool]] = deque()  # (target, resumed): ready to be advanced
        parked: list[tuple[float, int, _Target[T]]] = []  # a heap by the time each may go on
        order = itertools.count()
        steps: asyncio.Queue[_Step[T]] = asyncio.Queue()  # what the targets' steps came to, as they end
        advancing: set[asyncio.Task[None]] = set()  # the tasks themselves: the loop keeps only weak references
        running = in_flight = 0
        failure: BaseException | None = None
        while True:
            now = self.clock()
            if self.cancel.is_set():
                for _, _, target in parked:  # each stops at its park, keeping what it wrote
                    target.throw = self.stop()
                    ready.append((target, True))
                parked.clear()
            while parked and parked[0][0] <= now:
                ready.append((heapq.heappop(parked)[2], True))
            while failure is None and running < self.workers:
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
                task = asyncio.create_task(self._advance_into(io, steps, target, resumed))
                advancing.add(task)
                task.add_done_callback(advancing.discard)
                running += 1
            if failure is not None and running == 0:
                raise failure  # the targets being advanced have returned; parked targets are dropped
            if running == 0 and not parked and not ready and not more:
                return
            timeout = None
            if parked:
                timeout = min(_POLL_SECONDS, max(0.0, parked[0][0] - self.clock()))
            if running == 0:  # only parked targets: wait for the first window, or a shutdown
                await asyncio.to_thread(self.cancel.wait, timeout)
                continue
            try:
                step = await asyncio.wait_for(steps.get(), timeout)
            except TimeoutError:
                continue
            running -= 1
            if step.error is not None:
                failure = failure or step.error  # a step that raises stops the run (see the docstring)
            elif step.finished:
                in_flight -= 1
                on_done(step.result)  # type: ignore[arg-type]  # a finished target's result: a T
            elif step.park is not None:
                self.parks += 1
                heapq.heappush(parked, (self.clock() + step.park.seconds, next(order), step.target))


class _Step(Generic[T]):
    """What one worker's advance of a target came to: a park, the target's end, or what it raised."""

    __slots__ = ("target", "park", "result", "finished", "error")

    def __init__(self, target: _Target[T], *, park: Park | None = None, result: T | None = None,
                 finished: bool = False, error: BaseException | None = None) -> None:
        self.target = target
        self.park = park
        self.result = result
        self.finished = finished
        self.error = error
