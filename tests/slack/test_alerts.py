"""Alerts end to end: the Google emulator breaks something, a run alerts in the job's channel (the Slack
double records it), an admin presses the fix (a signed block_actions request through the real Bolt app over
HTTP), the message says who did what, and the next run is clean. The bot runs with the scheduler, as
`contactsync serve` runs it."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from slack_double import Call
from sync_core import store
from sync_core.domain.models import Alert, AlertState, RunStatus, RunTrigger, SelectorCreate, SelectorKind, TargetStatus
from sync_core.domain.reports import RunReport, TargetReport
from sync_core.scheduling.scheduler import RunRequest, RunResult
from tests.conftest import Google
from tests.integration.helpers import as_user, ours, source_keys, user_id

from .conftest import ADMIN, CHANNEL, OTHER, Bot, start_bot
from .flows import is_update
from .helpers import make_job

JSON = dict[str, Any]
WAIT = 30.0


@pytest.fixture
def sbot(google: Google, tmp_path: Path) -> Iterator[Bot]:
    yield from start_bot(google, tmp_path, with_scheduler=True)


# --- helpers ---------------------------------------------------------------------------------------------
def job_id(bot: Bot, name: str = "Partners") -> int:
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name=name)
        assert job is not None and job.id is not None
        return job.id


def scheduled_run(bot: Bot, name: str = "Partners") -> RunReport:
    """A run as the scheduler starts it (the engine, then the notifier), waited for."""
    return bot.runtime.engine.run(name, trigger=RunTrigger.schedule)


def is_alert(call: Call) -> bool:
    return (call.method == "chat.postMessage" and bool(call.answer.get("ok")) and not call.args.get("thread_ts")
            and "needs attention" in str(call.args.get("text")))


def alerts_posted(bot: Bot, after: int = 0) -> list[Call]:
    return [c for c in bot.double.calls[after:] if is_alert(c)]


def buttons(blocks: list[JSON]) -> dict[str, str]:
    """{action_id: button text} of a message's buttons."""
    return {e["action_id"]: e["text"]["text"] for b in blocks for e in b.get("elements", []) + [b.get("accessory")]
            if isinstance(e, dict) and e.get("type") == "button"}


def updates_of(bot: Bot, ts: str, after: int = 0) -> list[Call]:
    return [c for c in bot.double.calls[after:] if c.method == "chat.update" and c.args.get("ts") == ts]


def press(bot: Bot, blocks: list[JSON], action: str, *, user: str = ADMIN) -> int:
    mark = bot.double.mark()
    assert bot.user(user).click_message(blocks, action).status == 200
    return mark


def ephemeral_after(bot: Bot, mark: int) -> str:
    return str(bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args["text"])


def thread_report(bot: Bot, ts: str, mark: int) -> Call:
    """The report of the run a fix queued, posted in the alert's thread."""
    return bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == ts
                               and "Sync *" in str(c.args.get("text")), after=mark, timeout=WAIT)


def selectors(bot: Bot) -> list[tuple[str, str, str | None]]:
    with store.session_scope(bot.runtime.db) as session:
        return [(s.kind.value, s.value, s.resolved_user_id) for s in store.list_selectors(session, job_id=job_id(bot))]


def alert_states(bot: Bot) -> list[tuple[str, AlertState]]:
    with store.session_scope(bot.runtime.db) as session:
        rows = session.exec(select(Alert).order_by(col(Alert.id)))
        return [(a.kind.value, a.state) for a in rows]


