"""Button and select actions: the modal's in-place updates, App Home's buttons, list paging."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from sync_core.models import SyncJob
from sync_core.service import GoogleError, JobInputError, RunRequest

from .. import services
from ..blocks.alerts import LIST_ACTION, LIST_PAGE_ACTION
from ..blocks.common import escape
from ..blocks.delete import delete_view
from ..blocks.jobs import job_list_blocks
from ..blocks.run import change_text
from ..context import BotContext
from ..drafts import Draft
from ..state import apply_details, draft_id, picked_targets
from . import modals

log = logging.getLogger(__name__)

READ_ONLY_ACTIONS = frozenset({"list_page", "home_page", LIST_ACTION, LIST_PAGE_ACTION})


def _draft(ctx: BotContext, body: dict[str, Any]) -> Draft | None:
    return ctx.drafts.get(draft_id(body.get("view") or {}) or "")


def _action_value(body: dict[str, Any]) -> str:
    action = body["actions"][0]
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")


def register(app: App, ctx: BotContext) -> None:
    # --- step 1: details --------------------------------------------------------------------------
    @app.action("kind_select")
    def kind_changed(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        apply_details(draft, body["view"])
        if draft.kind == "directory" and not draft.target_group_name:
            draft.target_group_name = "Directory"
        draft.rev += 1  # other inputs: let the new ones show their initial values
        modals.update(ctx, body, modals.step1(draft))

    @app.action("source_user")
    def source_changed(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        apply_details(draft, body["view"])
        draft.groups, draft.groups_error = None, None
        if draft.source_email:
            try:
                draft.groups = ctx.service.contact_groups(draft.source_email)
            except GoogleError as exc:
                draft.groups_error = exc.reason
        if draft.groups and len(draft.groups) == 1:
            _choose_group(draft, draft.groups[0])
        modals.update(ctx, body, modals.step1(draft))

    @app.action("group_select")
    def group_changed(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        previous = draft.group_name
        apply_details(draft, body["view"])
        chosen, draft.group_name = draft.group_name, previous
        if chosen:
            _choose_group(draft, chosen)
        modals.update(ctx, body, modals.step1(draft))

    # --- step 2: targets --------------------------------------------------------------------------
    @app.action("targets_add")
    def add_selected(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        draft.add_targets(picked_targets(body["view"]))
        draft.rev += 1  # new block ids: the pickers come back empty
        _last_page(draft)
        modals.update(ctx, body, modals.step2(ctx, draft))

    @app.action("targets_add_all")
    def add_all(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        draft.add_targets([f"domain:{d}" for d in ctx.cache.snapshot.domains])
        _last_page(draft)
        modals.update(ctx, body, modals.step2(ctx, draft))

    @app.action("target_remove")
    def remove_target(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        value = _action_value(body)
        draft.targets = [t for t in draft.targets if t != value]
        modals.update(ctx, body, modals.step2(ctx, draft))

    @app.action("targets_page")
    def targets_page(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = _draft(ctx, body)
        if draft is None:
            return
        draft.target_page = int(_action_value(body) or 0)
        modals.update(ctx, body, modals.step2(ctx, draft))

    # --- listings ----------------------------------------------------------------------------------
    @app.action("list_page")
    def list_page(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        rows = ctx.service.list_jobs()
        respond(text=f"{len(rows)} syncs", blocks=job_list_blocks(rows, page=int(_action_value(body) or 0)),
                replace_original=True)

    @app.action("home_page")
    def home_page(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        services.publish_home(ctx, body["user"]["id"], page=int(_action_value(body) or 0))

    # --- App Home buttons --------------------------------------------------------------------------
    @app.action("home_create")
    def home_create(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        draft = modals.new_draft(ctx, body["user"]["id"], None)
        ctx.client.views_open(trigger_id=body["trigger_id"], view=modals.step1(draft))

    @app.action("home_edit")
    def home_edit(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        job = _home_job(ctx, body)
        if job is None:
            return
        modals.open_edit(ctx, job, body["user"]["id"], body["trigger_id"], None)

    @app.action("home_run")
    def home_run(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        job = _home_job(ctx, body)
        if job is None:
            return
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

    @app.action("home_pause")
    def home_pause(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        _home_toggle(ctx, body, enabled=False)

    @app.action("home_resume")
    def home_resume(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        _home_toggle(ctx, body, enabled=True)

    @app.action("home_delete")
    def home_delete(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        job = _home_job(ctx, body)
        if job is None:
            return
        detail = ctx.service.detail(job.name)
        view = delete_view(job_name=job.name, target_accounts=len(detail.states), channel_id=job.alert_channel)
        ctx.client.views_open(trigger_id=body["trigger_id"], view=view)


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
        job = change(name, actor=body["user"]["id"])
    except JobInputError as exc:
        services.publish_home(ctx, body["user"]["id"], notice=f":warning: {exc.message}")
        return
    if job.alert_channel:
        ctx.notifier.post(job.alert_channel, change_text("resume" if enabled else "pause", job.name,
                                                         body["user"]["id"]), [])
    services.job_changed(ctx, job.id)
