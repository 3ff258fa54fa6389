"""The emulator's HTTP server: routes each request to the OAuth endpoint, the test controls, or an API
handler, in this order for API calls: route -> query check -> auth -> scope/admin check -> injected fault
-> People quota (quota.py) -> call counter (and call log) -> latency (outside the workspace lock) -> handler
under `ws.lock` -> JSON answer, encoded under the lock too (it may hold stored values, see `Call.live`)."""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from . import control, directory, directory_people, people, schemas  # noqa: F401  (importing registers their handlers)
from .core import HANDLERS, JSON, ApiError, Call, Workspace
from .oauth import TokenError, TokenIssuer
from .partial import apply_fields, parse_fields
from .quota import QuotaConfig, QuotaLedger, costs_of
from .routing import Route, route_table
from .runtime import CallRecord, Runtime, fault_error

# orjson reads an integer literal beyond 64 bits as a float, json.loads as an int. Such a literal has 19 or
# more digits after `[`, `,`, `:` or the start, give or take whitespace and a minus: `_long_int` looks for
# that shape in a copy of the body where every digit is 0, each of `[,:` is `:`, whitespace and `-` are
# gone and anything else is `x` (two C passes; a regex is several times slower). Inside a string it may
# see one that is not there: that body just takes the slower path.
_SHAPE = bytes(48 if 48 <= b <= 57 else 58 if b in b"[,:" else 120 for b in range(256))
_LONG = b"0" * 19


def _long_int(raw: bytes) -> bool:
    shape = raw.translate(_SHAPE, b" \t\n\r-")
    return shape.startswith(_LONG) or b":" + _LONG in shape


def parse_json(raw: bytes) -> Any:
    """json.loads(raw), several times faster: orjson reads what both accept to the same values; what only
    json.loads accepts (NaN, Infinity, lone surrogates, a BOM, UTF-16/32) or rejects (with its own
    message) goes to json.loads, as do long integers."""
    if not _long_int(raw):
        try:
            return orjson.loads(raw)
        except ValueError:
            pass
    return json.loads(raw)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        # orjson: a page of a thousand contacts took a fifth of the emulator's CPU in json.dumps. What orjson
        # cannot write (an integer beyond 64 bits, a key that is not a string) goes to json.dumps, as before:
        # check_circular=False there, since an answer is parsed or built JSON, never circular (were one
        # circular anyway, the encoder's RecursionError answers 500 as its ValueError did).
        try:
            body = orjson.dumps(payload)
        except TypeError:
            body = json.dumps(payload, ensure_ascii=False, check_circular=False).encode()
        return cls(status, body, headers=headers or {})

    @classmethod
    def error(cls, err: ApiError) -> Response:
        return cls.json(err.code, err.to_json(), err.headers)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received: float = 0.0  # the emulated clock when the request was read (the call log's `received`)
    record: CallRecord | None = None  # its call log entry, dated `ended` once the answer is written


def _is_admin(ws: Workspace, user: JSON) -> bool:
    if user.get("isAdmin") or user.get("isDelegatedAdmin"):
        return True
    assignments = ws.directory.get("role_assignments", {}).values()
    return any(a.get("assignedTo") == user["id"] for a in assignments)


# Requests in the handlers at once (reading their bodies, parsing, answering). A run may have a call of each of
# its 2,000 targets open at once: like Google's front end, the emulator takes every connection and reads each
# request's headers (the call log's `received`) at once, and its handlers take them in turn, instead of 2,000
# threads each parsing a batch body while they wait for the workspace's lock.
HANDLERS_AT_ONCE = 16


class Admission:
    """At most `places` requests in the handlers at once, let in in the order they came.

    threading.Semaphore is not that: a freed place goes to whichever thread asks first, and the waiter it woke,
    finding it taken, waits again behind every later one. With 2,000 requests waiting, some waited past the
    client's 60 s read timeout while the mean wait was 18 s. Google's front end answers a call in about the
    time its work takes, whatever else is queued; first come, first served is the nearest a one-process
    emulator gets to that."""

    def __init__(self, places: int) -> None:
        self._lock = threading.Lock()
        self._free = places
        self._queue: deque[threading.Lock] = deque()  # one held lock per waiter, released to let it in

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._queue:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._queue.append(turn)
        turn.acquire()  # until `__exit__` hands this waiter the place its holder leaves

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._queue:
                self._queue.popleft().release()  # the place goes straight to the longest waiting
            else:
                self._free += 1


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. socketserver's default of 5 overflowed when a run's targets connected at once: the
    # kernel dropped their connection attempts and each client waited a second for its SYN to be resent.
    request_queue_size = 4096


