"""Button and select actions: the modal's in-place updates, App Home's buttons, list paging."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk.models.views import View

from sync_core.domain.text import clip
from sync_core.service import GoogleError, JobInputError, RunRequest, SyncJob

from .. import services
from ..blocks.alerts import LIST_ACTION, LIST_PAGE_ACTION
from ..blocks.common import escape
from ..blocks.delete import delete_view
from ..blocks.jobs import job_list_blocks
from ..blocks.run import already_text, change_text
from ..context import BotContext, Listeners, bot_context
from ..drafts import Draft
from ..state import apply_details, apply_editors, draft_id, draft_version, picked_targets
from . import modals

log = logging.getLogger(__name__)

READ_ONLY_ACTIONS = frozenset({"list_page", "home_page", LIST_ACTION, LIST_PAGE_ACTION})


STALE_CLICK = ("Another change to this form arrived at the same moment, so your last click was not applied. "
               "This is the form as it is now: check it and try again.")


def _draft(ctx: BotContext, body: dict[str, Any]) -> Draft | None:
    return ctx.drafts.get(draft_id(body.get("view") or {}) or "")


def _action_value(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")


def _page(body: dict[str, Any]) -> int:
    """The page a paging button asks for (its value is the page number the bot wrote; else the first)."""
    value = _action_value(body)
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 0


DraftChange = Callable[[BotContext, Draft, dict[str, Any]], None]


def _details(ctx: BotContext, draft: Draft) -> View:
    return modals.step1(draft)


def _targets(ctx: BotContext, draft: Draft) -> View:
    return modals.step2(ctx, draft)


def _on_draft(change: DraftChange, page: Callable[[BotContext, Draft], View]) -> Callable[..., None]:
    """A listener for an input of the create/edit modal: ack, apply `change` to the admin's draft, show `page`
    again (nothing when the draft is gone: the modal was finished, or it expired). Each click is saved on the
