"""Hostile, unsigned and malformed HTTP requests against the real server (`bot.serve.http_server`, waitress):
each gets the 4xx its fault deserves, never a 5xx, and the log gains no traceback and no body."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_bolt.request import BoltRequest

from bot.http_guard import MAX_BODY_BYTES
from bot.serve import EVENTS_PATH
from slack_double import SlackUser
from slack_double.driver import sign

from .conftest import ADMIN, SECRET, Bot
from .logcheck import errors, leaks, long_lines, tracebacks

CANARY = "canary-5e1f-not-to-be-logged"
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
SIGNINGS = ("valid", "none", "forged", "stale", "future", "garbage_ts", "non_ascii_sig", "wrong_secret", "only_sig")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Envelopes that look like Slack's, with the wrong types inside: what reaches Bolt once signed.
envelopes = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["block_actions", "view_submission", "block_suggestion", "event_callback",
                             "url_verification", "view_closed", "shortcut"]) | st.text(max_size=8),
    "user": json_values, "team": json_values, "actions": json_values, "view": json_values, "event": json_values,
    "authorizations": json_values, "enterprise": json_values, "command": st.just("/contactsync") | json_values,
    "challenge": json_values, "response_url": json_values, "token": st.just(CANARY),
})


@dataclass
class RawRequest:
    method: str
    path: str
    content_type: str | None
    body: bytes
    signing: str
    chunked: bool

    def headers(self) -> dict[str, str]:
        now = int(time.time())
        ts = {"stale": now - 6 * 60, "future": now + 6 * 60}.get(self.signing, now)
        headers = {} if self.content_type is None else {"Content-Type": self.content_type}
        body = self.body
        signature = {
            "valid": sign(SECRET, str(ts), body), "forged": "v0=" + "0" * 64, "stale": sign(SECRET, str(ts), body),
            "future": sign(SECRET, str(ts), body), "garbage_ts": sign(SECRET, str(ts), body),
            "non_ascii_sig": "v0=é" + "0" * 63, "wrong_secret": sign("not-the-secret", str(ts), body),
            "only_sig": sign(SECRET, str(ts), body),
        }.get(self.signing)
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if self.signing not in ("none", "only_sig"):
            headers["X-Slack-Request-Timestamp"] = "12ab" if self.signing == "garbage_ts" else str(ts)
        return headers

    def expected(self) -> int | None:
        """The status this request must get, or None where only "not 5xx" is known (a signed payload that
        Bolt reads: its listener decides)."""
        if self.path != EVENTS_PATH:
            return 404
        if self.method != "POST":
            return 405
        if not _utf8(self.body):
            return 400
        if self.signing != "valid":
            return 401
        if (self.content_type or "").split(";")[0].strip().lower() not in (FORM, JSON_TYPE):
            return 415
        if not self.body.strip():
            return 400
        return None


def about_the_request(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """The INFO-or-louder lines a request caused. Waitress's "Task queue depth" warning says the machine is
    busy (a loaded CI runner), not anything about the request, so it is left out."""
    return [r for r in records if r.levelno >= logging.INFO and r.name != "waitress.queue"]


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    envelopes.map(lambda d: json.dumps(d).encode()),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda d: urlencode({**d, "token": CANARY}).encode()),
    st.one_of(st.text(max_size=50), envelopes.map(json.dumps), json_values.map(json.dumps)).map(
        lambda p: urlencode({"payload": p, "token": CANARY}).encode()),
    st.sampled_from([b"\xff\xfe{\x00}\x00", b"{", b"payload=%7B", b"payload=%FF", b"[]", b"null", b"\"x\"",
                     b"payload=null", b"payload=[1]", "{\"text\": \"\udcff\"}".encode("utf-8", "surrogatepass")]),
    st.integers(500, 20000).map(lambda n: b"[" * n + b"]" * n),  # nesting deeper than json's recursion limit
)
raw_requests = st.builds(
    RawRequest,
    method=st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    path=st.one_of(st.just(EVENTS_PATH), st.just(EVENTS_PATH), st.just(EVENTS_PATH),
                   st.sampled_from(["/", "/slack", "/slack/events/", "/slack/install", "/slack/oauth_redirect",
                                    "/slack/events/../events", "/SLACK/EVENTS", "/metrics"]),
                   st.text(max_size=30).map(lambda s: "/" + quote(s))),
    content_type=st.sampled_from([FORM, FORM, JSON_TYPE, JSON_TYPE, "application/json; charset=utf-8", None, "",
                                  "text/plain", "multipart/form-data; boundary=x", "application/xml",
                                  f"{FORM}; charset=latin-1", "APPLICATION/JSON", "*/*"]),
    body=bodies,
    signing=st.sampled_from(SIGNINGS[:1] * 4 + SIGNINGS[1:]),
    chunked=st.booleans(),
)

# Correctly signed envelopes of the wrong shape: what an attacker holding the signing secret (or a Slack
# change) could send; Bolt reads them, so each must still end in a clear answer.
signed_payloads = st.builds(
    RawRequest, method=st.just("POST"), path=st.just(EVENTS_PATH),
    content_type=st.sampled_from([FORM, JSON_TYPE]),
    body=st.one_of(envelopes.map(lambda d: json.dumps(d).encode()),
                   envelopes.map(lambda d: urlencode({"payload": json.dumps(d)}).encode()),
                   st.dictionaries(st.sampled_from(["command", "text", "user_id", "response_url", "trigger_id",
                                                   "ssl_check", "team_id"]), st.text(max_size=20)).map(
                       lambda d: urlencode({**d, "token": CANARY}).encode())),
    signing=st.just("valid"), chunked=st.booleans(),
)


def send(url: str, request: RawRequest) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        if request.chunked and request.method == "POST":
            connection.request(request.method, request.path, body=iter([request.body]), headers=request.headers(),
                               encode_chunked=True)
        else:
            connection.request(request.method, request.path, body=request.body, headers=request.headers())
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_hundreds_of_hostile_requests_get_4xx_and_leave_no_traceback(bot: Bot, caplog: pytest.LogCaptureFixture
                                                                     ) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[tuple[int, int | None]] = []

    @settings(max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "300")), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(request=st.one_of(raw_requests, signed_payloads))
    # One request of each refusal for certain: drawn at random alone, a run of 300 once had no 415.
    @example(request=RawRequest("POST", "/slack", FORM, b"a=1", "valid", False))               # 404
    @example(request=RawRequest("GET", EVENTS_PATH, None, b"", "valid", False))               # 405
    @example(request=RawRequest("POST", EVENTS_PATH, FORM, b"\xff\xfe", "valid", False))      # 400
    @example(request=RawRequest("POST", EVENTS_PATH, FORM, b"a=1", "forged", False))          # 401
    @example(request=RawRequest("POST", EVENTS_PATH, "text/plain", b"a=1", "valid", True))    # 415
    def one(request: RawRequest) -> None:
        started = time.monotonic()
        status, body = send(bot.url, request)
        elapsed = time.monotonic() - started
        expected = request.expected()
        seen.append((status, expected))
        assert status < 500, (request, status, body[:200])
        assert elapsed < 2.9, (request, elapsed)  # Slack gives up after 3 s
        if expected is not None:
            assert status == expected, (request, status, body[:200])
        if status >= 400 and request.method != "HEAD":
            assert json.loads(body)["error"], body  # a reason, in words

    one()
    time.sleep(0.5)  # listeners that acked first finish in Bolt's threads
    assert len(seen) >= 250
    assert {401, 404, 405, 415, 400} <= {status for status, _ in seen}
    assert sum(1 for status, expected in seen if expected is None) >= 60  # signed payloads that reached Bolt
    assert tracebacks(caplog.records) == []
    assert errors(caplog.records) == []  # a client's garbage is the client's error, not the server's
    assert long_lines(caplog.records) == []
    assert leaks(caplog.records, [CANARY]) == []
    print(f"hostile HTTP requests: {len(seen)}; statuses: "
          f"{sorted({s: sum(1 for x, _ in seen if x == s) for s, _ in seen}.items())}; "
          f"log records searched: {len(caplog.records)}")


def test_a_rejection_is_one_line_naming_the_reason_without_body_or_headers(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = bot.admin
    body = user.command_body("list")
    assert user.post(body, FORM, signature="v0=" + "0" * 64).status == 401
    forged_path = RawRequest("GET", "/slack/events%0Aforged%20line", FORM, b"", "none", False)
    assert send(bot.url, forged_path)[0] == 404
    rejected = [r for r in caplog.records if r.name == "bot.http_guard"]
    assert [r.getMessage() for r in rejected] == [
        f"rejected POST {EVENTS_PATH}: bad signature ({len(body)} bytes)",
        "rejected GET /slack/events?forged line: unknown path (0 bytes)",
    ]
    response_url = dict(item.split("=", 1) for item in body.decode().split("&"))["response_url"]
    assert leaks(caplog.records, ["legacy-verification-token", response_url, "response_url"]) == []


def test_a_body_over_the_limit_is_refused_unread(bot: Bot) -> None:
    assert MAX_BODY_BYTES == 1024 * 1024
    too_big = b"x" * (MAX_BODY_BYTES + 1)
    assert raw_post_status(bot.url, f"Content-Length: {len(too_big)}", too_big) == 413
    chunked = f"{len(too_big):x}\r\n".encode() + too_big + b"\r\n0\r\n\r\n"
    assert raw_post_status(bot.url, "Transfer-Encoding: chunked", chunked) == 413  # counted as it arrives
    just_under = RawRequest("POST", EVENTS_PATH, FORM, b"x=" + b"y" * (MAX_BODY_BYTES - 2), "valid", False)
    assert send(bot.url, just_under)[0] == 404  # read, verified, parsed: a form Bolt has no listener for


def raw_post_status(url: str, framing: str, payload: bytes) -> int:
    """The status code for a POST with `framing` (a length header), read even if the server refuses before
    the payload is all sent (http.client would fail on the broken pipe instead)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        head = f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n{framing}\r\n\r\n".encode()
        with contextlib.suppress(OSError):  # the server may close as soon as it has refused
            sock.sendall(head + payload)
        return int(sock.recv(200).split(b" ", 2)[1])


