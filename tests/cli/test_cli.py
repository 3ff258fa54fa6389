"""The `contactsync` CLI as a user meets it: exit codes, one-line errors, --json, dry runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contactsync.cli import app
from tests.conftest import Google

runner = CliRunner()


@pytest.fixture
def env(google: Google, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "GOOGLE_APPLICATION_CREDENTIALS": str(google.handle.credentials_file),
        "CONTACTSYNC_ADMIN_EMAIL": google.seed.admin_email,
        "CONTACTSYNC_GOOGLE_API_ENDPOINT": google.handle.url,
        "CONTACTSYNC_RETRY_MAX_WAIT_SECONDS": "0.01",
    }
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def create(google: Google, *targets: str, name: str = "Partners") -> list[str]:
    args = ["jobs", "create", "--name", name, "--source", google.seed.source_email, "--group", "Partners"]
    for t in targets:
        args += ["--target", t]
    return args


def test_create_list_show_run_delete(google: Google, env: dict[str, str]) -> None:
    result = runner.invoke(
        app, [*create(google, "email:bob@example.com", "group:emea-sales@example.com"), "--every", "30m"]
    )
    assert result.exit_code == 0, result.output
    assert "created sync 'Partners'" in result.output

    listing = runner.invoke(app, ["jobs", "list", "--json"])
    assert listing.exit_code == 0
    assert [j["name"] for j in json.loads(listing.output)] == ["Partners"]
    assert json.loads(listing.output)[0]["schedule"] == "every 30m"

    run = runner.invoke(app, ["run", "Partners", "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["status"] == "ok"
    assert {t["email"] for t in data["targets"]} >= {"bob@example.com", "zoe@example.com"}
    assert all(t["created"] == google.seed.contact_count for t in data["targets"])

    shown = runner.invoke(app, ["jobs", "show", "Partners", "--json"])
    details = json.loads(shown.output)
    assert details["targets"] == ["email:bob@example.com", "group:emea-sales@example.com"]
    assert details["last_runs"][0]["status"] == "ok"
    assert details["history"][0]["action"] == "create"

    gone = runner.invoke(app, ["jobs", "delete", "Partners", "--remove-contacts"])
    assert gone.exit_code == 0, gone.output
    assert "deleted sync 'Partners'" in gone.output
    bob = google.ws.user_by_key("bob@example.com")
    assert bob is not None
    assert not any(
        d["key"].startswith("contactsync:")
        for p in google.ws.people_of(bob["id"])["contacts"].values()
        for d in p.get("clientData", [])
    )


def test_dry_run_prints_a_summary_per_target_and_writes_nothing(google: Google, env: dict[str, str]) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com", "email:carol@example.com")).exit_code == 0
    count = google.seed.contact_count
    assert count > 3

    result = runner.invoke(app, ["run", "Partners", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "DRY RUN (nothing written)" in result.output
    assert result.output.count(f"+{count} ~0 -0 =0") == 2  # each target's counts
    assert result.output.count("      create  ") == 2 * 3  # the first few changes of each
    assert result.output.count(f"... and {count - 3} more (--verbose shows every change)") == 2

    verbose = runner.invoke(app, ["run", "Partners", "--dry-run", "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    assert verbose.output.count("      create  ") == 2 * count and "more (--verbose" not in verbose.output

    as_json = runner.invoke(app, ["run", "Partners", "--dry-run", "--json"])
    assert as_json.exit_code == 0, as_json.output
    targets = json.loads(as_json.output)["targets"]
    assert [len(t["plan"]["creates"]) for t in targets] == [count, count]
    assert all(t["plan"]["updates"] == [] and t["plan"]["deletes"] == [] for t in targets)

    for email in ("bob@example.com", "carol@example.com"):
        user = google.ws.user_by_key(email)
        assert user is not None and google.ws.people_of(user["id"])["contacts"] == {}


def test_failed_targets_exit_1_and_say_which(google: Google, env: dict[str, str]) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com", "email:zoe@example.com")).exit_code == 0
    google.handle.control.delete_user("zoe@example.com")
    result = runner.invoke(app, ["run", "Partners"])
    assert result.exit_code == 1
    assert "zoe@example.com (not_found)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "Nope"], "no sync job named 'Nope'"),
        (["jobs", "show", "Nope"], "no sync job named 'Nope'"),
        (
            [
                "jobs",
                "create",
                "--name",
                "X",
                "--source",
                "alice@example.com",
                "--group",
                "Partners",
                "--target",
                "bogus",
            ],
            "targets: bad target 'bogus'",
        ),
        (
            [
                "jobs",
                "create",
                "--name",
                "X",
                "--source",
                "not-an-email",
                "--group",
                "Partners",
                "--target",
                "email:bob@example.com",
            ],
            "source: 'not-an-email' is not an email address",
        ),
        (
            [
                "jobs",
                "create",
                "--name",
                "X",
                "--source",
                "alice@example.com",
                "--group",
                "Nope",
                "--target",
                "email:bob@example.com",
            ],
            "group: alice@example.com has no contact group named 'Nope'",
        ),
        (
            [
                "jobs",
                "create",
                "--name",
                "X",
                "--source",
                "alice@example.com",
                "--group",
                "Partners",
                "--target",
                "email:bob@example.com",
                "--every",
                "1m",
            ],
            "schedule: bad schedule",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_settings_name_the_variable_and_hide_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    result = runner.invoke(app, ["jobs", "list"])
    assert result.exit_code == 2
    assert result.output.startswith("error: GOOGLE_APPLICATION_CREDENTIALS:")
    assert "xoxb-very-secret" not in result.output
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.setenv("DATABASE_URL", "mysql+nodriver://u:pw@h/db")
    result = runner.invoke(app, ["jobs", "list"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output and "pw" not in result.output


def test_db_upgrade_says_what_it_did(env: dict[str, str]) -> None:
    """A new database is created at the head revision, an old one migrated from its revision, a current one
    left as it is: each says so, naming the revisions."""
    from alembic.script import ScriptDirectory

    from sync_core import store

    scripts = ScriptDirectory.from_config(store.alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output == f"created the database schema at revision {head}\n"
    again = runner.invoke(app, ["db", "upgrade"])
    assert again.output == f"the database is already at the latest revision, {head}\n"

    older = env["DATABASE_URL"].replace("cli.db", "older.db")
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    store.upgrade(older, previous)
    migrated = runner.invoke(app, ["db", "upgrade"], env={"DATABASE_URL": older})
    assert migrated.exit_code == 0, migrated.output
    assert migrated.output == f"migrated the database from revision {previous} to revision {head}\n"


def test_create_directory_and_run(google: Google, env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        [
            "jobs",
            "create-directory",
            "--name",
            "Staff",
            "--domain",
            "example.com",
            "--domain",
            "example.org",
            "--exclude-ou",
            "/Contractors",
            "--target",
            "email:bob@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "created directory sync 'Staff'" in result.output
    run = runner.invoke(app, ["run", "Staff", "--json"])
    assert run.exit_code == 0, run.output
    (bob,) = json.loads(run.output)["targets"]
    assert bob["created"] == 7  # 9 listed users of both domains, less oscar (/Contractors) and bob himself
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Staff", "--json"]).output)
    assert shown["kind"] == "directory" and shown["exclude_ous"] == ["/Contractors"]
    bad = runner.invoke(
        app, ["jobs", "create-directory", "--name", "X", "--domain", "nope.com", "--target", "email:bob@example.com"]
    )
    assert bad.exit_code == 2 and "domains: nope.com is not one of this Workspace's domains" in bad.output


def test_edit_pause_resume(google: Google, env: dict[str, str]) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com")).exit_code == 0
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    google.handle.control.rename_user(google.seed.source_email, "alice.new@example.com")
    edited = runner.invoke(
        app,
        [
            "jobs",
            "edit",
            "Partners",
            "--source",
            "alice.new@example.com",
            "--target",
            "email:zoe@example.com",
            "--every",
            "6h",
            "--yes",  # bob leaves, with the contacts he got
        ],
    )
    assert edited.exit_code == 0, edited.output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["source"] == "alice.new@example.com" and shown["schedule"] == "every 6h"
    assert shown["targets"] == ["email:zoe@example.com"]
    run = json.loads(runner.invoke(app, ["run", "Partners", "--json"]).output)
    by = {t["email"]: t for t in run["targets"]}
    assert by["zoe@example.com"]["created"] == google.seed.contact_count
    assert by["bob@example.com"]["status"] == "removed", "a target taken out loses the contacts"
    assert runner.invoke(app, ["jobs", "pause", "Partners"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)[0]["enabled"] is False
    assert runner.invoke(app, ["jobs", "resume", "Partners"]).exit_code == 0
    history = [
        h["action"] for h in json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)["history"]
    ]
    assert history[:3] == ["resume", "pause", "edit"]
    bad = runner.invoke(app, ["jobs", "edit", "Partners", "--group", "Nope"])
    assert bad.exit_code == 2 and "group:" in bad.output


def sales_department(google: Google, *, but: str = "") -> set[str]:
    """The active users whose department is Sales, read from the emulator's state."""
    return {u["primaryEmail"] for u in google.ws.directory["users"].values()
            if any(o.get("department") == "Sales" for o in u.get("organizations", []))
            and not u.get("suspended") and not u.get("archived") and u["primaryEmail"] != but}


