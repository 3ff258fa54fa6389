"""The quota pacer: every People API call waits here until the impersonated user's quota has room for it.

One `Pacer` per process is shared by every run, so two jobs writing to one user share that user's
budget. A call reserves its cost before it is sent (under the user's lock, so calls of one user see each
other), is dated when Google answers (Google counts it when it arrives, never before we sent it, so our
view of the window is never more generous than Google's), and is refunded when Google refuses it with a
429 (a refused call spends nothing). A 429 nonetheless (another process, another app or a lower project
limit share the quota) blocks that metric for a window and lowers the limit we keep to: it is a signal to
wait, not a failure. A target gives up only once its waits add up to `max_wait` (or on a daily quota).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sync_core.domain.status import TargetStatus
from sync_core.google.cooperative import cooperative_sleep
from sync_core.google.errors import GoogleError
from sync_core.google.quota import Metric, QuotaLimits, QuotaWindow, Spend, cost_of
from sync_core.observability.metrics import Metrics


class QuotaWaitTooLong(GoogleError):
    """A target waited for quota longer than it may: it stops, keeping what it wrote."""

    kind = TargetStatus.quota


class DailyQuotaExhausted(GoogleError):
    kind = TargetStatus.quota


class ProjectBudget(Protocol):
    """A budget shared by every process of a deployment (see quota_store.DatabaseProjectBudget)."""

    def take(self, cost: Mapping[Metric, int]) -> float:
        """0 when the units were taken; else the seconds to wait before asking again."""
        ...

    def peek(self, cost: Mapping[Metric, int]) -> float:
        """What `take` would answer now, taking nothing."""
        ...


class _UserQuota:
    def __init__(self, limits: QuotaLimits) -> None:
        self.lock = threading.Lock()
        self.windows = {m: QuotaWindow(limits.limit(m), limits.window(m)) for m in Metric}


@dataclass
class Reservation:
    """What one call spent, per metric, so that it can be dated or refunded."""

    user: _UserQuota
    spends: list[tuple[Metric, Spend]]
    waited: float


class Pacer:
    """Thread-safe per-user quota windows; `for_user` hands out one target's view with its own wait budget."""

    def __init__(
        self,
        limits: QuotaLimits | None = None,
        *,
        max_wait: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = cooperative_sleep,
        project: ProjectBudget | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.limits = limits or QuotaLimits()
        self.project = project
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._users: dict[str, _UserQuota] = {}
        self.waited_total = 0.0  # seconds spent waiting for quota, all users (metrics read it)
        self.rate_limited = 0  # 429s seen despite pacing

    def _user(self, user: str) -> _UserQuota:
        key = user.lower()
        with self._lock:
            quota = self._users.get(key)
            if quota is None:
                quota = self._users[key] = _UserQuota(self.limits)
            return quota

    def for_user(self, user: str, *, max_wait: float | None = None) -> UserPacer:
        return UserPacer(self, self._user(user), self.max_wait if max_wait is None else max_wait)

    def spent(self, user: str, metric: Metric) -> int:
        quota = self._user(user)
        with quota.lock:
            return quota.windows[metric].spent(self.clock())


class UserPacer:
    """One target's (or one source read's) handle on a user's quota, with the time it has waited so far."""

    def __init__(self, pacer: Pacer, quota: _UserQuota, max_wait: float) -> None:
        self._pacer = pacer
        self._quota = quota
        self.max_wait = max_wait
        self.waited = 0.0

    def reserve(self, method: str, *, contacts: int = 0) -> Reservation:
        """Wait until the call fits in every metric it costs, then spend its cost."""
        cost = cost_of(method, contacts=contacts)
        pacer, quota = self._pacer, self._quota
        waited = 0.0
        while True:
            daily = False
            with quota.lock:
                now = pacer.clock()
                wait = max((quota.windows[m].wait(units, now) for m, units in cost.items()), default=0.0)
                if wait <= 0:
                    spends = [(m, s) for m, units in cost.items() if (s := quota.windows[m].spend(units, now))]
                else:
                    daily = any(m.daily and quota.windows[m].wait(units, now) > 0 for m, units in cost.items())
            if wait <= 0:
                wait = pacer.project.take(cost) if pacer.project is not None else 0.0
                if wait <= 0:
                    return Reservation(quota, spends, waited)
                with quota.lock:  # the project's budget is spent: this user's units go back meanwhile
                    for metric, spend in spends:
                        quota.windows[metric].refund(spend)
            self._may_wait(wait, daily=daily)
            pacer.sleep(wait)
            self._waited(wait)
            waited += wait

    def park_for(self, method: str, *, contacts: int = 0, at_least: float = 0.0) -> float:
        """Seconds until a call of `method` fits this user's windows and the project's budget (shared by every
        user and process), taken from this target's wait budget as if waited (0: it fits now, or within
        `at_least` seconds, which `reserve` then sleeps; nothing is spent). The caller parks that long, holding
        no worker, instead of sleeping in `reserve`: see sync_core.run.parking. Raises what `reserve` raises
        when it could not wait that long (the daily quota spent, or the budget)."""
        cost = cost_of(method, contacts=contacts)
        pacer, quota = self._pacer, self._quota
        with quota.lock:
            now = pacer.clock()
            wait = max((quota.windows[m].wait(units, now) for m, units in cost.items()), default=0.0)
            daily = wait > 0 and any(m.daily and quota.windows[m].wait(u, now) > 0 for m, u in cost.items())
        if wait <= 0 and pacer.project is not None:
            wait = pacer.project.peek(cost)  # the user has room; the project's budget may not (all users')
        if wait <= 0 or (wait < at_least and not daily):
            return 0.0
        self._may_wait(wait, daily=daily)
        self._waited(wait)
        return wait

    def _may_wait(self, wait: float, *, daily: bool) -> None:
        """Raise when this target may not wait `wait` seconds more: a spent daily quota, or its budget."""
        if daily:
            raise DailyQuotaExhausted(f"the daily quota of {Metric.daily_write.value} is spent for this user")
        if self.waited + wait > self.max_wait:
            raise QuotaWaitTooLong(
                f"waited {self.waited:.0f} s for Google's per-user quota and would need {wait:.0f} s more "
                f"(the limit is {self.max_wait:.0f} s)"
            )

    def _waited(self, wait: float) -> None:
        """Count a wait (slept in `reserve`, or parked) against the target's budget and in the metrics."""
        pacer = self._pacer
        self.waited += wait
        with pacer._lock:
            pacer.waited_total += wait
        if pacer.metrics is not None:
            pacer.metrics.quota_waited(wait)

    def settle(self, reservation: Reservation) -> None:
        """Google answered: date the spend now (the window runs from when Google counted it)."""
        with reservation.user.lock:
            now = self._pacer.clock()
            for metric, spend in reservation.spends:
                reservation.user.windows[metric].settle(spend, now)

    def refused(self, reservation: Reservation, metric: Metric | None) -> None:
        """Google answered 429 for `metric` (None: it did not say which): refund the call, block the metric."""
        pacer = self._pacer
        with reservation.user.lock:
            now = pacer.clock()
            for spent_metric, spend in reservation.spends:
                reservation.user.windows[spent_metric].refund(spend)
            blocked = [metric] if metric is not None else [m for m, _ in reservation.spends if not m.daily]
            for m in blocked:
                reservation.user.windows[m].exhausted(now)
        with pacer._lock:
            pacer.rate_limited += 1