def test_bolt_never_logs_the_body_of_a_badly_signed_request(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """Past the guard (e.g. a request that ages out of the replay window between the two checks), Bolt's own
    verification refuses it and logs that, at INFO; without the body, its token or its response_url."""
    caplog.set_level(logging.DEBUG)
    body = bot.admin.command_body("list").decode()
    assert bot.app is not None
    response = bot.app.dispatch(BoltRequest(body=body, headers={
        "content-type": FORM, "x-slack-request-timestamp": str(int(time.time())),
        "x-slack-signature": "v0=" + "1" * 64}))
    assert response.status == 401
    assert "Invalid request signature detected (body not logged)" in [r.getMessage() for r in caplog.records]
    response_url = dict(item.split("=", 1) for item in body.split("&"))["response_url"]
    assert leaks(caplog.records, ["legacy-verification-token", response_url, f"user_id={ADMIN}"]) == []


# Signed requests Bolt or a listener used to fail on (an ERROR line each, or a ValueError in the slash command's
# listener): each is now refused at the door with a 400 naming the field, and one short INFO line.
def _command(user: SlackUser, *without: str) -> bytes:
    fields = user.command_fields("create")
    return urlencode({k: v for k, v in fields.items() if k not in without}).encode()


MALFORMED = {
    "an event that is a list": (JSON_TYPE, lambda u: json.dumps({"type": "event_callback", "event": []}).encode(),
                                "not a Slack payload (event is not an object)"),
    "an event without a type": (JSON_TYPE, lambda u: json.dumps({"type": "event_callback", "event": {}}).encode(),
                                "not a Slack payload (event_callback without an event type)"),
    "a slash command without response_url": (FORM, lambda u: _command(u, "response_url"),
                                             "not a Slack payload (slash command without response_url)"),
    "a slash command without user_id": (FORM, lambda u: _command(u, "user_id"),
                                        "not a Slack payload (slash command without user_id)"),
    "an action without action_id": (FORM, lambda u: urlencode({"payload": json.dumps(
        {"type": "block_actions", "user": {"id": ADMIN}, "actions": [{"value": "Partners"}]})}).encode(),
        "not a Slack payload (block_actions with an action that has no action_id)"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_signed_malformed_payload_is_a_400_and_one_clipped_info_line(bot: Bot, caplog: pytest.LogCaptureFixture,
                                                                      case: str) -> None:
    caplog.set_level(logging.INFO)
    content_type, body_of, reason = MALFORMED[case]
    body = body_of(bot.admin)
    mark = bot.double.mark()
    status, answer = send(bot.url, RawRequest("POST", EVENTS_PATH, content_type, body, "valid", False))
    assert (status, json.loads(answer)) == (400, {"error": reason})
    time.sleep(0.3)  # anything Bolt would have started in its threads
    logged = about_the_request(caplog.records)
    assert [(r.name, r.levelname, r.getMessage()) for r in logged] == [
        ("bot.http_guard", "INFO", f"rejected POST {EVENTS_PATH}: {reason} ({len(body)} bytes)")]
    assert bot.double.calls[mark:] == []  # nobody was answered through Slack: the listener never ran


def test_a_huge_user_id_is_refused_in_one_clipped_info_line(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """A non-admin's options request from a 19,909-character user id (Slack's are about 11): answered with no
    options, as any non-admin's, and logged in one INFO line that quotes the id clipped."""
    caplog.set_level(logging.INFO)
    huge = "U" + "X" * 19_908
    payload = {"type": "block_suggestion", "user": {"id": huge}, "team": {"id": "T0"}, "action_id": "source_user",
               "block_id": "source.0", "value": "a", "view": {"id": "V0", "type": "modal"}}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    status, answer = send(bot.url, RawRequest("POST", EVENTS_PATH, FORM, body, "valid", False))
    assert (status, json.loads(answer)) == (200, {"options": []})
    logged = about_the_request(caplog.records)
    assert [(r.name, r.levelname) for r in logged] == [("bot.guard", "INFO")]
    assert logged[0].getMessage() == f"refused block_suggestion from non-admin {huge[:40]}…"


def test_an_action_nobody_handles_is_bolts_404_and_one_clipped_info_line(bot: Bot,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A well-formed action with an id no listener knows (a button of an older version, or an invention) is
    the client's matter: Bolt's "Unhandled request" warning, with its code suggestion, becomes one INFO line."""
    caplog.set_level(logging.INFO)
    payload = {"type": "block_actions", "user": {"id": ADMIN}, "team": {"id": "T0"}, "trigger_id": "1.2.x",
               "actions": [{"action_id": "gone_" + "x" * 5000, "block_id": "b", "value": "v"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    status, _answer = send(bot.url, RawRequest("POST", EVENTS_PATH, FORM, body, "valid", False))
    assert status == 404
    logged = about_the_request(caplog.records)
    assert [(r.name, r.levelname) for r in logged] == [("contactsync.bolt", "INFO")]
    assert logged[0].getMessage().startswith("Unhandled request ({'type': 'block_actions', 'block_id': 'b', ")
    assert len(logged[0].getMessage()) <= 301