version the view was rendered from: a click on an older view (two clicks crossing, perhaps on two replicas)
is refused and the form shown as it is."""

    def listener(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ctx = bot_context(context)
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        seen = draft_version(body.get("view") or {})
        if seen is not None and seen != draft.version:  # the view is older than the draft: a click crossed
            _show_current(ctx, body, page, draft)          # another (on this replica or another one)
            return
        change(ctx, draft, body)
        if not ctx.drafts.save(draft):  # saved by another request since we read it
            current = _draft(ctx, body)
            if current is not None:
                _show_current(ctx, body, page, current)
            return
        modals.update(ctx, body, page(ctx, draft))

    return listener


def _show_current(ctx: BotContext, body: dict[str, Any], page: Callable[[BotContext, Draft], View],
                  draft: Draft) -> None:
    """Refuse a stale click: show the draft as it is now, saying why (no hash: this view is the stale one)."""
    log.info("a stale update of draft %s was refused (view at version %s, draft at %s)", draft.id,
             clip(draft_version(body.get("view") or {}), 20), draft.version)
    draft.error = STALE_CLICK  # shown, not saved
    ctx.client.views_update(view_id=body["view"]["id"], view=page(ctx, draft))


# --- step 1: details --------------------------------------------------------------------------
def kind_changed(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_details(draft, body["view"])
    if draft.kind == "directory" and not draft.target_group_name:
        draft.target_group_name = "Directory"
    draft.rev += 1  # other inputs: let the new ones show their initial values


def source_changed(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_details(draft, body["view"])
    draft.groups, draft.groups_error = None, None
    if draft.source_email:
        try:
            draft.groups = ctx.service.contact_groups(draft.source_email)
        except GoogleError as exc:
            draft.groups_error = exc.reason
    if draft.groups and len(draft.groups) == 1:
        _choose_group(draft, draft.groups[0])


def group_changed(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    previous = draft.group_name
    apply_details(draft, body["view"])
    chosen, draft.group_name = draft.group_name, previous
    if chosen:
        _choose_group(draft, chosen)


# --- step 2: targets --------------------------------------------------------------------------
def add_selected(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_editors(draft, body["view"])  # kept: the new block ids show them again from the draft
    draft.add_targets(picked_targets(body["view"]))
    draft.rev += 1  # new block ids: the pickers come back empty
    _last_page(draft)


def add_all(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_editors(draft, body["view"])
    draft.add_targets([f"domain:{d}" for d in ctx.cache.snapshot.domains])
    _last_page(draft)


def remove_target(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_editors(draft, body["view"])
    value = _action_value(body)
    draft.targets = [t for t in draft.targets if t != value]


def targets_page(ctx: BotContext, draft: Draft, body: dict[str, Any]) -> None:
    apply_editors(draft, body["view"])
    draft.target_page = _page(body)


# --- listings ----------------------------------------------------------------------------------
def list_page(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    rows = ctx.service.list_jobs()
    respond(text=f"{len(rows)} syncs", blocks=job_list_blocks(rows, page=_page(body)),
            replace_original=True)


def home_page(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    services.publish_home(ctx, body["user"]["id"], page=_page(body))


# --- App Home buttons --------------------------------------------------------------------------
def home_create(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    draft = modals.new_draft(ctx, body["user"]["id"], None)
    ctx.client.views_open(trigger_id=body["trigger_id"], view=modals.step1(draft))


HomeJobAction = Callable[[BotContext, SyncJob, dict[str, Any]], None]


def _on_home_job(act: HomeJobAction) -> Callable[..., None]:
    """A listener for an App Home button on one job: ack, find the job (App Home says so when it is gone,
    deleted since the page was drawn), then `act` on it."""

    def listener(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ctx = bot_context(context)
        ack()
        job = _home_job(ctx, body)
        if job is not None:
            act(ctx, job, body)

    return listener


def home_edit(ctx: BotContext, job: SyncJob, body: dict[str, Any]) -> None:
    modals.open_edit(ctx, job, body["user"]["id"], body["trigger_id"], None)


def home_run(ctx: BotContext, job: SyncJob, body: dict[str, Any]) -> None:
    try:
        request, _posted = services.queue_run(ctx, job, user_id=body["user"]["id"], channel=job.alert_channel)
    except JobInputError as exc:  # e.g. the job is being deleted (an App Home older than that)
        services.publish_home(ctx, body["user"]["id"], notice=f":warning: {escape(exc.message)}")
        return
    if request is not RunRequest.queued:
        services.publish_home(ctx, body["user"]["id"], notice=services.not_started_text(request, job.name))
        return
    where = f"<#{job.alert_channel}>" if job.alert_channel else "this page"
    services.publish_home(ctx, body["user"]["id"], notice=f":arrow_forward: Running *{job.name}*; "
                                                         f"the report will appear in {where}.")


def home_pause(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    _home_toggle(ctx, body, enabled=False)


def home_resume(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    _home_toggle(ctx, body, enabled=True)


def home_delete(ctx: BotContext, job: SyncJob, body: dict[str, Any]) -> None:
    detail = ctx.service.detail(job.name)
    view = delete_view(job=detail.job, target_accounts=len(detail.states), channel_id=job.alert_channel)
    ctx.client.views_open(trigger_id=body["trigger_id"], view=view)


LISTENERS: Listeners = (
    ("action", "kind_select", _on_draft(kind_changed, _details)),
    ("action", "source_user", _on_draft(source_changed, _details)),
    ("action", "group_select", _on_draft(group_changed, _details)),
    ("action", "targets_add", _on_draft(add_selected, _targets)),
    ("action", "targets_add_all", _on_draft(add_all, _targets)),
    ("action", "target_remove", _on_draft(remove_target, _targets)),
    ("action", "targets_page", _on_draft(targets_page, _targets)),
    ("action", "list_page", list_page),
    ("action", "home_page", home_page),
    ("action", "home_create", home_create),
    ("action", "home_edit", _on_home_job(home_edit)),
    ("action", "home_run", _on_home_job(home_run)),
    ("action", "home_pause", home_pause),
    ("action", "home_resume", home_resume),
    ("action", "home_delete", _on_home_job(home_delete)),
)


def _choose_group(draft: Draft, group: str) -> None:
    """Select `group`; pre-fill the target group name unless the admin typed their own."""
    if not draft.target_group_name or draft.target_group_name == draft.group_name:
        draft.target_group_name = group
        draft.rev += 1  # Slack re-applies initial values only to new block ids
    draft.group_name = group


def _last_page(draft: Draft) -> None:
    draft.target_page = 10**6  # clamped to the last page by the builder


def _home_job(ctx: BotContext, body: dict[str, Any]) -> SyncJob | None:
    name = _action_value(body)
    job = modals.find_job_or_none(ctx, name)
    if job is None:
        services.publish_home(ctx, body["user"]["id"], notice=f":warning: There is no sync named “{name}” any more.")
    return job


def _home_toggle(ctx: BotContext, body: dict[str, Any], *, enabled: bool) -> None:
    name = _action_value(body)
    try:
        change = ctx.service.resume if enabled else ctx.service.pause
        done = change(name, actor=body["user"]["id"])
    except JobInputError as exc:
        services.publish_home(ctx, body["user"]["id"], notice=f":warning: {exc.message}")
        return
    job = done.job
    if not done.changed:  # an App Home older than the change (someone else pressed first)
        services.publish_home(ctx, body["user"]["id"], notice=already_text(job.name, enabled=enabled))
        return
    if job.alert_channel:
        ctx.notifier.post(job.alert_channel, change_text("resume" if enabled else "pause", job.name,
                                                         body["user"]["id"]), [])
    services.job_changed(ctx, job.id)
