"""What the CLI prints, as an admin reads it: setup errors, --version, help, listings, `jobs show`, dry
runs, and the Directory Sync's units in `jobs edit`."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from importlib.metadata import version

import pytest
import typer.main
from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import create, env  # noqa: F401  (env: the fixture)
from tests.conftest import Google

runner = CliRunner()


def one_error_line(args: list[str], field: str) -> str:
    """Run a command that must be refused: exit 2, one stderr line `error: FIELD: ...`; the line."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith(f"error: {field}: "), result.stderr
    assert "Traceback" not in result.output
    return result.stderr.strip()


def directory(name: str = "Staff", *extra: str) -> list[str]:
    return ["jobs", "create-directory", "--name", name, "--domain", "example.com", "--target",
            "email:bob@example.com", *extra]


# --- 5: a missing Google setting is a setup error, for every command that needs Google ------------------
GOOGLE_COMMANDS = [
    ["run", "Partners"],
    ["run", "Partners", "--dry-run"],
    ["jobs", "create", "--name", "Other", "--source", "alice@example.com", "--group", "Partners",
     "--target", "email:bob@example.com"],
    directory("Other"),
    ["jobs", "edit", "Partners", "--target", "email:zoe@example.com"],
    ["jobs", "delete", "Partners", "--remove-contacts"],
]


@pytest.mark.parametrize("args", GOOGLE_COMMANDS)
@pytest.mark.parametrize(
    "unset",
    [("CONTACTSYNC_ADMIN_EMAIL",), ("GOOGLE_APPLICATION_CREDENTIALS",),
     ("GOOGLE_APPLICATION_CREDENTIALS", "CONTACTSYNC_ADMIN_EMAIL")],
)
def test_a_missing_google_setting_is_one_line_naming_it_and_exit_2(
    google: Google, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    args: list[str], unset: tuple[str, ...],
) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    for name in unset:
        monkeypatch.delenv(name)
    line = one_error_line(args, " and ".join(unset))
    assert ": not set (" in line
    monkeypatch.setenv("CONTACTSYNC_ADMIN_EMAIL", google.seed.admin_email)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", env["GOOGLE_APPLICATION_CREDENTIALS"])
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["last_runs"] == [], "no failed run is recorded: nothing ran"
    assert shown["targets"] == ["email:bob@example.com"]


