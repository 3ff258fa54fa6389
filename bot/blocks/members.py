"""A member's own syncs (`/contactsync mine` and App Home for non-admins): each with its label, source, the
member's role, their last result and contact count, and the buttons they may press (Leave, Re-join, Join).

Each button's value names the sync and the Slack user it was shown to; the listener refuses a press by anyone
else (`bot.listeners.members`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from sync_core.domain.status import TargetStatus
from sync_core.service import MemberAction, MySync

from .common import context, escape, mrkdwn, plain, plural

ACTION_IDS = {MemberAction.LEAVE: "member_leave", MemberAction.REJOIN: "member_rejoin",
              MemberAction.JOIN: "member_join"}
BUTTON_TEXT = {MemberAction.LEAVE: "Leave", MemberAction.REJOIN: "Re-join", MemberAction.JOIN: "Join"}
MINE_IN_MESSAGE = 24  # 2 blocks each, within a message's 50
MINE_IN_HOME = 15  # App Home shows every sync below them too, within its 100 blocks


def button_value(job_id: int, shown_to: str) -> str:
    return json.dumps({"job": job_id, "for": shown_to}, separators=(",", ":"))


def _line(row: MySync) -> str:
    source = "the Directory" if row.source == "Directory" else escape(row.source)
    head = f"*{escape(row.name)}* — label “{escape(row.label)}”, from {source}"
    if row.opted_out:
        where = (f"you left it; {plural(row.contacts, 'contact')} of it still in your account until its next run"
                 if row.contacts else "you left it")
    elif not row.selected:
        where = "open to join" if row.joinable else "not for you"
    elif row.status is None:
        where = f"you are a {row.role}; not synced to you yet"
    else:
        emoji = ":white_check_mark:" if row.status in (TargetStatus.ok, TargetStatus.renamed) else ":warning:"
        where = (f"you are a {row.role}; last run {emoji} {row.status.value}, "
                 f"{plural(row.contacts, 'contact')} in your account")
    return f"{head}\n{where}"


def my_sync_blocks(rows: Sequence[MySync], *, shown_to: str, limit: int = MINE_IN_MESSAGE) -> list[Block]:
    if not rows:
        return [context("No sync reaches you, and none is open to join.")]
    blocks: list[Block] = []
    for row in rows[:limit]:
        blocks.append(SectionBlock(text=mrkdwn(_line(row))))
        if row.actions:
            blocks.append(ActionsBlock(block_id=f"member_{row.job_id}", elements=[
                ButtonElement(text=plain(BUTTON_TEXT[a], 75), action_id=ACTION_IDS[a],
                              value=button_value(row.job_id, shown_to),
                              style="danger" if a is MemberAction.LEAVE else "primary")
                for a in row.actions
            ]))
    if len(rows) > limit:
        blocks.append(context(f"…and {len(rows) - limit} more."))
    return blocks
