"""The delete confirmation modal."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import CheckboxesElement, InputBlock, SectionBlock
from slack_sdk.models.views import View

from .common import escape, mrkdwn, option, plain

DELETE_CALLBACK = "cs_delete"
REMOVE_CONTACTS = "remove_contacts"


def delete_view(*, job_name: str, target_accounts: int, channel_id: str | None) -> View:
    remove = option("Also remove the synced contacts from the targets", REMOVE_CONTACTS)
    return View(
        type="modal",
        callback_id=DELETE_CALLBACK,
        title=plain("Delete sync", 24),
        submit=plain("Delete", 24),
        close=plain("Cancel", 24),
        private_metadata=json.dumps({"job": job_name, "channel": channel_id}),
        blocks=[
            SectionBlock(text=mrkdwn(
                f"Delete the sync *{escape(job_name)}*? Its settings, runs and links go; its history stays.")),
            InputBlock(
                block_id="remove",
                label=plain("Contacts"),
                element=CheckboxesElement(action_id=REMOVE_CONTACTS, options=[remove]),
                optional=True,
                hint=plain(f"Removes only the contacts this sync created, from {target_accounts} account"
                           f"{'s' if target_accounts != 1 else ''}. Otherwise they stay as ordinary contacts."),
            ),
        ],
    )