class EmulatorServer:
    def __init__(
        self,
        ws: Workspace,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        quotas: QuotaConfig | None = None,
    ) -> None:
        """`quotas` None: People quotas are not enforced (QuotaConfig.google() for Google's defaults)."""
        self.ws = ws
        self.runtime = Runtime(latency_ms)
        # the emulated clock, so a test that moves it forward also slides the quota windows
        self.quotas = QuotaLedger(quotas, clock=ws.now)
        self.tokens = TokenIssuer(ws)
        self.routes = route_table()
        self.admission = Admission(HANDLERS_AT_ONCE)
        self._httpd = _HTTPServer((host, port), _handler_class(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path == "/token":
            return self._token(req)
        if req.path.startswith("/_emulator/"):
            return control.handle(self, req.method, req.path, req.query, req.body)
        try:
            return self._api(req)
        except ApiError as err:
            return Response.error(err)

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return Response.json(405, {"error": "invalid_request", "error_description": "Use POST."})
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        try:
            return Response.json(200, self.tokens.token_request(form, self.url + "/token"))
        except TokenError as err:
            return Response.json(err.status, err.body)

    def _api(self, req: Request) -> Response:
        method, query, raw_body = req.method, req.query, req.body
        override = req.headers.get("x-http-method-override")
        if override and method == "POST":
            method = override.upper()
            if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                # googleapiclient moves a long GET's query into the body
                for name, values in parse_qs(raw_body.decode(), keep_blank_values=True).items():
                    query.setdefault(name, []).extend(values)
                raw_body = b""
        route, path_params = self.routes.match(method, req.path)
        body = self._parse_body(raw_body, route)
        self.routes.check_query(route, query)
        grant, user = self.tokens.authenticate(req.headers.get("authorization"), legacy=route.legacy_errors)
        self._authorise(route, grant.scopes, user)
        email = user["primaryEmail"]
        fault = self.runtime.take_fault(route.method_id, email)
        if fault is not None:
            raise fault_error(fault, route.method_id)
        # Google checks quota before it runs the call; a refused call spends nothing (Directory: another meter)
        costs = costs_of(route.method_id, body)
        record = req.record = CallRecord(email.lower(), route.method_id, self.ws.now(), costs, received=req.received)
        refusal = self.quotas.spend(grant.user_id, costs)
        if refusal is not None:
            self.runtime.count_quota_rejected(route.method_id)
            record.refused = True
            self.runtime.log_call(record)
            raise refusal.error()
        self.runtime.count(route.method_id, email)
        self.runtime.log_call(record)
        if self.runtime.latency_ms > 0:
            time.sleep(self.runtime.latency_ms / 1000)
        handler = HANDLERS.get(route.method_id)
        if handler is None:
            raise ApiError(
                501,
                f"Method {route.method_id} is not implemented by the emulator.",
                "UNIMPLEMENTED",
                reason="notImplemented" if route.legacy_errors else None,
            )
        with self.ws.lock:
            current = self.ws.directory["users"].get(grant.user_id)
            if current is None:
                raise ApiError(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
            call = Call(
                route.method_id, path_params, query, body, current, self.ws, headers=req.headers, live=True
            )
            fields = query.get("fields")
            selector, bad_fields = None, None
            if fields and fields[0]:
                try:
                    selector = call.fields = parse_fields(fields[0])
                except ValueError as exc:
                    bad_fields = exc  # answered after the handler ran, as if parsed after it
            result = handler(call)
            # still under the lock: the answer may hold stored values (`Call.live`)
            status, payload = result if isinstance(result, tuple) else (200, result)
            if fields and fields[0] and status == 200:
                if bad_fields is not None:
                    raise ApiError(400, str(bad_fields), "INVALID_ARGUMENT") from bad_fields
                if not call.fields_applied:
                    payload = apply_fields(payload, selector)
            return Response.json(status, payload)

    @staticmethod
    def _parse_body(raw: bytes, route: Route) -> Any:
        if not raw.strip():
            return None
        try:
            return parse_json(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            message = f"Invalid JSON payload received. {exc}"
            raise ApiError(
                400, message, "INVALID_ARGUMENT", reason="parseError" if route.legacy_errors else None
            ) from exc

    def _authorise(self, route: Route, scopes: frozenset[str], user: JSON) -> None:
        if route.scopes and not scopes & route.scopes:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                }
            ]
            raise ApiError(
                403,
                "Request had insufficient authentication scopes.",
                "PERMISSION_DENIED",
                reason="insufficientPermissions" if route.legacy_errors else None,
                details=None if route.legacy_errors else details,
            )
        if route.method_id.startswith("directory."):
            with self.ws.lock:
                admin = _is_admin(self.ws, user)
            if not admin:
                raise ApiError(
                    403, "Not Authorized to access this resource/api", reason="forbidden", legacy=True
                )


def _handler_class(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait for an ACK

        def _serve(self) -> None:
            received = server.ws.now()
            with server.admission:
                self._handle_admitted(received)

        def _handle_admitted(self, received: float) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                received=received,
            )
            try:
                resp = server.handle(req)
            except Exception:  # a bug in a handler must answer 500, not drop the connection
                traceback.print_exc(file=sys.stderr)
                resp = Response.error(ApiError(500, "Internal error encountered.", "INTERNAL"))
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            if req.record is not None:
                req.record.ended = server.ws.now()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return RequestHandler
