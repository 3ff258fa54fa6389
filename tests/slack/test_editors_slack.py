"""Editors in Slack (issue 21): `show` and App Home list them, a conflict is posted once to the job's channel
with a button that puts the losing value back, and the modals pick editors. Signed requests through the real
Bolt app over HTTP, against the Google emulator and the Slack double."""

from __future__ import annotations

from typing import Any

from sync_core.service import JobEdit
from tests.integration.helpers import create_job

from .conftest import Bot
from .test_commands import run

JSON = dict[str, Any]
READERS = ("email:dave@example.com",)
EDITORS = ["email:bob@example.com", "group:sales@example.com"]


def job_with_editors(bot: Bot, **kw: Any) -> str:
    name = create_job(bot.runtime, bot.google, *READERS, editors=EDITORS, alert_channel=kw.pop("alert", None),
                      **kw)
    return name


def test_show_and_app_home_list_the_editors(bot: Bot) -> None:
    job_with_editors(bot, editors_can_delete=True)
    detail = str(run(bot, "show Partners")["blocks"])
    assert "Editors: email:bob@example.com, group:sales@example.com" in detail
    assert "now: " + bot.google.seed.source_email in detail and "bob@example.com" in detail
    assert "Editors may delete: yes" in detail and "open conflict" not in detail

    mark = bot.double.mark()
    bot.admin.open_home()
    home = str(bot.double.wait_for(lambda c: c.method == "views.publish", after=mark).args["view"])
    assert "Editors: email:bob@example.com, group:sales@example.com" in home and "Editors may delete: yes" in home

    bot.ctx.service.edit("Partners", JobEdit(editors_can_delete=False), actor="cli")
    assert "Editors may delete: no" in str(run(bot, "show Partners")["blocks"])
    assert bot.problems() == []


def test_a_sync_without_editors_says_nothing_of_them(bot: Bot) -> None:
    create_job(bot.runtime, bot.google, *READERS)
    assert "Editors" not in str(run(bot, "show Partners")["blocks"])
