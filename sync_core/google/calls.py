"""Executing Google requests: translation to our errors, retries with backoff, and call counting."""

from __future__ import annotations

import functools
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from google.auth.exceptions import GoogleAuthError
from googleapiclient.errors import HttpError
from httplib2 import HttpLib2Error
from tenacity import RetryCallState, Retrying, retry_if_exception

from sync_core.google.cooperative import cooperative_sleep
from sync_core.google.errors import (
    GoogleError,
    QuotaExhausted,
    RateLimited,
    RetryableError,
    TimedOut,
    Unreachable,
    translate,
)
from sync_core.google.pacer import DailyQuotaExhausted, UserPacer
from sync_core.observability.metrics import Metrics

# Attempts of a read that Google took and did not answer within the answer timeout (see Executor._stop).
TIMED_OUT_READ_ATTEMPTS = 2


class CallCounter:
    """Counts the API calls one run makes, per method, across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_method: Counter[str] = Counter()

    def add(self, method: str) -> None:
        with self._lock:
            self.by_method[method] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_method.values())


class Executor:
    """Runs `request.execute()`: paced by the user's quota when a pacer is given, retried with exponential
    backoff + full jitter (honouring Retry-After) on 5xx and network errors.

    With a pacer, a per-minute 429 is not an attempt: the pacer learns from it and waits for the window, and
    the call goes on until the target's wait budget is spent. Without one (Directory calls), a 429 is
    retried with backoff like a 5xx.

    No answer at all (connection refused, DNS, timeout) is retried for `unreachable_seconds` only: a Google
    that is out of reach will not be back within a backoff's minute, and the run should say so quickly
    (`unreachable`) rather than wait and blame quota.
    """

    def __init__(
        self,
        counter: CallCounter | None = None,
        *,
        attempts: int = 6,
        base_wait: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = cooperative_sleep,
        pacer: UserPacer | None = None,
        http: Any = None,
        unreachable_seconds: float = 5.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.counter = counter or CallCounter()
        self.pacer = pacer
        self.http = http  # the user's transport, for requests made from a shared client
        self.attempts = attempts
        self.base_wait = base_wait
        self.max_wait = max_wait
        self.sleep = sleep
        self.unreachable_seconds = unreachable_seconds

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = random.uniform(0, min(self.max_wait, self.base_wait * 2 ** (state.attempt_number - 1)))
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return min(self.max_wait, max(backoff, retry_after))

    def _stop(self, state: RetryCallState, *, read: bool = False) -> bool:
        if state.attempt_number >= self.attempts:
            return True
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TimedOut) and read and state.attempt_number < TIMED_OUT_READ_ATTEMPTS:
            # Google took the read and was too busy to answer it in time: ask once more, at once (in a run, it
            # waits its turn behind the run's other calls: cooperative.CallIo). A write is not sent again: it
            # may have been done.
            return False
        # seconds_since_start counts the attempts so far; the next wait would come on top of it.
        return isinstance(exc, Unreachable) and (state.seconds_since_start or 0.0) >= self.unreachable_seconds

    def _wait_within(self, state: RetryCallState) -> float:
        wait = self._wait(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Unreachable):  # never wait past the budget for an unreachable Google
            left = self.unreachable_seconds - (state.seconds_since_start or 0.0)
            return max(0.0, min(wait, left))
        return wait

    def _observe(self, method: str, error: GoogleError | None) -> None:
        if self.metrics is not None:
            quota_metric = (error.metric.value if error.metric else "") if isinstance(error, RateLimited) else None
            self.metrics.google_call(method, call_outcome(error), quota_metric=quota_metric)

    def _retried(self, exc: BaseException) -> bool:
        if self.pacer is not None and isinstance(exc, RateLimited):
            return False  # the pacer deals with it: see execute
        return isinstance(exc, RetryableError)

    def park_for(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        """Seconds the next call of `method` must wait for the user's quota (0 without a pacer): see
        `UserPacer.park_for`."""
        if self.pacer is None:
            return 0.0
        return self.pacer.park_for(method, contacts=contacts, at_least=at_least)

    def execute(self, request: Any, method: str, *, contacts: int = 0) -> Any:
        """`contacts`: how many contacts a batch write carries (they count against the daily quota)."""
        pacer = self.pacer

        def once() -> Any:
            reservation = pacer.reserve(method, contacts=contacts) if pacer is not None else None
            self.counter.add(method)
            try:
                result = request.execute(http=self.http, num_retries=0)
            except (HttpError, GoogleAuthError, HttpLib2Error, OSError) as exc:
                error = translate(exc)
                self._observe(method, error)
                if pacer is not None and reservation is not None:
                    if isinstance(error, RateLimited):
                        pacer.refused(reservation, error.metric)
                    else:
                        pacer.settle(reservation)
                raise error from exc
            self._observe(method, None)
            if pacer is not None and reservation is not None:
                pacer.settle(reservation)
            return result

        read = getattr(request, "method", None) == "GET"
        retrying = Retrying(
            retry=retry_if_exception(self._retried),
            stop=functools.partial(self._stop, read=read),
            wait=self._wait_within,
            sleep=self.sleep,
            reraise=True,
        )
        while True:
            try:
                return retrying(once)
            except RateLimited as exc:
                if pacer is None:
                    raise QuotaExhausted(
                        f"gave up after {self.attempts} attempts: {exc.reason}", status_code=exc.status_code
                    ) from exc
                if exc.daily:
                    raise DailyQuotaExhausted(exc.reason, status_code=exc.status_code) from exc
                # A per-minute quota: the pacer has blocked the metric; the next reserve() waits for it.
            except Unreachable:
                raise  # reported as `unreachable`, with its own reason
            except RetryableError as exc:
                raise QuotaExhausted(
                    f"gave up after {self.attempts} attempts: {exc.reason}", status_code=exc.status_code
                ) from exc
            finally:
                # tenacity leaves its last step's actions, bound methods of the Retrying itself, in the Retrying's
                # thread-local state: a reference cycle a call, about 2 KB, that only the cyclic collector frees.
                # A run's calls wait for Google while thousands of others allocate, so their cycles reach the
                # oldest generation, which is seldom collected: a 2,000-target run held ten thousand of them.
                retrying.iter_state.reset()


def call_outcome(error: GoogleError | None) -> str:
    """A request's outcome as a metric label: ok, the HTTP status Google answered, or why there was none."""
    if error is None:
        return "ok"
    if isinstance(error, Unreachable):
        return "unreachable"
    return str(error.status_code) if error.status_code is not None else "error"
