"""`/contactsync help` (and the answer to an unknown subcommand), from the subcommands' own help lines."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, SectionBlock

from .common import escape, mrkdwn

INTRO = "*ContactSync* keeps a Google contact group in sync across users."


def help_blocks(usage: Sequence[str], *, admin_only: Sequence[str], unknown: str | None = None) -> list[Block]:
    """`usage`: one line per subcommand; `admin_only`: the subcommands only admins may use."""
    blocks: list[Block] = []
    if unknown:
        blocks.append(SectionBlock(text=mrkdwn(f":thinking_face: I don't know `{escape(unknown[:100])}`.")))
    admins = f"Only ContactSync admins can use {', '.join(f'`{name}`' for name in admin_only)}."
    blocks.append(SectionBlock(text=mrkdwn("\n".join([INTRO, *usage, admins]))))
    return blocks
