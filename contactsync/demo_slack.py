"""The Slack demo: the real bot over HTTP on localhost, a fake Slack (slack_double) and the Google
emulator, walked through like an admin would: /contactsync create -> submit -> first run -> a renamed
target -> the alert and its one-click fix. Each modal and message is printed as readable text (and as
Block Kit JSON with --json).

The bot finds the fake Slack only through SLACK_API_URL, and the emulator only through the Google
settings: the product code is the same as in production.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from bot.app import build_app, context_of
from bot.serve import http_server
from bot.settings import load_bot_settings
from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from slack_double import Call, SlackDouble, SlackUser
from slack_double.render import message_text, view_text
from sync_core.runtime import Runtime
from sync_core.settings import load_settings

JSON = dict[str, Any]
SECRET = "demo-signing-secret-0123456789abcdef"
ADMIN = "U0DEMOADMIN"
CHANNEL = "C0CONTACTS"
# How Slack would show the ids in mentions and channel names.
NAMES = {ADMIN: "ada", CHANNEL: "contacts"}

BANNER = """
================================================================================
  CONTACTSYNC DEMO MODE — no Google or Slack settings are configured.
  The real ContactSync bot runs on 127.0.0.1 against a built-in Google Workspace
  emulator (example.com / example.org) and a stand-in for Slack's Web API.
  Below, an admin ("ada") drives it exactly as in Slack; every modal and message
  the bot sends is printed. Nothing reaches Google or Slack.
