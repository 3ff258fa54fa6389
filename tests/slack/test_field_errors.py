"""Every refusal of the create modal is a field error in the modal (`response_action: errors`)."""

from __future__ import annotations

from typing import Any

from slack_double import SlackUser
from sync_core import store
from sync_core.service import PersonalJobSpec
from sync_core.service.create import create_personal_job

from .conftest import Bot
from .flows import add_targets, choose_source, fill_details, is_update, open_create


def errors_of(user: SlackUser) -> dict[str, str]:
    answer = user.submit()
    assert answer.status == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body.get("response_action") == "errors", body
    return {key.split(".")[0]: message for key, message in body["errors"].items()}


def block_ids(view: dict[str, Any]) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if b["type"] == "input"}


def test_name_clash_is_a_field_error(bot: Bot) -> None:
    seed = bot.google.seed
    spec = PersonalJobSpec(name="Taken", source_email=seed.source_email, group_name=seed.source_group_name,
                           targets=["email:dave@example.com"])
    create_personal_job(bot.runtime.db, spec=spec, directory=bot.runtime.directory(), people_for=bot.runtime.people)
    fill_details(bot, bot.admin, name="Taken")
    errors = errors_of(bot.admin)
    assert errors == {"name": "A sync named “Taken” already exists."}
    # the error names a block of the view as displayed
    answer = bot.admin.submit().json()
    assert set(answer["errors"]) <= block_ids(bot.admin.modal())


def test_bad_schedule_is_a_field_error(bot: Bot) -> None:
    fill_details(bot, bot.admin, schedule="every 1m")
    errors = errors_of(bot.admin)
    assert set(errors) == {"schedule"} and "shortest interval" in errors["schedule"]


def test_missing_name_and_source(bot: Bot) -> None:
    open_create(bot, bot.admin)
    errors = errors_of(bot.admin)
    assert errors == {"name": "A sync needs a name.", "source": "Choose the source user."}


def test_unknown_source_is_a_field_error(bot: Bot) -> None:
    admin = bot.admin
    open_create(bot, admin)
    admin.enter("name", "Ghost")
    choose_source(bot, admin, "ghost@example.com")
    errors = errors_of(admin)
    assert errors == {"source": "No user has the address ghost@example.com."}


def test_source_without_contact_groups_is_told_so(bot: Bot) -> None:
    admin = bot.admin
    open_create(bot, admin)
    admin.enter("name", "Bob's")
    view = choose_source(bot, admin, "bob@example.com")
    notes = [b["text"]["text"] for b in view["blocks"] if b.get("block_id") == "no_groups"]
    assert notes and "has no contact groups" in notes[0]
    assert not any(b.get("element", {}).get("action_id") == "group_select" for b in view["blocks"])
    errors = errors_of(admin)
    assert errors == {"source": "bob@example.com has no contact groups; choose another source user."}


def test_bad_targets_are_a_field_error_in_step_two(bot: Bot) -> None:
    admin = bot.admin
    fill_details(bot, admin, name="Bad targets")
    assert admin.submit().json()["response_action"] == "push"
    assert errors_of(admin) == {"pick_users": "Add at least one target."}
    add_targets(bot, admin, pick_users=[("email:nobody@example.com", "Nobody")])
    assert errors_of(admin) == {"pick_users": "no user has the address nobody@example.com"}
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []


def test_a_target_google_refuses_is_its_pickers_field_error(bot: Bot) -> None:
    """The Directory API answers 403 for an address outside the Workspace: under the picker, naming it."""
    admin = bot.admin
    fill_details(bot, admin, name="Foreign")
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_groups=[("group:x@other.com", "x@other.com")])
    assert errors_of(admin) == {
        "pick_groups": "x@other.com: Google refused to look it up (403): is it an address of this Workspace?"}
    with store.session_scope(bot.runtime.db) as session:
        assert store.list_jobs(session) == []


def test_type_switch_updates_in_place_and_creates_a_directory_sync(bot: Bot) -> None:
    admin, seed = bot.admin, bot.google.seed
    view = open_create(bot, admin)
    admin.enter("name", "Everyone")
    mark = bot.double.mark()
    admin.choose("kind_select", ("directory", "Directory Contacts"))
    update = bot.double.wait_for(is_update, after=mark)
    assert update.args["view_id"] == view["id"]  # the same modal, updated in place
    view = admin.modal()
    actions = {b.get("element", {}).get("action_id") for b in view["blocks"]}
    assert {"domains_select", "include_ous_select", "exclude_ous_select"} <= actions
    assert "source_user" not in actions
    assert [o["value"] for o in admin.suggest("domains_select", "")] == sorted(seed.domains)
    assert "/Sales/EMEA" in [o["value"] for o in admin.suggest("include_ous_select", "emea")]
    assert errors_of(admin) == {"domains": "Choose at least one domain."}
    admin.enter("domains_select", [(seed.primary_domain, seed.primary_domain)])
    admin.enter("exclude_ous_select", [("/Nowhere", "/Nowhere")])
    assert errors_of(admin) == {"exclude_ous": "No such organizational unit: /Nowhere"}
    admin.enter("exclude_ous_select", [("/Contractors", "/Contractors")])
    admin.enter("add_to_my_contacts", [("include_self", "Each target also gets their own card")])
    assert admin.submit().json()["response_action"] == "push"
    admin.enter("pick_groups", [("group:sales@example.com", "Sales")])
    assert admin.submit().json() == {"response_action": "clear"}
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Everyone")
        assert job is not None and job.kind.value == "directory"
        assert job.directory_domains == [seed.primary_domain] and job.exclude_ous == ["/Contractors"]
        assert job.target_group_name == "Directory"
        assert job.include_self and not job.include_aliases and not job.add_to_my_contacts
    assert bot.problems() == []
