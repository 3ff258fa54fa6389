"""A submission never waits past Slack's 3 seconds: when Google is slow, the modal says so and then shows
the outcome itself (the sync created, or the refusal above the targets, nothing lost)."""

from __future__ import annotations

from sync_core import store

from .conftest import CHANNEL, Bot
from .flows import add_targets, fill_details


def test_a_slow_save_answers_at_once_and_finishes_in_the_window(bot: Bot) -> None:
    admin = bot.admin
    bot.ctx.submit_budget_seconds = 0.05
    fill_details(bot, admin)
    admin.submit()
    add_targets(bot, admin, pick_users=[("email:dave@example.com", "Dave Developer")])
    bot.google.handle.control.set_latency(150)
    mark = bot.double.mark()
    answer = admin.submit()
    assert answer.json()["response_action"] == "update", answer.text
    assert "Checking the sync with Google" in str(answer.json()["view"])
    done = bot.double.wait_for(lambda c: c.method == "views.update", after=mark, timeout=30)
    assert "Partners for Sales* created" in str(done.args["view"])
    bot.double.wait_for(
        lambda c: c.method == "chat.postMessage" and c.args["channel"] == CHANNEL and "created" in c.args["text"],
        after=mark,
    )
    bot.google.handle.control.set_latency(0)
    with store.session_scope(bot.runtime.db) as session:
        assert store.get_job_by_name(session, name="Partners for Sales") is not None
    assert bot.problems() == []


def test_a_slow_refusal_comes_back_above_the_targets_and_keeps_them(bot: Bot) -> None:
    admin = bot.admin
    bot.ctx.submit_budget_seconds = 0.05
    fill_details(bot, admin)
    admin.submit()
    add_targets(bot, admin, pick_users=[("email:nobody@example.com", "Nobody")])
    bot.google.handle.control.set_latency(150)
    mark = bot.double.mark()
    assert admin.submit().json()["response_action"] == "update"
    shown = bot.double.wait_for(lambda c: c.method == "views.update", after=mark, timeout=30).args["view"]
    bot.google.handle.control.set_latency(0)
    assert shown["callback_id"] == "cs_targets", "the targets step is back, ready to fix and submit again"
    assert shown["blocks"][0]["text"]["text"].startswith(":x: Targets: no user has the address nobody@example.com")
    assert "nobody@example.com" in str(shown["blocks"])
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []
    assert bot.problems() == []
