"""Every `/contactsync` subcommand, answered over HTTP and through the Web API double."""

from __future__ import annotations

import time

from sync_core import store
from sync_core.domain.models import RunStatus, RunTrigger

from .conftest import ADMIN, CHANNEL, Bot
from .flows import is_update
from .helpers import make_job


def reply(bot: Bot, mark: int) -> dict:
    return bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args


def run(bot: Bot, text: str, user: str = ADMIN) -> dict:
    mark = bot.double.mark()
    assert bot.user(user).command(text).status == 200
    return reply(bot, mark)


def test_help_and_unknown_subcommand_answer_with_usage(bot: Bot) -> None:
    for text in ("", "help"):
        answer = run(bot, text)
        assert answer["response_type"] == "ephemeral" and "/contactsync create" in str(answer["blocks"])
    answer = run(bot, "frobnicate")
    assert "frobnicate" in str(answer["blocks"]) and "/contactsync list" in str(answer["blocks"])
    assert run(bot, "show")["text"] == "Which sync? `/contactsync show NAME`"
    assert bot.problems() == []


def test_list_and_show(bot: Bot) -> None:
    assert "No syncs yet" in str(run(bot, "list")["blocks"])
    make_job(bot, "Partners", "group:sales@example.com")
    answer = run(bot, "list")
    assert answer["response_type"] == "ephemeral"
    text = str(answer["blocks"])
    assert "Partners" in text and "never run" in text and "every 1h" in text
    detail = str(run(bot, 'show "Partners"')["blocks"])
    assert "group:sales@example.com" in detail and "*create*" in detail and f"<@{ADMIN}>" not in detail
    assert "no sync named 'Nope'" in run(bot, "show Nope")["text"]
    assert bot.problems() == []


def test_run_reports_in_a_thread_and_records_the_run(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com", alert=None)
    mark = bot.double.mark()
    assert bot.admin.command("run Partners").status == 200
    started = bot.double.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
    assert started.args["channel"] == CHANNEL and "started a run" in started.args["text"]
    report = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and
                                 c.args.get("thread_ts") == started.answer["ts"], after=mark, timeout=30)
    assert ":white_check_mark:" in report.args["text"]
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None
        assert [r.status for r in store.last_runs(session, job_id=job.id)] == [RunStatus.ok]
    listing = str(run(bot, "list")["blocks"])
    assert "ok" in listing and "never run" not in listing
    assert bot.problems() == []


def finished_runs(bot: Bot, name: str = "Partners", timeout: float = 30) -> list[tuple[RunTrigger, RunStatus]]:
    """The job's runs (trigger, status), newest first, once none is running (waiting for that)."""
    deadline = time.monotonic() + timeout
    while True:
        with store.session_scope(bot.runtime.db) as session:
            job = store.get_job_by_name(session, name=name)
            assert job is not None and job.id is not None
            runs = [(r.trigger, r.status) for r in store.last_runs(session, job_id=job.id)]
        if (runs and all(status is not RunStatus.running for _, status in runs)) or time.monotonic() > deadline:
            return runs
        time.sleep(0.05)


def test_run_in_a_channel_the_bot_cannot_post_to(bot: Bot) -> None:
    make_job(bot, "Partners", alert=None)
    bot.double.unreachable_channels.add(CHANNEL)
    answer = run(bot, "run Partners")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Started *Partners*. I can't post in this channel, so the report will be in App Home."
    assert finished_runs(bot) == [(RunTrigger.slack, RunStatus.ok)], "the run was queued, and ran"


def test_pause_and_resume_are_announced_and_audited(bot: Bot) -> None:
    make_job(bot)
    answer = run(bot, "pause Partners")
    assert answer["response_type"] == "in_channel" and "paused" in answer["text"]
    assert "paused" in str(run(bot, "list")["blocks"])
    answer = run(bot, "resume Partners")
    assert answer["response_type"] == "in_channel" and "resumed" in answer["text"]
    detail = str(run(bot, "show Partners")["blocks"])
    assert "*pause*" in detail and "*resume*" in detail and f"<@{ADMIN}>" in detail


