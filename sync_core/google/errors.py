"""One table of Google's error answers: which are retried, and what each means for a target.

Every Google call goes through `translate`, so the rest of the engine sees only these exceptions,
each carrying a `kind` from the failure taxonomy (design.md) and a short reason for humans.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from httplib2 import HttpLib2Error

# 403 reasons that mean "slow down", not "you may not".
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
RETRIED_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


class GoogleError(Exception):
    kind = "error"

    def __init__(self, reason: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after


class RetryableError(GoogleError):
    """429, 5xx and rate-limit 403s: retried with backoff, then reported as `quota` or `error`."""

    kind = "quota"


class QuotaExhausted(GoogleError):
    kind = "quota"


class Forbidden(GoogleError):
    kind = "forbidden"


class NotFound(GoogleError):
    kind = "not_found"


class InvalidGrant(GoogleError):
    """The impersonated address is not a current user (renamed, deleted, or never existed)."""

    kind = "not_found"


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


def parse_error_body(content: bytes | str | None) -> ErrorBody:
    try:
        data = json.loads(content or b"{}")
        err = data.get("error", {}) if isinstance(data, dict) else {}
    except (ValueError, AttributeError):
        err = {}
    if not isinstance(err, dict):  # OAuth answers {"error": "invalid_grant", ...}
        return ErrorBody(str(err), None, (str(err),))
    reasons = [e.get("reason", "") for e in err.get("errors", []) if isinstance(e, dict)]
    reasons += [d.get("reason", "") for d in err.get("details", []) if isinstance(d, dict)]
    return ErrorBody(str(err.get("message", "")), err.get("status"), tuple(r for r in reasons if r))


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
    if isinstance(exc, TransportError | OSError | HttpLib2Error):
        return RetryableError(f"network error: {exc.__class__.__name__}")
    if not isinstance(exc, HttpError):
        return GoogleError(f"{exc.__class__.__name__}: {exc}")

    code = int(exc.resp.status) if exc.resp is not None else 0
    body = parse_error_body(exc.content)
    short = f"{code} {body.status or ''} {body.message}".strip()[:300]
    if code in RETRIED_STATUS_CODES or (code == 403 and RATE_LIMIT_REASONS & set(body.reasons)):
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
