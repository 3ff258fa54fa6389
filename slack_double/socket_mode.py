"""`SocketModeServer`: the websocket end of Slack's Socket Mode, as the double's `apps.connections.open` hands
it out.

Like Slack: a connection needs a URL from `apps.connections.open` (its ticket is good once); the first message
on it is `hello`; user actions arrive as envelopes (`slash_commands`, `interactive`, `events_api`) that the app
acknowledges by sending back `{"envelope_id": ..., "payload"?: ...}`; and `disconnect` asks the app to open a
new connection (Slack does so before it recycles a server). Envelopes go to the newest connection that has not
been asked to leave. Every envelope and every ack is recorded.

`websockets` (a dev dependency) is imported only here, and the double starts this server only when a Socket
Mode app first asks for a URL, so the HTTP-only demo runs without it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

JSON = dict[str, Any]
LINK_PATH = "/link/"
# Interactions whose ack may carry an answer (a view_submission's response_action, a block_suggestion's
# options); Slack ignores a payload on the others' acks.
ANSWERED_INTERACTIONS = ("view_submission", "block_suggestion")


@dataclass
class Envelope:
    envelope_id: str
    type: str  # slash_commands, interactive, events_api
    payload: JSON
    accepts_response_payload: bool
    sent_at: float = field(default_factory=time.monotonic)

    def message(self) -> JSON:
        body: JSON = {"envelope_id": self.envelope_id, "type": self.type, "payload": self.payload,
                      "accepts_response_payload": self.accepts_response_payload}
        if self.type == "events_api":
            body.update(retry_attempt=0, retry_reason="")
        return body


@dataclass
class Ack:
    envelope_id: str
    payload: JSON | None
    seconds: float  # from the envelope being sent to its ack


@dataclass
class _Link:
    connection: ServerConnection
    leaving: bool = False  # sent `disconnect`: no more envelopes


class SocketModeServer:
    def __init__(self, *, app_id: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app_id = app_id
        self.envelopes: list[Envelope] = []
        self.acks: dict[str, Ack] = {}  # envelope id -> its ack
        self.unexpected: list[str] = []  # messages from the app that are not acks of a known envelope
        self.connections_opened = 0
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._changed = threading.Condition()
        # close_timeout: stopping the double must not wait long for an app that does not answer a close frame
        self._server: Server = serve(self._serve_link, host, port, process_request=self._check_ticket,
                                     compression=None, close_timeout=1, logger=None)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-double-socket", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> SocketModeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            links = list(self._links)
        for link in links:
            link.connection.close()
        self._server.shutdown()
        self._thread.join(timeout=5)

    # --- what apps.connections.open answers ----------------------------------------------------------
    def new_url(self) -> str:
        ticket = secrets.token_hex(16)
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://{self.address}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlparse(request.path)
        ticket = (parse_qs(url.query).get("ticket") or [""])[0]
        with self._changed:
            if url.path == LINK_PATH and ticket in self._tickets:
                self._tickets.discard(ticket)  # a URL is good for one connection
                return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket: call apps.connections.open\n")

    # --- one connection ---------------------------------------------------------------------------------
    def _serve_link(self, connection: ServerConnection) -> None:
        link = _Link(connection)
        with self._changed:
            self._links.append(link)
            self.connections_opened += 1
            count = len(self._links)
        connection.send(json.dumps({
            "type": "hello", "num_connections": count,
            "debug_info": {"host": "slack-double", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }))
        with self._changed:
            self._changed.notify_all()
        try:
            for message in connection:
                self._received(message if isinstance(message, str) else message.decode("utf-8", "replace"))
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._links.remove(link)
                self._changed.notify_all()

    def _received(self, message: str) -> None:
        try:
            body = json.loads(message)
        except json.JSONDecodeError:
            body = None
        with self._changed:
            sent = {e.envelope_id: e for e in self.envelopes}
            envelope_id = body.get("envelope_id") if isinstance(body, dict) else None
            envelope = sent.get(str(envelope_id))
            if envelope is None or envelope_id in self.acks:
                self.unexpected.append(message)
            else:
                payload = body.get("payload") if envelope.accepts_response_payload else None
                self.acks[envelope.envelope_id] = Ack(envelope.envelope_id, payload,
                                                      time.monotonic() - envelope.sent_at)
            self._changed.notify_all()

    # --- driving it -------------------------------------------------------------------------------------
    @property
    def connected(self) -> int:
        """Connections that take envelopes."""
        with self._changed:
            return sum(1 for link in self._links if not link.leaving)

    def wait_connected(self, *, opened: int = 1, timeout: float = 30.0) -> None:
        """Wait until `opened` connections have been opened in all and one takes envelopes."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self.connections_opened >= opened and any(not link.leaving for link in self._links),
                timeout,
            ):
                raise TimeoutError(f"no Socket Mode connection within {timeout}s "
                                   f"({self.connections_opened} opened, {len(self._links)} open)")

    def deliver(self, kind: str, payload: JSON, *, timeout: float = 10.0) -> Ack:
        """Send an envelope on the newest connection and wait for its ack."""
        answered = kind == "slash_commands" or (kind == "interactive" and payload.get("type") in ANSWERED_INTERACTIONS)
        envelope = Envelope(str(uuid.uuid4()), kind, payload, answered)
        self.wait_connected(timeout=timeout)
        with self._changed:
            link = [link for link in self._links if not link.leaving][-1]
            self.envelopes.append(envelope)
        try:
            link.connection.send(json.dumps(envelope.message()))
        except ConnectionClosed as exc:  # the app went away between the check and the send
            raise ConnectionError(f"the app's Socket Mode connection closed: {exc}") from None
        with self._changed:
            if not self._changed.wait_for(lambda: envelope.envelope_id in self.acks, timeout):
                raise TimeoutError(f"the app did not acknowledge the {kind} envelope within {timeout}s")
            return self.acks[envelope.envelope_id]

    def request_refresh(self) -> None:
        """Tell every open connection to go (`disconnect`, reason `refresh_requested`), as Slack does every few
        hours: the app should open a new one through apps.connections.open."""
        with self._changed:
            links = [link for link in self._links if not link.leaving]
            for link in links:
                link.leaving = True
        for link in links:
            link.connection.send(json.dumps({"type": "disconnect", "reason": "refresh_requested",
                                             "debug_info": {"host": "slack-double"}}))