def test_commands_that_need_no_google_work_without_it(
    google: Google, env: dict[str, str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    monkeypatch.delenv("CONTACTSYNC_ADMIN_EMAIL")
    for args in (["jobs", "list"], ["jobs", "show", "Partners"], ["jobs", "pause", "Partners"], ["db", "upgrade"],
                 ["jobs", "edit", "Partners", "--every", "2h"], ["jobs", "edit", "Partners", "--description", "x"],
                 ["jobs", "edit", "Partners", "--channel", "C0123ABCD"],
                 ["jobs", "edit", "Partners", "--name", "Partners 2"],
                 ["jobs", "edit", "Partners 2", "--name", "Partners"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)


# --- 6: --version, --json, help, units in edit, list's times ------------------------------------------
def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"contactsync {version('contactsync')}\n"


def all_commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths = [[]]
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "contactsync")
def test_help_reads_as_written(path: list[str]) -> None:
    """No typer placeholders (`<bool>`, `<str>`, `<list[str]>`, `{name}`): options show what to type."""
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert not re.search(r"<\w+(\[\w+\])?>|\{\w+\}", result.output), result.output


def test_jobs_help_names_every_subcommand() -> None:
    text = runner.invoke(app, ["jobs", "--help"]).output
    summary = text.split("Options:")[0].lower()  # the group's own line, before the list of its commands
    for word in ("create", "list", "show", "edit", "pause", "resume", "delete"):
        assert word in summary, summary
    edit = runner.invoke(app, ["jobs", "edit", "--help"], prog_name="contactsync").output
    assert "Usage: contactsync jobs edit [OPTIONS] NAME" in edit
    assert "--target KIND:VALUE" in edit and "--include-ou /PATH" in edit and "--exclude-ou /PATH" in edit


def test_create_directory_json(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    result = runner.invoke(app, [*directory("Staff", "--include-ou", "/Sales", "--target", "ou:/Engineering"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["name"], data["kind"]) == ("Staff", "directory")
    assert data["include_ous"] == ["/Sales"] and data["exclude_ous"] == []
    assert data["targets"] == ["email:bob@example.com", "ou:/Engineering"]
    assert data == json.loads(runner.invoke(app, ["jobs", "show", "Staff", "--json"]).output)


def units_of(name: str) -> tuple[list[str], list[str]]:
    shown = json.loads(runner.invoke(app, ["jobs", "show", name, "--json"]).output)
    return shown["include_ous"], shown["exclude_ous"]


def test_edit_replaces_a_directory_syncs_units_with_the_rules_of_create(
    google: Google, env: dict[str, str]  # noqa: F811
) -> None:
    assert runner.invoke(app, directory("Staff", "--exclude-ou", "/Contractors")).exit_code == 0
    edited = runner.invoke(app, ["jobs", "edit", "Staff", "--include-ou", "/Sales", "--include-ou", "/Engineering"])
    assert edited.exit_code == 0, edited.output
    assert units_of("Staff") == (["/Sales", "/Engineering"], ["/Contractors"])

    one_error_line(["jobs", "edit", "Staff", "--exclude-ou", "/Sales"], "exclude_ous")  # both in and out
    one_error_line(["jobs", "edit", "Staff", "--exclude-ou", "/Sales/EMEA", "--include-ou", "/Sales/EMEA/X"],
                   "include_ous")  # no such unit
    line = one_error_line(["jobs", "edit", "Staff", "--include-ou", "/Sales/EMEA", "--exclude-ou", "/Sales"],
                          "exclude_ous")
    assert "/Sales/EMEA is inside the excluded /Sales" in line
    assert units_of("Staff") == (["/Sales", "/Engineering"], ["/Contractors"]), "a refused edit changes nothing"

    assert runner.invoke(app, ["jobs", "edit", "Staff", "--exclude-ou", "/Sales/EMEA"]).exit_code == 0
    assert units_of("Staff") == (["/Sales", "/Engineering"], ["/Sales/EMEA"])
    assert runner.invoke(app, ["jobs", "edit", "Staff", "--include-ou", "", "--exclude-ou", ""]).exit_code == 0
    assert units_of("Staff") == ([], []), '"" empties a list (every unit, none left out)'
    history = json.loads(runner.invoke(app, ["jobs", "show", "Staff", "--json"]).output)["history"]
    assert history[0]["detail"]["include_ous"] == {"from": ["/Sales", "/Engineering"], "to": []}

    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    line = one_error_line(["jobs", "edit", "Partners", "--include-ou", "/Sales"], "include_ous")
    assert "only a Directory Sync has organizational units" in line


def test_list_shows_the_last_runs_time_and_the_next_run(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, [*create(google, "email:bob@example.com"), "--every", "30m"]).exit_code == 0
    before = runner.invoke(app, ["jobs", "list"]).output
    assert "last: never" in before and "next: 20" in before  # a new job runs a slot after its creation
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0

    (row,) = json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)
    last, upcoming = datetime.fromisoformat(row["last_run"]), datetime.fromisoformat(row["next_run"])
    assert timedelta(minutes=29) < upcoming - last <= timedelta(minutes=30)
    line = runner.invoke(app, ["jobs", "list"]).output
    assert f"last: ok {last:%Y-%m-%d %H:%M} UTC  next: {upcoming:%Y-%m-%d %H:%M} UTC" in line

    assert runner.invoke(app, ["jobs", "pause", "Partners"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)[0]["next_run"] is None
    assert runner.invoke(app, ["jobs", "list"]).output.rstrip().endswith("next: -")


# --- 7: show in the user's words, dry runs in a real run's order, db upgrade ----------------------------
def test_show_prints_selectors_as_typed_and_human_values(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, create(google, "ou:/Sales", "email:dave@example.com")).exit_code == 0
    data = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert sorted(data["targets"]) == ["email:dave@example.com", "ou:/Sales"]
    text = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert f"targets: {', '.join(data['targets'])}" in text and "orgunit" not in text
    assert "add_to_my_contacts: no" in text and "alert_channel: -" in text and "enabled: yes" in text
    for python in ("None", "True", "False", "['", "[]"):
        assert python not in text, (python, text)
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    text = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert "None" not in text and re.search(r"run: \d{4}-\d\d-\d\d \d\d:\d\d UTC ok \+", text), text
    assert re.search(r"source changed: \d{4}-\d\d-\d\d \d\d:\d\d UTC; at every target", text), text
    assert not re.search(r"\dT\d\d:", text), "times as people read them, not ISO 8601"


def report_lines(output: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """(first line, the targets in the order printed, each target's lines below it)."""
    lines = output.splitlines()
    targets: list[str] = []
    below: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("      ") and targets:
            below[targets[-1]].append(line.strip())
        elif line.startswith("  ") and "@" in line.split()[0]:
            targets.append(line.split()[0])
            below[targets[-1]] = []
    return lines[0], targets, below


def test_a_dry_run_prints_like_a_real_run_summary_first_then_targets_by_address(
    google: Google, env: dict[str, str]  # noqa: F811
) -> None:
    targets = ("email:zoe@example.com", "email:bob@example.com", "email:carol@example.com", "email:dave@example.com")
    assert runner.invoke(app, create(google, *targets)).exit_code == 0
    dry = runner.invoke(app, ["run", "Partners", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    first, order, below = report_lines(dry.output)
    assert first.startswith("DRY RUN (nothing written) of 'Partners': ok")
    assert order == sorted(order) and len(order) == 4
    for email in order:  # each target's first changes, under that target
        assert below[email][:3] and all(line.startswith("create  ") for line in below[email][:3]), dry.output
        assert below[email][-1].startswith("... and ")

    real = runner.invoke(app, ["run", "Partners"])
    assert real.exit_code == 0, real.output
    real_first, real_order, _ = report_lines(real.output)
    assert real_first.startswith("run of 'Partners': ok")
    assert real_order == order
