"""Alert buttons: the one-click fixes, and the "show all" list of a long alert message.

Every fix button acks first; the admin guard (middleware) has already refused non-admins, who are told so
and change nothing. Then: the job must still exist and the alert still be open (pressed twice, or fixed by
someone else, or cleared by a run: "already done by @x"); the fix is applied (`sync_core.service.fixes`, each
idempotent and audited); the alert is closed atomically (of two presses at once exactly one wins); its
message is re-rendered to show who did what; the schedule follows the change and the next run is queued.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from sync_core.service import ACTIVE_ALERT_STATES, BUTTONS, AlertState, Fix, FixRefused, Form, RunRequest, SyncJob

from .. import services
from ..blocks.alerts import (
    ACTION_PREFIX,
    LIST_ACTION,
    LIST_PAGE_ACTION,
    alert_list_view,
    already_text,
    parse_button_value,
)
from ..blocks.common import escape
from ..blocks.delete import delete_view
from ..context import BotContext, Listeners, bot_context
from ..notifier import Thread
from . import modals

log = logging.getLogger(__name__)

FIX_ACTIONS = re.compile("^" + ACTION_PREFIX + "(" + "|".join(f.value for f in Fix) + ")$")


def say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def fix_pressed(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    if not body.get("response_url"):  # an alert's buttons are in a message, which Slack always sends one with
        log.info("ignored an alert button pressed outside a message")
        return
    press(ctx, body, respond)


def show_all(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    channel, _, ts = str(body["actions"][0].get("value") or "").partition("|")
    view = _list_view(ctx, channel, ts, 0)
    if view is not None:
        ctx.client.views_open(trigger_id=body["trigger_id"], view=view)


def list_page(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    channel, ts, page = (str(body["actions"][0].get("value") or "").split("|") + ["", "", "0"])[:3]
    view = _list_view(ctx, channel, ts, int(page) if page.isdigit() else 0)
    if view is not None:
        ctx.client.views_update(view_id=body["view"]["id"], hash=body["view"].get("hash"), view=view)


LISTENERS: Listeners = (
    ("action", FIX_ACTIONS, fix_pressed),
    ("action", LIST_ACTION, show_all),
    ("action", LIST_PAGE_ACTION, list_page),
)


def _list_view(ctx: BotContext, channel: str, ts: str, page: int) -> Any:
    job, alerts = ctx.service.alerts.of_message((channel, ts))
    if job is None:
        return None
    return alert_list_view(job.name, alerts, channel=channel, ts=ts, page=page)


def _open_edit(ctx: BotContext, job: SyncJob, user: str, trigger_id: str) -> None:
    modals.open_edit(ctx, job, user, trigger_id, job.alert_channel)


def _open_delete(ctx: BotContext, job: SyncJob, user: str, trigger_id: str) -> None:
    detail = ctx.service.detail(job.name)
    view = delete_view(job=detail.job, target_accounts=len(detail.states), channel_id=job.alert_channel)
    ctx.client.views_open(trigger_id=trigger_id, view=view)


# The form each `Form` fix opens; `tests/unit/test_alert_kinds.py` checks every form has one.
FORMS: Mapping[Form, Callable[[BotContext, SyncJob, str, str], None]] = {
    Form.edit: _open_edit,
    Form.delete: _open_delete,
}


def press(ctx: BotContext, body: dict[str, Any], respond: Respond) -> None:
    action = body["actions"][0]
    fix = Fix(str(action["action_id"]).removeprefix(ACTION_PREFIX))
    user = str(body["user"]["id"])
    parsed = parse_button_value(str(action.get("value") or ""))
    if parsed is None:
        say(respond, ":warning: That button is not one of mine; nothing was changed.")
        return
    job_id, alert_id = parsed
    found = ctx.service.alert_of(job_id, alert_id)
    if found is None:
        say(respond, ":warning: This sync no longer exists (it was deleted); nothing was changed.")
        return
    job, alert = found
    if alert.state not in ACTIVE_ALERT_STATES or (fix is Fix.keep and alert.state is AlertState.kept):
        say(respond, already_text(alert))
        return
    form = BUTTONS[fix].form
    if form is not None:
        FORMS[form](ctx, job, user, str(body["trigger_id"]))
        return
    try:
        outcome, state = ctx.service.apply_fix(fix, job=job, alert=alert, actor=user)
    except FixRefused as exc:
        say(respond, f":warning: {escape(exc.message)}")
        return
    services.job_changed(ctx, job_id)  # the schedule follows the change before anyone reads the message
    if not ctx.notifier.alerts.close(alert_id, state=state, outcome=outcome, actor=user):
        latest = ctx.service.alerts.get(alert_id)
        say(respond, already_text(latest) if latest is not None else ":warning: This sync no longer exists.")
        return
    if fix is not Fix.pause:  # the check: its report goes in the alert message's thread
        thread = Thread(alert.channel, alert.message_ts) if alert.channel and alert.message_ts else None
        request = services.start_run(ctx, job, services.ThreadSlot(thread, ready=True))
        if request is not RunRequest.queued:
            say(respond, services.not_started_text(request, job.name) + " Your change applies from the next run.")
