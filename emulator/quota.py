"""People API quotas: Google's per-user per-minute limits (and the daily contact-writes limit), each
method's cost, and the 429 Google answers when a call would pass one.

Google meters every People call against one or more quota metrics, per impersonated user, and refuses
the call (consuming nothing) when any metric would pass its limit. The emulator does the same with a
sliding-window log per (user id, metric): a unit spent at time t counts until t + window. Directory
API calls are metered by another service and are never limited here.

The metric names are the strings Google puts in the 429 message; a product-side test can import them
(`CRITICAL_READ_REQUESTS`, ...) instead of copying the wording.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .core import JSON, ApiError, invalid_argument

SERVICE = "people.googleapis.com"
DEFAULT_PROJECT_NUMBER = "000000000000"
DAY_IN_WINDOWS = 1440  # a "day" is this many windows, so a short test window shortens the day too

# The metric names as Google prints them in the 429 message (one string per metric).
CRITICAL_READ_REQUESTS = "Critical read requests (Contact and Profile Reads)"
CRITICAL_WRITE_REQUESTS = "Critical write requests (Contact Creates and Updates)"
CONTACT_DELETES_AND_GROUP_WRITES = "Contact deletes and contact group writes"
CONTACT_GROUP_READS = "Contact group reads"
CONTACT_PHOTO_WRITES = "Contact photo writes"
DAILY_CONTACT_WRITES = "Daily contact writes"


@dataclass(frozen=True)
class Metric:
    key: str  # our short name: config keys, `--quota KEY=N`, usage reports
    name: str  # the display name in Google's message
    quota_metric: str  # ErrorInfo metadata `quota_metric`
    quota_limit: str  # ErrorInfo metadata `quota_limit`
    default_limit: int  # Google's default, per user per minute (per day when `daily`)
    daily: bool = False

    @property
    def limit_name(self) -> str:
        return f"{self.name} per {'day' if self.daily else 'minute'} per user"


# Only `people.googleapis.com/read_requests` has been seen in a real answer; the other metric and
# limit ids follow Google's naming habits (see the fidelity table in README.md).
METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        m.key: m
        for m in (
            Metric(
                "critical_read",
                CRITICAL_READ_REQUESTS,
                f"{SERVICE}/read_requests",
                "ReadRequestsPerMinutePerUser",
                60,
            ),
            Metric(
                "critical_write",
                CRITICAL_WRITE_REQUESTS,
                f"{SERVICE}/write_requests",
                "WriteRequestsPerMinutePerUser",
                30,
            ),
            Metric(
                "delete_group_write",
                CONTACT_DELETES_AND_GROUP_WRITES,
                f"{SERVICE}/delete_and_group_write_requests",
                "DeleteAndGroupWriteRequestsPerMinutePerUser",
                30,
            ),
            Metric(
                "group_read",
                CONTACT_GROUP_READS,
                f"{SERVICE}/group_read_requests",
                "GroupReadRequestsPerMinutePerUser",
                90,
            ),
            Metric(
                "photo_write",
                CONTACT_PHOTO_WRITES,
                f"{SERVICE}/photo_write_requests",
                "PhotoWriteRequestsPerMinutePerUser",
                50,
            ),
            Metric(
                "daily_contact_write",
                DAILY_CONTACT_WRITES,
                f"{SERVICE}/contact_writes",
                "ContactWritesPerDayPerUser",
                100_000,
                daily=True,
            ),
        )
    }
)
METRIC_NAMES: Mapping[str, str] = MappingProxyType({key: m.name for key, m in METRICS.items()})


def default_limits() -> dict[str, int]:
    return {key: m.default_limit for key, m in METRICS.items()}


# --- costs -----------------------------------------------------------------------------------------
# Google's contacts guide ("Quota"): what one call of each method spends, per metric.
_READ = {"critical_read": 1}
_SINGLE_WRITE = {"critical_read": 1, "critical_write": 1}
_BATCH_WRITE = {"critical_read": 6, "critical_write": 6}
_DELETE_OR_GROUP_WRITE = {"delete_group_write": 1}
_GROUP_READ = {"group_read": 1}
_PHOTO_WRITE = {"photo_write": 1}
METHOD_COSTS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "people.people.get": _READ,
        "people.people.getBatchGet": _READ,
        "people.people.connections.list": _READ,
        "people.people.searchContacts": _READ,
        "people.otherContacts.list": _READ,
        # Google publishes no cost for the directory methods; we charge them as the profile reads they are
        "people.people.listDirectoryPeople": _READ,
        "people.people.createContact": _SINGLE_WRITE,
        "people.people.updateContact": _SINGLE_WRITE,
        "people.people.batchCreateContacts": _BATCH_WRITE,
        "people.people.batchUpdateContacts": _BATCH_WRITE,
        "people.people.deleteContact": _DELETE_OR_GROUP_WRITE,
        "people.people.batchDeleteContacts": {"delete_group_write": 10},
        "people.contactGroups.create": _DELETE_OR_GROUP_WRITE,
        "people.contactGroups.update": _DELETE_OR_GROUP_WRITE,
        "people.contactGroups.delete": _DELETE_OR_GROUP_WRITE,
        "people.contactGroups.members.modify": _DELETE_OR_GROUP_WRITE,
        "people.contactGroups.list": _GROUP_READ,
        "people.contactGroups.get": _GROUP_READ,
        "people.contactGroups.batchGet": _GROUP_READ,
        "people.people.updateContactPhoto": _PHOTO_WRITE,
        "people.people.deleteContactPhoto": _PHOTO_WRITE,
    }
)


def _contacts_written(method_id: str, body: Any) -> int:
    """Daily contact writes: one per contact created or updated, so a batch counts its contacts."""
    if method_id in ("people.people.createContact", "people.people.updateContact"):
        return 1
    if method_id in ("people.people.batchCreateContacts", "people.people.batchUpdateContacts"):
        contacts = body.get("contacts") if isinstance(body, dict) else None
        # batchCreate sends a list of {contactPerson}, batchUpdate a map resourceName -> Person
        return len(contacts) if isinstance(contacts, list | dict) else 0
    return 0


def costs_of(method_id: str, body: Any = None) -> dict[str, int]:
    """Units one call spends per metric key; empty for calls Google does not meter this way."""
    costs = dict(METHOD_COSTS.get(method_id, {}))
    written = _contacts_written(method_id, body)
    if written:
        costs["daily_contact_write"] = written
    return costs


# --- configuration ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuotaConfig:
    """What is enforced. Limits missing from `limits` take Google's defaults."""

    enabled: bool = True
    window_seconds: float = 60.0
    limits: Mapping[str, int] = field(default_factory=default_limits)
    project_number: str = DEFAULT_PROJECT_NUMBER

    def __post_init__(self) -> None:
        if not self.window_seconds > 0:
            raise ValueError("window_seconds must be positive")
        unknown = sorted(set(self.limits) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown quota limit {', '.join(unknown)} (known: {', '.join(METRICS)})")
        if any(int(n) < 0 for n in self.limits.values()):
            raise ValueError("quota limits must not be negative")
        object.__setattr__(self, "limits", MappingProxyType({**default_limits(), **self.limits}))

    @classmethod
    def google(cls, window_seconds: float = 60.0, **limits: int) -> QuotaConfig:
        """Google's defaults, optionally with a shorter window and some limits changed (tests)."""
        return cls(True, window_seconds, limits)

    @classmethod
    def off(cls) -> QuotaConfig:
        return cls(enabled=False)

    def window_of(self, metric: Metric) -> float:
        return self.window_seconds * (DAY_IN_WINDOWS if metric.daily else 1)

    def to_json(self) -> JSON:
        return {
            "enabled": self.enabled,
            "windowSeconds": self.window_seconds,
            "limits": dict(self.limits),
            "projectNumber": self.project_number,
            "metrics": {
                key: {"name": m.name, "limitName": m.limit_name, "windowSeconds": self.window_of(m)}
                for key, m in METRICS.items()
            },
        }

    @classmethod
    def from_json(cls, data: JSON) -> QuotaConfig:
        """The `PUT /_emulator/quotas` body; absent fields take the defaults. Bad input: 400."""
        try:
            limits = data.get("limits") or {}
            if not isinstance(limits, dict):
                raise ValueError("limits must be an object")
            return cls(
                enabled=bool(data.get("enabled", True)),
                window_seconds=float(data.get("windowSeconds", 60.0)),
                limits={str(k): int(v) for k, v in limits.items()},
                project_number=str(data.get("projectNumber", DEFAULT_PROJECT_NUMBER)),
            )
        except (TypeError, ValueError) as exc:
            raise invalid_argument(f"Invalid quota configuration: {exc}") from exc


def parse_limit_override(text: str) -> tuple[str, int]:
    """`critical_write=30` -> ("critical_write", 30), for `--quota`."""
    key, sep, value = text.partition("=")
    if not sep or key.strip() not in METRICS or not value.strip().isdigit():
        raise ValueError(f"expected LIMIT=N with LIMIT one of {', '.join(METRICS)}, got {text!r}")
    return key.strip(), int(value)


# --- the 429 -----------------------------------------------------------------------------------
def quota_exceeded(metric: Metric, limit: int, project_number: str = DEFAULT_PROJECT_NUMBER) -> ApiError:
    """Google's answer to a call that would pass `metric`'s limit: message, ErrorInfo and Help link as
    the one-platform APIs send them (and the legacy `errors` entry with `rateLimitExceeded`)."""
    message = (
        f"Quota exceeded for quota metric '{metric.name}' and limit '{metric.limit_name}' of service "
        f"'{SERVICE}' for consumer 'project_number:{project_number}'."
    )
    details: list[JSON] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "service": SERVICE,
                "quota_metric": metric.quota_metric,
                "quota_limit": metric.quota_limit,
                "quota_limit_value": str(limit),
                "consumer": f"projects/{project_number}",
                "quota_location": "global",
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Request a higher quota limit.",
                    "url": "https://cloud.google.com/docs/quota#requesting_higher_quota",
                }
            ],
        },
    ]
    return ApiError(429, message, "RESOURCE_EXHAUSTED", reason="rateLimitExceeded", details=details)


