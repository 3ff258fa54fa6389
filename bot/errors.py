"""The app's error handler: a listener that raised is logged (without secrets) and the user is told."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk.errors import SlackApiError

from sync_core.service import GoogleError

log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    if isinstance(error, GoogleError):
        return f"Google answered: {error.reason}"
    if isinstance(error, SlackApiError):
        return f"Slack refused the request ({error.response.get('error')})"
    return f"an internal error ({type(error).__name__})"


def register_error_handler(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        # The traceback names the failing call, never the request headers or the client's token.
        log.error("listener failed on %s: %s", body.get("type") or body.get("command"), describe(error),
                  exc_info=error)
        text = f":x: Sorry, that failed: {describe(error)}. Details are in the bot's log."
        if body.get("response_url") or body.get("command"):
            respond(text=text, response_type="ephemeral", replace_original=False)
        return None