def test_pausing_a_paused_sync_says_so_and_records_nothing(bot: Bot) -> None:
    make_job(bot)
    assert run(bot, "pause Partners")["response_type"] == "in_channel"
    answer = run(bot, "pause partners")
    assert answer["response_type"] == "ephemeral", answer
    assert "*Partners* is already paused; nothing changed" in answer["text"]
    answer = run(bot, "resume Partners")
    assert answer["response_type"] == "in_channel" and "resumed" in answer["text"]
    answer = run(bot, "resume Partners")
    assert answer["response_type"] == "ephemeral" and "is already enabled" in answer["text"], answer
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None
        actions = [e.action for e in store.audit_events(session, job_id=job.id)]
    assert actions.count("pause") == 1 and actions.count("resume") == 1, actions


def test_edit_reuses_the_modal_prefilled_and_keeps_history(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com")
    admin, mark = bot.admin, bot.double.mark()
    admin.command("edit Partners")
    bot.double.wait_for(is_update, after=mark)  # groups loaded after opening
    view = admin.modal()
    name = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "name")
    assert name["element"]["initial_value"] == "Partners"
    group = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "group_select")
    assert group["element"]["initial_option"]["value"] == bot.google.seed.source_group_name
    admin.enter("schedule", "every 6h")
    assert admin.submit().json()["response_action"] == "push"
    step2 = admin.modal()
    assert any((b.get("accessory") or {}).get("value") == "email:dave@example.com" for b in step2["blocks"])
    mark = bot.double.mark()
    admin.click("target_remove", "email:dave@example.com")
    bot.double.wait_for(is_update, after=mark)
    admin.enter("pick_groups", [("group:engineering@example.com", "Engineering")])
    assert admin.submit().json() == {"response_action": "clear"}
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None and job.schedule == "every 6h"
        assert [(s.kind.value, s.value) for s in store.list_selectors(session, job_id=job.id)] == [
            ("group", "engineering@example.com")]
        assert [e.action for e in store.audit_events(session, job_id=job.id)] == ["edit", "create"]
    assert bot.problems() == []


def test_delete_asks_what_becomes_of_the_contacts_and_can_remove_them(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com")
    bot.runtime.engine.run("Partners")
    dave = bot.google.ws.user_by_key("dave@example.com")
    assert dave is not None
    contacts = lambda: len(bot.google.ws.people_of(dave["id"])["contacts"])  # noqa: E731
    held = contacts()
    assert held > 0
    admin, mark = bot.admin, bot.double.mark()
    admin.command("delete Partners")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    view = admin.modal()
    (choice,) = [b for b in view["blocks"] if b.get("block_id") == "contacts"]
    assert view["callback_id"] == "cs_delete" and "written contacts at 1 account" in str(view["blocks"])
    assert [(o["value"], o["text"]["text"]) for o in choice["element"]["options"]] == [
        ("remove", "Remove the synced contacts"), ("keep", "Keep them as the users' own")]
    answer = admin.submit().json()  # no choice made: asked again, nothing deleted
    assert answer == {"response_action": "errors",
                      "errors": {"contacts": "Choose what becomes of the synced contacts."}}
    assert contacts() == held
    admin.enter("contacts_choice", "remove")
    assert admin.submit().json() == {"response_action": "clear"}
    done = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "deleted" in c.args["text"],
                               after=mark, timeout=30)
    count = bot.google.seed.contact_count
    assert f"• dave@example.com: removed {count} contacts and the label" in done.args["text"]
    assert contacts() == 0
    with store.session_scope(bot.runtime.db) as session:
        assert store.get_job_by_name(session, name="Partners") is None
        assert [(e.action, e.detail) for e in store.audit_events(session)][:1] == [("delete", {"contacts": "removed"})]


