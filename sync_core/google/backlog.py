"""`Backlog`: how many calls a run may have at Google at once, so that none waits there past its answer timeout.

A run's targets make one call at a time each, and thousands of them may have a call out together. Google's
front end answers them side by side, in a fraction of a second each. A server that answers them one after
another does not: with 2,000 batch creates queued at a server that takes 25 ms for each, the last answer comes
50 s after it was asked, and past the client's read timeout (60 s) the target reports `unreachable` although
nothing was wrong but the queue (seen on a slower machine: 44 of 2,000 targets, `bench/RESULTS.md`).

So a run estimates the wait a new call would have, by Little's law: the calls out, over the answers that came
a second lately. A new call goes only while that stays under `max_wait` (half the timeout); the others wait
their turn on our side, in order, and go as answers come back. Against Google the answers come far faster than
any run's targets can ask, and nothing waits. Below `floor` calls out, a call always goes: a small run, or the
first calls of a big one, never wait for an estimate.

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

    def answered(self, now: float) -> None:
        """An answer came (any status: the server took the call off its queue)."""
        self._answers.append(now)
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._answers and self._answers[0] <= now - self.rate_seconds:
            self._answers.popleft()

    def rate(self, now: float) -> float:
        """Answers a second lately (0.0: none in the last `rate_seconds`)."""
        self._expire(now)
        if not self._answers:
            return 0.0
        span = max(MIN_SPAN_SECONDS, now - self._answers[0])
        return len(self._answers) / span

    def allows(self, out: int, now: float) -> bool:
        """Whether one more call may go with `out` calls out: its expected wait, `(out + 1) / rate`, within
        `max_wait`."""
        if out < self.floor:
            return True
        return out + 1 <= self.rate(now) * self.max_wait
