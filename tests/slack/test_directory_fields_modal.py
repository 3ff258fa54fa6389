"""The Directory Sync modal's "More directory fields" and "Include the domain's shared contacts": a bad mapping
is a field error under its input, a good one is saved with the sync (and shown again when editing)."""

from __future__ import annotations

from sync_core import store

from .conftest import Bot
from .flows import is_update, open_create
from .test_field_errors import errors_of


def test_a_bad_mapping_is_a_field_error_and_a_good_one_is_saved(bot: Bot) -> None:
    admin, seed = bot.admin, bot.google.seed
    open_create(bot, admin)
    admin.enter("name", "Everyone")
    mark = bot.double.mark()
    admin.choose("kind_select", ("directory", "Directory Contacts"))
    bot.double.wait_for(is_update, after=mark)
    admin.enter("domains_select", [(seed.primary_domain, seed.primary_domain)])
    admin.enter("directory_fields", "Payroll.Grade=nicknames")
    errors = errors_of(admin)
    assert set(errors) == {"directory_fields"} and "the schemas are Employment" in errors["directory_fields"]
    admin.enter("directory_fields", "costCenter=names")
    assert "userDefined:KEY" in errors_of(admin)["directory_fields"]

    admin.enter("directory_fields", "Employment.Division=userDefined:Division")
    admin.enter("add_to_my_contacts", [("include_shared_contacts", "Include the domain's shared contacts")])
    assert admin.submit().json()["response_action"] == "push"
    admin.enter("pick_groups", [("group:sales@example.com", "Sales")])
    assert admin.submit().json() == {"response_action": "clear"}
    with store.session_scope(bot.runtime.db) as session:
        job = store.get_job_by_name(session, name="Everyone")
        assert job is not None
        assert job.directory_fields == ["Employment.Division=userDefined:Division"]
        assert job.include_shared_contacts
    assert bot.problems() == []
