"""The delete confirmation modal: it asks what becomes of the contacts the sync wrote (remove or keep)."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block, InputBlock, Option, RadioButtonsElement, SectionBlock
from slack_sdk.models.views import View

from sync_core.domain.reports import Cleanup
from sync_core.service import ContactsChoice, SyncJob

from .common import escape, mrkdwn, plain, plural

DELETE_CALLBACK = "cs_delete"
CONTACTS_BLOCK = "contacts"
CONTACTS_CHOICE = "contacts_choice"
CHOICE_NEEDED = "Choose what becomes of the synced contacts."


def _choice(text: str, value: ContactsChoice, description: str) -> Option:
    return Option(text=plain(text, 75), value=value.value, description=plain(description, 75))


def delete_view(*, job: SyncJob, target_accounts: int, channel_id: str | None) -> View:
    """Asks first. A sync that has written to some account offers the two choices (one must be picked); one
    whose delete is under way finishes it as first chosen; one that never wrote anything just asks."""
    accounts = plural(target_accounts, "account")
    name = escape(job.name)
    blocks: list[Block]
    if job.deleting:
        doing = "keeps the synced contacts as the users' own" if job.keep_contacts else "removes the synced contacts"
        hold = "holds" if target_accounts == 1 else "hold"
        blocks = [SectionBlock(text=mrkdwn(
            f"The delete of *{name}* is under way: it {doing}, and {accounts} still {hold} them. "
            "Delete it again to finish that."))]
    elif target_accounts == 0:
        blocks = [SectionBlock(text=mrkdwn(
            f"Delete the sync *{name}*? It has not written to any account. Its settings go; its history stays."))]
    else:
        blocks = [
            SectionBlock(text=mrkdwn(
                f"Delete the sync *{name}*? Its settings, runs and links go; its history stays. "
                f"It has written contacts at {accounts}: what becomes of them?")),
            InputBlock(
                block_id=CONTACTS_BLOCK,
                label=plain("The synced contacts"),
                element=RadioButtonsElement(action_id=CONTACTS_CHOICE, options=[
                    _choice("Remove the synced contacts", ContactsChoice.remove,
                            f"Deleted at {accounts}, with the label once empty."),
                    _choice("Keep them as the users' own", ContactsChoice.keep,
                            "They stay in their label, no longer synced."),
                ]),
            ),
        ]
    return View(
        type="modal",
        callback_id=DELETE_CALLBACK,
        title=plain("Delete sync", 24),
        submit=plain("Delete", 24),
        close=plain("Cancel", 24),
        private_metadata=json.dumps({"job": job.name, "channel": channel_id}),
        blocks=blocks,
    )


# A delete's answer lists at most this many accounts (a sync may have reached thousands).
CLEANUP_LINES = 20


def cleanup_lines(cleanup: Cleanup) -> str:
    """Per account, what the delete did with the contacts ("• bob@example.com: removed 300 contacts and the
    label"), the accounts that failed first."""
    accounts = sorted(cleanup.accounts, key=lambda a: not a.failed)
    lines = [f"• {escape(a.email)}: {escape(a.summary())}" for a in accounts[:CLEANUP_LINES]]
    if len(accounts) > CLEANUP_LINES:
        lines.append(f"… and {plural(len(accounts) - CLEANUP_LINES, 'more account')}")
    return "\n".join(lines)
