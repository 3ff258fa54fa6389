"""Request signatures and who may act."""

from __future__ import annotations

import time

import pytest
from slack_bolt import Respond

from bot.listeners import commands
from sync_core import store
from sync_core.domain.models import RunStatus, RunTrigger

from .conftest import ADMIN, CHANNEL, GROUP_ADMIN, OTHER, Bot
from .flows import fill_details, is_update, open_create
from .helpers import make_job


def test_forged_and_expired_signatures_are_rejected(bot: Bot) -> None:
    user = bot.admin
    body = user.command_body("list")
    assert user.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64).status == 401
    old = int(time.time()) - 6 * 60
    assert user.post(body, "application/x-www-form-urlencoded", timestamp=old).status == 401
    wrong_secret = bot.user(ADMIN)
    wrong_secret.signing_secret = "not-the-secret"
    assert wrong_secret.command("list").status == 401
    mark = bot.double.mark()
    assert user.post(body, "application/x-www-form-urlencoded").status == 200
    bot.double.wait_for(lambda c: c.method == "response_url", after=mark)
    assert len(bot.double.calls_to("response_url")) == 1  # only the correctly signed request was served


def refused(bot: Bot, text: str) -> dict:
    mark = bot.double.mark()
    assert bot.other.command(text).status == 200
    return bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args


def test_non_admins_are_refused_and_nothing_changes(bot: Bot) -> None:
    make_job(bot)
    for text in ("create", "edit Partners", "run Partners", "pause Partners", "resume Partners", "delete Partners"):
        answer = refused(bot, text)
        assert answer["response_type"] == "ephemeral" and "Only ContactSync admins" in answer["text"], text
        assert f"<@{ADMIN}>" in answer["text"]
    assert not bot.double.calls_to("views.open") and not bot.double.calls_to("chat.postMessage")
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None and job.enabled
        assert store.last_runs(session, job_id=job.id) == []
        assert [e.action for e in store.audit_events(session)] == ["create"]
    # reading is open to everyone
    assert "Partners" in str(refused(bot, "list")["blocks"])


def test_a_forged_submission_from_a_non_admin_changes_nothing(bot: Bot) -> None:
    fill_details(bot, bot.admin, name="Sneaky")
    other = bot.other
    bot.double.stacks[OTHER] = list(bot.double.stacks[ADMIN])  # pretend the non-admin holds the modal
    assert other.suggest("source_user", "ali") == []
    assert bot.admin.suggest("source_user", "ali")
    answer = other.submit().json()
    assert answer["response_action"] == "update" and "Only ContactSync admins" in str(answer["view"])
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []


def test_members_of_the_admin_user_group_may_act(bot: Bot) -> None:
    user = bot.user(GROUP_ADMIN)
    mark = bot.double.mark()
    assert user.command("create").status == 200
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert bot.double.calls_to("usergroups.users.list")


def test_app_home_lists_jobs_with_buttons_for_admins_only(bot: Bot) -> None:
    make_job(bot, "Partners")
    mark = bot.double.mark()
    bot.admin.open_home()
    bot.other.open_home()
    bot.double.wait_for(lambda c: c.method == "views.publish" and c.args["user_id"] == OTHER, after=mark)
    bot.double.wait_for(lambda c: c.method == "views.publish" and c.args["user_id"] == ADMIN, after=mark)
    admin_home, other_home = bot.double.home(ADMIN), bot.double.home(OTHER)
    assert admin_home is not None and other_home is not None
    buttons = {e["action_id"] for b in admin_home["blocks"] for e in [b.get("accessory") or {}, *b.get("elements", [])]
               if isinstance(e, dict) and e.get("type") == "button"}
    assert {"home_create", "home_run", "home_edit", "home_pause", "home_delete"} <= buttons
    assert "Partners" in str(other_home["blocks"]) and "home_run" not in str(other_home["blocks"])
    # the refused click leaves the job alone and says why
    mark = bot.double.mark()
    bot.other.click("home_pause", "Partners", view=admin_home)
    bot.double.wait_for(lambda c: c.method == "views.publish" and "Only ContactSync admins" in str(c.args["view"]),
                        after=mark)
    # an admin pauses from Home; Home is re-published with Resume
    mark = bot.double.mark()
    bot.admin.click_home("home_pause", "Partners")
    bot.double.wait_for(lambda c: c.method == "views.publish" and "home_resume" in str(c.args["view"]), after=mark)
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and not job.enabled
    # Run now from Home (of the paused sync): announced in the alert channel, the run's own report in its
    # thread, Home refreshed saying so; the run is recorded as started from Slack
    mark = bot.double.mark()
    bot.admin.click_home("home_run", "Partners")
    started = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "started" in c.args["text"], after=mark)
    assert started.args["channel"] == CHANNEL
    report = bot.double.wait_for(lambda c: c.method == "chat.postMessage"
                                 and c.args.get("thread_ts") == started.answer["ts"], after=mark, timeout=30)
    count = bot.google.seed.contact_count
    summary = report.args["text"]
    assert summary.startswith(f":white_check_mark: Sync *Partners* ok: {count} created"), summary
    bot.double.wait_for(lambda c: c.method == "views.publish" and c.args["user_id"] == ADMIN
                        and "Running *Partners*" in str(c.args["view"]), after=mark)
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None
        assert [(r.trigger, r.status) for r in store.last_runs(session, job_id=job.id)] == [
            (RunTrigger.slack, RunStatus.ok)]
    # Create from Home opens the modal
    mark = bot.double.mark()
    bot.admin.click_home("home_create")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert bot.problems() == []


def test_home_edit_opens_the_prefilled_modal(bot: Bot) -> None:
    make_job(bot, "Partners")
    mark = bot.double.mark()
    bot.admin.open_home()
    bot.double.wait_for(lambda c: c.method == "views.publish", after=mark)
    bot.admin.click_home("home_edit", "Partners")
    bot.double.wait_for(is_update, after=mark)
    assert bot.admin.modal()["callback_id"] == "cs_details"
    open_create(bot, bot.admin)


def test_a_new_subcommand_not_marked_read_only_is_refused_to_non_admins(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []

    def probe(_ctx: object, command: dict, _name: str, respond: Respond) -> None:
        called.append(command["user_id"])
        respond(text="probed", response_type="ephemeral", replace_original=False)

    monkeypatch.setitem(commands.SUBCOMMANDS, "probe", commands.Subcommand("probe", probe, "a probe"))
    answer = refused(bot, "probe")
    assert "Only ContactSync admins" in answer["text"] and called == []
    mark = bot.double.mark()
    assert bot.admin.command("probe").status == 200
    assert bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"] == "probed"
    assert called == [ADMIN]
