"""Executing Google requests: translation to our errors, retries with backoff, and call counting."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from google.auth.exceptions import GoogleAuthError
from googleapiclient.errors import HttpError
from httplib2 import HttpLib2Error
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from .errors import QuotaExhausted, RetryableError, translate


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
    """Runs `request.execute()` with exponential backoff + full jitter, honouring Retry-After."""

    def __init__(
        self,
        counter: CallCounter | None = None,
        *,
        attempts: int = 6,
        base_wait: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.counter = counter or CallCounter()
        self.attempts = attempts
        self.base_wait = base_wait
        self.max_wait = max_wait
        self.sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = random.uniform(0, min(self.max_wait, self.base_wait * 2 ** (state.attempt_number - 1)))
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return min(self.max_wait, max(backoff, retry_after))

    def execute(self, request: Any, method: str) -> Any:
        def once() -> Any:
            self.counter.add(method)
            try:
                return request.execute(num_retries=0)
            except (HttpError, GoogleAuthError, HttpLib2Error, OSError) as exc:
                raise translate(exc) from exc

        retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(once)
        except RetryableError as exc:
            raise QuotaExhausted(
                f"gave up after {self.attempts} attempts: {exc.reason}", status_code=exc.status_code
            ) from exc