def test_query_target_in_create_edit_and_create_directory(google: Google, env: dict[str, str]) -> None:
    created = runner.invoke(app, create(google, "query:orgDepartment='Sales'"))
    assert created.exit_code == 0, created.output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["targets"] == ["query:orgDepartment='Sales'"]
    run = json.loads(runner.invoke(app, ["run", "Partners", "--json"]).output)
    reached = {t["email"] for t in run["targets"] if t["status"] == "ok"}
    assert reached == sales_department(google, but=google.seed.source_email)

    edited = runner.invoke(app, ["jobs", "edit", "Partners", "--target", "query:orgTitle:'VP Sales'", "--yes"])
    assert edited.exit_code == 0, edited.output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["targets"] == ["query:orgTitle:'VP Sales'"]

    staff = runner.invoke(app, ["jobs", "create-directory", "--name", "Staff", "--domain", "example.com",
                                "--target", "query:isSuspended=false orgDepartment=Engineering"])
    assert staff.exit_code == 0, staff.output


@pytest.mark.parametrize("query", ["orgDepartment='Sales", "shoeSize=42", "orgUnitPath=/Nowhere"])
def test_a_query_the_directory_refuses_is_one_line_and_exit_2(google: Google, env: dict[str, str],
                                                              query: str) -> None:
    result = runner.invoke(app, create(google, f"query:{query}"))
    assert result.exit_code == 2, result.output
    assert f"targets: the directory refused the query {query!r}" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    edit = runner.invoke(app, [*create(google, "email:bob@example.com", name="Other")])
    assert edit.exit_code == 0
    refused = runner.invoke(app, ["jobs", "edit", "Other", "--target", f"query:{query}"])
    assert refused.exit_code == 2 and "the directory refused the query" in refused.output


