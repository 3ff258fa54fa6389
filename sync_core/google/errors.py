"""One table of Google's error answers: which are retried, and what each means for a target.

Every Google call goes through `translate`, so the rest of the engine sees only these exceptions,
each carrying a `kind` from the failure taxonomy (`sync_core/domain/status.py`) and a short reason for humans.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from httplib2 import HttpLib2Error

from sync_core.domain.status import TargetStatus
from sync_core.google.quota import Metric

# 403 reasons that mean "slow down", not "you may not".
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
RETRIED_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


class GoogleError(Exception):
    kind = TargetStatus.error  # what the failure means for a target (or a run): each class's one line

    def __init__(self, reason: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after


class RetryableError(GoogleError):
    """429, 5xx and rate-limit 403s: retried with backoff, then reported as `quota` or `error`."""

    kind = TargetStatus.quota


class Unreachable(RetryableError):
    """No answer from Google (connection refused, DNS, timeout, TLS): retried for a few seconds only, then
    reported as `unreachable`, not as quota."""

    kind = TargetStatus.unreachable


class TimedOut(Unreachable):
    """Google took the request but did not answer within the answer timeout: busy rather than out of reach (a
    read is tried once more, see calls.Executor)."""


class RateLimited(RetryableError):
    """A per-user quota answer (429, or a rate-limit 403): `metric` names the quota when Google said which,
    `daily` when it is a per-day limit (waiting for the next minute won't help)."""

    def __init__(
        self, reason: str, *, status_code: int | None = None, retry_after: float | None = None,
        metric: Metric | None = None, daily: bool = False,
    ) -> None:
        super().__init__(reason, status_code=status_code, retry_after=retry_after)
        self.metric = metric
        self.daily = daily


class QuotaExhausted(GoogleError):
    kind = TargetStatus.quota


class Forbidden(GoogleError):
    kind = TargetStatus.forbidden


class NotFound(GoogleError):
    kind = TargetStatus.not_found


class InvalidGrant(GoogleError):
    """The impersonated address is not a current user (renamed, deleted, or never existed)."""

    kind = TargetStatus.not_found


class SyncTokenExpired(GoogleError):
    pass


class PreconditionFailed(GoogleError):
    """A stale etag (someone changed the resource since we read it)."""


class Conflict(GoogleError):
    pass


class BadRequest(GoogleError):
    pass


@dataclass(frozen=True)
class ErrorBody:
    message: str
    status: str | None
    reasons: tuple[str, ...]
    metadata: tuple[tuple[str, str], ...] = ()  # ErrorInfo metadata (quota_metric, quota_limit, ...)


def parse_error_body(content: bytes | str | None) -> ErrorBody:
    try:
        data = json.loads(content or b"{}")
        err = data.get("error", {}) if isinstance(data, dict) else {}
    except (ValueError, AttributeError):
        err = {}
    if not isinstance(err, dict):  # OAuth answers {"error": "invalid_grant", ...}
        return ErrorBody(str(err), None, (str(err),))
    reasons = [e.get("reason", "") for e in err.get("errors", []) or [] if isinstance(e, dict)]
    details = [d for d in err.get("details", []) or [] if isinstance(d, dict)]
    reasons += [d.get("reason", "") for d in details]
    metadata = [
        (str(k), str(v))
        for d in details
        if isinstance(d.get("metadata"), dict)
        for k, v in d["metadata"].items()
    ]
    return ErrorBody(
        str(err.get("message", "")), err.get("status"), tuple(str(r) for r in reasons if r), tuple(metadata)
    )


_QUOTA_METRIC = re.compile(r"quota metric '([^']+)'")
_METRIC_WORDS = (  # lower-cased words of a metric's name or id -> our metric; the first match wins
    ("daily", Metric.daily_write),
    ("per day", Metric.daily_write),
    ("photo", Metric.photo_write),
    ("group read", Metric.group_read),
    ("group_read", Metric.group_read),
    ("delete", Metric.delete_group_write),
    ("group write", Metric.delete_group_write),
    ("critical write", Metric.critical_write),
    ("write_requests", Metric.critical_write),
    ("critical read", Metric.critical_read),
    ("read_requests", Metric.critical_read),
)


def quota_metric(body: ErrorBody) -> tuple[Metric | None, bool]:
    """Which per-user quota a 429 names, and whether it is a daily one. Google names the metric in the
    message ("Quota exceeded for quota metric '...' and limit '... per minute per user'") and, in newer
    answers, in ErrorInfo's metadata; an unknown name gives (None, False): the pacer then blocks every
    metric the call spent."""
    meta = dict(body.metadata)
    found = _QUOTA_METRIC.search(body.message)
    names = [found.group(1) if found else "", meta.get("quota_metric", ""), meta.get("quota_limit", "")]
    text = " ".join(names).lower()
    daily = "per day" in body.message.lower() or "perday" in text.replace(" ", "")
    if daily:
        return Metric.daily_write, True
    for word, metric in _METRIC_WORDS:
        if word in text:
            return metric, False
    return None, False


def _retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: Exception) -> GoogleError:
    """Map a client-library exception to our taxonomy. Unknown exceptions become `GoogleError`."""
    if isinstance(exc, GoogleError):
        return exc
    if isinstance(exc, RefreshError):
        text = str(exc)
        if "invalid_grant" in text:
            return InvalidGrant("Google refused to impersonate this address (invalid_grant)")
        if "unauthorized_client" in text or "access_denied" in text:
            return Forbidden(
                "the service account is not authorised for these scopes (domain-wide delegation)"
            )
        return GoogleError("token request failed")
    if isinstance(exc, TimeoutError):
        return TimedOut("Google did not answer in time (TimeoutError)")
    if isinstance(exc, TransportError | OSError | HttpLib2Error):
        return Unreachable(f"Google could not be reached ({exc.__class__.__name__})")
    if not isinstance(exc, HttpError):
        return GoogleError(f"{exc.__class__.__name__}: {exc}")

    code = int(exc.resp.status) if exc.resp is not None else 0
    body = parse_error_body(exc.content)
    short = " ".join(p for p in (str(code), body.status, body.message) if p)[:300]  # no status: no double space
    if code == 429 or (code == 403 and RATE_LIMIT_REASONS & set(body.reasons)):
        metric, daily = quota_metric(body)
        return RateLimited(short, status_code=code, retry_after=_retry_after(exc), metric=metric, daily=daily)
    if code in RETRIED_STATUS_CODES:
        return RetryableError(short, status_code=code, retry_after=_retry_after(exc))
    if code == 400 and "EXPIRED_SYNC_TOKEN" in body.reasons:
        return SyncTokenExpired(short, status_code=code)
    if code == 400 and body.status == "FAILED_PRECONDITION":
        if "sync token" in body.message.lower():
            return SyncTokenExpired(short, status_code=code)
        return PreconditionFailed(short, status_code=code)
    if code in (401, 403):
        return Forbidden(short, status_code=code)
    if code == 404:
        return NotFound(short, status_code=code)
    if code == 409:
        return Conflict(short, status_code=code)
    if code == 400:
        return BadRequest(short, status_code=code)
    return GoogleError(short, status_code=code)
