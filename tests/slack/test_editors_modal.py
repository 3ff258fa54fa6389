"""The create/edit modal picks a Personal Sync's editors (issue 21): an "Editors" search of users and groups and
an "Editors may delete contacts" checkbox on the targets step, saved through the same specs, prefilled when
editing; a refused editor is a field error under Editors. A Directory Sync's form, and a member's request
form, have neither. Signed requests through the real Bolt app, against the Google emulator and the Slack double.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.modal import targets_view
from bot.drafts import Draft
from emulator.control import delete_user
from slack_double import SlackUser
from sync_core import store
from sync_core.service import EditorsView
from tests.integration.helpers import create_job

from .conftest import Bot
from .flows import add_targets, fill_details, is_update, open_create
from .test_field_errors import errors_of

JSON = dict[str, Any]
CAN_DELETE = ("editors_can_delete", "Editors may delete contacts")


def element(view: JSON, action_id: str) -> JSON | None:
    return next((b["element"] for b in view["blocks"]
                 if b["type"] == "input" and b["element"].get("action_id") == action_id), None)


def editors_shown(view: JSON) -> tuple[list[str], bool]:
    """The Editors input's selectors, and whether "Editors may delete" is ticked, as the view shows them."""
    picked, ticked = element(view, "editors_select"), element(view, "editors_can_delete")
    assert picked is not None and ticked is not None, "the form has the editors inputs"
    return ([o["value"] for o in picked.get("initial_options") or []],
            [o["value"] for o in ticked.get("initial_options") or []] == ["editors_can_delete"])


def editors_of(bot: Bot, name: str) -> EditorsView:
    return bot.ctx.service.editors(name)


def at_targets(bot: Bot, admin: SlackUser, name: str) -> JSON:
    fill_details(bot, admin, name=name)
    assert admin.submit().json()["response_action"] == "push"
    return admin.modal()


def test_create_with_an_editor_who_may_delete(bot: Bot) -> None:
    admin = bot.admin
    step2 = at_targets(bot, admin, "Shared partners")
    assert editors_shown(step2) == ([], False)
    # the search offers users and groups, their values selector texts (as the targets' pickers)
    offered = {o["value"] for o in admin.suggest("editors_select", "bob")}
    assert "email:bob@example.com" in offered, offered
    assert "group:sales@example.com" in {o["value"] for o in admin.suggest("editors_select", "sales")}

    admin.fill({"editors_select": [("email:bob@example.com", "Bob")], "editors_can_delete": [CAN_DELETE]})
    step2 = add_targets(bot, admin, pick_users=[("email:dave@example.com", "Dave Developer")])
    assert editors_shown(step2) == (["email:bob@example.com"], True)  # kept across the step's own updates

    mark = bot.double.mark()
    answer = admin.submit()
    assert answer.json() == {"response_action": "clear"}, answer.text
    bot.double.wait_for(lambda c: c.method == "chat.postMessage" and "created" in c.args["text"], after=mark)
    editors = editors_of(bot, "Shared partners")
    assert editors.selectors == ("email:bob@example.com",) and editors.can_delete
    assert bot.problems() == []


def test_edit_shows_the_editors_and_clearing_them_leaves_none(bot: Bot) -> None:
    create_job(bot.runtime, bot.google, "email:dave@example.com",
               editors=["email:bob@example.com", "group:sales@example.com"], editors_can_delete=True)
    admin, mark = bot.admin, bot.double.mark()
    admin.command("edit Partners")
    bot.double.wait_for(is_update, after=mark)
    assert admin.submit().json()["response_action"] == "push"
    assert editors_shown(admin.modal()) == (["email:bob@example.com", "group:sales@example.com"], True)

    admin.fill({"editors_select": [], "editors_can_delete": []})
    answer = admin.submit()
    assert answer.json() == {"response_action": "clear"}, answer.text
    editors = editors_of(bot, "Partners")
    assert editors.selectors == () and not editors.can_delete
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Partners")
        assert job is not None and job.id is not None
        detail = store.audit_events(session, job_id=job.id, limit=1)[0].detail
    assert detail["editors"] == {"from": ["email:bob@example.com", "group:sales@example.com"], "to": []}
    assert bot.problems() == []