def test_target_help_lists_every_kind() -> None:
    """`--target`'s help is built from the registry: a new kind shows up with no change to the CLI."""
    import typer.main

    from sync_core.service import TARGET_KINDS

    jobs = typer.main.get_command(app).commands["jobs"]  # type: ignore[attr-defined]
    for command in ("create", "create-directory"):
        (option,) = [p for p in jobs.commands[command].params if p.name == "target"]
        for kind in TARGET_KINDS.values():
            assert kind.help in option.help


def test_delete_that_cannot_clean_every_account_keeps_the_job_deleting_until_a_retry(
    google: Google, env: dict[str, str]
) -> None:
    assert runner.invoke(app, create(google, "email:bob@example.com", "email:zoe@example.com")).exit_code == 0
    assert runner.invoke(app, ["run", "Partners"]).exit_code == 0
    google.handle.control.suspend_user("zoe@example.com")  # Google refuses to act as a suspended user

    kept = runner.invoke(app, ["jobs", "delete", "Partners", "--remove-contacts"])
    assert kept.exit_code == 1
    assert "zoe@example.com could not be cleaned" in kept.output and "marked as deleting" in kept.output
    assert ours(google, "bob@example.com") == {}  # the accounts that could be cleaned are
    assert ours(google, "zoe@example.com") != {}

    listing = json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output)
    assert [(j["name"], j["enabled"], j["deleting"]) for j in listing] == [("Partners", False, True)]
    assert "deleting" in runner.invoke(app, ["jobs", "list"]).output
    shown = json.loads(runner.invoke(app, ["jobs", "show", "Partners", "--json"]).output)
    assert shown["deleting"] is True
    assert [h["action"] for h in shown["history"]][:2] == ["delete unfinished", "deleting"]

    refused = runner.invoke(app, ["run", "Partners"])  # a run never runs a deleting job
    assert refused.exit_code == 2 and "being deleted" in refused.output
    assert ours(google, "bob@example.com") == {}
    assert runner.invoke(app, ["jobs", "resume", "Partners"]).exit_code == 2

    google.handle.control.unsuspend_user("zoe@example.com")
    done = runner.invoke(app, ["jobs", "delete", "Partners"])  # the retry keeps the promise to remove contacts
    assert done.exit_code == 0, done.output
    assert "deleted sync 'Partners'" in done.output
    assert ours(google, "zoe@example.com") == {}
    assert json.loads(runner.invoke(app, ["jobs", "list", "--json"]).output) == []


def ours(google: Google, email: str) -> dict[str, dict[str, Any]]:
    """The contacts a sync created in this account (those carrying a ContactSync tag), by resourceName."""
    user = google.ws.user_by_key(email)
    assert user is not None
    return {
        rn: p for rn, p in google.ws.people_of(user["id"])["contacts"].items()
        if any(d["key"].startswith("contactsync:") for d in p.get("clientData", []))
    }


def test_edit_to_a_new_source_checks_its_group_and_history_says_old_to_new(
    google: Google, env: dict[str, str]
) -> None:
    assert runner.invoke(app, create(google, "email:zoe@example.com")).exit_code == 0
    google.handle.control.add_group("bob@example.com", "Golf")
    refused = runner.invoke(app, ["jobs", "edit", "Partners", "--source", "bob@example.com"])
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "error: group: bob@example.com has no contact group named 'Partners' (groups: Golf)"
    )
    accepted = runner.invoke(app, ["jobs", "edit", "Partners", "--source", "bob@example.com", "--group", "golf"])
    assert accepted.exit_code == 0, accepted.output
    shown = runner.invoke(app, ["jobs", "show", "Partners"]).output
    assert f"source_email: {google.seed.source_email} -> bob@example.com" in shown
    assert "source_group_name: Partners -> Golf" in shown
    run = runner.invoke(app, ["run", "Partners", "--json"])  # Bob's group is empty: a sync of nothing, no failure
    assert json.loads(run.output)["status"] == "ok", run.output
