"""`/contactsync SUBCOMMAND [NAME]`: ack at once, then answer through `respond` or open a modal.

Each subcommand is defined once, in `SUBCOMMANDS`: its handler, its help line, whether it takes a sync's
name and whether it is read-only. Deny by default: a subcommand not marked `read_only` changes something,
and the admin guard (`bot.guard`) lets only admins run it. The help text is generated from the registry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk.models.blocks import Block

from sync_core.service import JobInputError, RunRequest

from .. import services
from ..blocks.delete import delete_view
from ..blocks.help import help_blocks
from ..blocks.jobs import job_detail_blocks, job_list_blocks
from ..blocks.run import already_text, change_text
from ..context import BotContext, Listeners, bot_context
from . import members, modals, requests

log = logging.getLogger(__name__)

COMMAND = "/contactsync"

Handler = Callable[[BotContext, dict[str, Any], str, Respond], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    help: str  # what it does, for the help text
    takes_name: bool = False  # `/contactsync NAME-OF-SUBCOMMAND SYNC-NAME`
    read_only: bool = False  # deny by default: only a read-only subcommand is open to everyone
    for_members: bool = False  # open to everyone too: it acts only for the member who asks (checked by its handler)

    @property
    def admin_only(self) -> bool:
        return not (self.read_only or self.for_members)

    def usage(self) -> str:
        return f"`{COMMAND} {self.name}{' NAME' if self.takes_name else ''}` — {self.help}"


def parse(text: str) -> tuple[str, str]:
    """("list", "") from "list"; ("show", "Partners sync") from 'show "Partners sync"'."""
    sub, _, rest = (text or "").strip().partition(" ")
    name = rest.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'“”":
        name = name[1:-1].strip()
    name = name.strip("“”")
    return sub.lower(), name


def needs_admin(text: str) -> bool:
    """Whether the command `text` may change something. An unknown subcommand only gets the help text."""
    entry = SUBCOMMANDS.get(parse(text)[0])
    return entry is not None and entry.admin_only


def usage_blocks(unknown: str | None = None) -> list[Block]:
    entries = SUBCOMMANDS.values()
    admin_only = [e.name for e in entries if e.admin_only]
    return help_blocks([e.usage() for e in entries], admin_only=admin_only, unknown=unknown)


def ephemeral(respond: Respond, text: str, blocks: list[Block] | None = None) -> None:
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def public(respond: Respond, text: str) -> None:
    respond(text=text, response_type="in_channel", replace_original=False)


def contactsync(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ctx = bot_context(context)
    ack()
    sub, name = parse(command.get("text", ""))
    entry = SUBCOMMANDS.get(sub or "help")
    if entry is None:
        ephemeral(respond, "ContactSync usage", usage_blocks(sub))
        return
    if entry.takes_name and not name:
        ephemeral(respond, f"Which sync? `{COMMAND} {sub} NAME`")
        return
    try:
        entry.handler(ctx, command, name, respond)
    except JobInputError as exc:
        ephemeral(respond, f":warning: {exc.message}")


LISTENERS: Listeners = (
    ("command", COMMAND, contactsync),
)


def _help(_ctx: BotContext, _command: dict[str, Any], _name: str, respond: Respond) -> None:
    ephemeral(respond, "ContactSync usage", usage_blocks())


def _create(ctx: BotContext, command: dict[str, Any], _name: str, _respond: Respond) -> None:
    draft = modals.new_draft(ctx, command["user_id"], command.get("channel_id"))
    ctx.client.views_open(trigger_id=command["trigger_id"], view=modals.step1(draft))


def _list(ctx: BotContext, _command: dict[str, Any], _name: str, respond: Respond) -> None:
    rows = ctx.service.list_jobs()
    ephemeral(respond, f"{len(rows)} syncs", job_list_blocks(rows))


def _show(ctx: BotContext, _command: dict[str, Any], name: str, respond: Respond) -> None:
    detail = ctx.service.detail(name)
    editors = ctx.service.editors(detail.job.name) if detail.editors else None
    conflicts = ctx.service.conflicts(detail.job.name) if detail.open_conflicts else []
    ephemeral(respond, f"Sync {detail.job.name}", job_detail_blocks(detail, editors, conflicts))


def _edit(ctx: BotContext, command: dict[str, Any], name: str, _respond: Respond) -> None:
    job = ctx.service.find(name)
    modals.open_edit(ctx, job, command["user_id"], command["trigger_id"], command.get("channel_id"))


def _run(ctx: BotContext, command: dict[str, Any], name: str, respond: Respond) -> None:
    job = ctx.service.find(name)
    request, posted = services.queue_run(ctx, job, user_id=command["user_id"], channel=command.get("channel_id"))
    if request is not RunRequest.queued:
        ephemeral(respond, services.not_started_text(request, job.name))
    elif not posted:
        where = f" in <#{job.alert_channel}>" if job.alert_channel else " in App Home"
        ephemeral(respond, f"Started *{job.name}*. I can't post in this channel, so the report will be{where}.")


def _set_enabled(ctx: BotContext, command: dict[str, Any], name: str, respond: Respond, enabled: bool) -> None:
    change = ctx.service.resume if enabled else ctx.service.pause
    done = change(name, actor=command["user_id"])
    if not done.changed:
        ephemeral(respond, already_text(done.job.name, enabled=enabled))
        return
    services.job_changed(ctx, done.job.id)
    public(respond, change_text("resume" if enabled else "pause", done.job.name, command["user_id"]))


def _pause(ctx: BotContext, command: dict[str, Any], name: str, respond: Respond) -> None:
    _set_enabled(ctx, command, name, respond, False)


def _resume(ctx: BotContext, command: dict[str, Any], name: str, respond: Respond) -> None:
    _set_enabled(ctx, command, name, respond, True)


def _mine(ctx: BotContext, command: dict[str, Any], _name: str, respond: Respond) -> None:
    text, blocks = members.mine_reply(ctx, command["user_id"])
    ephemeral(respond, text, blocks)


def _delete(ctx: BotContext, command: dict[str, Any], name: str, _respond: Respond) -> None:
    detail = ctx.service.detail(name)
    view = delete_view(job=detail.job, target_accounts=len(detail.states),
                       channel_id=command.get("channel_id"))
    ctx.client.views_open(trigger_id=command["trigger_id"], view=view)


# In the help text's order. A new subcommand: its handler above and one line here.
SUBCOMMANDS: dict[str, Subcommand] = {s.name: s for s in (
    Subcommand("create", _create, "create a sync (opens a form)"),
    Subcommand("list", _list, "every sync with its status, last run and next run", read_only=True),
    Subcommand("show", _show, "one sync: settings, targets, last runs, history", takes_name=True, read_only=True),
    Subcommand("edit", _edit, "change a sync (its contacts are kept)", takes_name=True),
    Subcommand("run", _run, "run now; the report is posted in a thread", takes_name=True),
    Subcommand("pause", _pause, "stop a sync's scheduled runs (it keeps everything)", takes_name=True),
    Subcommand("resume", _resume, "schedule a paused sync again", takes_name=True),
    Subcommand("delete", _delete, "asks first, and whether to remove or keep the synced contacts", takes_name=True),
    Subcommand("mine", _mine, "the syncs that reach you: leave one, re-join, or join an open one", read_only=True),
    Subcommand("request", requests.open_request, "ask the admins for a sync of your own contacts (opens a form)",
               for_members=True),
    Subcommand("help", _help, "this message", read_only=True),
)}
