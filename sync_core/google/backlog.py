"""`Backlog`: how many calls a run may have at Google at once, so that none waits there past its answer timeout.

A run's targets make one call at a time each, and thousands of them may have a call out together. Google's
front end answers them side by side, in a fraction of a second each. A server that answers them one after
another does not: with 2,000 batch creates queued at a server that takes 25 ms for each, the last answer comes
50 s after it was asked, and past the client's read timeout (60 s) the target reports `unreachable` although
nothing was wrong but the queue (seen on a slower machine: 32 to 195 of 2,000 targets, `bench/RESULTS.md`).

So a run estimates the wait a new call would have, by Little's law: the calls out, over the answers that came
a second lately. A new call goes only while that stays under `max_wait` (half the timeout); the others wait
their turn on our side, in order, and go as answers come back. Against Google the answers come far faster than
any run's targets can ask, and nothing waits. Below `floor` calls out, a call always goes: a small run, or the
first calls of a big one, never wait for an estimate.

The estimate is a mean. A server that does not take its requests in turn answers some far later than that (an
emulator whose admission was not first come, first served: 60 s and more at a mean of 23 s). So when the
slowest answer of the last few seconds took longer than `max_wait`, the calls allowed out shrink by as much:
the run keeps its worst wait, not only its mean, within the timeout.

Pure: the caller gives the clock and counts the calls out (`sync_core.google.cooperative.CallIo`).
"""

from __future__ import annotations

from collections import deque

FLOOR = 32  # calls out that never wait for an estimate
RATE_SECONDS = 10.0  # answers a second are counted over this long: a few of a slow server's answers
MIN_SPAN_SECONDS = 1.0  # ...and over at least this long, so that a run's first few answers are not taken as a rate


class Backlog:
    def __init__(self, *, max_wait: float, floor: int = FLOOR, rate_seconds: float = RATE_SECONDS) -> None:
        self.max_wait = max_wait
        self.floor = floor
        self.rate_seconds = rate_seconds
        self._answers: deque[float] = deque()  # when each answer of the last `rate_seconds` came
        self._slowest: deque[tuple[float, float]] = deque()  # (when, how long it took): decreasing waits

    def answered(self, now: float, waited: float = 0.0) -> None:
        """An answer came (any status: the server took the call off its queue), `waited` seconds after its
        call went out."""
        self._answers.append(now)
        # Only the answers that took longer than every later one can be the slowest of a window to come.
        while self._slowest and self._slowest[-1][1] <= waited:
            self._slowest.pop()
        self._slowest.append((now, waited))
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._answers and self._answers[0] <= now - self.rate_seconds:
            self._answers.popleft()
        while self._slowest and self._slowest[0][0] <= now - self.rate_seconds:
            self._slowest.popleft()

    def slowest(self, now: float) -> float:
        """The longest any answer of the last `rate_seconds` took (0.0: none came)."""
        self._expire(now)
        return self._slowest[0][1] if self._slowest else 0.0

    def rate(self, now: float) -> float:
        """Answers a second lately (0.0: none in the last `rate_seconds`)."""
        self._expire(now)
        if not self._answers:
            return 0.0
        span = max(MIN_SPAN_SECONDS, now - self._answers[0])
        return len(self._answers) / span

    def allows(self, out: int, now: float) -> bool:
        """Whether one more call may go with `out` calls out: its expected wait, `(out + 1) / rate`, within
        `max_wait`, and within `max_wait * max_wait / slowest` once an answer lately took longer than
        `max_wait`."""
        if out < self.floor:
            return True
        allowed = self.rate(now) * self.max_wait
        slowest = self.slowest(now)
        if slowest > self.max_wait:
            allowed *= self.max_wait / slowest
        return out + 1 <= allowed
