"""PURE: how long targets sat queued while their user's quota would have let them go on.

Google's quotas are per user, so a target can only be held back by its own user's quota; any other wait is
the engine's (a worker it did not get, a window it let pass). From the emulator's call log (every call with
its user, arrival and answer times and the quota units it spent; `/_emulator/calls/log`) and the run's start
and each target's finish as the product reports them (`engine.run(progress=...)`), per target user:

- the target is *busy* while one of its calls is at the emulator (request read to answer written);
- every other moment between the run's start and the target's finish lies in a gap before some next call of
  that user; in that gap the target is *queued while quota allowed* from the moment that next call would have
  fitted in every metric's sliding window (the units the user's accepted calls spent in the window before,
  plus the call's own, within the limit: the emulator's own rule) until the call was made.

So the time before a target's first call counts in full (a fresh user's quota has room at once), a pacer's
wait for its own user's window counts only past the moment the window had room, and the time after its last
call (the product storing its results) does not count. Calls made before the log started (a previous run
inside the same window) are not seen; the scenarios that use this start from a fresh emulator.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
# A call is ready this long after a unit leaves the window, so float rounding never dates it a hair too early
# (the ledger compares `started <= now - window`).
_EPSILON = 1e-6


@dataclass(frozen=True)
class Call:
    started: float  # when the quota meter counted it
    ended: float  # when its answer was written
    units: Mapping[str, int]
    refused: bool = False
    received: float | None = None  # when its request was read (None: `started`)

    @property
    def arrived(self) -> float:
        return self.started if self.received is None else min(self.received, self.started)

    @classmethod
    def from_log(cls, entry: JSON) -> Call:
        received = entry.get("received")
        return cls(float(entry["started"]), float(entry["ended"]), dict(entry.get("units") or {}),
                   bool(entry.get("refused")), None if received is None else float(received))


@dataclass(frozen=True)
class Limits:
    """A user's quota as the emulator enforces it: units per window, and each metric's window in seconds."""

    per_window: Mapping[str, int]
    window_s: Mapping[str, float]
    enabled: bool = True

    @classmethod
    def from_emulator(cls, quotas: JSON) -> Limits:
        """From `GET /_emulator/quotas`."""
        windows = {key: float(m["windowSeconds"]) for key, m in quotas.get("metrics", {}).items()}
        return cls(dict(quotas.get("limits", {})), windows, bool(quotas.get("enabled", True)))


def ready_at(history: Iterable[Call], units: Mapping[str, int], after: float, limits: Limits) -> float:
    """The earliest moment >= `after` at which a call spending `units` fits, given the user's earlier calls
    (`history`, all arrived by `after`; refused ones spent nothing). A unit spent at t counts until t + window
    (the emulator's ledger forgets it at t + window; we say a microsecond later). inf if it can never fit."""
    if not limits.enabled:
        return after
    accepted = sorted((c for c in history if not c.refused), key=lambda c: c.started)
    ready = after
    for metric, cost in units.items():
        if cost <= 0 or metric not in limits.per_window:
            continue
        limit, window = limits.per_window[metric], limits.window_s.get(metric, math.inf)
        if cost > limit:
            return math.inf
        in_window = [(c.started, c.units.get(metric, 0)) for c in accepted
                     if c.units.get(metric, 0) > 0 and c.started > after - window]
        spent = sum(u for _, u in in_window)
        fits = after
        for started, u in in_window:  # oldest first: each leaves the window at started + window
            if spent + cost <= limit:
                break
            spent -= u
            fits = started + window + _EPSILON
        ready = max(ready, fits)
    return ready


@dataclass(frozen=True)
class TargetQueue:
    email: str
    first_call_s: float | None  # since the run's start
    finished_s: float  # since the run's start
    before_start_s: float  # queued while allowed before its first call
    between_calls_s: float  # queued while allowed between its calls

    @property
    def queued_s(self) -> float:
        return self.before_start_s + self.between_calls_s


def target_queue(email: str, calls: list[Call], run_start: float, finished: float | None,
                 limits: Limits) -> TargetQueue:
    """One target's queued-while-allowed time, from its user's calls during the run."""
    calls = sorted(calls, key=lambda c: c.started)
    end = finished if finished is not None else max((c.ended for c in calls), default=run_start)
    before = between = 0.0
    busy_until = run_start
    for i, call in enumerate(calls):
        gap_start, gap_end = max(busy_until, run_start), min(call.arrived, end)
        if gap_end > gap_start:
            ready = ready_at(calls[:i], call.units, gap_start, limits)
            queued = max(0.0, gap_end - ready)
            if i == 0:
                before += queued
            else:
                between += queued
        busy_until = max(busy_until, call.ended)
    first = calls[0].started - run_start if calls else None
    return TargetQueue(email, first, end - run_start, before, between)


def queue_figures(log: list[JSON], run_start: float, finished: Mapping[str, float], wall_s: float,
                  limits: Limits) -> JSON:
    """The scenario's figures: per target queued-while-allowed seconds (mean, p95, max), the mean as a share
    of the run's wall time, and when each target made its first call and finished (seconds since the start)."""
    by_user: dict[str, list[Call]] = defaultdict(list)
    for entry in log:
        by_user[str(entry["user"]).lower()].append(Call.from_log(entry))
    targets = [target_queue(email, by_user.get(email.lower(), []), run_start, at, limits)
               for email, at in sorted(finished.items())]
    queued = sorted(t.queued_s for t in targets)
    n = len(targets)
    mean = sum(queued) / n if n else 0.0
    return {
        "targets": n,
        "wall_s": wall_s,
        "mean_s": mean,
        "p95_s": queued[min(n - 1, math.ceil(0.95 * n) - 1)] if n else 0.0,
        "max_s": queued[-1] if n else 0.0,
        "mean_over_wall": mean / wall_s if wall_s else None,
        "before_start_mean_s": sum(t.before_start_s for t in targets) / n if n else 0.0,
        "between_calls_mean_s": sum(t.between_calls_s for t in targets) / n if n else 0.0,
        "started_s": sorted(round(t.first_call_s, 3) for t in targets if t.first_call_s is not None),
        "finished_s": sorted(round(t.finished_s, 3) for t in targets),
    }
