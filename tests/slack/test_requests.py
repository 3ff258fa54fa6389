"""Requests and the two-person rule through signed Slack requests: a member's `/contactsync request` (their own
account as the source whatever the payload says), the admins' Approve and Deny in CONTACTSYNC_ADMIN_CHANNEL,
the requester's DM; a forged, replayed or cross-user action is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sync_core import store
from sync_core.domain.models import ChangeRequest, utcnow
from sync_core.service import OptOut, RequestState
from tests.conftest import Google

from .conftest import ADMIN, GROUP_ADMIN, Bot, start_bot
from .flows import add_targets, fill_details, is_update
from .test_members import BOB, CAROL, eventually, people

ADMIN_CHANNEL = "C0ADMINS01"
LABEL = "Bob's clients"


def with_admin_channel(bot: Bot) -> Bot:
    bot.ctx.admin_channel = ADMIN_CHANNEL
    people(bot)
    bot.google.handle.control.add_group("bob@example.com", LABEL)
    return bot


@pytest.fixture
def two_person(google: Google, tmp_path: Path) -> Iterator[Bot]:
    yield from start_bot(google, tmp_path, CONTACTSYNC_APPROVAL_ABOVE=1)


def job_names(bot: Bot) -> list[str]:
    with store.session_scope(bot.runtime.db) as session:
        return [j.name for j in store.list_jobs(session)]


def admin_message(bot: Bot, mark: int) -> dict[str, Any]:
    return bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == ADMIN_CHANNEL,
                               after=mark).args


def request_as_bob(bot: Bot, *, forge_source: bool = False, options: bool = False) -> tuple[str, dict[str, Any]]:
    """Bob fills and sends the request form (`options`: he ticks leaving and adoption, and picks the fields
    copied and kept); the request's id and the admins' message."""
    bob = bot.user(BOB)
    mark = bot.double.mark()
    assert bob.command("request").status == 200
    bot.double.wait_for(is_update, after=mark)  # his labels loaded after the modal opened
    view = bob.modal()
    assert view["callback_id"] == "cs_details"
    elements = [b.get("element", {}).get("action_id") for b in view["blocks"]]
    assert "source_user" not in elements and "kind_select" not in elements  # no one else's account to pick
    assert any("bob@example.com" in (b.get("text") or {}).get("text", "") for b in view["blocks"])
    groups = next(b for b in view["blocks"] if b.get("element", {}).get("action_id") == "group_select")
    assert [o["value"] for o in groups["element"]["options"]] == [LABEL]
    bob.enter("name", "Bob's clients for Carol")
    mark = bot.double.mark()
    bob.choose("group_select", (LABEL, LABEL))  # a member's own form: the guard lets the click in
    bot.double.wait_for(is_update, after=mark)
    if options:
        bob.enter("add_to_my_contacts", [("opt_out", "Members may leave it themselves"), ("match_existing", "Adopt")])
        bob.enter("fields_select", [("names", "Names"), ("emailAddresses", "Email"), ("biographies", "Notes")])
        bob.enter("keep_target_fields_select", [("biographies", "Notes")])
    if forge_source:  # a payload naming someone else's account as the source
        with bot.double._lock:
            bob.modal()["state"]["values"]["source.0"] = {"source_user": {
                "type": "external_select", "selected_option": {"value": bot.google.seed.source_email}}}
    assert bob.submit().json()["response_action"] == "push"
    add_targets(bot, bob, pick_users=[("email:carol@example.com", "Carol")])
    mark = bot.double.mark()
    answer = bob.submit()
    assert answer.status == 200 and answer.json()["response_action"] == "update", answer.text
    assert "Request sent" in str(bob.modal()["title"])
    message = admin_message(bot, mark)
    approve = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "request_approve")
    return approve["value"], message


def test_a_member_requests_a_sync_an_admin_approves_it_into_a_running_job(bot: Bot) -> None:
    with_admin_channel(bot)
    request_id, message = request_as_bob(bot, forge_source=True)
    assert "bob@example.com" in message["text"] or "UBOB0001" in message["text"]
    assert "Reaches *1* account" in str(message["blocks"])
    assert job_names(bot) == []  # nothing exists until approved
    request = bot.ctx.service.request(request_id)
    assert request is not None and request.spec["source_email"] == "bob@example.com"  # not the forged one

    # Bob is no admin: his press of Approve is refused by the guard, and nothing changes.
    mark = bot.double.mark()
    assert bot.user(BOB).click_message(message["blocks"], "request_approve").status == 200
    refused = bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args
    assert "Only ContactSync admins" in refused["text"]
    assert job_names(bot) == []

    mark = bot.double.mark()
    assert bot.admin.click_message(message["blocks"], "request_approve").status == 200
    dm = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == BOB, after=mark)
    assert "approved" in dm.args["text"]
    assert job_names(bot) == ["Bob's clients for Carol"]
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Bob's clients for Carol")
        assert job is not None and job.id is not None and job.source_email == "bob@example.com"
        assert [(e.actor, e.action) for e in reversed(store.audit_events(session, job_id=job.id))] == [
            (BOB, "request"), (BOB, "create"), (ADMIN, "approve")]
        job_id = job.id
    updated = bot.double.wait_for(lambda c: c.method == "chat.update", after=mark)
    assert "Approved by" in updated.args["text"] and "request_approve" not in str(updated.args["blocks"])

    def ran() -> bool:
        with store.session_scope(bot.runtime.db) as session:
            return bool(store.last_runs(session, job_id=job_id))
    eventually(ran)

    # Pressing Approve again (a replay of the same button) changes nothing.
    mark = bot.double.mark()
    assert bot.user(GROUP_ADMIN).click_message(message["blocks"], "request_approve").status == 200
    again = bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args
    assert "already approved" in again["text"]
    assert job_names(bot) == ["Bob's clients for Carol"]
    assert bot.problems() == []


def test_the_options_a_member_chose_are_shown_to_the_approver_and_are_the_jobs(bot: Bot) -> None:
    with_admin_channel(bot)
    request_id, message = request_as_bob(bot, options=True)
    shown = str(message["blocks"])
    assert "members may leave it themselves" in shown and "adopts a target's own contact" in shown
    assert "fields copied: names, email addresses, biographies" in shown and "keep their own biographies" in shown
    mark = bot.double.mark()
    assert bot.admin.click_message(message["blocks"], "request_approve").status == 200
    bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == BOB, after=mark)
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Bob's clients for Carol")
        assert job is not None
        assert job.opt_out is OptOut.allowed and job.match_existing == "email"
        assert job.copy_fields == ["names", "emailAddresses", "biographies"]
        assert job.keep_target_fields == ["biographies"] and job.editors_can_delete is False
    assert bot.problems() == []


def test_someone_else_cannot_use_a_members_request_form(bot: Bot) -> None:
    with_admin_channel(bot)
    bob = bot.user(BOB)
    mark = bot.double.mark()
    bob.command("request")
    bot.double.wait_for(is_update, after=mark)
    bobs_form = bob.modal()
    carol = bot.user(CAROL)
    # Carol (no admin) submits Bob's form as her own: refused, nothing filed.
    payload = {"type": "view_submission", "team": carol._team, "user": carol._user, "api_app_id": "A0CSYNC01",
               "token": "legacy-verification-token", "trigger_id": bot.double.new_trigger(CAROL),
               "view": bobs_form, "response_urls": []}
    answer = carol._interactive(payload)
    assert answer.status == 200 and "Only ContactSync admins" in answer.text
    assert bot.ctx.service.requests(pending_only=False) == []


def test_a_denial_asks_for_the_reason_and_tells_the_requester(bot: Bot) -> None:
    with_admin_channel(bot)
    request_id, message = request_as_bob(bot)
    admin = bot.admin
    mark = bot.double.mark()
    admin.click_message(message["blocks"], "request_deny")
    bot.double.wait_for(lambda c: c.method == "views.open", after=mark)
    assert admin.modal()["callback_id"] == "cs_request_deny"
    answer = admin.submit()  # no reason: a field error, nothing decided
    assert answer.json()["response_action"] == "errors"
    admin.enter("reason", "Carol has the Sales sync already")
    mark = bot.double.mark()
    assert admin.submit().json()["response_action"] == "clear"
    dm = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == BOB, after=mark)
    assert "denied" in dm.args["text"] and "Carol has the Sales sync already" in dm.args["text"]
    request = bot.ctx.service.request(request_id)
    assert request is not None and request.state is RequestState.denied and request.decided_by == ADMIN
    # A replayed Approve of the denied request changes nothing.
    mark = bot.double.mark()
    admin.click_message(message["blocks"], "request_approve")
    refused = bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args
    assert "already denied" in refused["text"] and job_names(bot) == []


def test_a_big_create_waits_for_a_second_admin_who_is_not_the_first(two_person: Bot) -> None:
    bot = with_admin_channel(two_person)
    admin = bot.admin
    fill_details(bot, admin, name="Sales wide")
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_groups=[(f"group:{bot.google.seed.sales_group_email}", "Sales")])
    mark = bot.double.mark()
    assert admin.submit().json()["response_action"] == "update"
    assert "second admin" in str(admin.modal()["blocks"])
    message = admin_message(bot, mark)
    assert job_names(bot) == []

    mark = bot.double.mark()
    admin.click_message(message["blocks"], "request_approve")
    refused = bot.double.wait_for(lambda c: c.method == "response_url", after=mark).args
    assert "another admin must" in refused["text"] and job_names(bot) == []

    bot.user(GROUP_ADMIN).click_message(message["blocks"], "request_approve")
    eventually(lambda: job_names(bot) == ["Sales wide"])


@pytest.fixture
def serving(google: Google, tmp_path: Path) -> Iterator[Bot]:
    yield from start_bot(google, tmp_path, with_scheduler=True)


def test_a_request_that_expires_undecided_is_told_to_its_requester_and_on_the_admins_message_once(
    serving: Bot,
) -> None:
    """Bob was told "I'll tell you here either way": when nobody decides in time, `serve`'s reconcile tells him,
    and the admins' message loses its buttons. Once, however many reconciles (or replicas) come after."""
    bot = with_admin_channel(serving)
    request_id, _ = request_as_bob(bot)
    with store.session_scope(bot.runtime.db) as session:
        row = session.get(ChangeRequest, request_id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    mark = bot.double.mark()
    assert bot.scheduler is not None
    bot.scheduler._reconcile()
    dm = bot.double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == BOB, after=mark)
    assert "expired before an admin decided it" in dm.args["text"]
    updated = bot.double.wait_for(lambda c: c.method == "chat.update", after=mark)
    assert "Expired undecided" in updated.args["text"] and "request_approve" not in str(updated.args["blocks"])
    mark = bot.double.mark()
    bot.scheduler._reconcile()
    assert not [c for c in bot.double.calls_after(mark) if c.method == "chat.postMessage"]
    assert job_names(bot) == []
