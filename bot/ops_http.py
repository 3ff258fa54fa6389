"""The operations endpoints: /healthz (the process answers), /readyz (it can do its work) and /metrics
(Prometheus text). GET or HEAD, no body read, nothing secret in the answers.

Over HTTP they are routed before `SlackGuard`, which answers 404 for any path but /slack/events; in Socket
Mode they are all the HTTP server serves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .health import Readiness

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"
PATHS = (HEALTH_PATH, READY_PATH, METRICS_PATH)
METHODS = ("GET", "HEAD")
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

Answer = tuple[int, str, bytes]  # status, content type, body
REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error",
           503: "Service Unavailable"}


class OpsRoutes:
    """A WSGI app: the three operations paths; any other path goes to `fallback` (404 without one)."""

    def __init__(self, readiness: Readiness, metrics: Callable[[], tuple[bytes, str]],
                 fallback: WSGIApplication | None = None) -> None:
        self.readiness = readiness
        self.metrics = metrics
        self.fallback = fallback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path not in PATHS:
            if self.fallback is not None:
                return self.fallback(environ, start_response)
            return _answer(start_response, (404, JSON_TYPE, _json({"error": "unknown path"})), head=False)
        method = str(environ.get("REQUEST_METHOD", ""))
        if method not in METHODS:
            return _answer(start_response, (405, JSON_TYPE, _json({"error": "only GET and HEAD are served here"})),
                           head=False, extra=[("Allow", ", ".join(METHODS))])
        try:
            answer = self._answer(path)
        except Exception as exc:  # noqa: BLE001 - a probe gets an answer, never a traceback
            log.error("%s failed: %s", path, type(exc).__name__)
            answer = (500, JSON_TYPE, _json({"error": "internal error"}))
        return _answer(start_response, answer, head=method == "HEAD")

    def _answer(self, path: str) -> Answer:
        if path == HEALTH_PATH:
            return 200, TEXT_TYPE, b"ok\n"
        if path == READY_PATH:
            return self._ready()
        body, content_type = self.metrics()
        return 200, content_type, body

    def _ready(self) -> Answer:
        answers = self.readiness.problems()
        failed = [name for name, problem in answers.items() if problem is not None]
        checks = {name: "ok" if problem is None else problem for name, problem in answers.items()}
        if failed:
            log.warning("not ready: %s", "; ".join(f"{name}: {answers[name]}" for name in failed))
            return 503, JSON_TYPE, _json({"status": "not ready", "failed": failed, "checks": checks})
        return 200, JSON_TYPE, _json({"status": "ready", "checks": checks})


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _answer(start_response: StartResponse, answer: Answer, *, head: bool,
            extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
    status, content_type, body = answer
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
               *(extra or [])]
    start_response(f"{status} {REASONS[status]}", headers)
    return [] if head else [body]
