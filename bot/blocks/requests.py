"""Requests in Slack: the admins' message (summary, Approve and Deny), the Deny modal asking for the reason, and
the words the requester is sent. Pure: a `RequestView` in, blocks out.

The buttons carry only the request's random id: who presses, and whether the request may still be decided by
them, is checked by the service on every press (`sync_core.service.requests`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from sync_core.domain.fields import BY_NAME, DEFAULT_FIELDS
from sync_core.service import RequestState, RequestView

from .common import MAX_PRIVATE_METADATA, clip, context, escape, mrkdwn, plain, when

APPROVE_ACTION = "request_approve"
DENY_ACTION = "request_deny"
DENY_CALLBACK = "cs_request_deny"
REASON_BLOCK = "deny_reason"
REASON_ACTION = "reason"
CHANGE_WORDS = {"create_personal": "create a Personal Sync", "create_directory": "create a Directory Sync",
                "edit": "edit a sync", "delete": "delete a sync with its contacts"}


def who(actor: str | None) -> str:
    if not actor:
        return "nobody"
    return "the CLI" if actor == "cli" else f"<@{actor}>" if actor[:1] in "UW" else escape(actor)


def summary_lines(request: RequestView) -> list[str]:
    spec = request.spec
    lines = [f"*{escape(request.job_name)}*: {CHANGE_WORDS.get(request.change, request.change)}"]
    if spec.get("source_email"):
        lines.append(f"Source: {escape(str(spec['source_email']))}, label “{escape(str(spec.get('group_name')))}”")
    if spec.get("domains"):
        lines.append(f"Domains: {escape(', '.join(map(str, spec['domains'])))}")
    if spec.get("targets"):
        shown = ", ".join(map(str, list(spec["targets"])[:10]))
        more = len(spec["targets"]) - 10
        lines.append(f"Targets: {escape(shown)}{f' and {more} more' if more > 0 else ''}")
    options = option_words(spec)
    if options:
        lines.append(f"Options: {escape('; '.join(options))}")
    if request.reach is not None:
        lines.append(f"Reaches *{request.reach}* account{'s' if request.reach != 1 else ''} now")
    return lines


def _field_names(value: object) -> list[str]:
    """A field list as the spec holds it (a list, or the CLI's comma-separated text), in words."""
    if isinstance(value, str):
        value = value.split(",")
    names = [str(n).strip() for n in value] if isinstance(value, (list, tuple)) else []
    return [BY_NAME[n].words if n in BY_NAME else n for n in names if n]


def option_words(spec: Mapping[str, Any]) -> list[str]:
    """The options a request asks for beyond the defaults, so the approver sees everything it will make (an
    edit's spec names only what it changes)."""
    words: list[str] = []
    if spec.get("opt_out") == "allowed":
        words.append("members may leave it themselves")
    if spec.get("joinable"):
        words.append("anyone may join it")
    if spec.get("match_existing") == "email":
        words.append("adopts a target's own contact with the same email")
    fields = spec.get("fields")
    if fields is not None and set(_field_names(fields)) != set(_field_names(DEFAULT_FIELDS)):
        words.append(f"fields copied: {', '.join(_field_names(fields)) or 'none'}")
    if spec.get("keep_target_fields"):
        words.append(f"the targets keep their own {', '.join(_field_names(spec['keep_target_fields']))}")
    if spec.get("editors"):
        editors = ", ".join(map(str, list(spec["editors"])))
        delete = " (their deletions delete everywhere)" if spec.get("editors_can_delete") else ""
        words.append(f"editors {editors}{delete}")
    elif spec.get("editors_can_delete"):
        words.append("editors' deletions delete everywhere")
    return words


def request_blocks(request: RequestView) -> list[Block]:
    """The admins' message: what is asked, by whom, why it waits; Approve and Deny while it is pending."""
    asker = who(request.requested_by) + (f" ({escape(request.requester_email)})" if request.requester_email else "")
    blocks: list[Block] = [
        SectionBlock(text=mrkdwn(f":inbox_tray: {asker} asks to " + "\n".join(summary_lines(request)))),
        context(f"Why it waits: {escape(request.why)} · request `{request.id}` · expires {when(request.expires_at)}"),
    ]
    if request.state is RequestState.pending:
        blocks.append(ActionsBlock(block_id=f"request_{request.id}"[:255], elements=[
            ButtonElement(text=plain("Approve", 75), action_id=APPROVE_ACTION, value=request.id, style="primary"),
            ButtonElement(text=plain("Deny", 75), action_id=DENY_ACTION, value=request.id, style="danger"),
        ]))
    else:
        blocks.append(SectionBlock(text=mrkdwn(decided_text(request))))
    return blocks


def decided_text(request: RequestView) -> str:
    if request.state is RequestState.approved:
        return f":white_check_mark: Approved by {who(request.decided_by)} {when(request.decided_at)}."
    if request.state is RequestState.denied:
        return f":no_entry: Denied by {who(request.decided_by)} {when(request.decided_at)}: {escape(request.reason)}"
    if request.state is RequestState.expired:
        return ":hourglass: Expired undecided."
    return "Waiting for an admin."


def request_text(request: RequestView) -> str:
    return f"Request {request.id}: {who(request.requested_by)} asks to {CHANGE_WORDS.get(request.change)} " \
           f"({request.job_name})"


def requester_text(request: RequestView) -> str:
    """What the requester is told once the request is decided."""
    name = f"*{escape(request.job_name)}*"
    if request.state is RequestState.approved:
        done = ("the sync is made and its first run has started" if request.change.startswith("create")
                else "the change is made")
        return f":white_check_mark: Your request {name} was approved by {who(request.decided_by)}; {done}."
    if request.state is RequestState.denied:
        return f":no_entry: Your request {name} was denied by {who(request.decided_by)}: “{escape(request.reason)}”"
    return f":hourglass: Your request {name} expired before an admin decided it."


def filed_text(request: RequestView) -> str:
    """What the asker is told when the request is filed."""
    if request.from_member:
        return (f":inbox_tray: Your request for *{escape(request.job_name)}* is with the ContactSync admins "
                f"(request `{request.id}`). Nothing exists until one approves it; I'll tell you here either way.")
    return (f":busts_in_silhouette: *{escape(request.job_name)}* needs a second admin ({escape(request.why)}): "
            f"it waits as request `{request.id}`. Nothing was changed yet; another admin may approve it.")


def deny_view(request: RequestView, *, channel: str | None, ts: str | None) -> View:
    meta = json.dumps({"request": request.id, "channel": channel, "ts": ts})
    assert len(meta) <= MAX_PRIVATE_METADATA
    return View(
        type="modal", callback_id=DENY_CALLBACK, title=plain("Deny request", 24), submit=plain("Deny", 24),
        close=plain("Cancel", 24), private_metadata=meta,
        blocks=[
            SectionBlock(text=mrkdwn(clip("\n".join(summary_lines(request)), 3000))),
            InputBlock(block_id=REASON_BLOCK, label=plain("Why? (the requester is told)"),
                       element=PlainTextInputElement(action_id=REASON_ACTION, multiline=True, max_length=500)),
        ],
    )
