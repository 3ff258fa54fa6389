"""The cases issue 13 measured, one by one: each is refused with exit 2 and one line naming the field, and
nothing is saved."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import create, env  # noqa: F401  (env: the fixture)
from tests.conftest import Google

runner = CliRunner()


def refused(args: list[str], field: str, words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr  # one line
    assert result.stderr.startswith(f"error: {field}: ") and words in result.stderr, result.stderr
    assert "Traceback" not in result.output


def job_names() -> list[str]:
    return [j["name"] for j in json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)]


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        (["--cron", "* * * * *"], "schedule", "1 minute apart"),
        (["--every", "1m"], "schedule", "shortest interval"),
        (["--every", "100000d"], "schedule", "at most 31 days"),
        (["--every", "99999999999999999999d"], "schedule", "too long"),
        (["--cron", "0 0 1 1 *"], "schedule", "at most 31 days"),
        (["--target-group-name", ""], "target_group_name", "needs a name"),
        (["--target-group-name", "L" * 5000], "target_group_name", "at most 255 characters"),
        (["--target-group-name", "Two\nlines"], "target_group_name", "control"),
        (["--channel", "not a channel"], "alert_channel", "not a Slack channel id"),
        (["--channel", ""], "alert_channel", "give a channel id"),
    ],
)
def test_create_refuses(google: Google, env: dict[str, str], extra: list[str], field: str, words: str) -> None:  # noqa: F811
    refused([*create(google, "email:bob@example.com"), *extra], field, words)
    assert job_names() == []


@pytest.mark.parametrize(
    ("name", "words"),
    [("n" * 81, "at most 80 characters"), ("Sales\nTeam", "control"), ("Tab\there", "control"),
     ("Bell\a", "control"), ("   ", "needs a name")],
)
def test_names_are_1_to_80_printable_characters(google: Google, env: dict[str, str], name: str, words: str) -> None:  # noqa: F811
    refused(create(google, "email:bob@example.com", name=name), "name", words)
    assert runner.invoke(app, create(google, "email:bob@example.com", name="Partners")).exit_code == 0
    refused(["jobs", "edit", "Partners", "--name", name], "name", words)
    assert job_names() == ["Partners"]


def test_names_are_unique_ignoring_case(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, create(google, "email:bob@example.com", name="Partners")).exit_code == 0
    refused(create(google, "email:bob@example.com", name="PARTNERS"), "name", "already exists")
    assert runner.invoke(app, create(google, "email:bob@example.com", name="Others")).exit_code == 0
    refused(["jobs", "edit", "Others", "--name", "partners"], "name", "already exists")
    # a sync may change the case of its own name
    assert runner.invoke(app, ["jobs", "edit", "Partners", "--name", "PARTNERS"]).exit_code == 0
    assert sorted(job_names()) == ["Others", "PARTNERS"]


def test_edit_refuses_what_create_refuses(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    refused(["jobs", "edit", "Partners", "--cron", "*/2 * * * *"], "schedule", "2 minutes apart")
    refused(["jobs", "edit", "Partners", "--target-group-name", ""], "target_group_name", "needs a name")
    refused(["jobs", "edit", "Partners", "--channel", "general"], "alert_channel", "not a Slack channel id")
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["schedule"] == "every 1h" and shown["alert_channel"] is None


def test_good_values_are_kept(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    args = [*create(google, "email:bob@example.com", name="  Partners for Sales  "), "--cron", "0 7 * * 1-5",
            "--channel", "C0123ABCD", "--target-group-name", " Partners (synced) "]
    assert runner.invoke(app, args).exit_code == 0
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners for Sales", "--json"]).output)
    assert (shown["schedule"], shown["alert_channel"], shown["target_group_name"]) == (
        "cron 0 7 * * 1-5", "C0123ABCD", "Partners (synced)")


def test_a_usage_mistake_is_one_line_too(env: dict[str, str]) -> None:  # noqa: F811
    refused(["jobs", "create", "--name", "X"], "source", "Missing option '--source'")
    refused(["serve", "--port", "abc"], "port", "Invalid value")


@pytest.mark.parametrize(
    ("target", "address"),
    [("email:bob@other-tenant.com", "bob@other-tenant.com"), ("group:x@other.com", "x@other.com")],
)
def test_a_target_outside_the_workspace_is_a_field_error(google: Google, env: dict[str, str],  # noqa: F811
                                                          target: str, address: str) -> None:
    # The Directory API answers 403 "Not Authorized" for an address of a domain the customer does not own.
    words = f"{address}: Google refused to look it up (403): is it an address of this Workspace?"
    refused(create(google, "email:carol@example.com", target), "targets", words)
    assert job_names() == []
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    refused(["jobs", "edit", "Partners", "--target", target], "targets", words)
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["targets"] == ["email:bob@example.com"]


def test_a_source_outside_the_workspace_is_a_field_error(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    args = ["jobs", "create", "--name", "X", "--source", "bob@other-tenant.com", "--group", "Partners",
            "--target", "email:bob@example.com"]
    refused(args, "source", "bob@other-tenant.com: Google refused to look it up (403)")


@pytest.mark.parametrize(
    "args",
    [["run", "nonexistent"], ["run", "nonexistent", "--dry-run"], ["jobs", "show", "nonexistent"],
     ["jobs", "edit", "nonexistent", "--every", "2h"], ["jobs", "edit", "nonexistent"],
     ["jobs", "pause", "nonexistent"], ["jobs", "resume", "nonexistent"], ["jobs", "delete", "nonexistent"],
     ["jobs", "delete", "nonexistent", "--remove-contacts"]],
)
def test_an_unknown_job_is_an_error_about_the_name(env: dict[str, str], args: list[str]) -> None:  # noqa: F811
    refused(args, "name", "no sync job named 'nonexistent'")


@pytest.mark.parametrize(
    "target",
    ["query:orgDepartment='Sales'\nfoo", "query:orgDepartment='Sales'\tx", "role:Help\aDesk Admin",
     "query:orgTitle:Manager\u200b", "ou:/Sales\n/EMEA", "ou:/Sa\x1bles"],
)
def test_targets_may_not_hold_control_characters(google: Google, env: dict[str, str], target: str) -> None:  # noqa: F811
    refused(create(google, "email:bob@example.com", target), "targets", "control or invisible characters")
    assert job_names() == []


def test_a_long_target_is_not_echoed_in_full(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    refused(create(google, "query:" + "x" * 5000), "targets", "at most 1000 characters")
    result = runner.invoke(app, create(google, "query:" + "x" * 5000))
    assert "x" * 61 not in result.stderr and "…" in result.stderr and len(result.stderr) < 300, result.stderr


@pytest.mark.parametrize("option", ["--every", "--cron"])
def test_an_empty_schedule_is_refused(google: Google, env: dict[str, str], option: str) -> None:  # noqa: F811
    refused([*create(google, "email:bob@example.com"), option, ""], "schedule", "empty")
    refused([*create(google, "email:bob@example.com"), option, "  "], "schedule", "empty")
    refused(["jobs", "create-directory", "--name", "Dir1", "--domain", "example.com",
             "--target", "email:bob@example.com", option, ""], "schedule", "empty")
    assert job_names() == []
    assert runner.invoke(app, [*create(google, "email:bob@example.com"), "--every", "2h"]).exit_code == 0
    refused(["jobs", "edit", "Partners", option, ""], "schedule", "empty")
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["schedule"] == "every 2h"


def directory_sync(*extra: str) -> list[str]:
    return ["jobs", "create-directory", "--name", "Dir1", "--domain", "example.com",
            "--target", "email:bob@example.com", *extra]


@pytest.mark.parametrize(
    ("ous", "words"),
    [(["--include-ou", "/Sales", "--exclude-ou", "/Sales"], "/Sales is both included and excluded"),
     (["--include-ou", "/Sales/", "--exclude-ou", "/Sales"], "/Sales is both included and excluded"),
     (["--include-ou", "/Sales/EMEA", "--exclude-ou", "/Sales"], "/Sales/EMEA is inside the excluded /Sales")],
)
def test_an_ou_both_included_and_excluded_is_refused(google: Google, env: dict[str, str],  # noqa: F811
                                                      ous: list[str], words: str) -> None:
    refused(directory_sync(*ous), "exclude_ous", words)
    assert job_names() == []


def test_show_prints_a_directory_syncs_units(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    result = runner.invoke(app, directory_sync("--include-ou", "/Sales", "--exclude-ou", "/Sales/EMEA"))
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["jobs", "show", "Dir1"]).output
    assert "include_ous: /Sales\n" in shown and "exclude_ous: /Sales/EMEA\n" in shown, shown


def history(name: str) -> list[str]:
    shown = json.loads(runner.invoke(app, ["jobs", "show", name, "--json"]).output)
    return [h["action"] for h in shown["history"]]


def test_edit_with_nothing_to_change_says_so_and_records_nothing(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    result = runner.invoke(app, ["jobs", "edit", "Partners"])
    assert result.exit_code == 0 and result.output.strip() == "nothing to change for sync 'Partners'", result.output
    # the same values again change nothing either: no empty history entry
    assert runner.invoke(app, ["jobs", "edit", "Partners", "--every", "1h"]).exit_code == 0
    assert history("Partners") == ["create"]


@pytest.mark.parametrize(("verb", "already"), [("pause", "already paused"), ("resume", "already enabled")])
def test_pausing_a_paused_sync_says_so_and_records_nothing(google: Google, env: dict[str, str],  # noqa: F811
                                                           verb: str, already: str) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    if verb == "pause":
        assert runner.invoke(app, ["jobs", "pause", "Partners"]).output.strip() == "paused sync 'Partners'"
    result = runner.invoke(app, ["jobs", verb, "partners"])
    assert result.exit_code == 0 and result.output.strip() == f"sync 'Partners' is {already}", result.output
    assert history("Partners").count(verb) == (1 if verb == "pause" else 0)
