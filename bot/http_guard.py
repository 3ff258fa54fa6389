"""The WSGI front door of the HTTP bot: every request is screened before Bolt parses anything.

Bolt's own WSGI adapter hands any body to its parser: a body that is not UTF-8, not JSON or not a form
raised there, outside Bolt's error handling, and became a 500 with a traceback, signed or not. Here the
size, the encoding and the signature (Slack's v0 HMAC, within its five-minute replay window) are checked
first, then the media type and the payload's shape (`bot.envelope`), so unsigned junk never reaches a
parser and every malformed request gets a 4xx with a short reason. A rejection is logged as one line (method,
path, reason, length, each clipped): never the body, a header, a token or a response_url. It is an INFO line
(a client's mistake is the client's to fix), except a bad signature: a WARNING, since a wrong
SLACK_SIGNING_SECRET refuses every request Slack sends.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from sync_core.domain.text import clip

from .envelope import bolt_problem

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

# Slack's largest payloads (a view_submission carrying a full 100-block modal and its state) are tens of
# kilobytes; 1 MiB leaves a wide margin and bounds what one request can make us read and hash.
MAX_BODY_BYTES = 1024 * 1024
# Slack's replay window: a request signed more than five minutes ago (or ahead) is refused.
REPLAY_WINDOW_SECONDS = 5 * 60
MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/json")


@dataclass(frozen=True)
class Rejection:
    status: int
    reason: str


def check_route(method: str, path: str, events_path: str) -> Rejection | None:
    if path != events_path:
        return Rejection(404, "unknown path")
    if method != "POST":
        return Rejection(405, "only POST is served here")
    return None


def check_length(content_length: str | None, max_bytes: int) -> int | Rejection:
    """The declared body length (waitress sets it for chunked bodies too), or why it is refused."""
    raw = (content_length or "0").strip()
    if not raw.isascii() or not raw.isdigit():
        return Rejection(400, "malformed Content-Length")
    length = int(raw)
    if length > max_bytes:
        return Rejection(413, f"body over {max_bytes} bytes")
    return length


def check_signature(verifier: SignatureVerifier, body: str, timestamp: str | None, signature: str | None,
                    now: float) -> Rejection | None:
    """Slack's v0 signature of `body` at `timestamp`, within the replay window."""
    if not timestamp or not signature:
        return Rejection(401, "unsigned request")
    # SignatureVerifier would raise on a timestamp that is not an integer or a non-ASCII signature.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature.isascii():
        return Rejection(401, "malformed signature headers")
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return Rejection(401, "stale or future timestamp")
    if not verifier.is_valid(body, timestamp, signature):
        return Rejection(401, "bad signature")
    return None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_payload(body: str, content_type: str | None, headers: dict[str, Any], query: str) -> BoltRequest | Rejection:
    """The Bolt request for a signed body, or why the body is no Slack payload (Bolt's parser raises on
    bad JSON, a form whose `payload` is not JSON, and a JSON value that is not an object; `bot.envelope`
    refuses the shapes Bolt or a listener would fail on)."""
    if media_type(content_type) not in MEDIA_TYPES:
        return Rejection(415, "content type must be a form or JSON")
    if not body.strip():
        return Rejection(400, "empty body")
    request = bolt_problem(lambda: BoltRequest(body=body, query=query, headers=headers))
    return Rejection(400, request) if isinstance(request, str) else request


class SlackGuard:
    """A WSGI app: screens each request, then dispatches it to the Bolt `app` and answers Bolt's response."""

    def __init__(self, app: App, *, signing_secret: str, path: str, max_body_bytes: int = MAX_BODY_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes
        self.verifier = SignatureVerifier(signing_secret)
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", ""))
        path = str(environ.get("PATH_INFO", ""))
        answer = self._screen_and_dispatch(environ, method, path)
        if isinstance(answer, Rejection):
            level = logging.WARNING if answer.status == HTTPStatus.UNAUTHORIZED else logging.INFO
            log.log(level, "rejected %s %s: %s (%s bytes)", clip(method, 10), clip(path, 80), answer.reason,
                    clip(environ.get("CONTENT_LENGTH") or 0, 20))
            response = WsgiHttpResponse(status=answer.status, headers=_headers(answer.status),
                                        body=json.dumps({"error": answer.reason}))
        else:
            response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _screen_and_dispatch(self, environ: WSGIEnvironment, method: str, path: str) -> BoltResponse | Rejection:
        rejection = check_route(method, path, self.path)
        if rejection is not None:
            return rejection
        length = check_length(environ.get("CONTENT_LENGTH"), self.max_body_bytes)
        if isinstance(length, Rejection):
            return length
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) != length:
            return Rejection(400, "body shorter than its Content-Length")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Rejection(400, "body is not UTF-8")
        request = WsgiHttpRequest(environ)
        headers = request.get_headers()
        rejection = check_signature(self.verifier, body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                                    environ.get("HTTP_X_SLACK_SIGNATURE"), self.clock())
        if rejection is not None:
            return rejection
        parsed = parse_payload(body, environ.get("CONTENT_TYPE"), headers, request.query_string)
        if isinstance(parsed, Rejection):
            return parsed
        try:
            return self.app.dispatch(parsed)
        except Exception as exc:  # Bolt answers listener and middleware errors itself; this is a last resort
            log.error("dispatching a request failed: %s", type(exc).__name__)
            log.debug("traceback of the failed dispatch", exc_info=exc)
            return BoltResponse(status=500, body=json.dumps({"error": "internal error"}),
                                headers={"content-type": "application/json"})


def _headers(status: int) -> dict[str, Sequence[str]]:
    headers: dict[str, Sequence[str]] = {"content-type": ["application/json;charset=utf-8"]}
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        headers["allow"] = ["POST"]
    return headers