def test_an_edit_that_leaves_the_editors_as_they_are_does_not_check_them_again(bot: Bot) -> None:
    create_job(bot.runtime, bot.google, "email:dave@example.com", editors=["email:bob@example.com"])
    delete_user(bot.google.ws, "bob@example.com")  # bob left: the sync says so at its runs, not at every edit
    admin, mark = bot.admin, bot.double.mark()
    admin.command("edit Partners")
    bot.double.wait_for(is_update, after=mark)
    admin.enter("schedule", "every 3h")
    assert admin.submit().json()["response_action"] == "push"
    assert editors_shown(admin.modal()) == (["email:bob@example.com"], False)
    assert admin.submit().json() == {"response_action": "clear"}
    assert bot.ctx.service.find("Partners").schedule == "every 3h"
    editors = editors_of(bot, "Partners")
    assert editors.selectors == ("email:bob@example.com",) and not editors.can_delete


def test_a_directory_syncs_form_has_no_editors(bot: Bot) -> None:
    admin, seed = bot.admin, bot.google.seed
    open_create(bot, admin)
    admin.enter("name", "Everyone")
    mark = bot.double.mark()
    admin.choose("kind_select", ("directory", "Directory Contacts"))
    bot.double.wait_for(is_update, after=mark)
    admin.enter("domains_select", [(seed.primary_domain, seed.primary_domain)])
    assert admin.submit().json()["response_action"] == "push"
    step2 = admin.modal()
    assert step2["callback_id"] == "cs_targets"
    assert element(step2, "editors_select") is None and element(step2, "editors_can_delete") is None
    assert element(step2, "pick_users") is not None


def test_a_members_request_form_has_no_editors() -> None:
    request = targets_view(Draft(id="d", user_id="U1", mode="request"), [], total_users=0).to_dict()
    admins = targets_view(Draft(id="d", user_id="U1"), [], total_users=0).to_dict()
    assert element(request, "editors_select") is None and element(request, "editors_can_delete") is None
    assert element(admins, "editors_select") is not None


def test_a_refused_editor_is_a_field_error_under_editors(bot: Bot) -> None:
    admin = bot.admin
    at_targets(bot, admin, "Bad editors")
    admin.enter("pick_users", [("email:dave@example.com", "Dave Developer")])
    admin.enter("editors_select", [("bogus:x", "x")])  # a forged option: no such kind
    errors = errors_of(admin)
    assert list(errors) == ["editors"] and "bogus" in errors["editors"], errors
    admin.enter("editors_select", [("email:ghost@example.com", "Ghost")])  # no such user: under Editors too
    errors = errors_of(admin)
    assert list(errors) == ["editors"] and "ghost@example.com" in errors["editors"], errors
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []


def test_an_editor_too_long_for_the_select_is_listed_and_kept(bot: Bot) -> None:
    long_query = "query:orgTitle:" + "Manager" * 25  # set from the CLI: more than an option's 150 characters
    create_job(bot.runtime, bot.google, "email:dave@example.com", editors=["email:bob@example.com", long_query])
    admin, mark = bot.admin, bot.double.mark()
    admin.command("edit Partners")
    bot.double.wait_for(is_update, after=mark)
    assert admin.submit().json()["response_action"] == "push"
    step2 = admin.modal()
    assert editors_shown(step2) == (["email:bob@example.com"], False)
    assert any(long_query in e.get("text", "") for b in step2["blocks"] if b["type"] == "context"
               for e in b["elements"])
    admin.enter("editors_select", [])  # bob taken off; the long one stays
    assert admin.submit().json() == {"response_action": "clear"}
    assert editors_of(bot, "Partners").selectors == (long_query,)
    assert bot.problems() == []
