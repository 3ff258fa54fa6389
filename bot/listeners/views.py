"""Modal submissions: step 1 (details -> push step 2), step 2 (targets -> create or edit), the edit's confirm
step (pushed when saving an edit deletes contacts), delete.

Validation happens before `ack` because its answer *is* the ack (`response_action: errors`); it costs a
few Google reads. Everything after the decision (posting, running) happens after `ack`.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, BoltContext

from sync_core.service import (
    TARGET_KINDS,
    ApprovalNeeded,
    Consent,
    ContactsChoice,
    Details,
    DirectoryJobSpec,
    EditPreview,
    GoogleError,
    JobEdit,
    JobInputError,
    OptOut,
    PersonalJobSpec,
    RemovalNotConfirmed,
    SyncJob,
)

from .. import services
from ..blocks.delete import CHOICE_NEEDED, CONTACTS_BLOCK, DELETE_CALLBACK
from ..blocks.jobs import source_text
from ..blocks.modal import (
    CONFIRM_EDIT_CALLBACK,
    DETAILS_CALLBACK,
    TARGETS_CALLBACK,
    block_id,
    confirm_edit_view,
    field_of,
    message_view,
)
from ..blocks.requests import filed_text
from ..blocks.run import change_text, created_blocks
from ..context import BotContext, Listeners, bot_context
from ..drafts import Draft
from ..notifier import Thread
from ..state import apply_details, apply_editors, draft_id, metadata, picked_targets, values
from . import modals, requests

log = logging.getLogger(__name__)

SAVING = ":hourglass_flowing_sand: Checking the sync with Google… This window updates itself in a moment."
STALE_SUBMIT = "This form changed at the same moment (another click or window). Check it and submit again."
EXPIRED = message_view("ContactSync", ":hourglass: This form has expired. Start again with `/contactsync create`.")
STEP1_FIELDS = ("name", "kind", "source", "group", "target_group_name", "schedule", "domains", "include_ous",
                "exclude_ous", "directory_fields", "add_to_my_contacts", "description", "alert_channel")
FIELD_BLOCKS = {"targets": "pick_users"}  # JobInputError fields named differently from their block
LABELS = {"name": "Sync name", "source": "Source user", "group": "Source contact group",
          "schedule": "Schedule", "target_group_name": "Target group name", "kind": "Type", "domains": "Domains",
          "include_ous": "Only these units", "exclude_ous": "Except these units",
          "directory_fields": "More directory fields", "fields": "Fields copied",
          "keep_target_fields": "Fields the targets keep", "match_existing": "Adopt existing contacts",
          "editors": "Editors"}


def input_fields(view: dict[str, Any]) -> set[str]:
    return {field_of(str(b.get("block_id", ""))) for b in view.get("blocks", []) if b.get("type") == "input"}


def errors_for(view: dict[str, Any], rev: int, errors: dict[str, str], fallback: str) -> dict[str, str]:
    """Attach each error to its field's block; errors about fields not in this view go to `fallback`."""
    present = input_fields(view)
    answer: dict[str, str] = {}
    for field, message in errors.items():
        field = FIELD_BLOCKS.get(field, field)
        if field in present:
            target, text = field, message
        elif field == "group" and "source" in present:
            target, text = "source", message
        else:
            target, text = fallback, f"{LABELS.get(field, field)}: {message}"
        key = block_id(target, rev)
        answer[key] = f"{answer[key]} · {text}" if key in answer else text
    return {k: v[:2000] for k, v in answer.items()}


def error_field(exc: JobInputError) -> str:
    """A target's error goes under its kind's picker (a refused query under the query input); an editor's under
    the Editors input, whatever its kind."""
    if exc.field == "editors":
        return exc.field
    kind = TARGET_KINDS.get(exc.target_kind or "")
    return kind.picker.field if kind is not None else exc.field


def _submitted_draft(ctx: BotContext, view: dict[str, Any], ack: Ack) -> Draft | None:
    """The draft behind a submitted form; None, the form answered "expired", when it is gone (the modal sat
    open too long, or the bot restarted)."""
    draft = ctx.drafts.get(draft_id(view) or "")
    if draft is None:
        ack(response_action="update", view=EXPIRED)
    return draft


def details_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    draft = _submitted_draft(ctx, view, ack)
    if draft is None:
        return
    apply_details(draft, view)
    errors = check_details(ctx, draft)
    if errors:
        ack(response_action="errors", errors=errors_for(view, draft.rev, errors, "name"))
        return
    if not draft.target_group_name and draft.group_name:
        draft.target_group_name = draft.group_name
    if not ctx.drafts.save(draft):
        ack(response_action="errors", errors={block_id("name", draft.rev): STALE_SUBMIT})
        return
    ack(response_action="push", view=modals.step2(ctx, draft))


