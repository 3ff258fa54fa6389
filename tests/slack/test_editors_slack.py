"""Editors in Slack (issue 21): `show` and App Home list them, a conflict is posted once to the job's channel
with a button that puts the losing value back, and the modals pick editors. Signed requests through the real
Bolt app over HTTP, against the Google emulator and the Slack double."""

from __future__ import annotations

from typing import Any

from slack_double import Call
from sync_core import store
from sync_core.domain.models import RunTrigger
from sync_core.service import JobEdit
from tests.integration.helpers import create_job, ours, source_keys
from tests.integration.test_editors import edit, named, phones

from .conftest import ADMIN, CHANNEL, OTHER, Bot
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


# --- conflicts ------------------------------------------------------------------------------------------
def conflicted(bot: Bot) -> tuple[str, str]:
    """A job whose editors bob and carol set one phone differently (carol later: she wins); (name, key)."""
    rt, google = bot.runtime, bot.google
    name = create_job(rt, google, *READERS, editors=["email:bob@example.com", "email:carol@example.com"],
                      alert_channel=CHANNEL)
    rt.engine.run(name)
    rt.engine.run(name)  # every editor reached: their copies are read from now on
    key = sorted(source_keys(google))[0]
    edit(rt, "bob@example.com", ours(google, "bob@example.com")[key], phoneNumbers=[{"value": "+1 555 0202"}])
    edit(rt, "carol@example.com", ours(google, "carol@example.com")[key], phoneNumbers=[{"value": "+1 555 0303"}])
    return name, key


def conflict_posts(bot: Bot, after: int = 0) -> list[Call]:
    return [c for c in bot.double.calls[after:] if c.method == "chat.postMessage" and c.answer.get("ok")
            and "Conflict in" in str(c.args.get("text"))]


def buttons(blocks: list[JSON]) -> dict[str, str]:
    return {e["action_id"]: e["text"]["text"] for b in blocks for e in [b.get("accessory"), *b.get("elements", [])]
            if isinstance(e, dict) and e.get("type") == "button"}


def press(bot: Bot, blocks: list[JSON], action: str, *, user: str = ADMIN, value: str | None = None) -> int:
    mark = bot.double.mark()
    assert bot.user(user).click_message(blocks, action, value).status == 200
    return mark


def ephemeral_after(bot: Bot, mark: int) -> str:
    return str(bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"])


def updates_of(bot: Bot, ts: str, after: int = 0) -> list[Call]:
    return [c for c in bot.double.calls[after:] if c.method == "chat.update" and c.args.get("ts") == ts]


def test_a_conflict_is_posted_once_and_its_button_puts_the_losing_value_back_everywhere(bot: Bot) -> None:
    name, key = conflicted(bot)
    mark = bot.double.mark()
    bot.runtime.engine.run(name, trigger=RunTrigger.schedule)
    assert phones(named(bot.google, key)) == ["+1 555 0303"]  # carol's later edit won
    [post] = conflict_posts(bot, mark)
    assert post.args["channel"] == CHANNEL
    text = str(post.args["blocks"])
    assert "phoneNumbers" in text and key in text  # which field of which contact
    assert "carol@example.com" in text and "+1 555 0303" in text  # the kept value and who set it
    assert "bob@example.com" in text and "+1 555 0202" in text  # the lost value and who set it
    assert buttons(post.args["blocks"]) == {"conflict_use_0": "Use this value instead"}

    mark = bot.double.mark()
    bot.runtime.engine.run(name, trigger=RunTrigger.schedule)  # still open: not posted again
    assert conflict_posts(bot, mark) == []

    ts = post.answer["ts"]
    mark = press(bot, post.args["blocks"], "conflict_use_0")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> put back" in str(update.args["blocks"])
    assert buttons(update.args["blocks"]) == {}
    assert phones(named(bot.google, key)) == ["+1 555 0202"]  # written at the source
    bot.runtime.engine.run(name, trigger=RunTrigger.schedule)  # the next run carries it to every copy
    for email in ("bob@example.com", "carol@example.com", "dave@example.com"):
        assert phones(ours(bot.google, email)[key]) == ["+1 555 0202"], email
    with store.session_scope(bot.runtime.db) as session:
        assert store.open_conflict_count(session, job_id=1) == 0
        assert [e.action for e in store.audit_events(session, job_id=1)].count("use losing value") == 1

    # Pressed again (or the payload replayed): says who chose what, changes nothing.
    edit(bot.runtime, bot.google.seed.source_email, named(bot.google, key), phoneNumbers=[{"value": "+1 555 0404"}])
    mark = press(bot, post.args["blocks"], "conflict_use_0")
    assert f"Already done: :white_check_mark: <@{ADMIN}> put back" in ephemeral_after(bot, mark)
    assert phones(named(bot.google, key)) == ["+1 555 0404"] and updates_of(bot, ts, mark) == []
    assert bot.problems() == []


def test_a_non_admin_press_is_refused_and_changes_nothing(bot: Bot) -> None:
    name, key = conflicted(bot)
    bot.runtime.engine.run(name, trigger=RunTrigger.schedule)
    [post] = conflict_posts(bot)
    mark = press(bot, post.args["blocks"], "conflict_use_0", user=OTHER)
    assert "Only ContactSync admins" in ephemeral_after(bot, mark)
    assert phones(named(bot.google, key)) == ["+1 555 0303"]
    with store.session_scope(bot.runtime.db) as session:
        assert store.open_conflict_count(session, job_id=1) == 1
    assert updates_of(bot, post.answer["ts"], mark) == []


def test_a_button_naming_no_conflict_of_its_job_or_a_forged_value_is_refused(bot: Bot) -> None:
    name, key = conflicted(bot)
    bot.runtime.engine.run(name, trigger=RunTrigger.schedule)
    [post] = conflict_posts(bot)
    forged = [{**b, "accessory": {**b["accessory"], "value": value}} for b in post.args["blocks"]
              for value in ("2|1|0",) if b.get("accessory")]
    mark = press(bot, forged, "conflict_use_0")
    assert "no longer exists" in ephemeral_after(bot, mark)
    forged = [{**b, "accessory": {**b["accessory"], "value": "1|99999999999999999999|0"}}
              for b in post.args["blocks"] if b.get("accessory")]
    mark = press(bot, forged, "conflict_use_0")
    assert "not one of mine" in ephemeral_after(bot, mark)
    assert phones(named(bot.google, key)) == ["+1 555 0303"]
    with store.session_scope(bot.runtime.db) as session:
        assert store.open_conflict_count(session, job_id=1) == 1


def test_a_conflict_another_replica_claimed_is_not_posted_here_and_a_refused_post_is_posted_later(bot: Bot) -> None:
    name, _ = conflicted(bot)
    poster, bot.ctx.notifier.conflicts = bot.ctx.notifier.conflicts, None
    report = bot.runtime.engine.run(name, trigger=RunTrigger.schedule)
    bot.ctx.notifier.conflicts = poster
    assert poster is not None
    job = bot.ctx.service.find(name)
    [claimed] = bot.ctx.service.conflicts_to_post(job)  # replica B got there first
    mark = bot.double.mark()
    poster.after_run(job, report)
    assert conflict_posts(bot, mark) == []
    bot.ctx.service.conflict_not_posted(claimed.id)  # B's post was refused: the claim is given back
    poster.after_run(job, report)
    assert len(conflict_posts(bot, mark)) == 1
    poster.after_run(job, report)
    assert len(conflict_posts(bot, mark)) == 1