================================================================================
"""


class Walkthrough:
    def __init__(self, double: SlackDouble, user: SlackUser, *, show_json: bool) -> None:
        self.double = double
        self.user = user
        self.show_json = show_json

    def step(self, title: str) -> None:
        typer.secho(f"\n▶ {title}", bold=True)

    def show_view(self, view: JSON) -> None:
        typer.echo(view_text(view, names=NAMES))
        if self.show_json:
            typer.echo(json.dumps(view.get("blocks", []), indent=1, ensure_ascii=False))

    def show_message(self, call: Call) -> None:
        typer.echo(message_text(call.args, names=NAMES, edited=call.method == "chat.update"))
        if self.show_json:
            typer.echo(json.dumps(call.args.get("blocks", []), indent=1, ensure_ascii=False))

    def wait(self, predicate: Callable[[Call], bool], mark: int, timeout: float = 60) -> Call:
        return self.double.wait_for(predicate, after=mark, timeout=timeout)

    def after_update(self, action: Callable[[], object]) -> JSON:
        mark = self.double.mark()
        action()
        self.wait(lambda c: c.method == "views.update", mark)
        return self.user.modal()


def posted(channel: str, *, thread_ts: str | None = None, containing: str = "") -> Callable[[Call], bool]:
    def match(call: Call) -> bool:
        return (
            call.method == "chat.postMessage"
            and call.args.get("channel") == channel
            and (thread_ts is None or call.args.get("thread_ts") == thread_ts)
            and containing in str(call.args.get("text", ""))
        )

    return match


def run_slack_demo(*, show_json: bool = False, contacts: int = 120) -> int:
    typer.secho(BANNER, fg=typer.colors.YELLOW, bold=True)
    ws = Workspace()
    seed = seed_workspace(ws, contacts=contacts)
    with (
        tempfile.TemporaryDirectory(prefix="contactsync-demo-") as tmp,
        running_emulator(ws, Path(tmp)) as google,
        SlackDouble() as double,
    ):
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'demo.db'}",
            GOOGLE_APPLICATION_CREDENTIALS=str(google.credentials_file),
            CONTACTSYNC_ADMIN_EMAIL=seed.admin_email,
            CONTACTSYNC_GOOGLE_API_ENDPOINT=google.url,
        )
        bot_settings = load_bot_settings(
            SLACK_BOT_TOKEN="xoxb-demo-token",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=double.api_url,
            CONTACTSYNC_ADMINS=ADMIN,
        )
        runtime = Runtime(settings)
        app = build_app(runtime, bot_settings=bot_settings, start_cache=False)
        ctx = context_of(app)
        ctx.cache.refresh()
        with http_server(app, host="127.0.0.1", port=0) as url:
            try:
                typer.echo(f"Bot listening at {url}; emulated Google at {google.url}; fake Slack at {double.url}")
                user = SlackUser(double, url, SECRET, user_id=ADMIN, user_name="ada", channel_id=CHANNEL)
                _walk(Walkthrough(double, user, show_json=show_json), google.control, seed)
            finally:
                ctx.shutdown()
    typer.secho("\nDemo finished. Everything ran on this machine; its data is gone now.", bold=True)
    return 0


def _walk(w: Walkthrough, google: Any, seed: Any) -> None:
    w.step("ada types /contactsync create in #contacts: the details modal opens")
    mark = w.double.mark()
    w.user.command("create")
    w.wait(lambda c: c.method == "views.open", mark)
    w.user.enter("name", "Partners for Sales")
    w.after_update(lambda: w.user.choose("source_user", (seed.source_email, seed.source_email)))
    w.after_update(lambda: w.user.choose("group_select", (seed.source_group_name, seed.source_group_name)))
    w.user.enter("schedule", "every 2h")
    w.show_view(w.user.modal())  # as ada sees it: with what she typed

    w.step("Next: the targets step (search users, Google Groups, domains, roles, units)")
    w.user.submit()
    w.user.fill(
        {
            "pick_groups": [(f"group:{seed.emea_group_email}", "EMEA Sales")],
            "pick_users": [("email:dave@example.com", "Dave Developer")],
        }
    )
    view = w.after_update(lambda: w.user.click("targets_add"))
    w.show_view(view)

    w.step("Submit: the sync is created, announced in #contacts, and its first run starts")
    mark = w.double.mark()
    w.user.submit()
    created = w.wait(posted(CHANNEL, containing="created"), mark)
    w.show_message(created)
    report = w.wait(posted(CHANNEL, thread_ts=created.answer["ts"]), mark)
    w.show_message(report)

    w.step("An admin renames dave@example.com to david@example.com in the Google Admin console")
    google.rename_user("dave@example.com", "david@example.com")
    typer.echo("   (a competitor's sync now fails for Dave until someone removes and re-adds him by hand)")

    w.step("ada types /contactsync run Partners for Sales")
    mark = w.double.mark()
    w.user.command("run Partners for Sales")
    started = w.wait(posted(CHANNEL, containing="run"), mark)
    w.show_message(started)
    result = w.wait(posted(CHANNEL, thread_ts=started.answer["ts"]), mark)
    w.show_message(result)
    alert = _find_alert(w, mark)
    if alert is None:
        return
    w.step("The alert in #contacts offers the fix: ada presses the Re-add button")
    w.show_message(alert)
    button = _button_starting(alert.args.get("blocks") or [], "Re-add")
    if button is None:
        return
    mark = w.double.mark()
    w.user.click_message(alert.args["blocks"], button["action_id"], button.get("value"))
    updated = w.wait(lambda c: c.method == "chat.update", mark)
    w.show_message(updated)
    after = w.wait(posted(CHANNEL), mark)
    w.show_message(after)


def _find_alert(w: Walkthrough, mark: int) -> Call | None:
    """The run's alert message, if the bot posted one with a fix button."""
    try:
        return w.wait(
            lambda c: (
                c.method == "chat.postMessage" and _button_starting(c.args.get("blocks") or [], "Re-add") is not None
            ),
            mark,
            timeout=5,
        )
    except TimeoutError:
        return None


def _button_starting(blocks: list[JSON], prefix: str) -> JSON | None:
    for block in blocks if isinstance(blocks, list) else []:
        for element in [block.get("accessory"), *block.get("elements", [])]:
            if (
                isinstance(element, dict)
                and element.get("type") == "button"
                and str(element.get("text", {}).get("text", "")).startswith(prefix)
            ):
                return element
    return None