def targets_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    draft = _submitted_draft(ctx, view, ack)
    if draft is None:
        return
    draft.add_targets(picked_targets(view))
    apply_editors(draft, view)
    if not draft.targets:
        ack(response_action="errors", errors={block_id("pick_users", draft.rev): "Add at least one target."})
        return
    user_id = body["user"]["id"]
    draft.error = None
    draft.removal_shown = None  # targets (re)submitted: whatever the edit deletes is asked about afresh
    if not ctx.drafts.save(draft):  # what was picked is kept in the draft, whatever happens next
        ack(response_action="errors", errors={block_id("pick_users", draft.rev): STALE_SUBMIT})
        return
    if draft.mode == "request":
        _submit_request(ctx, ack, draft, view, user_id)
        return
    saving = ctx.submissions.submit(_save, ctx, draft, user_id, None)
    try:
        job = saving.result(timeout=ctx.submit_budget_seconds)
    except FutureTimeout:
        # Google is slow (or the directory is large): answer now, finish in the background.
        ack(response_action="update", view=message_view("Saving…", SAVING))
        saving.add_done_callback(lambda done: _finish_late(ctx, draft, view["id"], user_id, done))
        return
    except RemovalNotConfirmed as exc:  # nothing saved: what it deletes is shown first, over the targets
        ack(response_action="push", view=_confirm_step(ctx, draft, exc.preview))
        return
    except ApprovalNeeded as exc:  # nothing saved: it waits for a second admin
        _held(ctx, ack, draft, exc)
        return
    except (JobInputError, GoogleError) as exc:
        ack(response_action="errors", errors=_targets_step_errors(view, draft, exc))
        return
    ack(response_action="clear")
    ctx.drafts.drop(draft.id)
    _announce(ctx, draft, job, user_id)


def confirm_edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """*Save* on the edit's confirm step: saved if it deletes no more than the step showed (an account that
    left the targets since is shown again instead)."""
    ctx = bot_context(context)
    draft = _submitted_draft(ctx, view, ack)
    if draft is None:
        return
    if draft.removal_shown is None or draft.version != _view_version(view):  # the form moved on meanwhile
        ack(response_action="update", view=_not_saved(STALE_SUBMIT))
        return
    user_id = body["user"]["id"]
    saving = ctx.submissions.submit(_save, ctx, draft, user_id, Consent.from_json(draft.removal_shown))
    try:
        job = saving.result(timeout=ctx.submit_budget_seconds)
    except FutureTimeout:
        ack(response_action="update", view=message_view("Saving…", SAVING))
        saving.add_done_callback(lambda done: _finish_late(ctx, draft, view["id"], user_id, done))
        return
    except RemovalNotConfirmed as exc:
        ack(response_action="update", view=_confirm_step(ctx, draft, exc.preview))
        return
    except ApprovalNeeded as exc:
        _held(ctx, ack, draft, exc)
        return
    except (JobInputError, GoogleError) as exc:
        ack(response_action="update", view=_not_saved(_refusal(exc)))
        return
    ack(response_action="clear")
    ctx.drafts.drop(draft.id)
    _announce(ctx, draft, job, user_id)


def _targets_step_errors(view: dict[str, Any], draft: Draft, exc: JobInputError | GoogleError) -> dict[str, str]:
    """A refused save of the targets step, as field errors: under the field the service named, or, when Google
    could not check the targets, under the targets."""
    if isinstance(exc, JobInputError):
        return errors_for(view, draft.rev, {error_field(exc): exc.message}, "pick_users")
    return {block_id("pick_users", draft.rev): f"Google could not check the targets: {exc.reason}"[:2000]}


def _held(ctx: BotContext, ack: Ack, draft: Draft, exc: ApprovalNeeded) -> None:
    """The two-person rule holds the admin's change: the form says so, the request goes to the admins."""
    ack(response_action="update", view=message_view("Waiting", filed_text(exc.request)))
    ctx.drafts.drop(draft.id)
    requests.filed(ctx, exc.request)


def _submit_request(ctx: BotContext, ack: Ack, draft: Draft, view: dict[str, Any], user_id: str) -> None:
    """A member's form: checked as a create is, then filed for the admins (nothing is created)."""
    filing = ctx.submissions.submit(requests.file_request, ctx, draft, user_id)
    try:
        request = filing.result(timeout=ctx.submit_budget_seconds)
    except FutureTimeout:
        ack(response_action="update", view=message_view("Sending…", SAVING))
        filing.add_done_callback(lambda done: _request_late(ctx, draft, view["id"], done))
        return
    except (JobInputError, GoogleError) as exc:
        ack(response_action="errors", errors=_targets_step_errors(view, draft, exc))
        return
    ack(response_action="update", view=message_view("Request sent", filed_text(request)))
    ctx.drafts.drop(draft.id)
    requests.filed(ctx, request)