@dataclass(frozen=True)
class Refusal:
    """Why a call was refused: the first metric (in METRICS order) it would pass."""

    metric: Metric
    limit: int
    project_number: str

    def error(self) -> ApiError:
        return quota_exceeded(self.metric, self.limit, self.project_number)


# --- the ledger --------------------------------------------------------------------------------------
@dataclass
class _Log:
    """Units spent on one (user, metric), oldest first, with their running total."""

    entries: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def expire(self, horizon: float) -> None:
        """Forget what was spent at or before `horizon` (the window is (now - window, now])."""
        while self.entries and self.entries[0][0] <= horizon:
            self.total -= self.entries.popleft()[1]


class QuotaLedger:
    """Thread-safe sliding-window log of spent units per (user id, metric).

    Time never goes back inside the ledger: a call is recorded at max(clock, latest time seen). Threads
    read the clock before they get the lock, and a test may move the emulated clock back; Google's own
    meter never runs backwards, and this keeps every log sorted so the running totals stay exact.
    """

    def __init__(self, config: QuotaConfig | None = None, clock: Callable[[], float] = time.time) -> None:
        self._config = config if config is not None else QuotaConfig.off()
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, str], _Log] = {}
        self._latest = float("-inf")

    @property
    def config(self) -> QuotaConfig:
        return self._config

    def configure(self, config: QuotaConfig) -> None:
        """Replace what is enforced; units already spent stay spent (as far as the new windows reach)."""
        with self._lock:
            self._config = config

    def reset(self) -> None:
        """Forget every spent unit."""
        with self._lock:
            self._logs.clear()
            self._latest = float("-inf")

    def _now(self, at: float | None) -> float:
        self._latest = max(self._latest, self._clock() if at is None else at)
        return self._latest

    def spend(self, user_id: str, costs: Mapping[str, int], at: float | None = None) -> Refusal | None:
        """Check `costs` against every limit, then record them all; or record nothing and say why not.

        `at` replaces the clock (pure tests). A disabled config, or an empty cost, always passes."""
        with self._lock:
            config = self._config
            if not config.enabled or not costs:
                return None
            now = self._now(at)
            for key, metric in METRICS.items():
                units = costs.get(key, 0)
                if units <= 0:
                    continue
                log = self._logs.get((user_id, key))
                spent = 0
                if log is not None:
                    log.expire(now - config.window_of(metric))
                    spent = log.total
                if spent + units > config.limits[key]:
                    return Refusal(metric, config.limits[key], config.project_number)
            for key, units in costs.items():
                if units > 0:
                    log = self._logs.setdefault((user_id, key), _Log())
                    log.entries.append((now, units))
                    log.total += units
            return None

    def usage(self, at: float | None = None) -> dict[str, dict[str, int]]:
        """Units inside the current window, per user id and metric key (metrics with none left out)."""
        with self._lock:
            now = self._now(at)
            out: dict[str, dict[str, int]] = {}
            for (user_id, key), log in sorted(self._logs.items()):
                log.expire(now - self._config.window_of(METRICS[key]))
                if log.total:
                    out.setdefault(user_id, {})[key] = log.total
            return out
