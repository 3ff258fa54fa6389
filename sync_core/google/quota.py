"""PURE: Google's People API quotas as data, and the pacing decision for one user.

Google limits People API calls per impersonated user and per minute, by *metric*, and each method costs
some units of one or more metrics (docs/architecture.md, "Google's limits", has the table). Nothing here
sleeps, reads a clock or talks to Google: the callers pass `now`, and `QuotaWindow.wait` answers how long to
wait before a call of that cost fits. The stateful, thread-safe part that sleeps is `pacer.Pacer`.

Windows are *sliding*: a call fits when, in every window of `window` seconds ending at the moment it would
be made, the units spent plus its cost stay within the limit. That is stricter than a fixed per-minute
window, so a pacer that keeps it never trips either kind of limit.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field


class Metric(enum.Enum):
    """People API quota metrics, per user (their names as Google's 429 messages say them)."""

    critical_read = "Critical read requests (Contact and Profile Reads)"
    critical_write = "Critical write requests (Contact Creates and Updates)"
    delete_group_write = "Contact deletes and contact group writes"
    group_read = "Contact group reads"
    photo_write = "Contact photo writes"
    daily_write = "Daily contact writes"  # per contact created or updated, per day

    @property
    def daily(self) -> bool:
        return self is Metric.daily_write


# Google's defaults (Cloud console, per user per minute; daily writes per user per day).
DEFAULT_LIMITS: Mapping[Metric, int] = {
    Metric.critical_read: 60,
    Metric.critical_write: 30,
    Metric.delete_group_write: 30,
    Metric.group_read: 90,
    Metric.photo_write: 50,
    Metric.daily_write: 100_000,
}

Cost = Mapping[Metric, int]

_READ: Cost = {Metric.critical_read: 1}
_BATCH_MUTATE: Cost = {Metric.critical_read: 6, Metric.critical_write: 6}
_GROUP_WRITE: Cost = {Metric.delete_group_write: 1}
_GROUP_READ: Cost = {Metric.group_read: 1}
_PHOTO: Cost = {Metric.photo_write: 1}

# What each call costs, by the method names the clients count calls under (docs/architecture.md's cost table).
# Batch creates and updates also cost one daily write per contact: `cost_of(method, contacts=n)`.
METHOD_COSTS: Mapping[str, Cost] = {
    "people.connections.list": _READ,
    "people.get": _READ,
    "people.getBatchGet": _READ,
    "people.searchContacts": _READ,
    "people.listDirectoryPeople": _READ,
    "people.createContact": {Metric.critical_read: 1, Metric.critical_write: 1},
    "people.updateContact": {Metric.critical_read: 1, Metric.critical_write: 1},
    "people.batchCreateContacts": _BATCH_MUTATE,
    "people.batchUpdateContacts": _BATCH_MUTATE,
    "people.deleteContact": {Metric.delete_group_write: 1},
    "people.batchDeleteContacts": {Metric.delete_group_write: 10},
    "contactGroups.create": _GROUP_WRITE,
    "contactGroups.update": _GROUP_WRITE,
    "contactGroups.delete": _GROUP_WRITE,
    "contactGroups.members.modify": _GROUP_WRITE,
    "contactGroups.list": _GROUP_READ,
    "contactGroups.get": _GROUP_READ,
    "contactGroups.batchGet": _GROUP_READ,
    "people.updateContactPhoto": _PHOTO,
    "people.deleteContactPhoto": _PHOTO,
}
_WRITES_CONTACTS = frozenset({"people.createContact", "people.updateContact"})
_WRITES_BATCH = frozenset({"people.batchCreateContacts", "people.batchUpdateContacts"})


def cost_of(method: str, *, contacts: int = 0) -> dict[Metric, int]:
    """The units one call of `method` spends; `contacts`: how many contacts a batch write carries."""
    cost = dict(METHOD_COSTS.get(method, {}))
    if method in _WRITES_BATCH and contacts:
        cost[Metric.daily_write] = contacts
    elif method in _WRITES_CONTACTS:
        cost[Metric.daily_write] = 1
    return cost


@dataclass(frozen=True)
class QuotaLimits:
    """The limits the pacer keeps to, per user: a window (Google's is a minute) and units per window."""

    per_window: Mapping[Metric, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    window_seconds: float = 60.0

    def limit(self, metric: Metric) -> int:
        return self.per_window.get(metric, DEFAULT_LIMITS[metric])

    def window(self, metric: Metric) -> float:
        return self.window_seconds * 1440 if metric.daily else self.window_seconds


def parse_project_quotas(text: str) -> dict[Metric, int]:
    """`critical_write=1200,critical_read=2400` -> {Metric: units per window}; raises ValueError naming the
    part that is wrong."""
    limits: dict[Metric, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            metric = Metric[name.strip()]
        except KeyError:
            known = ", ".join(m.name for m in Metric if not m.daily)
            raise ValueError(f"unknown quota {name.strip()!r} (known: {known})") from None
        if not sep or not value.strip().isdigit() or int(value) <= 0 or metric.daily:
            raise ValueError(f"{part!r}: expected NAME=UNITS, UNITS a positive whole number per window")
        limits[metric] = int(value)
    return limits


def quota_bound_minutes(write_units: int, per_minute: int = 30) -> int:
    """Google's limits (docs/architecture.md): a target needing `write_units` critical-write units cannot finish
    before this many minutes (the first window's worth goes at once)."""
    return max(0, math.ceil(write_units / per_minute) - 1)


# Waits end this much after the last spend leaves the window, so that `now + wait` is past it whatever the
# float rounding (a microsecond is nothing to Google's minute).
_EPSILON = 1e-6


class Spend:
    """Units spent at a moment (a mutable record: a call's spend is dated when Google answered it)."""

    __slots__ = ("at", "units")

    def __init__(self, at: float, units: int) -> None:
        self.at = at
        self.units = units

    def __repr__(self) -> str:
        return f"Spend({self.at!r}, {self.units!r})"


class QuotaWindow:
    """The units one user spent on one metric within the last window: a sliding log of (time, units)."""

    __slots__ = ("configured", "limit", "window", "_log", "_spent", "_blocked_until", "_recover_at")

    def __init__(self, limit: int, window: float) -> None:
        self.configured = limit
        self.limit = limit  # lowered by a 429 that came before the configured limit, regained slowly
        self.window = window
        # A list, not a deque: a run keeps a window per metric for each of its users (thousands), an empty
        # deque costs ten times an empty list, and a window's log is short (a minute's calls).
        self._log: list[Spend] = []
        self._spent = 0
        self._blocked_until = 0.0
        self._recover_at = 0.0

    def _expire(self, now: float) -> None:
        while self._log and self._log[0].at <= now - self.window:
            self._spent -= self._log.pop(0).units
        if self.limit < self.configured and now >= self._recover_at:
            # A whole window without a 429: try a tenth of the configured limit more, a window at a time.
            self.limit = min(self.configured, self.limit + max(1, self.configured // 10))
            self._recover_at = now + self.window

    def spent(self, now: float) -> int:
        self._expire(now)
        return self._spent

    def wait(self, units: int, now: float) -> float:
        """Seconds from `now` until spending `units` keeps every window within the limit (0: go now).

        A call that costs more than the whole limit can never fit; it is let through once the window is
        empty (Google then answers 429, which the caller reports), rather than waiting forever.
        """
        self._expire(now)
        wait = max(0.0, self._blocked_until - now)
        need = self._spent + units - self.limit
        if need <= 0:
            return wait
        freed, latest = 0, now - self.window
        for entry in self._log:  # oldest first (a settled entry may be dated after the next one)
            freed += entry.units
            latest = max(latest, entry.at)
            if freed >= need:
                return max(wait, latest + self.window - now + _EPSILON)
        return max(wait, latest + self.window - now + _EPSILON) if self._log else wait

    def spend(self, units: int, now: float) -> Spend | None:
        """Record `units` spent at `now`; the entry can be moved to when Google answered (`settle`) or
        taken back when Google refused the call (`refund`)."""
        if units <= 0:
            return None
        entry = Spend(now, units)
        self._log.append(entry)
        self._spent += units
        return entry

    def settle(self, entry: Spend, now: float) -> None:
        entry.at = max(entry.at, now)

    def refund(self, entry: Spend) -> None:
        try:
            self._log.remove(entry)
        except ValueError:
            return  # already expired
        self._spent -= entry.units

    def exhausted(self, now: float) -> None:
        """Google said this metric is spent (someone else shares the quota, or the limit is lower than we
        think): nothing more until a whole window has passed, and the limit we keep to comes down to what
        Google let through in the last window."""
        self._expire(now)
        if 0 < self._spent < self.limit:
            self.limit = self._spent
        self._blocked_until = max(self._blocked_until, now + self.window)
        self._recover_at = self._blocked_until + self.window
