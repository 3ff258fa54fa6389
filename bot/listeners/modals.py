"""Opening and re-rendering the create/edit modal (shared by commands, actions and views)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from sync_core.domain.fields import DEFAULT_FIELDS
from sync_core.service import OptOut, SyncJob

from ..blocks.modal import details_view, targets_page, targets_view
from ..context import BotContext
from ..drafts import Draft


def new_draft(ctx: BotContext, user_id: str, channel_id: str | None) -> Draft:
    return ctx.drafts.new(user_id, channel_id=channel_id, alert_channel=channel_id)


def edit_draft(ctx: BotContext, job: SyncJob, user_id: str, channel_id: str | None) -> Draft:
    assert job.id is not None
    user = ctx.cache.user(job.source_email or "")
    editors = ctx.service.editors(job.name) if job.kind.value == "personal" else None
    return ctx.drafts.new(
        user_id,
        mode="edit",
        original_name=job.name,
        channel_id=channel_id,
        kind=job.kind.value,
        name=job.name,
        source_email=job.source_email,
        source_label=f"{user.name} <{user.email}>" if user else job.source_email,
        group_name=job.source_group_name,
        target_group_name=job.target_group_name,
        add_to_my_contacts=job.add_to_my_contacts,
        allow_opt_out=job.opt_out is OptOut.allowed,
        joinable=job.joinable,
        copy_fields=list(job.copy_fields or DEFAULT_FIELDS),
        keep_fields=list(job.keep_target_fields or []),
        match_existing=job.match_existing == "email",
        description=job.description,
        alert_channel=job.alert_channel,
        schedule=job.schedule,
        domains=list(job.directory_domains),
        include_ous=list(job.include_ous),
        exclude_ous=list(job.exclude_ous),
        include_self=job.include_self,
        include_aliases=job.include_aliases,
        directory_fields=", ".join(job.directory_fields),
        include_shared_contacts=job.include_shared_contacts,
        targets=ctx.service.target_texts(job.id),
        editors=list(editors.selectors) if editors else [],
        editors_saved=list(editors.selectors) if editors else [],
        editors_can_delete=job.editors_can_delete,
    )


def load_edit_groups(ctx: BotContext, draft: Draft) -> None:
    """For an edit, the source's groups (so the group select shows); the current group at least."""
    if draft.source_email and draft.groups is None:
        draft.groups = ctx.service.contact_groups(draft.source_email)
        if draft.group_name and draft.group_name not in draft.groups:
            draft.groups.insert(0, draft.group_name)


def step2(ctx: BotContext, draft: Draft) -> View:
    source = draft.source_email if draft.kind == "personal" else None
    rows = ctx.service.target_rows(targets_page(draft.targets, draft.target_page), source_email=source)
    total = ctx.service.count_targets(draft.targets, source_email=source) if draft.targets else 0
    return targets_view(draft, rows, total_users=total)


def step1(draft: Draft) -> View:
    return details_view(draft)


def find_job_or_none(ctx: BotContext, name: str) -> SyncJob | None:
    return ctx.service.find_or_none(name)


def update(ctx: BotContext, body: dict[str, Any], view: View) -> None:
    """Replace the modal the action came from (the hash makes a stale update fail, not overwrite)."""
    current = body["view"]
    ctx.client.views_update(view_id=current["id"], hash=current.get("hash"), view=view)


def open_edit(ctx: BotContext, job: SyncJob, user_id: str, trigger_id: str, channel_id: str | None) -> None:
    """Open the edit modal for `job` (the trigger expires in 3 s: open first, then load the source's groups)."""
    draft = edit_draft(ctx, job, user_id, channel_id)
    opened = ctx.client.views_open(trigger_id=trigger_id, view=step1(draft))
    load_edit_groups(ctx, draft)
    if not ctx.drafts.save(draft):  # a click in the new modal got there first: it shows what it saved
        return
    view = opened["view"]
    ctx.client.views_update(view_id=view["id"], hash=view.get("hash"), view=step1(draft))
