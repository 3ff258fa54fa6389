"""The app's error handler: a listener or middleware that raised is logged in one line (the exception's
class and a short description, never the request), the request is answered (a modal gets a message view,
an options request no options) and the user is told. The traceback goes to DEBUG only: it names code and
the exception, never the request headers or a token, but one line per failure keeps the log readable."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError

from sync_core.domain.text import clip
from sync_core.service import GoogleError

from .blocks.modal import message_view

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    if isinstance(error, GoogleError):
        return f"Google answered: {error.reason}"
    if isinstance(error, SlackApiError):
        return f"Slack refused the request ({error.response.get('error')})"
    return f"an internal error ({type(error).__name__})"


def generic_answer(body: dict[str, Any], text: str) -> dict[str, Any]:
    """What the failed request is answered with: a message in the modal, no options, or a plain ack."""
    kind = body.get("type")
    if kind == "view_submission":
        return {"response_action": "update", "view": message_view("ContactSync", text).to_dict()}
    if kind == "block_suggestion":
        return {"options": []}
    return {}


class KeptAck(Ack):
    """An `ack` whose first answer stays. When a listener raises after acking, Bolt's thread runner
    (slack_bolt 1.x, `run_ack_function_asynchronously`) sets `ack.response = None`; a request whose ack it had
    not yet seen then waits out the ack timeout (3 s) and falls through to "unhandled request" (a 404)."""

    _kept: BoltResponse | None = None

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return self._kept

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self._kept is None:
            self._kept = value


def keep_acks(context: BoltContext, next: Callable[[], None]) -> None:
    context["ack"] = KeptAck()
    next()


def register_error_handler(app: App) -> None:
    app.use(keep_acks)

    @app.error
    def on_error(error: Exception, body: Any, ack: Ack, respond: Any,
                 response: BoltResponse | None) -> BoltResponse | None:
        body = body if isinstance(body, dict) else {}
        what = clip(body.get("type") or body.get("command") or "request", 40)
        log.error("listener failed on %s: %s", what, describe(error))
        log.debug("traceback of the failure on %s", what, exc_info=error)
        text = f":x: Sorry, that failed: {describe(error)}. Details are in the bot's log."
        answer = generic_answer(body, text)
        if response is not None:
            # Bolt would answer 500. The response is rewritten before `ack`, which releases the waiting request.
            response.status, response.body = 200, json.dumps(answer) if answer else ""
            response.headers = {"content-type": ["application/json;charset=utf-8"]} if answer else {}
        if ack.response is None:
            ack(**answer)
        if body.get("response_url") or body.get("command"):
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception as exc:  # noqa: BLE001 - telling the user is best effort; the failure is logged
                log.warning("could not tell the user about the failure: %s", type(exc).__name__)
        return None