# --- renamed target ------------------------------------------------------------------------------------
def test_renamed_target_alert_and_readd(sbot: Bot) -> None:
    bot, control = sbot, sbot.google.handle.control
    make_job(bot, "Partners", "email:bob@example.com", "email:carol@example.com")
    assert scheduled_run(bot).status is RunStatus.ok
    assert alerts_posted(bot) == []
    bob_id = user_id(bot.google, "bob@example.com")
    before = {k: p["resourceName"] for k, p in ours(bot.google, "bob@example.com").items()}

    control.rename_user("bob@example.com", "robert@example.com")
    mark = bot.double.mark()
    report = scheduled_run(bot)
    assert report.status is RunStatus.ok  # followed by id: still synced
    [alert] = alerts_posted(bot, mark)
    assert alert.args["channel"] == CHANNEL
    text = str(alert.args["blocks"])
    assert "*bob@example.com* was renamed to *robert@example.com*" in text
    assert buttons(alert.args["blocks"]) == {"alert_readd": "Re-add as robert@example.com",
                                             "alert_remove": "Remove from sync"}

    mark = bot.double.mark()
    scheduled_run(bot)  # the same failure: not posted again
    assert alerts_posted(bot, mark) == []

    ts = alert.answer["ts"]
    mark = press(bot, alert.args["blocks"], "alert_readd")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> re-added bob@example.com as robert@example.com" in str(update.args["blocks"])
    assert "alert_readd" not in buttons(update.args["blocks"])
    assert ":white_check_mark:" in str(thread_report(bot, ts, mark).args["text"])
    assert selectors(bot) == [("email", "carol@example.com", user_id(bot.google, "carol@example.com")),
                              ("email", "robert@example.com", bob_id)]
    after = {k: p["resourceName"] for k, p in ours(bot.google, "robert@example.com").items()}
    assert after == before and set(after) == source_keys(bot.google)  # same contacts: none re-created

    mark = bot.double.mark()
    assert scheduled_run(bot).status is RunStatus.ok
    assert alerts_posted(bot, mark) == [] and updates_of(bot, ts, mark) == []

    # pressed twice: says who did it, changes nothing
    mark = press(bot, alert.args["blocks"], "alert_readd")
    assert f"Already done: <@{ADMIN}> re-added bob@example.com" in ephemeral_after(bot, mark)
    assert updates_of(bot, ts, mark) == []
    with store.session_scope(bot.runtime.db) as session:
        assert [e.action for e in store.audit_events(session, job_id=job_id(bot))].count("fix") == 1
    assert bot.problems() == []


def test_non_admin_press_is_refused_and_changes_nothing(sbot: Bot) -> None:
    bot = sbot
    make_job(bot, "Partners", "email:bob@example.com", "email:carol@example.com")
    bot.google.handle.control.rename_user("bob@example.com", "robert@example.com")
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    mark = press(bot, alert.args["blocks"], "alert_remove", user=OTHER)
    assert "Only ContactSync admins" in ephemeral_after(bot, mark)
    assert [s[1] for s in selectors(bot)] == ["bob@example.com", "carol@example.com"]
    assert alert_states(bot) == [("target_renamed", AlertState.open)]
    assert updates_of(bot, alert.answer["ts"], mark) == []


# --- deleted and suspended targets -------------------------------------------------------------------
def test_deleted_target_keep_then_remove(sbot: Bot) -> None:
    bot = sbot
    make_job(bot, "Partners", "email:bob@example.com", "email:dave@example.com")
    scheduled_run(bot)
    bot.google.handle.control.delete_user("dave@example.com")
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    assert "*dave@example.com* no longer exists in Google Workspace" in str(blocks)
    assert buttons(blocks) == {"alert_remove": "Remove from sync", "alert_keep": "Keep and retry later"}

    mark = press(bot, blocks, "alert_keep")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> chose to keep it" in str(update.args["blocks"])
    assert buttons(update.args["blocks"]) == {"alert_remove": "Remove from sync"}
    thread_report(bot, ts, mark)
    mark = bot.double.mark()
    scheduled_run(bot)  # still missing: kept, so not posted again
    assert alerts_posted(bot, mark) == []
    mark = press(bot, blocks, "alert_keep")
    assert "Already kept by" in ephemeral_after(bot, mark)

    mark = press(bot, update.args["blocks"], "alert_remove")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> removed email:dave@example.com from the sync" in str(update.args["blocks"])
    assert ":white_check_mark:" in str(thread_report(bot, ts, mark).args["text"])
    assert [s[1] for s in selectors(bot)] == ["bob@example.com"]
    assert alert_states(bot) == [("target_missing", AlertState.fixed)]
    with store.session_scope(bot.runtime.db) as session:
        assert store.last_runs(session, job_id=job_id(bot), limit=1)[0].status is RunStatus.ok
    assert bot.problems() == []


