"""Per-server test controls that are not part of the tenant state: injected faults, latency, call counts
(served, faulted, and refused by the People quotas), and, when asked for, a log of every API call with its
times, user and quota units (the bench reads it to see when each user's quota had room)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .core import JSON, ApiError
from .quota import METRICS, costs_of, quota_exceeded


@dataclass
class Fault:
    method: str  # a method id, or "*" for any
    remaining: int
    code: int
    retry_after: float | None = None
    user: str | None = None  # primary email; None = any user

    def matches(self, method_id: str, email: str) -> bool:
        return (self.method in ("*", method_id)) and (self.user is None or self.user.lower() == email.lower())


def fault_error(fault: Fault, method_id: str) -> ApiError:
    headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
    legacy = method_id.startswith("directory.")
    if fault.code == 429:
        if legacy:
            return ApiError(
                429,
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per "
                "user' of service 'admin.googleapis.com'.",
                "RESOURCE_EXHAUSTED",
                reason="rateLimitExceeded",
                headers=headers,
            )
        # the same answer as a real quota refusal, for the first metric the method spends (reads otherwise)
        costs = costs_of(method_id)
        metric = next((m for key, m in METRICS.items() if key in costs), METRICS["critical_read"])
        err = quota_exceeded(metric, metric.default_limit)
        err.headers = headers
        return err
    if fault.code == 503:
        return ApiError(
            503,
            "The service is currently unavailable.",
            "UNAVAILABLE",
            reason="backendError" if legacy else None,
            headers=headers,
        )
    if fault.code == 500:
        return ApiError(
            500,
            "Internal error encountered.",
            "INTERNAL",
            reason="backendError" if legacy else None,
            headers=headers,
        )
    return ApiError(
        fault.code, "Injected fault.", None, reason="injected" if legacy else None, headers=headers
    )


@dataclass
class CallRecord:
    """One API call as the emulator saw it, on the emulated clock (epoch seconds): `received` when its request
    was read, `started` when the quota meter counted it, `ended` when its answer was written (a refusal too)."""

    user: str  # primary email, lower case
    method: str
    started: float
    units: dict[str, int] = field(default_factory=dict)  # what it spent per quota metric key
    refused: bool = False  # refused by the People quotas (spent nothing)
    received: float = 0.0
    ended: float = 0.0

    def to_json(self) -> JSON:
        return {"user": self.user, "method": self.method, "received": min(self.received or self.started, self.started),
                "started": self.started, "ended": max(self.ended, self.started), "units": self.units,
                "refused": self.refused}


class Runtime:
    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms
        self._lock = threading.Lock()
        self.recording = False  # the call log is kept only when asked for (it grows with every call)
        self._log: list[CallRecord] = []
        self._faults: list[Fault] = []
        self._calls: Counter[str] = Counter()
        self._calls_by_user: Counter[tuple[str, str]] = Counter()
        self._faulted: Counter[str] = Counter()
        self._quota_rejected: Counter[str] = Counter()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, method_id: str, email: str) -> Fault | None:
        """The first matching fault, consumed once; faulted calls are counted apart from served ones."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method_id, email):
                    fault.remaining -= 1
                    self._faulted[method_id] += 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def count(self, method_id: str, email: str) -> None:
        with self._lock:
            self._calls[method_id] += 1
            self._calls_by_user[(method_id, email.lower())] += 1

    def count_quota_rejected(self, method_id: str) -> None:
        with self._lock:
            self._quota_rejected[method_id] += 1

    def log_call(self, record: CallRecord) -> CallRecord:
        """Keep `record` in the call log when recording (the caller may still set its `ended`)."""
        if self.recording:
            with self._lock:
                self._log.append(record)
        return record

    def call_log(self) -> JSON:
        with self._lock:
            return {"recording": self.recording, "calls": [r.to_json() for r in self._log]}

    def calls(self) -> JSON:
        with self._lock:
            by_user: dict[str, dict[str, int]] = {}
            for (method, email), n in sorted(self._calls_by_user.items()):
                by_user.setdefault(method, {})[email] = n
            return {
                "total": sum(self._calls.values()),
                "byMethod": dict(sorted(self._calls.items())),
                "byMethodAndUser": by_user,
                "faulted": dict(sorted(self._faulted.items())),
                "quotaRejected": dict(sorted(self._quota_rejected.items())),
            }

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_by_user.clear()
            self._faulted.clear()
            self._quota_rejected.clear()
            self._log.clear()
