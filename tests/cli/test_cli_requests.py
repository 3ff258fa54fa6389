"""`contactsync requests list|approve|deny` and the two-person rule on the command line: a held change exits 3
and changes nothing; the CLI approves a request made in Slack (and tells the requester there), never one the
CLI made; a decided request cannot be decided again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from contactsync.cli import app
from slack_double import SlackDouble
from sync_core.runtime import Runtime
from sync_core.service import JobService, PersonalJobSpec
from sync_core.settings import load_settings
from tests.cli.test_cli import create, env  # noqa: F401 - the fixture
from tests.conftest import Google

runner = CliRunner()


def bobs_request(google: Google) -> str:
    """What Slack's `/contactsync request` files for Bob (tests/slack/test_requests.py walks the form itself)."""
    google.handle.control.add_group("bob@example.com", "Bob's clients")
    service = JobService(Runtime(load_settings()))
    spec = PersonalJobSpec(name="Bob's", source_email="bob@example.com", group_name="Bob's clients",
                           targets=["email:carol@example.com"])
    return service.request_personal(spec, service.member("bob@example.com", actor="UBOB0001")).id


def jobs(*_: object) -> list[str]:
    return [j["name"] for j in json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)]


def test_the_cli_approves_a_members_request_and_tells_them_in_slack(
        google: Google, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    request_id = bobs_request(google)
    listed = runner.invoke(app, ["requests", "list"])
    assert listed.exit_code == 0, listed.output
    assert request_id in listed.output and "bob@example.com" in listed.output
    assert jobs() == []
    with SlackDouble() as double:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-0000-test-token")
        monkeypatch.setenv("SLACK_API_URL", double.api_url)
        approved = runner.invoke(app, ["requests", "approve", request_id])
        assert approved.exit_code == 0, approved.output
        assert "first run: ok" in approved.output and "the requester was told" in approved.output
        dm = double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == "UBOB0001")
        assert "approved by the CLI" in dm.args["text"]
    assert jobs() == ["Bob's"]
    again = runner.invoke(app, ["requests", "approve", request_id])
    assert again.exit_code == 2 and "already approved by cli" in again.output
    assert runner.invoke(app, ["requests", "list"]).output.strip() == "no requests waiting"
    shown = json.loads(runner.invoke(app, ["requests", "list", "--all", "--json"]).output)
    assert [(r["id"], r["state"], r["decided_by"]) for r in shown] == [(request_id, "approved", "cli")]


def test_deny_needs_a_reason_and_says_it(google: Google, env: dict[str, str]) -> None:  # noqa: F811
    request_id = bobs_request(google)
    missing = runner.invoke(app, ["requests", "deny", request_id])
    assert missing.exit_code == 2 and "reason" in missing.output
    denied = runner.invoke(app, ["requests", "deny", request_id, "--reason", "ask in #sales"])
    assert denied.exit_code == 0 and "Slack was not told" in denied.output
    late = runner.invoke(app, ["requests", "approve", request_id])
    assert late.exit_code == 2 and "already denied" in late.output
    unknown = runner.invoke(app, ["requests", "approve", "Rnot-a-real-request-id"])
    assert unknown.exit_code == 2 and "no such request" in unknown.output
    assert jobs() == []


def test_a_held_change_exits_3_and_the_cli_cannot_approve_its_own(
        google: Google, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("CONTACTSYNC_APPROVAL_ABOVE", "1")
    with SlackDouble() as double:  # posted for the admins in Slack, where one may approve it
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-0000-test-token")
        monkeypatch.setenv("SLACK_API_URL", double.api_url)
        monkeypatch.setenv("CONTACTSYNC_ADMIN_CHANNEL", "C0ADMINS01")
        held = runner.invoke(app, create(google, "group:sales@example.com"))
        posted = double.wait_for(lambda c: c.method == "chat.postMessage" and c.args["channel"] == "C0ADMINS01")
        assert "request_approve" in str(posted.args["blocks"])
    assert held.exit_code == 3, held.output
    assert "posted for the admins in Slack" in held.output
    assert held.output.startswith("waiting for a second admin:") and "more than 1" in held.output
    assert jobs() == []
    request_id = json.loads(runner.invoke(app, ["requests", "list", "--json"]).output)[0]["id"]
    own = runner.invoke(app, ["requests", "approve", request_id])
    assert own.exit_code == 2 and "the CLI asked for it: an admin in Slack must" in own.output
    assert jobs() == []
