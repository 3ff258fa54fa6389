"""`JobService`, the one door the CLI and the bot use: delete (one behaviour for both), unknown jobs, and
read views as frozen data."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from sync_core import store
from sync_core.runtime import Runtime
from sync_core.service import ContactsChoice, JobBusy, JobEdit, JobInputError, JobNotFound, JobService
from tests.conftest import Google

from .helpers import create_job, ours


def test_delete_keeps_the_job_until_its_contacts_are_removed_everywhere(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com", "email:zoe@example.com")
    service = JobService(rt)
    service.run("Partners")
    assert ours(google, "bob@example.com") and ours(google, "zoe@example.com")
    google.handle.control.inject_fault("people.people.batchDeleteContacts", count=50, code=403, user="zoe@example.com")

    first = service.delete("Partners", actor="test", contacts=ContactsChoice.remove)
    assert not first.deleted and first.cleanup is not None
    assert [a.email for a in first.cleanup.failed] == ["zoe@example.com"]
    kept = service.find("Partners")
    assert kept.name == "Partners", "kept: a deleted job's leftovers could never be cleaned"
    assert kept.deleting and not kept.enabled
    with pytest.raises(JobBusy, match="being deleted"):  # a run never runs a deleting job
        service.run("Partners")
    with pytest.raises(JobInputError, match="being deleted"):
        service.edit("Partners", JobEdit(description="x"), actor="test")
    assert not ours(google, "bob@example.com") and ours(google, "zoe@example.com")

    google.handle.control.clear_faults()
    closed: list[int] = []
    second = service.delete("Partners", actor="test", contacts=None, closing=closed.append)  # as first chosen
    assert second.deleted and closed == [second.job.id]
    assert not ours(google, "zoe@example.com")
    assert service.find_or_none("Partners") is None
    with store.session_scope(rt.db) as session:
        last = store.audit_events(session, limit=1)[0]
    assert (last.action, last.detail) == ("delete", {"contacts": "removed"})


def test_an_unknown_job_is_a_field_error_naming_it(rt: Runtime) -> None:
    service = JobService(rt)
    for call in (service.detail, service.find, lambda n: service.pause(n, actor="test"),
                 lambda n: service.delete(n, actor="test", contacts=None)):
        with pytest.raises(JobNotFound) as caught:
            call("Nope")
        assert (caught.value.field, caught.value.message, caught.value.name) == ("name", "no sync named 'Nope'", "Nope")


def test_views_are_frozen_data(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:bob@example.com")
    service = JobService(rt)
    service.run("Partners")
    (row,) = service.list_jobs()
    assert row.job.name == "Partners" and row.last_run is not None
    # no scheduler here: the next run is the one `serve` plans, a slot (1h by default) after the last run's start
    assert row.next_run_at == row.last_run.started_at.replace(microsecond=0) + timedelta(hours=1)
    detail = service.detail("Partners")
    assert [s.value for s in detail.selectors] == ["bob@example.com"] and len(detail.runs) == 1
    assert [e.action for e in detail.history] == ["create"] and detail.source == google.seed.source_email
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.runs = ()  # type: ignore[misc]


def test_an_edit_to_a_new_source_finds_the_group_by_name_there_or_names_the_groups_it_has(
    google: Google, rt: Runtime
) -> None:
    create_job(rt, google, "email:zoe@example.com")
    service = JobService(rt)
    before = service.find("Partners")
    control = google.handle.control
    control.add_group("bob@example.com", "Golf")
    with pytest.raises(JobInputError) as refused:
        service.edit("Partners", JobEdit(source_email="bob@example.com"), actor="test")
    assert refused.value.field == "group"
    assert refused.value.message == "bob@example.com has no contact group named 'Partners' (groups: Golf)"
    assert service.find("Partners").source_email == before.source_email  # nothing changed

    group = control.add_group("bob@example.com", "partners")  # found by name, whatever its case
    control.add_contacts("bob@example.com", [
        {"names": [{"givenName": "Bea"}], "memberships": [
            {"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}]},
    ])
    job = service.edit("Partners", JobEdit(source_email="bob@example.com", schedule="every 6h"), actor="ada")
    bob = google.ws.user_by_key("bob@example.com")
    assert bob is not None
    assert (job.source_user_id, job.source_group_resource_name) == (bob["id"], group["resourceName"])
    with store.session_scope(rt.db) as session:
        edit = store.audit_events(session, limit=1)[0]
    assert (edit.action, edit.actor) == ("edit", "ada")
    assert edit.detail == {
        "source_email": {"from": google.seed.source_email, "to": "bob@example.com"},
        "source_user_id": {"from": before.source_user_id, "to": bob["id"]},
        "source_group_name": {"from": "Partners", "to": "partners"},
        "schedule": {"from": before.schedule, "to": "every 6h"},
    }
    report = service.run("Partners")
    assert report.status.value == "ok", report.error_reason
    assert [c["names"][0]["givenName"] for c in ours(google, "zoe@example.com").values()] == ["Bea"]


def test_an_edit_that_changes_nothing_relevant_still_checks_the_source_group(google: Google, rt: Runtime) -> None:
    create_job(rt, google, "email:zoe@example.com")
    service = JobService(rt)
    with pytest.raises(JobInputError) as refused:
        service.edit("Partners", JobEdit(source_email=google.seed.source_email, group_name="Nope"), actor="test")
    assert refused.value.field == "group" and "(groups: " in refused.value.message
    job = service.edit("Partners", JobEdit(targets=["email:bob@example.com"]), actor="test")
    with store.session_scope(rt.db) as session:
        edit = store.audit_events(session, job_id=job.id, limit=1)[0]
    assert edit.detail == {"targets": {"from": ["email:zoe@example.com"], "to": ["email:bob@example.com"]}}
