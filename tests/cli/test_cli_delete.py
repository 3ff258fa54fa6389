"""`contactsync jobs delete` says what becomes of the contacts: --remove-contacts or --keep-contacts, and per
target what it did."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from contactsync.cli import app
from tests.cli.test_cli import create, env, ours
from tests.conftest import Google

__all__ = ["env"]  # a fixture, used by name

runner = CliRunner()
TARGETS = ("bob@example.com", "zoe@example.com")


def label(google: Google, email: str, name: str = "Partners") -> dict[str, Any] | None:
    user = google.ws.user_by_key(email)
    assert user is not None
    return next((dict(g) for g in google.ws.people_of(user["id"])["groups"].values() if g.get("name") == name), None)


def in_label(google: Google, email: str, group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every contact in the label, by resourceName."""
    user = google.ws.user_by_key(email)
    assert user is not None
    return {rn: p for rn, p in google.ws.people_of(user["id"])["contacts"].items()
            if any(m["contactGroupMembership"]["contactGroupResourceName"] == group["resourceName"]
                   for m in p.get("memberships", []))}


def synced(google: Google) -> None:
    assert runner.invoke(app, create(google, *(f"email:{e}" for e in TARGETS))).exit_code == 0
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    assert all(len(ours(google, e)) == google.seed.contact_count for e in TARGETS)


def test_a_delete_of_a_sync_that_wrote_contacts_needs_one_of_the_two_flags(google: Google, env: dict[str, str]) -> None:
    synced(google)
    lines = []
    for args in ([], ["--remove-contacts", "--keep-contacts"]):
        refused = runner.invoke(app, ["jobs", "delete", "Partners", *args])
        assert refused.exit_code == 2, refused.output
        (line,) = refused.stderr.splitlines()
        assert line.startswith("error: contacts: ") and "--remove-contacts" in line and "--keep-contacts" in line
        lines.append(line)
    assert "sync 'Partners' has written contacts at 2 accounts" in lines[0] and "nothing was deleted" in lines[0]
    (job,) = json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)
    assert (job["name"], job["enabled"], job["deleting"]) == ("Partners", True, False), "nothing deleted"
    assert all(len(ours(google, e)) == google.seed.contact_count for e in TARGETS)

    assert runner.invoke(app, create(google, "email:carol@example.com", name="Never run")).exit_code == 0
    plain = runner.invoke(app, ["jobs", "delete", "Never run"])  # it wrote nothing: nothing to ask
    assert plain.exit_code == 0 and plain.output == "deleted sync 'Never run'\n"


def test_remove_contacts_says_per_target_what_it_removed(google: Google, env: dict[str, str]) -> None:
    synced(google)
    gone = runner.invoke(app, ["jobs", "delete", "Partners", "--remove-contacts"])
    assert gone.exit_code == 0, gone.output
    count = google.seed.contact_count
    assert gone.output.splitlines() == [
        *(f"  {e}: removed {count} contacts and the label" for e in TARGETS), "deleted sync 'Partners'"]
    assert "source contacts" not in gone.output
    assert all(ours(google, e) == {} and label(google, e) is None for e in TARGETS)


def test_keep_contacts_releases_them_and_a_new_sync_on_the_label_runs_ok_beside_them(
    google: Google, env: dict[str, str]
) -> None:
    synced(google)
    before = {e: set(ours(google, e)) for e in TARGETS}

    kept = runner.invoke(app, ["jobs", "delete", "Partners", "--keep-contacts"])

    assert kept.exit_code == 0, kept.output
    count = google.seed.contact_count
    assert kept.output.splitlines() == [
        *(f"  {e}: released {count} contacts and the label: they are the user's own now" for e in TARGETS),
        "deleted sync 'Partners'"]
    released: dict[str, dict[str, str]] = {}
    for email in TARGETS:
        group = label(google, email)
        assert group is not None and not group.get("clientData"), "the label stays, without our tag"
        held = in_label(google, email, group)
        assert set(held) == before[email] and ours(google, email) == {}, "the contacts stay, untagged"
        released[email] = {rn: p["etag"] for rn, p in held.items()}

    # A new sync on the same label name: no conflict at those accounts; it writes its own copies beside the
    # released contacts (no adoption), and never deletes or changes them.
    assert runner.invoke(app, create(google, *(f"email:{e}" for e in TARGETS), name="Partners 2")
                         + ["--target-group-name", "Partners"]).exit_code == 0
    run = runner.invoke(app, ["run", "Partners 2", "--json"])
    assert run.exit_code == 0, run.output
    assert [(t["email"], t["status"], t["created"], t["deleted"]) for t in json.loads(run.output)["targets"]] == [
        (e, "ok", count, 0) for e in TARGETS]
    again = runner.invoke(app, ["run", "Partners 2", "--json"])
    assert all((t["status"], t["created"], t["updated"], t["deleted"]) == ("ok", 0, 0, 0)
               for t in json.loads(again.output)["targets"])
    for email in TARGETS:
        group = label(google, email)
        assert group is not None
        held = in_label(google, email, group)
        assert {rn: held[rn]["etag"] for rn in released[email]} == released[email], "released ones untouched"
        assert set(held) - set(released[email]) == set(ours(google, email)) and len(ours(google, email)) == count
