"""Steps several tests share: walking the create modal as an admin would."""

from __future__ import annotations

from typing import Any

from slack_double import Call, SlackUser

from .conftest import CHANNEL, Bot


def is_update(call: Call) -> bool:
    return call.method == "views.update"


def open_create(bot: Bot, user: SlackUser) -> dict[str, Any]:
    mark = bot.double.mark()
    assert user.command("create").status == 200
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    return user.modal()


def choose_source(bot: Bot, user: SlackUser, email: str) -> dict[str, Any]:
    """Pick the source user (dispatch_action): the bot loads their groups into the modal."""
    mark = bot.double.mark()
    user.choose("source_user", (email, email))
    bot.double.wait_for(is_update, after=mark)
    return user.modal()


def fill_details(bot: Bot, user: SlackUser, *, name: str = "Partners for Sales", schedule: str = "every 2h",
                 group: str | None = None) -> dict[str, Any]:
    seed = bot.google.seed
    open_create(bot, user)
    user.enter("name", name)
    choose_source(bot, user, seed.source_email)
    mark = bot.double.mark()
    user.choose("group_select", (group or seed.source_group_name, group or seed.source_group_name))
    bot.double.wait_for(is_update, after=mark)
    user.enter("schedule", schedule)
    user.enter("alert_channel", CHANNEL)
    return user.modal()


def add_targets(bot: Bot, user: SlackUser, **picks: list[tuple[str, str]]) -> dict[str, Any]:
    user.fill(picks)
    mark = bot.double.mark()
    user.click("targets_add")
    bot.double.wait_for(is_update, after=mark)
    return user.modal()
