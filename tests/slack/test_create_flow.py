"""`/contactsync create`, both modal steps, then the first run and its report: create -> run -> result."""

from __future__ import annotations

from sync_core import store
from sync_core.domain.models import RunStatus

from .conftest import ADMIN, CHANNEL, Bot
from .flows import add_targets, fill_details, open_create


def test_create_opens_the_details_modal_prefilled_with_the_channel(bot: Bot) -> None:
    view = open_create(bot, bot.admin)
    assert view["callback_id"] == "cs_details"
    conv = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "alert_channel")
    assert conv["element"]["initial_conversation"] == CHANNEL
    schedule = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "schedule")
    assert schedule["element"]["initial_value"] == "every 60m"
    assert bot.problems() == []


def test_full_create_run_report_flow(bot: Bot) -> None:
    admin, seed = bot.admin, bot.google.seed
    view = fill_details(bot, admin)
    # choosing the group pre-filled the target group name
    tgn = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "target_group_name")
    assert tgn["element"]["initial_value"] == seed.source_group_name
    answer = admin.submit()
    assert answer.status == 200 and answer.json()["response_action"] == "push", answer.text
    step2 = admin.modal()
    assert step2["callback_id"] == "cs_targets"

    step2 = add_targets(bot, admin, pick_groups=[(f"group:{seed.emea_group_email}", "EMEA Sales")],
                        pick_users=[("email:dave@example.com", "Dave Developer")])
    texts = [b["text"]["text"] for b in step2["blocks"] if b["type"] == "section"]
    assert any("2 selections" in t and "active users" in t for t in texts), texts
    assert any(seed.emea_group_email in t for t in texts)

    mark = bot.double.mark()
    answer = admin.submit()
    assert answer.status == 200 and answer.json() == {"response_action": "clear"}, answer.text
    created = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in c.args["text"],
                                  after=mark)
    assert created.args["channel"] == CHANNEL
    report = bot.double.wait_for(
        lambda c: c.method == "chat.postMessage" and c.args.get("thread_ts") == created.answer["ts"], after=mark,
        timeout=30,
    )
    assert "Partners for Sales" in report.args["text"] and "ok" in report.args["text"], report.args["text"]

    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners for Sales")
        assert job is not None and job.id is not None
        assert job.created_by == ADMIN and job.schedule == "every 2h" and job.alert_channel == CHANNEL
        runs = store.last_runs(session, job_id=job.id)
        assert [r.status for r in runs] == [RunStatus.ok]
        assert runs[0].created > 0
        kinds = {(s.kind.value, s.value) for s in store.list_selectors(session, job_id=job.id)}
        assert kinds == {("group", seed.emea_group_email), ("email", "dave@example.com")}
        assert [e.action for e in store.audit_events(session, job_id=job.id)] == ["create"]
    # App Home was refreshed for the admins when the run finished
    bot.double.wait_for(lambda c: c.method == "views.publish" and c.args["user_id"] == ADMIN, after=mark)
    assert bot.problems() == []



def test_a_directory_query_is_typed_counted_and_created(bot: Bot) -> None:
    admin, google = bot.admin, bot.google
    fill_details(bot, admin, name="Sales people")
    assert admin.submit().json()["response_action"] == "push"
    step2 = add_targets(bot, admin, pick_query="orgDepartment='Sales'")  # type: ignore[arg-type]
    sales = {u["primaryEmail"] for u in google.ws.directory["users"].values()
             if any(o.get("department") == "Sales" for o in u.get("organizations", []))
             and not u.get("suspended") and not u.get("archived") and u["primaryEmail"] != google.seed.source_email}
    texts = [b["text"]["text"] for b in step2["blocks"] if b["type"] == "section"]
    row = next(t for t in texts if "query" in t)
    assert "orgDepartment=&#39;Sales&#39;" in row or "orgDepartment='Sales'" in row, row
    assert f"{len(sales)} users" in row, row
    assert any(f"→ *{len(sales)}* active users" in t for t in texts), texts

    mark = bot.double.mark()
    answer = admin.submit()
    assert answer.json() == {"response_action": "clear"}, answer.text
    bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in c.args["text"], after=mark)
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Sales people")
        assert job is not None and job.id is not None
        kinds = {(s.kind.value, s.value) for s in store.list_selectors(session, job_id=job.id)}
        assert kinds == {("query", "orgDepartment='Sales'")}
    assert bot.problems() == []


def test_a_query_the_directory_refuses_is_a_field_error_under_the_query(bot: Bot) -> None:
    admin = bot.admin
    fill_details(bot, admin, name="Bad query")
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_query="orgDepartment='Sales")  # type: ignore[arg-type]
    answer = admin.submit()
    body = answer.json()
    assert body["response_action"] == "errors", body
    errors = {k.split(".")[0]: v for k, v in body["errors"].items()}
    assert list(errors) == ["pick_query"]
    assert errors["pick_query"].startswith("the directory refused the query \"orgDepartment='Sales\"")
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []
