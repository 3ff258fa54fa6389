"""Every member's own buttons: Leave, Re-join and Join, on `/contactsync mine` and on App Home.

Open to every workspace member (the admin guard lets `MEMBER_ACTIONS` through), so each press is checked here,
on the server, whatever its payload says: the presser is the user Slack signed the request for, and must be
the one the button was shown to (a press by anyone else is refused, never applied to the presser instead);
who they are in Google comes from their Slack profile (`bot.members`), never from the payload; what they may
do on the sync is decided by the service (`sync_core.service.members`), which refuses Leave on a sync that
does not allow it and Join on one that is not open. Every change is in the sync's history."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk.models.blocks import Block, SectionBlock

from sync_core.domain.text import clip
from sync_core.service import JobInputError, NotAMember, RunRequest, RunTrigger

from .. import services
from ..blocks.common import escape, mrkdwn
from ..blocks.members import ACTION_IDS, my_sync_blocks
from ..context import BotContext, Listeners, bot_context

log = logging.getLogger(__name__)

MEMBER_ACTIONS = frozenset(ACTION_IDS.values())
NOT_YOURS = ":no_entry: That button was shown to someone else: you can only leave or join syncs for yourself. " \
            "Nothing was changed."
NOT_OURS = ":no_entry: That button is not one of ContactSync's. Nothing was changed."
JOB_ID_MAX = 2**63  # a job id is a (64-bit, signed) database integer


def mine_reply(ctx: BotContext, slack_user: str, notice: str | None = None) -> tuple[str, list[Block]]:
    """`/contactsync mine`'s answer: the member's syncs with their buttons (or why there are none)."""
    head: list[Block] = [SectionBlock(text=mrkdwn(notice))] if notice else []
    try:
        rows = ctx.member_lookup().syncs(slack_user)
    except NotAMember as exc:
        return exc.message, [*head, SectionBlock(text=mrkdwn(escape(exc.message)))]
    return f"Your syncs ({len(rows)})", [*head, *my_sync_blocks(rows, shown_to=slack_user)]


def _done_text(kind: str, job_name: str, started: bool) -> str:
    name = f"*{escape(job_name)}*"
    when = "now (a run has started)" if started else "at its next run"
    if kind == "member_leave":
        return f":wave: You left {name}. Its label and the contacts it put in your account go {when}."
    if kind == "member_rejoin":
        return f":white_check_mark: You are back in {name}. Its contacts come back {when}."
    return f":white_check_mark: You joined {name}. Its contacts reach your account {when}."


def _apply(ctx: BotContext, kind: str, presser: str, action: dict[str, Any]) -> str:
    """Check and apply one press; what to tell the presser."""
    try:
        value = json.loads(str(action.get("value") or ""))
        job_id, shown_to = int(value["job"]), str(value["for"])
    except (ValueError, TypeError, KeyError, OverflowError):  # OverflowError: {"job": 1e999} is infinity
        return NOT_OURS
    if not 0 < job_id < JOB_ID_MAX:  # a number no job has (nor the database could hold) is a made-up button
        return NOT_OURS
    if shown_to != presser:
        log.info("refused %s by %s of a button shown to %s", kind, clip(presser, 40), clip(shown_to, 40))
        return NOT_YOURS
    try:
        member = ctx.member_lookup().member(presser)
        change = {"member_leave": ctx.service.leave, "member_rejoin": ctx.service.rejoin,
                  "member_join": ctx.service.join}[kind]
        job = change(job_id, member)
    except NotAMember as exc:
        return exc.message
    except JobInputError as exc:
        return f":no_entry: {exc.message}"
    assert job.id is not None
    started = False
    if job.enabled and ctx.service.runs is not None:  # carry it out now rather than at the next scheduled run
        started = ctx.service.run_now(job.id, trigger=RunTrigger.slack) is RunRequest.queued
    return _done_text(kind, job.name, started)


def member_action(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    presser = str((body.get("user") or {}).get("id") or "")
    notice = _apply(ctx, str(action.get("action_id")), presser, action)
    if (body.get("view") or {}).get("type") == "home":
        services.publish_home(ctx, presser, notice=notice)
        return
    text, blocks = mine_reply(ctx, presser, notice)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


LISTENERS: Listeners = tuple(("action", action_id, member_action) for action_id in sorted(MEMBER_ACTIONS))