def _request_late(ctx: BotContext, draft: Draft, view_id: str, done: Future[Any]) -> None:
    exc = done.exception()
    if exc is None:
        ctx.drafts.drop(draft.id)
        ctx.client.views_update(view_id=view_id, view=message_view("Request sent", requests.filed(ctx, done.result())))
        return
    text = _refusal(exc) if isinstance(exc, (JobInputError, GoogleError)) else "Sending the request failed."
    ctx.client.views_update(view_id=view_id, view=message_view("Not sent", f":x: {text}"))


def _confirm_step(ctx: BotContext, draft: Draft, preview: EditPreview) -> dict[str, Any]:
    """The confirm step for `preview`; the draft remembers what it shows (Save confirms that much)."""
    draft.removal_shown = preview.consent().to_json()
    ctx.drafts.save(draft)  # refused only if the form moved on meanwhile: its Save then says so
    return confirm_edit_view(draft, preview).to_dict()


def _not_saved(text: str) -> dict[str, Any]:
    """The confirm step's answer when the edit cannot be saved: why; *Back* returns to the targets."""
    view = message_view("Not saved", f":x: {text}").to_dict()
    view["close"]["text"] = "Back"
    return view


def _view_version(view: dict[str, Any]) -> int | None:
    version = metadata(view).get("v")
    return version if isinstance(version, int) else None


def delete_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    ctx = bot_context(context)
    meta = metadata(view)
    name = str(meta.get("job") or "")
    if modals.find_job_or_none(ctx, name) is None:
        gone = message_view("Delete sync", f"There is no sync named “{name}” any more.")
        ack(response_action="update", view=gone)
        return
    contacts = None
    if any(b.get("block_id") == CONTACTS_BLOCK for b in view.get("blocks") or []):  # the sync wrote contacts
        picked = values(view).get(CONTACTS_BLOCK)
        if picked not in {c.value for c in ContactsChoice}:
            ack(response_action="errors", errors={CONTACTS_BLOCK: CHOICE_NEEDED})
            return
        contacts = ContactsChoice(str(picked))
    ack(response_action="clear")
    services.queue_delete(ctx, name, user_id=body["user"]["id"], contacts=contacts,
                          channel=meta.get("channel") if isinstance(meta.get("channel"), str) else None)


LISTENERS: Listeners = (
    ("view", DETAILS_CALLBACK, details_submitted),
    ("view", TARGETS_CALLBACK, targets_submitted),
    ("view", CONFIRM_EDIT_CALLBACK, confirm_edit_submitted),
    ("view", DELETE_CALLBACK, delete_submitted),
)


def check_details(ctx: BotContext, draft: Draft) -> dict[str, str]:
    """The service's checks of step 1; the draft keeps the normalised schedule and the source's groups."""
    check = ctx.service.check_details(Details(
        name=draft.name, schedule=draft.schedule, kind=draft.kind,
        renaming_from=draft.original_name if draft.mode == "edit" else None,
        source_email=draft.source_email, group_name=draft.group_name, groups=draft.groups,
        target_group_name=draft.target_group_name, domains=tuple(draft.domains),
        include_ous=tuple(draft.include_ous), exclude_ous=tuple(draft.exclude_ous),
        directory_fields=draft.directory_fields if draft.kind == "directory" else "",
        **_rules(draft),
    ))
    if check.schedule is not None:
        draft.schedule = check.schedule
    if check.groups is not None:
        draft.groups = check.groups
    return check.errors


def _finish_late(ctx: BotContext, draft: Draft, view_id: str, user_id: str, done: Future[SyncJob]) -> None:
    """The save that outlived the submission's answer: show its outcome in the same window."""
    exc = done.exception()
    if exc is None:
        job = done.result()
        ctx.drafts.drop(draft.id)
        verb = "created" if draft.mode == "create" else "saved"
        ctx.client.views_update(view_id=view_id, view=message_view("Done", f":white_check_mark: *{job.name}* {verb}."))
        _announce(ctx, draft, job, user_id)
        return
    if isinstance(exc, RemovalNotConfirmed):  # nothing saved: the same window asks first
        ctx.client.views_update(view_id=view_id, view=_confirm_step(ctx, draft, exc.preview))
        return
    if isinstance(exc, ApprovalNeeded):  # nothing saved: it waits for a second admin
        ctx.drafts.drop(draft.id)
        ctx.client.views_update(view_id=view_id, view=message_view("Waiting", requests.filed(ctx, exc.request)))
        return
    if isinstance(exc, (JobInputError, GoogleError)):
        draft.error = _refusal(exc)
    else:
        log.error("saving a sync failed", exc_info=exc)
        draft.error = f"Saving failed unexpectedly ({type(exc).__name__}); see the bot's log."
    draft.rev += 1
    ctx.drafts.save(draft)  # refused only if the admin changed the form meanwhile; the window shows it anyway
    ctx.client.views_update(view_id=view_id, view=modals.step2(ctx, draft))


