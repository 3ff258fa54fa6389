"""`/contactsync help` (and the answer to an unknown subcommand)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from .common import escape, mrkdwn

USAGE = """*ContactSync* keeps a Google contact group in sync across users.
`/contactsync create` — create a sync (opens a form)
`/contactsync list` — every sync with its status, last run and next run
`/contactsync show NAME` — one sync: settings, targets, last runs, history
`/contactsync edit NAME` — change a sync (its contacts are kept)
`/contactsync run NAME` — run now; the report is posted in a thread
`/contactsync pause NAME` · `/contactsync resume NAME`
`/contactsync delete NAME` — asks first, and whether to remove the synced contacts
`/contactsync help` — this message
Only ContactSync admins can create, change, run or delete syncs."""


def help_blocks(unknown: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if unknown:
        blocks.append(SectionBlock(text=mrkdwn(f":thinking_face: I don't know `{escape(unknown[:100])}`.")))
    blocks.append(SectionBlock(text=mrkdwn(USAGE)))
    return blocks
