"""Requests in Slack: `/contactsync request` (a member's create modal, their own account as the source), the
admins' Approve and Deny buttons, and the Deny modal's reason.

Who may do what is checked on the server for every request, whatever its payload says:
- the request form is open to every member, but only on their own draft (`own_request_form`, asked by the
  admin guard): its draft was opened for the user Slack signed the request for, and only the form's group and
  target inputs are theirs to use; the source is the member's own Google account, from their Slack profile
  (`bot.members`), set again when the request is filed;
- Approve and Deny are admin-only (the guard); the service refuses an admin's own request, an unknown id, and a
  request already decided or expired (a replayed button changes nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from sync_core.domain.text import clip
from sync_core.service import (
    ApprovalNeeded,
    JobInputError,
    NotAMember,
    PersonalJobSpec,
    RequestView,
    SyncJob,
)

from .. import services
from ..blocks.modal import DETAILS_CALLBACK, TARGETS_CALLBACK, message_view
from ..blocks.requests import APPROVE_ACTION, DENY_ACTION, DENY_CALLBACK, REASON_BLOCK, deny_view, filed_text
from ..context import BotContext, Listeners, bot_context
from ..drafts import Draft
from ..requests import RequestPoster
from ..state import draft_id, metadata, values
from . import modals

log = logging.getLogger(__name__)

# What a member may use in their own request form: the source group, and the target pickers (never the source
# user search, nor the Directory Sync inputs).
FORM_ACTIONS = frozenset({"group_select", "targets_add", "targets_add_all", "target_remove", "targets_page"})
FORM_CALLBACKS = frozenset({DETAILS_CALLBACK, TARGETS_CALLBACK})
CLOSED_SEARCHES = frozenset({"source_user", "domains_select", "include_ous_select", "exclude_ous_select"})


def poster(ctx: BotContext) -> RequestPoster:
    return RequestPoster(ctx.client, ctx.service, ctx.admin_channel)


def own_request_form(ctx: BotContext, body: dict[str, Any], user: str | None) -> bool:
    """Whether this interaction is `user`'s own use of their own request form (the admin guard lets it in)."""
    view = body.get("view")
    if not user or not isinstance(view, dict) or view.get("type") != "modal" \
            or view.get("callback_id") not in FORM_CALLBACKS:
        return False
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not all(
                isinstance(a, dict) and a.get("action_id") in FORM_ACTIONS for a in actions):
            return False
    elif kind == "block_suggestion":
        if body.get("action_id") in CLOSED_SEARCHES:
            return False
    elif kind != "view_submission":
        return False
    draft = ctx.drafts.get(draft_id(view) or "")
    return draft is not None and draft.mode == "request" and draft.user_id == user


# --- /contactsync request ------------------------------------------------------------------------------
def open_request(ctx: BotContext, command: dict[str, Any], _name: str, respond: Respond) -> None:
    """The create modal for a member: their own account as the source, their own labels in the picker."""
    user = str(command.get("user_id") or "")
    try:
        member = ctx.member_lookup().member(user)
    except NotAMember as exc:
        respond(text=exc.message, response_type="ephemeral", replace_original=False)
        return
    draft = ctx.drafts.new(user, mode="request", kind="personal", channel_id=command.get("channel_id"),
                           source_email=member.email, source_label=member.email)
    opened = ctx.client.views_open(trigger_id=command["trigger_id"], view=modals.step1(draft))
    modals.load_edit_groups(ctx, draft)  # the member's own labels (after opening: the trigger lasts 3 s)
    if ctx.drafts.save(draft):
        view = opened["view"]
        ctx.client.views_update(view_id=view["id"], hash=view.get("hash"), view=modals.step1(draft))


