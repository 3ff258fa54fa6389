"""The demo a newcomer sees on a machine with no Google account configured.

It starts the built-in Google Workspace emulator with a seeded demo tenant on 127.0.0.1, points the
real product at it purely through settings (API endpoint + a credentials file whose token_uri is the
emulator's), creates a job, runs it, and walks through the situations the product exists for.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import typer

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core.domain.reports import RunReport
from sync_core.runtime import Runtime
from sync_core.service import JobService, PersonalJobSpec
from sync_core.settings import load_settings

BANNER = """
================================================================================
  CONTACTSYNC DEMO MODE — no Google credentials are configured.
  Everything below runs against the built-in Google Workspace emulator on
  127.0.0.1 with a made-up tenant (example.com / example.org). Nothing reaches
  Google. To sync a real Workspace, set GOOGLE_APPLICATION_CREDENTIALS and
  CONTACTSYNC_ADMIN_EMAIL (see README.md).
================================================================================
"""


def _step(title: str) -> None:
    typer.secho(f"\n▶ {title}", bold=True)


def _show(report: RunReport, show_json: bool) -> None:
    from contactsync.cli import print_report, print_target, report_json

    print_report(report)
    for target in report.targets:
        print_target(target)
    if show_json:
        typer.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))


def _as_user(rt: Runtime, email: str) -> Any:
    return rt.google.build("people", "v1", subject=email, scopes=["https://www.googleapis.com/auth/contacts"])


def run_demo(*, show_json: bool = False, contacts: int = 300) -> int:
    typer.secho(BANNER, fg=typer.colors.YELLOW, bold=True)
    ws = Workspace()
    seed = seed_workspace(ws, contacts=contacts)
    with tempfile.TemporaryDirectory(prefix="contactsync-demo-") as tmp, running_emulator(ws, Path(tmp)) as google:
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'demo.db'}",
            GOOGLE_APPLICATION_CREDENTIALS=str(google.credentials_file),
            CONTACTSYNC_ADMIN_EMAIL=seed.admin_email,
            CONTACTSYNC_GOOGLE_API_ENDPOINT=google.url,
        )
        rt = Runtime(settings)
        jobs = JobService(rt)
        typer.echo(
            f"Emulated Google Workspace at {google.url} — {seed.user_count} users, "
            f"{seed.source_email} has a contact group {seed.source_group_name!r} of {seed.contact_count}."
        )

        _step(f"Create a sync: {seed.source_email}'s {seed.source_group_name!r} -> the Sales group and Dave")
        job = jobs.create_personal(
            PersonalJobSpec(
                name="Partners for Sales",
                source_email=seed.source_email,
                group_name=seed.source_group_name,
                targets=[f"group:{seed.sales_group_email}", "email:dave@example.com"],
                description="demo",
                created_by="demo",
            )
        )
        typer.echo(f"created {job.name!r} (target group name {job.target_group_name!r}, {job.schedule})")

        _step("First run: every target gets the group")
        _show(jobs.run(job.name), show_json)

        _step("Second run with nothing changed: one read per target, no writes")
        _show(jobs.run(job.name), show_json)

        _step("Alice edits a partner at the source, and Bob edits his synced copy (targets are read-only)")
        alice = _as_user(rt, seed.source_email).people()
        page = (
            alice.connections().list(resourceName="people/me", personFields="names,memberships", pageSize=50).execute()
        )
        first = next(
            p
            for p in page["connections"]
            if any(
                m["contactGroupMembership"]["contactGroupResourceName"] == seed.source_group_resource_name
                for m in p.get("memberships", [])
            )
        )
        alice.updateContact(
            resourceName=first["resourceName"],
            updatePersonFields="names",
            body={"etag": first["etag"], "names": [{"givenName": "Renamed", "familyName": "Partner"}]},
        ).execute()
        bob = _as_user(rt, "bob@example.com").people()
        bobs = bob.connections().list(resourceName="people/me", personFields="names", pageSize=5).execute()
        tampered = bobs["connections"][0]
        bob.updateContact(
            resourceName=tampered["resourceName"],
            updatePersonFields="names",
            body={"etag": tampered["etag"], "names": [{"givenName": "Bob", "familyName": "Was Here"}]},
        ).execute()
        _show(jobs.run(job.name), show_json)

        _step("Dave is renamed to david@example.com by an admin (the competitor's sync breaks here)")
        google.control.rename_user("dave@example.com", "david@example.com")
        report = jobs.run(job.name)
        _show(report, show_json)
        renamed = [t for t in report.targets if t.new_email]
        if renamed:
            typer.echo(
                f"  -> ContactSync followed {renamed[0].new_email} by Google's immutable user id: "
                "no duplicates, nothing recreated, and the admin is told the new address."
            )

        _step("What the admin sees afterwards: `contactsync jobs show`")
        from contactsync.cli import describe_job

        details = describe_job(jobs, job.name)
        for run in details["last_runs"]:
            typer.echo(
                f"  {run['started_at'][:19]}  {run['status']:<8} +{run['created']} ~{run['updated']} "
                f"-{run['deleted']} ={run['unchanged']}  API calls: {run['api_calls']}"
            )

    typer.secho("\nDemo finished. Everything ran against the emulator; its data is gone now.", bold=True)
    return 0
