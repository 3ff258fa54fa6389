"""The admin-only gate, as one global middleware: every request that could change something is checked
here before any listener runs; a refused request is answered (ephemerally, or in the modal / App Home)
and goes no further, so nothing changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sync_core.domain.text import clip

from . import services
from .blocks.modal import message_view
from .context import BotContext
from .listeners.actions import READ_ONLY_ACTIONS
from .listeners.commands import needs_admin
from .listeners.members import MEMBER_ACTIONS
from .listeners.requests import own_request_form

log = logging.getLogger(__name__)


def _needs_admin(body: dict[str, Any]) -> bool:
    if "command" in body:
        return needs_admin(str(body.get("text", "")))
    kind = body.get("type")
    if kind == "block_actions":
        # A member's own buttons are open to everyone: each press is checked by its listener (who, and on what).
        open_to_all = READ_ONLY_ACTIONS | MEMBER_ACTIONS
        return any(a.get("action_id") not in open_to_all for a in body.get("actions", []))
    return kind in ("view_submission", "block_suggestion", "view_closed", "interactive_message")


def admin_guard(ctx: BotContext) -> Callable[..., BoltResponse | None]:
    def guard(body: dict[str, Any], ack: Ack, respond: Respond, client: WebClient,
              next: Callable[[], None]) -> BoltResponse | None:
        if not _needs_admin(body):
            next()
            return None
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        # A member's own request form: open to them (its listeners check again who files it, and as whom).
        if ctx.admins.is_admin(user) or own_request_form(ctx, body, user):
            next()
            return None
        log.info("refused %s from non-admin %s", clip(body.get("type") or body.get("command"), 40), clip(user, 40))
        return _refuse(ctx, body, ack, respond, str(user))

    return guard


def _refuse(ctx: BotContext, body: dict[str, Any], ack: Ack, respond: Respond, user: str) -> BoltResponse:
    text = ctx.admins.refusal()
    kind = body.get("type")
    if kind == "view_submission":
        return ack(response_action="update", view=message_view("ContactSync", text))
    if kind == "block_suggestion":
        return ack(options=[])
    response = ack()
    if "command" in body or body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif (body.get("view") or {}).get("type") == "home":
        services.publish_home(ctx, user, notice=text)
    elif (body.get("view") or {}).get("type") == "modal":
        view_id = body["view"].get("id")
        if not isinstance(view_id, str) or not view_id:  # Slack always names the view; a forged one may not
            log.info("could not show the refusal in the modal: the request names no view")
            return response
        try:
            ctx.client.views_update(view_id=view_id, view=message_view("ContactSync", text))
        except SlackApiError as exc:  # a view Slack does not know (the request named another): nothing to show
            log.info("could not show the refusal in the modal: %s", clip(exc.response.get("error"), 40))
    return response
