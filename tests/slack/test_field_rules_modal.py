"""The create modal's field rules: the fields copied (today's default chosen), those the targets keep, and
adopting existing contacts; a bad choice is a field error in the modal, a good one is the job's."""

from __future__ import annotations

from typing import Any

from sync_core.domain.fields import DEFAULT_FIELDS
from sync_core.service import JobService

from .conftest import Bot
from .flows import add_targets, fill_details, open_create
from .test_field_errors import errors_of


def element(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(b["element"] for b in view["blocks"] if b.get("element", {}).get("action_id") == action_id)


def test_the_fields_start_at_todays_default(bot: Bot) -> None:
    view = open_create(bot, bot.admin)
    chosen = [o["value"] for o in element(view, "fields_select")["initial_options"]]
    assert chosen == list(DEFAULT_FIELDS)
    assert "initial_options" not in element(view, "keep_target_fields_select")
    options = [o["value"] for o in element(view, "add_to_my_contacts")["options"]]
    assert "match_existing" in options
    assert bot.problems() == []


def test_a_kept_field_that_is_not_copied_is_a_field_error(bot: Bot) -> None:
    admin = bot.admin
    fill_details(bot, admin)
    admin.enter("fields_select", [("names", "Names"), ("phoneNumbers", "Phone numbers")])
    admin.enter("keep_target_fields_select", [("biographies", "Biographies")])
    errors = errors_of(admin)
    assert set(errors) == {"keep_target_fields"} and "must also be copied" in errors["keep_target_fields"]
    admin.enter("fields_select", [("names", "Names")])
    admin.enter("keep_target_fields_select", [])
    admin.enter("add_to_my_contacts", [("match_existing", "Adopt")])
    errors = errors_of(admin)
    assert set(errors) == {"fields"} and "emailAddresses" in errors["fields"]


def test_the_rules_chosen_are_the_jobs(bot: Bot) -> None:
    admin = bot.admin
    fill_details(bot, admin, name="Vendors")
    admin.enter("fields_select", [("names", "Names"), ("emailAddresses", "Email"), ("biographies", "Notes")])
    admin.enter("keep_target_fields_select", [("biographies", "Notes")])
    admin.enter("add_to_my_contacts", [("match_existing", "Adopt")])
    assert admin.submit().json()["response_action"] == "push"
    add_targets(bot, admin, pick_users=[("email:dave@example.com", "Dave Developer")])
    assert admin.submit().json() == {"response_action": "clear"}
    job = JobService(bot.runtime).find("Vendors")
    assert job.copy_fields == ["names", "emailAddresses", "biographies"]
    assert (job.keep_target_fields, job.match_existing) == (["biographies"], "email")