def file_request(ctx: BotContext, draft: Draft, user_id: str) -> RequestView:
    """File the member's request from their form. Who they are is asked again of Slack, and their own account
    is the source, whatever the draft holds; only the draft's owner may file it."""
    if draft.mode != "request" or draft.user_id != user_id:
        raise JobInputError("request", "This form is not yours. Nothing was changed.")
    try:
        member = ctx.member_lookup().member(user_id)
    except NotAMember as exc:
        raise JobInputError("request", exc.message) from None
    spec = PersonalJobSpec(
        name=draft.name, source_email=member.email, group_name=draft.group_name or "", targets=list(draft.targets),
        target_group_name=draft.target_group_name or None, add_to_my_contacts=draft.add_to_my_contacts,
        description=draft.description, schedule=draft.schedule, alert_channel=draft.alert_channel,
        created_by=user_id, opt_out=draft.opt_out(), joinable=draft.joinable, **draft.field_rules(),
    )  # editors are an admin's choice: the form has no input for them, and the service drops any
    return ctx.service.request_personal(spec, member)


def filed(ctx: BotContext, request: RequestView) -> str:
    """Post a new request for the admins; what to tell whoever asked."""
    text = filed_text(request)
    if not poster(ctx).post(request):
        text += " (I could not post it for the admins: ask one to run `contactsync requests list`.)"
    return text


def held(ctx: BotContext, exc: ApprovalNeeded) -> str:
    """An admin's change the two-person rule holds: posted for a second admin; what to tell the first."""
    return filed(ctx, exc.request)


# --- Approve, Deny -------------------------------------------------------------------------------------
def _refuse(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    admin = str((body.get("user") or {}).get("id") or "")
    request_id = str(action.get("value") or "")[:64]
    ctx.pool.submit(_approve, ctx, admin, request_id, respond)


def _approve(ctx: BotContext, admin: str, request_id: str, respond: Respond) -> None:
    try:
        decided, job = ctx.service.approve_request(request_id, actor=admin)
    except JobInputError as exc:
        _refuse(respond, f":no_entry: {exc.message}")
        return
    except Exception as exc:  # the change failed at Google, say: the request is pending again
        log.warning("approving request %s failed: %s", clip(request_id, 64), type(exc).__name__)
        _refuse(respond, f":x: Request {request_id} could not be carried out ({getattr(exc, 'reason', '')}); "
                         "it is still pending.")
        return
    _after(ctx, decided, job)


def _after(ctx: BotContext, decided: RequestView, job: SyncJob) -> None:
    """An approved change is carried out: the schedule follows, a new sync runs at once, everyone is told."""
    if decided.change != "delete":
        services.job_changed(ctx, job.id)
        if decided.change.startswith("create"):
            services.start_run(ctx, job)
    else:
        services.job_changed(ctx, None)
    poster(ctx).decided(decided)


def deny(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Deny asks for the reason first (a modal); nothing is decided until it is submitted."""
    ctx = bot_context(context)
    ack()
    request = ctx.service.request(str(action.get("value") or "")[:64])
    if request is None or request.state.value != "pending":
        _refuse(respond, ":no_entry: That request is no longer waiting (or never was). Nothing was changed.")
        return
    message = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or message.get("channel_id")
    ctx.client.views_open(trigger_id=body["trigger_id"],
                          view=deny_view(request, channel=channel, ts=message.get("message_ts")))


def deny_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    admin = str((body.get("user") or {}).get("id") or "")
    request_id = str(metadata(view).get("request") or "")[:64]
    reason = str(values(view).get(REASON_BLOCK) or "")
    try:
        decided = ctx.service.deny_request(request_id, actor=admin, reason=reason)
    except JobInputError as exc:
        if exc.field == "reason":
            ack(response_action="errors", errors={REASON_BLOCK: exc.message})
        else:
            ack(response_action="update", view=message_view("Deny request", f":no_entry: {exc.message}"))
        return
    ack(response_action="clear")
    poster(ctx).decided(decided)


LISTENERS: Listeners = (
    ("action", APPROVE_ACTION, approve),
    ("action", DENY_ACTION, deny),
    ("view", DENY_CALLBACK, deny_submitted),
)