def test_delete_that_keeps_the_contacts_releases_them_to_the_user(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com")
    bot.runtime.engine.run("Partners")
    dave = bot.google.ws.user_by_key("dave@example.com")
    assert dave is not None
    held = lambda: bot.google.ws.people_of(dave["id"])["contacts"]  # noqa: E731
    before = set(held())
    admin, mark = bot.admin, bot.double.mark()
    admin.command("delete Partners")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    admin.enter("contacts_choice", "keep")
    assert admin.submit().json() == {"response_action": "clear"}
    done = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "deleted" in c.args["text"], after=mark,
                               timeout=30)
    count = bot.google.seed.contact_count
    assert (f"• dave@example.com: released {count} contacts and the label: they are the user's own now"
            in done.args["text"])
    assert set(held()) == before, "every contact stays"
    assert not any(d["key"].startswith("contactsync:") for p in held().values() for d in p.get("clientData", []))
    labels = [g for g in bot.google.ws.people_of(dave["id"])["groups"].values() if g.get("name") == "Partners"]
    assert len(labels) == 1 and not labels[0].get("clientData")
    with store.session_scope(bot.runtime.db) as session:
        assert store.get_job_by_name(session, name="Partners") is None
        assert [(e.action, e.detail) for e in store.audit_events(session)][:1] == [("delete", {"contacts": "kept"})]


def test_a_sync_that_never_wrote_is_deleted_without_the_question(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com")
    admin, mark = bot.admin, bot.double.mark()
    admin.command("delete Partners")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert "has not written to any account" in str(admin.modal()["blocks"])
    assert admin.submit().json() == {"response_action": "clear"}
    done = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "deleted" in c.args["text"], after=mark)
    assert done.args["text"] == f"<@{ADMIN}> deleted the sync *Partners*."


def test_a_delete_that_cannot_clean_every_account_keeps_the_job_until_the_retry_from_app_home(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com", "email:bob@example.com")
    bot.runtime.engine.run("Partners")
    ws, control = bot.google.ws, bot.google.handle.control
    held = lambda email: len(ws.people_of(ws.user_by_key(email)["id"])["contacts"])  # type: ignore[index]  # noqa: E731
    assert held("dave@example.com") > 0 and held("bob@example.com") > 0
    control.suspend_user("dave@example.com")  # Google refuses to act as a suspended user

    admin, mark = bot.admin, bot.double.mark()
    admin.command("delete Partners")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    admin.enter("contacts_choice", "remove")
    assert admin.submit().json() == {"response_action": "clear"}
    kept = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "Could not delete" in c.args["text"],
                               after=mark, timeout=30)
    assert "dave@example.com" in kept.args["text"] and "marked as deleting" in kept.args["text"]
    assert held("bob@example.com") == 0 and held("dave@example.com") > 0
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.deleting and not job.enabled

    # Seen as such: App Home offers only the retry; show and list say it; "run now" and resume are refused.
    mark = bot.double.mark()
    admin.open_home()
    home = bot.double.wait_for(lambda c: c.method == "views.publish", after=mark).args["view"]
    assert "being deleted" in str(home["blocks"])
    buttons = {e["action_id"] for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert {"home_delete"} <= buttons and not {"home_run", "home_resume", "home_edit"} & buttons
    assert "being deleted" in str(run(bot, "show Partners")["blocks"])
    assert "being deleted" in str(run(bot, "list")["blocks"])
    assert "being deleted" in str(run(bot, "run Partners"))
    assert "being deleted" in str(run(bot, "resume Partners"))
    assert held("bob@example.com") == 0

    control.unsuspend_user("dave@example.com")
    mark = bot.double.mark()
    admin.click_home("home_delete", "Partners")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert "under way: it removes the synced contacts, and 1 account still holds them" in str(admin.modal()["blocks"])
    assert admin.submit().json() == {"response_action": "clear"}  # the retry removes contacts, as first asked
    done = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "deleted" in c.args["text"]
                               and "Could not" not in c.args["text"], after=mark, timeout=30)
    assert f"• dave@example.com: removed {bot.google.seed.contact_count} contacts and the label" in done.args["text"]
    assert held("dave@example.com") == 0
    with store.session_scope(bot.runtime.db) as session:
        assert store.get_job_by_name(session, name="Partners") is None
    assert bot.problems() == []