def test_removing_the_only_target_is_refused(sbot: Bot) -> None:
    bot = sbot
    make_job(bot, "Partners", "email:dave@example.com")
    bot.google.handle.control.delete_user("dave@example.com")
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    mark = press(bot, alert.args["blocks"], "alert_remove")
    assert "the sync's only target; pause or delete the sync instead" in ephemeral_after(bot, mark)
    assert updates_of(bot, alert.answer["ts"], mark) == [] and len(selectors(bot)) == 1
    assert alert_states(bot) == [("target_missing", AlertState.open)]


def test_a_cleared_failure_updates_the_original_message(sbot: Bot) -> None:
    bot, control = sbot, sbot.google.handle.control
    make_job(bot, "Partners", "email:bob@example.com", "email:carol@example.com")
    control.suspend_user("carol@example.com")
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    assert "*carol@example.com* is suspended" in str(alert.args["blocks"])
    control.unsuspend_user("carol@example.com")
    mark = bot.double.mark()
    assert scheduled_run(bot).status is RunStatus.ok
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == alert.answer["ts"],
                                 after=mark)
    assert "Resolved: it syncs again" in str(update.args["blocks"]) and buttons(update.args["blocks"]) == {}
    assert "dealt with" in update.args["text"]
    reply = bot.double.wait_for(lambda c: c.args.get("thread_ts") == alert.answer["ts"], after=mark)
    assert "carol@example.com: it syncs again" in reply.args["text"]
    # a press on the stale message
    mark = press(bot, alert.args["blocks"], "alert_remove")
    assert "Already resolved" in ephemeral_after(bot, mark)
    assert len(selectors(bot)) == 2


