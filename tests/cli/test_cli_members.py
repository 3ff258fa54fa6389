"""The admin's side of Leave and Join on the command line: `--opt-out`, `--joinable`, `jobs opt-outs` and
`--clear`, and what `jobs show` says of them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from contactsync.cli import app
from sync_core.runtime import Runtime
from sync_core.service import JobService
from sync_core.settings import load_settings
from tests.cli.test_cli import create, env  # noqa: F401 - the fixture
from tests.conftest import Google

runner = CliRunner()


def leave_as(email: str, slack_user: str, job_name: str) -> None:
    """What Slack's Leave does for the member (tests/slack/test_members.py presses the button itself)."""
    service = JobService(Runtime(load_settings()))
    job = service.find(job_name)
    assert job.id is not None
    service.leave(job.id, service.member(email, actor=slack_user))


def test_opt_out_and_joinable_are_set_shown_and_edited(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    made = runner.invoke(app, [*create(google, "email:bob@example.com"), "--opt-out", "allowed", "--joinable"])
    assert made.exit_code == 0, made.output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert (shown["opt_out"], shown["joinable"], shown["opt_outs"]) == ("allowed", True, [])

    edited = runner.invoke(app, ["jobs", "edit", "Partners", "--opt-out", "never", "--not-joinable"])
    assert edited.exit_code == 0, edited.output
    text = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert "opt_out: never" in text and "joinable: no" in text
    assert "opt_out: allowed -> never" in text and "joinable: True -> False" in text  # the history says so

    default = runner.invoke(app, create(google, "email:bob@example.com", name="Plain") + ["--target-group-name", "P"])
    assert default.exit_code == 0, default.output
    plain = json.loads(runner.invoke(app, ["jobs", "show", "Plain", "--json"]).output)
    assert (plain["opt_out"], plain["joinable"]) == ("never", False)


def test_a_bad_opt_out_value_is_one_line_and_exit_2(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    result = runner.invoke(app, [*create(google, "email:bob@example.com"), "--opt-out", "sometimes"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: opt-out: 'sometimes' is not one of: never, allowed"
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output) == [], "nothing was created"


def test_opt_outs_are_listed_and_cleared(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    assert runner.invoke(app, [*create(google, "email:bob@example.com", "email:carol@example.com"),
                               "--opt-out", "allowed"]).exit_code == 0
    assert runner.invoke(app, ["jobs", "opt-outs", "Partners"]).output.strip() == "nobody has left this sync"
    leave_as("bob@example.com", "UBOB0001", "Partners")

    listed = runner.invoke(app, ["jobs", "opt-outs", "Partners", "--json"])
    assert [(o["email"], o["by"]) for o in json.loads(listed.output)] == [("bob@example.com", "UBOB0001")]
    shown = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert "left: bob@example.com" in shown and "UBOB0001 leave (google_id=" in shown

    missing = runner.invoke(app, ["jobs", "opt-outs", "Partners", "--clear", "carol@example.com"])
    assert missing.exit_code == 2 and "nobody with the address 'carol@example.com' left" in missing.output
    cleared = runner.invoke(app, ["jobs", "opt-outs", "Partners", "--clear", "Bob@Example.com"])
    assert cleared.exit_code == 0, cleared.output
    assert "bob@example.com is back in sync 'Partners'" in cleared.output
    assert json.loads(runner.invoke(app, ["jobs", "opt-outs", "Partners", "--json"]).output) == []
    assert "cli clear opt-out (google_id=" in runner.invoke(app, ["jobs", "show", "Partners"]).output
