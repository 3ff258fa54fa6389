"""Editors on the command line (issue 21): `--editor`, `--no-editors`, `--editors-can-delete`, what `jobs show`
says of them (and of conflicts), `jobs history`, and a run's output naming each conflict."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from contactsync.cli import app
from sync_core.runtime import Runtime
from sync_core.settings import load_settings
from tests.cli.test_cli import create, env  # noqa: F401 - the fixture
from tests.conftest import Google
from tests.integration.helpers import as_user, ours

runner = CliRunner()


def show(name: str = "Partners") -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["jobs", "show", name, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_editors_are_set_shown_with_whom_they_name_replaced_and_removed(
    google: Google, env: dict[str, str]  # noqa: F811
) -> None:
    made = runner.invoke(app, [*create(google, "email:zoe@example.com"), "--editor", "email:bob@example.com",
                               "--editor", "group:emea-sales@example.com"])
    assert made.exit_code == 0, made.output
    data = show()
    assert data["editors"] == ["email:bob@example.com", "group:emea-sales@example.com"]
    assert data["editor_users"][0] == google.seed.source_email, "the source user is always an editor"
    assert {"bob@example.com", "zoe@example.com", "lilei@example.org"} <= set(data["editor_users"])
    assert data["editors_can_delete"] is False
    assert "editors" in runner.invoke(app, ["jobs", "show", "Partners"]).output

    edited = runner.invoke(app, ["jobs", "edit", "Partners", "--editor", "email:carol@example.com",
                                 "--editors-can-delete"])
    assert edited.exit_code == 0, edited.output
    data = show()
    assert data["editors"] == ["email:carol@example.com"] and data["editors_can_delete"] is True

    cleared = runner.invoke(app, ["jobs", "edit", "Partners", "--no-editors"])
    assert cleared.exit_code == 0, cleared.output
    assert show()["editors"] == []
    history = runner.invoke(app, ["jobs", "history", "Partners"]).output
    assert "editors: email:carol@example.com -> " in history and "editors_can_delete: False -> True" in history


def test_a_malformed_editor_is_one_line_and_exit_2(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    result = runner.invoke(app, [*create(google, "email:zoe@example.com"), "--editor", "bob"])
    assert result.exit_code == 2
    assert result.output.startswith("error: editors:") and result.output.count("\n") == 1
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output) == [], "nothing was created"


def test_a_directory_sync_refuses_editors(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    result = runner.invoke(app, ["jobs", "create-directory", "--name", "Dir", "--domain", "example.com",
                                 "--target", "email:zoe@example.com", "--editor", "email:bob@example.com"])
    assert result.exit_code == 2 and "Admin console" in result.output, result.output


def test_a_run_names_each_conflict_and_jobs_show_lists_it(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, [*create(google, "email:zoe@example.com"), "--editor", "email:bob@example.com",
                               "--editor", "email:carol@example.com"]).exit_code == 0
    for _ in range(2):
        assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    rt = Runtime(load_settings())
    key = sorted(ours(google, "bob@example.com"))[0]
    for email, phone in (("bob@example.com", "+1 555 0001"), ("carol@example.com", "+1 555 0002")):
        copy = ours(google, email)[key]
        as_user(rt, email).people().updateContact(
            resourceName=copy["resourceName"], updatePersonFields="phoneNumbers",
            body={"etag": copy["etag"], "phoneNumbers": [{"value": phone}]}).execute()
    ran = runner.invoke(app, ["run", "Partners"])
    assert ran.exit_code == 0, ran.output
    line = next(x for x in ran.output.splitlines() if "conflict" in x)
    assert "bob@example.com" in line and "+1 555 0001" in line and "carol@example.com" in line
    conflicts = show()["conflicts"]
    assert len(conflicts) == 1 and conflicts[0]["field"] == "phoneNumbers"
    history = runner.invoke(app, ["jobs", "history", "Partners"]).output
    assert "editor change" in history and "conflict" in history
