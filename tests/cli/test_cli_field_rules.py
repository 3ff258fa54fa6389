"""--fields, --keep-target-fields and --match-existing from the command line: refused with exit 2 and one line
naming the valid choices (nothing saved), shown by `jobs show`, and a rule change said field by field by
`run --dry-run`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import create, env  # noqa: F401  (env: the fixture)
from tests.cli.test_cli_rules import job_names, refused
from tests.conftest import Google
from tests.integration.test_field_rules import source_people

runner = CliRunner()


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        (["--fields", "names,shoesize"], "fields", "unknown field 'shoesize': choose from names, nicknames"),
        (["--fields", ","], "fields", "at least one field"),
        (["--fields", "names,phones", "--keep-target-fields", "notes"], "keep_target_fields",
         "must also be copied: biographies"),
        (["--keep-target-fields", "birthday"], "keep_target_fields", "choose from"),
        (["--match-existing", "phone"], "match_existing", "choose from email"),
        (["--fields", "names", "--match-existing", "email"], "match_existing", "needs emailAddresses"),
    ],
)
def test_bad_rules_are_one_line_exit_2_and_nothing_saved(
    google: Google, env: dict[str, str], extra: list[str], field: str, words: str  # noqa: F811
) -> None:
    refused([*create(google, "email:bob@example.com"), *extra], field, words)
    assert job_names() == []


def test_rules_are_shown_edited_and_checked_together(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    args = [*create(google, "email:bob@example.com"), "--fields", "names, emails,Phones,notes",
            "--keep-target-fields", "notes", "--match-existing", "email"]
    assert runner.invoke(app, args).exit_code == 0
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["fields"] == ["names", "emailAddresses", "phoneNumbers", "biographies"]
    assert (shown["keep_target_fields"], shown["match_existing"], shown["adopted"]) == (["biographies"], "email", 0)
    text = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert "copies names, emailAddresses, phoneNumbers, biographies; targets keep biographies" in text
    # Dropping a kept field from the copied ones is refused; the rules stay as they were.
    refused(["jobs", "edit", "Partners", "--fields", "names,emails"], "keep_target_fields", "must also be copied")
    assert json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)["fields"] == shown["fields"]
    assert runner.invoke(app, ["jobs", "edit", "Partners", "--match-existing", "none"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)["match_existing"] is None


def test_a_dry_run_says_what_a_rule_change_will_change(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, [*create(google, "email:bob@example.com"), "--fields", "names,phones"]).exit_code == 0
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    assert runner.invoke(app, ["jobs", "edit", "Partners", "--fields", "names,phones,emails"]).exit_code == 0
    out = runner.invoke(app, ["run", "Partners", "--dry-run"]).output
    people = source_people(google)
    with_email = sum(1 for p in people.values() if p.get("emailAddresses"))
    assert 0 < with_email < len(people)
    assert f"emailAddresses: {with_email} contacts will gain it" in out, out
    assert "phoneNumbers:" not in out and "names:" not in out, "unchanged fields are not named"
    again = runner.invoke(app, ["run", "Partners", "--dry-run"]).output
    assert f"emailAddresses: {with_email} contacts will gain it" in again, "a dry run writes nothing"