# --- renamed source --------------------------------------------------------------------------------------
def test_renamed_source_use_new_address(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com")
    scheduled_run(bot)
    before = {k: p["resourceName"] for k, p in ours(bot.google, "bob@example.com").items()}
    bot.google.handle.control.rename_user(seed.source_email, "alice.new@example.com")
    assert scheduled_run(bot).source_renamed_to == "alice.new@example.com"
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    assert f"The source user *{seed.source_email}* was renamed to *alice.new@example.com*" in str(blocks)
    assert buttons(blocks) == {"alert_use_source": "Use alice.new@example.com as source",
                               "alert_delete": "Delete sync"}

    mark = press(bot, blocks, "alert_use_source")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> made alice.new@example.com the source" in str(update.args["blocks"])
    assert ":white_check_mark:" in str(thread_report(bot, ts, mark).args["text"])
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job(session, job_id=job_id(bot))
        assert job is not None
        assert (job.source_email, job.source_user_id) == ("alice.new@example.com", seed.source_user_id)
    assert {k: p["resourceName"] for k, p in ours(bot.google, "bob@example.com").items()} == before
    mark = bot.double.mark()
    report = scheduled_run(bot)
    assert report.source_renamed_to is None and report.status is RunStatus.ok
    assert alerts_posted(bot, mark) == []
    assert bot.problems() == []


def test_delete_sync_from_an_alert_then_a_press_on_it(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com")
    bot.google.handle.control.rename_user(seed.source_email, "alice.new@example.com")
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    bot.ctx.runs.follow_schedule(job_id(bot))
    assert bot.scheduler is not None and bot.scheduler.scheduled_job_ids() == [job_id(bot)]

    mark = press(bot, blocks, "alert_delete")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert bot.admin.modal()["callback_id"] == "cs_delete"
    bot.admin.enter("contacts_choice", "remove")
    bot.admin.submit()
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> deleted the sync" in str(update.args["blocks"])
    bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "deleted the sync" in str(c.args.get("text")),
                        after=mark)
    assert bot.scheduler.scheduled_job_ids() == []

    mark = press(bot, blocks, "alert_use_source")
    assert "no longer exists" in ephemeral_after(bot, mark)
    assert updates_of(bot, ts, mark) == []


# --- missing source group ---------------------------------------------------------------------------------
def test_missing_group_pick_another_group(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com")
    scheduled_run(bot)
    as_user(bot.runtime, seed.source_email).contactGroups().delete(
        resourceName=seed.source_group_resource_name, deleteContacts=False).execute()
    report = scheduled_run(bot)
    assert report.status is RunStatus.failed and report.error_kind == "source_group_missing"
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    assert "The source contact group of" in str(blocks) and "no longer exists" in str(blocks)
    assert buttons(blocks) == {"alert_pick_group": "Pick another group", "alert_pause": "Pause sync"}

    mark = press(bot, blocks, "alert_pick_group")
    bot.double.wait_for(is_update, after=mark)
    admin = bot.admin
    assert admin.modal()["callback_id"] == "cs_details"
    mark = bot.double.mark()
    admin.choose("group_select", (seed.family_group_name, seed.family_group_name))
    bot.double.wait_for(is_update, after=mark)
    assert admin.submit().json()["response_action"] == "push"
    # another group replaces every copy bob holds: the edit shows that and asks first
    confirm = admin.submit().json()
    assert confirm["response_action"] == "push" and confirm["view"]["callback_id"] == "cs_confirm_edit"
    assert "contacts replaced by the new source's" in str(confirm["view"]["blocks"])
    mark = bot.double.mark()
    assert admin.submit().json() == {"response_action": "clear"}
    # the edit queues a run at once (the job had an open alert); the run clears it
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark,
                                 timeout=WAIT)
    assert "Resolved: it syncs again" in str(update.args["blocks"])
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job(session, job_id=job_id(bot))
        assert job is not None and job.source_group_name == seed.family_group_name
    assert alert_states(bot) == [("source_group_missing", AlertState.resolved)]
    assert bot.problems() == []


def test_missing_group_pause(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com")
    bot.ctx.runs.follow_schedule(job_id(bot))
    assert bot.ctx.runs.next_run_at(job_id(bot)) is not None
    as_user(bot.runtime, seed.source_email).contactGroups().delete(
        resourceName=seed.source_group_resource_name, deleteContacts=False).execute()
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    mark = press(bot, alert.args["blocks"], "alert_pause")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == alert.answer["ts"],
                                 after=mark)
    assert f"<@{ADMIN}> paused the sync" in str(update.args["blocks"])
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job(session, job_id=job_id(bot))
        assert job is not None and not job.enabled
    assert bot.ctx.runs.next_run_at(job_id(bot)) is None  # unscheduled at once


# --- scale and transient failures (fake reports through the real end of a run) -----------------------------
def failing(n: int, status: TargetStatus = TargetStatus.not_found) -> list[TargetReport]:
    return [TargetReport(f"user{i:04d}@example.com", f"u-{i:04d}", status, "no user has this address")
            for i in range(n)]


def fake_run(bot: Bot, targets: list[TargetReport], status: RunStatus = RunStatus.partial) -> None:
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job(session, job_id=job_id(bot))
        assert job is not None and job.id is not None
        run = store.start_run(session, job_id=job.id, trigger=RunTrigger.schedule)
    report = RunReport(job.id, job.name, False, run_id=run.id, status=status, source_email=job.source_email)
    report.targets.extend(targets)
    bot.runtime.engine.after_run(job, report)  # what every run ends with: alerts recorded, then Slack told


def test_500_failing_targets_post_one_message_within_limits(bot: Bot) -> None:
    make_job(bot, "Partners", "email:bob@example.com")
    mark = bot.double.mark()
    fake_run(bot, failing(500))
    posts = [c for c in bot.double.calls[mark:] if c.method == "chat.postMessage"]
    assert len(posts) == 1
    [alert] = posts
    ts = alert.answer["ts"]
    assert len(alert.args["blocks"]) <= 50
    assert sum(1 for b in alert.args["blocks"] if b["type"] == "actions") == 20
    update = updates_of(bot, ts, mark)[-1]  # re-rendered with the "show all" button (it needs the ts)
    assert "…and 480 more (480 missing); 480 still open." in str(update.args["blocks"])
    mark = press(bot, update.args["blocks"], "alert_list")
    view = bot.double.wait_for(lambda c: c.method == "views.open", after=mark).args["view"]
    assert "Showing 1–40 of 500" in str(view["blocks"])
    mark = bot.double.mark()
    bot.admin.click("alert_list_page", f"{CHANNEL}|{ts}|1")
    view = bot.double.wait_for(lambda c: c.method == "views.update", after=mark).args["view"]
    assert "Showing 41–80 of 500" in str(view["blocks"])

    mark = bot.double.mark()
    fake_run(bot, failing(500))  # the same failures: nothing new
    assert [c.method for c in bot.double.calls[mark:] if c.method.startswith("chat.")] == []
    mark = bot.double.mark()
    fake_run(bot, [TargetReport(t.email, t.user_id, TargetStatus.ok) for t in failing(500)], RunStatus.ok)
    chat = [c for c in bot.double.calls[mark:] if c.method.startswith("chat.")]
    assert [c.method for c in chat] == ["chat.update", "chat.postMessage"]  # the update, one thread reply
    assert "all 500 problems here are dealt with" in chat[0].args["text"]
    assert "…and 490 more" in chat[1].args["text"] and chat[1].args["thread_ts"] == ts
    assert bot.problems() == []


def test_quota_is_alerted_only_after_n_consecutive_runs(bot: Bot) -> None:
    make_job(bot, "Partners", "email:bob@example.com")
    quota = [TargetReport("bob@example.com", "u-bob", TargetStatus.quota, "rate limit exceeded")]
    fake_run(bot, quota)
    fake_run(bot, quota)
    assert alerts_posted(bot) == [] and alert_states(bot) == [("target_transient", AlertState.pending)]
    fake_run(bot, [TargetReport("bob@example.com", "u-bob", TargetStatus.ok)], RunStatus.ok)
    assert alert_states(bot) == []  # cleared before it was worth telling: forgotten
    for _ in range(3):
        fake_run(bot, quota)
    [alert] = alerts_posted(bot)
    assert "has failed for 3 runs in a row" in str(alert.args["blocks"]) and buttons(alert.args["blocks"]) == {}
    fake_run(bot, quota)
    assert len(alerts_posted(bot)) == 1


# --- the scheduler behind the bot ----------------------------------------------------------------------------
def test_run_now_while_running_says_so(sbot: Bot) -> None:
    bot = sbot
    make_job(bot, "Partners", "email:bob@example.com")
    with store.session_scope(bot.runtime.db) as session:  # another process is running it
        assert store.acquire_lease(session, job_id=job_id(bot), holder="elsewhere", ttl_seconds=600)
    mark = bot.double.mark()
    assert bot.admin.command("run Partners").status == 200
    assert "is already running; I did not start another run" in ephemeral_after(bot, mark)
    assert bot.double.calls_to("chat.postMessage") == []
    with store.session_scope(bot.runtime.db) as session:
        store.release_lease(session, job_id=job_id(bot), holder="elsewhere")
    results: queue.Queue[RunResult] = queue.Queue()
    assert bot.ctx.runs.run_now(job_id(bot), trigger=RunTrigger.slack, on_done=results.put) is RunRequest.queued
    assert results.get(timeout=WAIT).report is not None


def test_pause_resume_and_show_follow_the_schedule(sbot: Bot) -> None:
    bot = sbot
    make_job(bot, "Partners", "email:bob@example.com", "email:dave@example.com")
    jid = job_id(bot)
    bot.google.handle.control.delete_user("dave@example.com")
    scheduled_run(bot)
    for text, scheduled in (("pause Partners", False), ("resume Partners", True)):
        mark = bot.double.mark()
        bot.admin.command(text)
        bot.double.wait_for(lambda c: c.method == "response_url", after=mark)
        assert (bot.ctx.runs.next_run_at(jid) is not None) is scheduled, text
    mark = bot.double.mark()
    bot.admin.command("show Partners")
    detail = str(bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args["blocks"])
    assert "<!date^" in detail and "(every 1h)" in detail  # the scheduler's next run time
    assert "Failures in the last run (1)" in detail and "dave@example.com: not_found" in detail
    assert "Open alerts (1)" in detail
    mark = bot.double.mark()
    bot.admin.open_home()
    home = bot.double.wait_for(lambda c: c.method == "views.publish", after=mark).args["view"]
    assert "Recent runs:" in str(home["blocks"]) and "1 open alert" in str(home["blocks"])
    assert bot.problems() == []


def test_selector_kinds_are_untouched_by_target_fixes(sbot: Bot) -> None:
    """Remove from sync on a missing Google Group removes that group selector only."""
    bot = sbot
    make_job(bot, "Partners", "email:bob@example.com", "group:sales@example.com")
    with store.session_scope(bot.runtime.db) as session:
        rows = store.list_selectors(session, job_id=job_id(bot))
        store.set_selectors(session, job_id=job_id(bot), selectors=[
            SelectorCreate(kind=r.kind, value=r.value, resolved_user_id=r.resolved_user_id) for r in rows
        ] + [SelectorCreate(kind=SelectorKind.group, value="gone@example.com")])
    scheduled_run(bot)
    [alert] = alerts_posted(bot)
    assert "*gone@example.com* no longer exists" in str(alert.args["blocks"])
    mark = press(bot, alert.args["blocks"], "alert_remove")
    thread_report(bot, alert.answer["ts"], mark)
    assert [(k, v) for k, v, _ in selectors(bot)] == [("email", "bob@example.com"), ("group", "sales@example.com")]


def test_alerts_slack_refused_are_posted_by_the_next_run(bot: Bot) -> None:
    make_job(bot, "Partners", "email:bob@example.com")
    bot.double.unreachable_channels.add(CHANNEL)
    fake_run(bot, failing(2))
    assert alerts_posted(bot) == [] and alert_states(bot) == [("target_missing", AlertState.open)] * 2
    bot.double.unreachable_channels.discard(CHANNEL)
    fake_run(bot, failing(2))
    [alert] = alerts_posted(bot)
    assert "user0000@example.com" in str(alert.args["blocks"]) and "user0001@example.com" in str(alert.args["blocks"])
    fake_run(bot, failing(2))
    assert len(alerts_posted(bot)) == 1


def test_emptied_source_stops_until_an_admin_confirms_it(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com")
    scheduled_run(bot)
    assert len(ours(bot.google, "bob@example.com")) == seed.contact_count
    as_user(bot.runtime, seed.source_email).contactGroups().members().modify(
        resourceName=seed.source_group_resource_name,
        body={"resourceNamesToRemove": sorted(source_keys(bot.google))}).execute()
    report = scheduled_run(bot)
    assert report.status is RunStatus.failed and report.error_kind == "source_empty"
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    assert buttons(blocks) == {"alert_confirm_empty": "It's meant to be empty", "alert_edit": "Edit sync",
                               "alert_pause": "Pause sync"}
    assert len(ours(bot.google, "bob@example.com")) == seed.contact_count, "nothing deleted before the confirmation"

    mark = press(bot, blocks, "alert_confirm_empty")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> confirmed the empty source" in str(update.args["blocks"])
    thread_report(bot, ts, mark)
    assert ours(bot.google, "bob@example.com") == {}
    with store.session_scope(bot.runtime.db) as session:
        assert [e.action for e in store.audit_events(session, job_id=job_id(bot))][0] == "confirm_empty_source"
    assert bot.problems() == []


# --- one label, one owner --------------------------------------------------------------------------------
def test_a_label_conflict_is_alerted_once_with_a_rename_button(sbot: Bot) -> None:
    bot, google = sbot, sbot.google
    with google.ws.lock:  # zoe is in Alliances; bob is not, yet
        google.ws.directory["users"][user_id(google, "zoe@example.com")]["organizations"] = [
            {"department": "Alliances", "primary": True}]
    make_job(bot, "Partners", "email:bob@example.com")
    make_job(bot, "Alliances", "query:orgDepartment='Alliances'")  # its label is "Partners" too (the group's)
    scheduled_run(bot, "Partners")
    scheduled_run(bot, "Alliances")
    with google.ws.lock:  # the directory moves bob into Alliances: both jobs now reach his account
        google.ws.directory["users"][user_id(google, "bob@example.com")]["organizations"] = [
            {"department": "Alliances", "primary": True}]
    mark = bot.double.mark()
    report = scheduled_run(bot, "Alliances")
    assert {t.email: t.status for t in report.targets}["bob@example.com"] is TargetStatus.conflict
    [alert] = alerts_posted(bot, mark)
    blocks = alert.args["blocks"]
    assert "A label of this sync's name in *bob@example.com*'s contacts belongs to another sync" in str(blocks)
    assert buttons(blocks) == {"alert_rename_label": "Rename this sync's label", "alert_remove": "Remove from sync"}
    scheduled_run(bot, "Alliances")
    assert alerts_posted(bot, mark) == [alert], "alerted once"

    press(bot, blocks, "alert_rename_label")  # the edit form, where the label's name is
    bot.double.wait_for(is_update, after=mark)
    assert bot.admin.modal()["callback_id"] == "cs_details"
    assert "Target group name" in str(bot.admin.modal()["blocks"])
    assert bot.problems() == []


def test_a_shrunken_source_holds_its_deletions_alerts_once_and_apply_lets_the_next_run_delete(sbot: Bot) -> None:
    bot, seed = sbot, sbot.google.seed
    make_job(bot, "Partners", "email:bob@example.com", "email:carol@example.com")
    scheduled_run(bot)
    dropped = sorted(source_keys(bot.google))[:36]  # 60 % of the 60
    as_user(bot.runtime, seed.source_email).contactGroups().members().modify(
        resourceName=seed.source_group_resource_name, body={"resourceNamesToRemove": dropped}).execute()
    report = scheduled_run(bot)
    assert report.status is RunStatus.ok and [t.held for t in report.targets] == [36, 36]
    [alert] = alerts_posted(bot)
    ts, blocks = alert.answer["ts"], alert.args["blocks"]
    assert "Deletions were held back to protect the targets: 72 deletions at 2 accounts" in str(blocks)
    assert buttons(blocks) == {"alert_apply_deletions": "Apply", "alert_pause": "Pause sync"}
    mark = bot.double.mark()
    scheduled_run(bot)  # held again: not posted again
    assert alerts_posted(bot, mark) == []
    for email in ("bob@example.com", "carol@example.com"):
        assert len(ours(bot.google, email)) == seed.contact_count, "nothing deleted before Apply"

    mark = press(bot, blocks, "alert_apply_deletions")
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == ts, after=mark)
    assert f"<@{ADMIN}> applied the held deletions" in str(update.args["blocks"])
    thread_report(bot, ts, mark)  # the run the fix queued
    for email in ("bob@example.com", "carol@example.com"):
        assert set(ours(bot.google, email)) == source_keys(bot.google)
    with store.session_scope(bot.runtime.db) as session:
        assert [e.action for e in store.audit_events(session, job_id=job_id(bot))][0] == "apply_deletions"
    assert alert_states(bot) == [("deletions_held", AlertState.fixed)]
    assert bot.problems() == []
