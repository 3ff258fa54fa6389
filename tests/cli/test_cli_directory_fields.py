"""`--directory-fields` and `--include-shared-contacts` at the command line: a bad mapping is one line naming the
valid choices, exit 2, nothing stored; a good one is shown and edited."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import create, env  # noqa: F401  (env: the fixture)
from tests.cli.test_cli_rules import directory_sync, job_names, refused
from tests.conftest import Google

runner = CliRunner()


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ("Employment.Division", "is not SOURCE=TARGET"),
        ("Payroll.Grade=nicknames", "the schemas are Employment"),
        ("Employment.Grade=nicknames", "Employment's fields are Employment.EmployeeNumber, Employment.Division"),
        ("shoeSize=nicknames", "choose from externalIds, employeeId, locations, costCenter"),
        ("costCenter=names",
         "choose from nicknames, emailAddresses, phoneNumbers, urls, biographies, externalIds, locations, or "
         "userDefined"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_choices(google: Google, env: dict[str, str],  # noqa: F811
                                                     mapping: str, words: str) -> None:
    refused(directory_sync("--directory-fields", mapping), "directory_fields", words)
    assert job_names() == []


def test_a_mapping_and_shared_contacts_are_shown_and_edited(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    mapping = "Employment.Division=userDefined:Division, externalIds=userDefined:Ids"
    result = runner.invoke(app, directory_sync("--directory-fields", mapping, "--include-shared-contacts"))
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Dir1", "--json"]).output)
    assert shown["directory_fields"] == ["Employment.Division=userDefined:Division", "externalIds=userDefined:Ids"]
    assert shown["include_shared_contacts"] is True
    text = runner.invoke(app, ["jobs", "show", "Dir1"]).output
    assert "directory_fields: Employment.Division=userDefined:Division, externalIds=userDefined:Ids" in text

    refused(["jobs", "edit", "Dir1", "--directory-fields", "Nope.X=urls"], "directory_fields", "the schemas are")
    assert runner.invoke(app, ["jobs", "edit", "Dir1", "--directory-fields", "", "--no-shared-contacts"]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Dir1", "--json"]).output)
    assert (shown["directory_fields"], shown["include_shared_contacts"]) == ([], False)


def test_a_personal_sync_has_no_directory_fields(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    refused(["jobs", "edit", "Partners", "--directory-fields", "costCenter=urls"], "directory_fields",
            "only a Directory Sync has a directory field mapping")