def _refusal(exc: JobInputError | GoogleError) -> str:
    if isinstance(exc, JobInputError):
        return f"{LABELS.get(exc.field, 'Targets' if exc.field == 'targets' else exc.field)}: {exc.message}"
    return f"Google could not check the sync: {exc.reason}"


def _rules(draft: Draft) -> dict[str, Any]:
    return draft.field_rules()


def _opt_out(draft: Draft) -> OptOut:
    return draft.opt_out()


def _save(ctx: BotContext, draft: Draft, user_id: str, consent: Consent | None) -> SyncJob:
    """Create or save the draft's sync. An edit that deletes contacts is saved only within `consent` (what the
    confirm step showed); else `RemovalNotConfirmed` with what it deletes, and nothing is saved."""
    service = ctx.service
    if draft.mode == "create" and draft.kind == "directory":
        return service.create_directory(DirectoryJobSpec(
            name=draft.name, domains=list(draft.domains), targets=list(draft.targets),
            include_ous=list(draft.include_ous), exclude_ous=list(draft.exclude_ous),
            target_group_name=draft.target_group_name, description=draft.description, schedule=draft.schedule,
            alert_channel=draft.alert_channel, created_by=user_id, add_to_my_contacts=draft.add_to_my_contacts,
            include_self=draft.include_self, include_aliases=draft.include_aliases,
            opt_out=_opt_out(draft), joinable=draft.joinable,
            directory_fields=[draft.directory_fields], include_shared_contacts=draft.include_shared_contacts,
            **_rules(draft),
        ))
    if draft.mode == "create":
        return service.create_personal(PersonalJobSpec(
            name=draft.name, source_email=draft.source_email or "", group_name=draft.group_name or "",
            targets=list(draft.targets), target_group_name=draft.target_group_name or None,
            add_to_my_contacts=draft.add_to_my_contacts, description=draft.description, schedule=draft.schedule,
            alert_channel=draft.alert_channel, created_by=user_id, opt_out=_opt_out(draft), joinable=draft.joinable,
            editors=list(draft.editors), editors_can_delete=draft.editors_can_delete, **_rules(draft),
        ))
    edit = JobEdit(
        name=draft.name, target_group_name=draft.target_group_name or draft.group_name,
        add_to_my_contacts=draft.add_to_my_contacts, description=draft.description, schedule=draft.schedule,
        alert_channel=draft.alert_channel, targets=list(draft.targets), opt_out=_opt_out(draft),
        joinable=draft.joinable, **_rules(draft),
    )
    if draft.kind == "directory":
        edit.domains, edit.include_ous, edit.exclude_ous = draft.domains, draft.include_ous, draft.exclude_ous
        edit.include_self, edit.include_aliases = draft.include_self, draft.include_aliases
        edit.directory_fields = [draft.directory_fields]
        edit.include_shared_contacts = draft.include_shared_contacts
    else:
        edit.source_email, edit.group_name = draft.source_email, draft.group_name
        edit.editors_can_delete = draft.editors_can_delete
        if draft.editors != draft.editors_saved:  # re-saving the same list would re-check (and re-resolve) it
            edit.editors = list(draft.editors)  # []: none any more
    return service.edit(draft.original_name or draft.name, edit, actor=user_id,
                        confirm=lambda preview: preview.within(consent))


def _announce(ctx: BotContext, draft: Draft, job: SyncJob, user_id: str) -> None:
    channel = job.alert_channel or draft.channel_id
    services.job_changed(ctx, job.id)  # scheduled (or rescheduled) at once
    if draft.mode == "create":
        ts = None
        if channel:
            blocks = created_blocks(job_name=job.name, user_id=user_id,
                                    source=source_text(job),
                                    target_group=job.target_group_name, targets=draft.targets, schedule=job.schedule)
            ts = ctx.notifier.post(channel, change_text("create", job.name, user_id), blocks)
        # the first run's report goes in this message's thread
        services.start_run(ctx, job, services.ThreadSlot(Thread(channel, ts) if channel and ts else None, ready=True))
        return
    if channel:
        ctx.notifier.post(channel, change_text("edit", job.name, user_id), [])
    if ctx.service.has_open_alerts(job):  # e.g. another source group was picked: check the fix now
        services.start_run(ctx, job)

