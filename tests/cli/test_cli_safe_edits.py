"""`jobs edit` that would delete contacts says what first and asks (or needs --yes); a sync whose targets match
no one is refused at create and edit (unless --allow-empty), and its runs say `no_targets`, exit 1."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contactsync import cli
from contactsync.cli import app
from tests.cli.test_cli import create, env, runner
from tests.conftest import Google

__all__ = ["env"]  # the fixture, shared with the CLI tests

NOBODY = "query:orgDepartment='Nonexistent'"


def show(name: str = "Partners") -> dict[str, Any]:
    shown = runner.invoke(app, ["jobs", "show", name, "--json"])
    assert shown.exit_code == 0, shown.output
    data: dict[str, Any] = json.loads(shown.output)
    return data


def synced_to_three(google: Google) -> int:
    """Partners, run once to bob, carol and zoe: each holds the source's contacts."""
    made = runner.invoke(app, create(google, "email:bob@example.com", "email:carol@example.com",
                                     "email:zoe@example.com"))
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    return google.seed.contact_count


def test_an_edit_that_drops_targets_says_what_it_deletes_and_without_a_terminal_saves_nothing(
    google: Google, env: dict[str, str]
) -> None:
    n = synced_to_three(google)
    refused = runner.invoke(app, ["jobs", "edit", "Partners", "--target", "email:bob@example.com"])
    assert refused.exit_code == 2, refused.output
    assert f"deletes {2 * n} contacts in 2 accounts" in refused.output
    assert f"carol@example.com leaves the sync: its {n} contacts from this sync are deleted" in refused.output
    assert f"zoe@example.com leaves the sync: its {n} contacts from this sync are deleted" in refused.output
    assert "bob@example.com" not in refused.output  # he stays
    errors = [line for line in refused.output.splitlines() if line.startswith("error:")]
    assert errors == [f"error: edit: nothing saved: it deletes {2 * n} contacts in 2 accounts (add --yes to confirm)"]
    after = show()
    assert after["targets"] == ["email:bob@example.com", "email:carol@example.com", "email:zoe@example.com"]
    assert [h["action"] for h in after["history"]] == ["create"]

    saved = runner.invoke(app, ["jobs", "edit", "Partners", "--target", "email:bob@example.com", "--yes"])
    assert saved.exit_code == 0, saved.output
    assert "carol@example.com leaves the sync" in saved.output and "saved sync 'Partners'" in saved.output
    assert show()["targets"] == ["email:bob@example.com"]
    run = json.loads(runner.invoke(app, ["run", "Partners", "--json"]).output)
    gone = {t["email"]: t["deleted"] for t in run["targets"] if t["status"] == "removed"}
    assert gone == {"carol@example.com": n, "zoe@example.com": n}, "what the summary said, the run did"


@pytest.mark.parametrize(("answer", "code", "targets"), [
    ("n\n", 1, ["email:bob@example.com", "email:carol@example.com", "email:zoe@example.com"]),
    ("y\n", 0, ["email:carol@example.com"]),
])
def test_at_a_terminal_the_edit_asks(google: Google, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                     answer: str, code: int, targets: list[str]) -> None:
    synced_to_three(google)
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["jobs", "edit", "Partners", "--target", "email:carol@example.com"], input=answer)
    assert result.exit_code == code, result.output
    assert "Save this edit? [y/N]" in result.output
    assert "bob@example.com leaves the sync" in result.output
    assert show()["targets"] == targets


def test_an_edit_that_deletes_nothing_is_saved_without_a_question(google: Google, env: dict[str, str]) -> None:
    synced_to_three(google)
    more = ["jobs", "edit", "Partners", "--every", "6h", "--target", "email:bob@example.com",
            "--target", "email:carol@example.com", "--target", "email:zoe@example.com",
            "--target", "email:dave@example.com"]
    result = runner.invoke(app, more)
    assert result.exit_code == 0, result.output
    assert result.output == "saved sync 'Partners'\n"
    assert show()["schedule"] == "every 6h"


def test_another_source_group_replaces_every_copy_and_says_so(google: Google, env: dict[str, str]) -> None:
    n = synced_to_three(google)
    control = google.handle.control
    golf = control.add_group(google.seed.source_email, "Golf")
    control.add_contacts(google.seed.source_email, [{"names": [{"givenName": "Tiger"}], "memberships": [
        {"contactGroupMembership": {"contactGroupResourceName": golf["resourceName"]}}]}])
    refused = runner.invoke(app, ["jobs", "edit", "Partners", "--group", "Golf"])
    assert refused.exit_code == 2, refused.output
    assert f"“Partners” to {google.seed.source_email}'s “Golf”" in refused.output
    assert "every copy of the old source's contacts is deleted" in refused.output
    assert f"zoe@example.com: {n} contacts replaced by the new source's" in refused.output
    assert show()["source_group"] == "Partners"
    assert runner.invoke(app, ["jobs", "edit", "Partners", "--group", "Golf", "--yes"]).exit_code == 0
    assert show()["source_group"] == "Golf"


def test_a_sync_that_matches_no_one_is_refused_unless_allowed_and_its_runs_say_no_targets(
    google: Google, env: dict[str, str]
) -> None:
    refused = runner.invoke(app, create(google, NOBODY))
    assert refused.exit_code == 2
    assert refused.output.splitlines() == [
        f"error: targets: {NOBODY} matches no one who can receive the contacts (an active user other than the "
        "source): the sync would reach nobody (add --allow-empty to save it anyway)"]
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output) == []

    made = runner.invoke(app, [*create(google, NOBODY), "--allow-empty"])
    assert made.exit_code == 0, made.output
    run = runner.invoke(app, ["run", "Partners"])
    assert run.exit_code == 1, run.output
    assert "run of 'Partners': no_targets" in run.output
    assert f"warning: sync 'Partners' reached no one: its targets ({NOBODY}) match no one" in run.output
    assert show()["last_runs"][0]["status"] == "no_targets"


def test_an_edit_to_targets_that_match_no_one_is_refused_unless_allowed(google: Google, env: dict[str, str]) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    refused = runner.invoke(app, ["jobs", "edit", "Partners", "--target", NOBODY])
    assert refused.exit_code == 2
    assert "matches no one" in refused.output and "(add --allow-empty to save it anyway)" in refused.output
    assert show()["targets"] == ["email:bob@example.com"]
    allowed = runner.invoke(app, ["jobs", "edit", "Partners", "--target", NOBODY, "--allow-empty"])
    assert allowed.exit_code == 0, allowed.output  # never run: bob holds nothing, so nothing is asked
    assert show()["targets"] == [NOBODY]
