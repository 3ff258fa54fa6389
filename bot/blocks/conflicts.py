"""A conflict's message in its job's channel (issue 21): who set what on which field of which contact, the
value kept and the value(s) lost, and a "Use this value instead" button per losing value (the first few);
once resolved, who chose what instead of the buttons."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock

from sync_core.service import ConflictView

from .common import MAX_MESSAGE_BLOCKS, check_count, clip, context, escape, mrkdwn, plain

ACTION_PREFIX = "conflict_use_"
ACTIONS = re.compile("^" + ACTION_PREFIX + r"\d$")
LOSER_BUTTONS = 5  # one button per losing value, for the first few (a field rarely has more than two sides)
_ID = r"[1-9][0-9]{0,17}"  # a positive id that fits a 64-bit integer
_VALUE = re.compile(rf"^({_ID})\|({_ID})\|([0-9])$")
VALUE_SHOWN = 600


def button_value(job_id: int, conflict_id: int, loser: int) -> str:
    return f"{job_id}|{conflict_id}|{loser}"


def parse_button_value(value: str) -> tuple[int, int, int] | None:
    """(job id, conflict id, loser) from a button's value; None for anything ContactSync never wrote."""
    found = _VALUE.match(value)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def conflict_fallback(job_name: str, conflict: ConflictView) -> str:
    return clip(f"Conflict in {job_name}: {conflict.field} of {conflict.contact}", 3000)


def resolved_text(conflict: ConflictView) -> str:
    by = conflict.resolved_by or ""
    who = f"<@{by}>" if by.startswith(("U", "W")) else escape(by or "someone")
    return f":white_check_mark: {who} {escape(conflict.resolution)}"


def conflict_message(job_name: str, job_id: int, conflict: ConflictView) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=mrkdwn(
            f":twisted_rightwards_arrows: *Conflict in {escape(job_name)}*: two sides changed "
            f"*{escape(conflict.field)}* of *{escape(conflict.contact)}* differently ({escape(conflict.why)})."
        )),
        SectionBlock(text=mrkdwn(f"*Kept* (at the source and every copy)\n{escape(clip(conflict.kept, VALUE_SHOWN))}")),
    ]
    for index, loser in enumerate(conflict.losers[:LOSER_BUTTONS]):
        text = f"*Lost*\n{escape(clip(loser, VALUE_SHOWN))}"
        if conflict.state == "open":
            button = ButtonElement(text=plain("Use this value instead", 75), action_id=f"{ACTION_PREFIX}{index}",
                                   value=button_value(job_id, conflict.id, index))
            blocks.append(SectionBlock(text=mrkdwn(text), accessory=button))
        else:
            blocks.append(SectionBlock(text=mrkdwn(text)))
    if len(conflict.losers) > LOSER_BUTTONS:
        blocks.append(context(f"…and {len(conflict.losers) - LOSER_BUTTONS} more losing values "
                              "(`contactsync jobs history` lists them)"))
    if conflict.state == "open":
        blocks.append(context("Nothing to do if the kept value is right. The button writes the lost value at the "
                              "source; the next run carries it to every copy."))
    else:
        blocks.append(context(resolved_text(conflict)))
    return check_count(blocks, MAX_MESSAGE_BLOCKS)
