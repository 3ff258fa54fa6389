"""Safe edits in Slack, through signed requests to the real Bolt app: an edit that deletes contacts shows a
confirm step (what, per account) before anything is saved; targets that match no one are a field error; a
run that reaches no one says so, and its alert opens, then resolves when a run reaches someone again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from sync_core import store
from sync_core.domain.models import Alert, AlertKind, AlertState, RunStatus, RunTrigger
from sync_core.service import PersonalJobSpec
from tests.conftest import Google
from tests.integration.test_query_targets import department_of

from .conftest import ADMIN, Bot, start_bot
from .flows import add_targets, fill_details, is_update
from .helpers import make_job

JSON = dict[str, Any]
NOBODY = "orgDepartment='Nonexistent'"


def targets_of(bot: Bot, name: str = "Partners") -> list[str]:
    job = bot.ctx.service.find(name)
    assert job.id is not None
    return bot.ctx.service.target_texts(job.id)


def texts(view: JSON) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"])


def open_edit_at_targets(bot: Bot) -> None:
    admin, mark = bot.admin, bot.double.mark()
    admin.command("edit Partners")
    bot.double.wait_for(is_update, after=mark)  # the source's groups are loaded
    assert admin.submit().json()["response_action"] == "push"


def remove_target(bot: Bot, text: str) -> None:
    mark = bot.double.mark()
    bot.admin.click("target_remove", text)
    bot.double.wait_for(is_update, after=mark)


def back(bot: Bot) -> None:
    """The admin presses *Back*: Slack pops the view (nothing is sent to the bot)."""
    with bot.double._lock:
        bot.double.stacks[ADMIN].pop()


def test_an_edit_that_drops_a_target_asks_on_a_confirm_step_before_saving(bot: Bot) -> None:
    make_job(bot, "Partners", "email:bob@example.com", "email:carol@example.com")
    bot.runtime.engine.run("Partners")
    n = bot.google.seed.contact_count
    open_edit_at_targets(bot)
    remove_target(bot, "email:carol@example.com")

    answer = bot.admin.submit().json()
    assert answer["response_action"] == "push", answer
    confirm = bot.admin.modal()
    assert confirm["callback_id"] == "cs_confirm_edit"
    assert (confirm["submit"]["text"], confirm["close"]["text"]) == ("Save", "Back")
    words = texts(confirm)
    assert f"deletes {n} contacts in 1 account" in words
    assert f"carol@example.com leaves the sync: its {n} contacts from this sync are deleted" in words
    assert targets_of(bot) == ["email:bob@example.com", "email:carol@example.com"], "nothing saved yet"

    back(bot)  # Back: the targets again, still nothing saved; submitting asks again
    assert bot.admin.modal()["callback_id"] == "cs_targets"
    assert targets_of(bot) == ["email:bob@example.com", "email:carol@example.com"]
    assert bot.admin.submit().json()["response_action"] == "push"

    assert bot.admin.submit().json() == {"response_action": "clear"}  # Save
    assert targets_of(bot) == ["email:bob@example.com"]
    job = bot.ctx.service.find("Partners")
    with store.session_scope(bot.runtime.db) as session:
        edit = store.audit_events(session, job_id=job.id, limit=1)[0]
    assert (edit.action, edit.actor) == ("edit", ADMIN)
    assert edit.detail["targets"]["to"] == ["email:bob@example.com"]
    assert bot.problems() == []


def test_save_on_the_confirm_step_asks_again_when_more_would_go_than_it_showed(bot: Bot) -> None:
    make_job(bot, "Partners", "email:dave@example.com", "query:orgDepartment='Sales'")
    bot.runtime.engine.run("Partners")
    open_edit_at_targets(bot)
    remove_target(bot, "email:dave@example.com")  # dave is in Engineering: he goes
    assert bot.admin.submit().json()["response_action"] == "push"
    assert "dave@example.com leaves" in texts(bot.admin.modal())
    assert "zoe@example.com" not in texts(bot.admin.modal())  # zoe is in Sales: she stays
    department_of(bot.google, "zoe@example.com", "Engineering")  # ...until she leaves Sales meanwhile

    answer = bot.admin.submit().json()  # Save: zoe would go too, unseen
    assert answer["response_action"] == "update", answer
    assert "zoe@example.com leaves the sync" in texts(answer["view"])
    assert "email:dave@example.com" in targets_of(bot), "not saved"
    assert bot.admin.submit().json() == {"response_action": "clear"}
    assert targets_of(bot) == ["query:orgDepartment='Sales'"]


def test_a_query_that_matches_no_one_is_a_field_error_under_the_query(bot: Bot) -> None:
    admin = bot.admin
    fill_details(bot, admin, name="Nobody")
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_query=NOBODY)  # type: ignore[arg-type]
    body = admin.submit().json()
    assert body["response_action"] == "errors", body
    errors = {k.split(".")[0]: v for k, v in body["errors"].items()}
    assert list(errors) == ["pick_query"] and "matches no one" in errors["pick_query"]
    assert bot.ctx.service.find_or_none("Nobody") is None


@pytest.fixture
def sbot(google: Google, tmp_path: Path) -> Iterator[Bot]:
    yield from start_bot(google, tmp_path, with_scheduler=True)


def alerts(bot: Bot) -> list[tuple[AlertKind, AlertState]]:
    with store.session_scope(bot.runtime.db) as session:
        return [(a.kind, a.state) for a in session.exec(select(Alert).order_by(col(Alert.id)))]


def test_a_run_that_reaches_no_one_says_so_and_alerts_until_one_reaches_someone(sbot: Bot) -> None:
    bot = sbot
    seed = bot.google.seed
    bot.ctx.service.create_personal(PersonalJobSpec(
        name="Partners", source_email=seed.source_email, group_name=seed.source_group_name,
        targets=[f"query:{NOBODY}"], alert_channel="C0CSYNC01", allow_empty=True))
    mark = bot.double.mark()
    assert bot.admin.command("run Partners").status == 200
    report = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and bool(c.args.get("thread_ts")),
                                 after=mark, timeout=30)  # the run's report, in the thread of "started a run"
    assert report.args["text"].startswith(":warning: Sync *Partners* reached no one: its targets match no one")
    assert "across 0 targets" not in report.args["text"]
    alert = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "needs attention" in c.args["text"],
                                after=mark, timeout=30)
    assert ":bust_in_silhouette: The sync reaches no one" in str(alert.args["blocks"])
    assert {"alert_edit", "alert_pause"} <= {e["action_id"] for b in alert.args["blocks"]
                                             for e in b.get("elements", []) if e.get("type") == "button"}
    assert alerts(bot) == [(AlertKind.no_targets, AlertState.open)]

    # the same again: still open, not posted twice
    assert bot.runtime.engine.run("Partners", trigger=RunTrigger.schedule).status is RunStatus.no_targets
    assert alerts(bot) == [(AlertKind.no_targets, AlertState.open)]

    department_of(bot.google, "bob@example.com", "Nonexistent")
    mark = bot.double.mark()
    assert bot.runtime.engine.run("Partners", trigger=RunTrigger.schedule).status is RunStatus.ok
    update = bot.double.wait_for(lambda c: c.method == "chat.update" and c.args["ts"] == alert.answer["ts"],
                                 after=mark, timeout=30)
    assert "Resolved: it syncs again" in str(update.args["blocks"])
    assert alerts(bot) == [(AlertKind.no_targets, AlertState.resolved)]
    assert bot.problems() == []
