"""Socket Mode's front door: every envelope is screened, as `bot.http_guard` screens an HTTP request, before
Bolt reads it.

In Socket Mode, Slack sends each request as an envelope (`{"envelope_id", "type", "payload"}`) on the websocket
the bot opened with its app-level token, and the bot acknowledges it by its id. Requests enter in slack_sdk's
`SocketModeClient.run_message_listeners`, which builds a `SocketModeRequest` (raising, with a traceback at
ERROR, on a payload that is not an object) and hands it to Bolt's handler. Here that method first checks the
envelope and its payload (`bot.envelope`, the HTTP door's rules): a refused one is acknowledged without an
answer (so Slack does not send it again) and logged as one INFO line naming the reason, never the payload.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.request import BoltRequest
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from sync_core.domain.text import clip

from .envelope import bolt_problem

log = logging.getLogger(__name__)

# The envelopes that carry a request for the app (the others, `hello` and `disconnect`, are the connection's).
REQUEST_TYPES = ("slash_commands", "interactive", "events_api")


def envelope_problem(message: dict[str, Any]) -> str | None:
    """Why a request envelope is not one Slack would send (its payload included), or None; other messages
    (`hello`, `disconnect`, types Slack may add) are None: they are the client's to handle."""
    if message.get("type") not in REQUEST_TYPES:
        return None
    envelope_id = message.get("envelope_id")
    if not isinstance(envelope_id, str) or not envelope_id:
        return "envelope without an envelope_id"
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "not a Slack payload (not an object)"
    request = bolt_problem(lambda: BoltRequest(mode="socket_mode", body=payload))
    return request if isinstance(request, str) else None


class GuardedSocketModeClient(SocketModeClient):
    """slack_sdk's own client, whose envelopes are screened before its listeners run."""

    def run_message_listeners(self, message: dict[str, Any], raw_message: str) -> None:
        problem = envelope_problem(message) if isinstance(message, dict) else "not an object"
        if problem is None:
            super().run_message_listeners(message, raw_message)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        log.info("rejected a Socket Mode %s envelope: %s",
                 clip(message.get("type") if isinstance(message, dict) else None, 20), problem)
        if isinstance(envelope_id, str) and envelope_id:
            self.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))


class GuardedSocketModeHandler(BaseSocketModeHandler):
    """Bolt's built-in Socket Mode handler (`slack_bolt.adapter.socket_mode.SocketModeHandler`) over the
    guarded client; a dispatch that raises (Bolt answers listener errors itself: a last resort) is one
    ERROR line, its traceback at DEBUG."""

    def __init__(self, app: App, app_token: str) -> None:
        self.app = app
        self.client = GuardedSocketModeClient(app_token=app_token, logger=app.logger, web_client=app.client,
                                              proxy=app.client.proxy)
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.time()
        try:
            response = self.app.dispatch(BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req)))
        except Exception as exc:  # noqa: BLE001 - see the class's docstring
            log.error("dispatching a Socket Mode request failed: %s", type(exc).__name__)
            log.debug("traceback of the failed dispatch", exc_info=exc)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        send_response(client, req, response, started)
