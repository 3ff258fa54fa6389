"""A Directory Sync is more than names: custom schema fields and other directory fields on the card
(`--directory-fields`), and the domain's shared contacts (`--include-shared-contacts`), end to end against the
emulator: values land, and changes, removals, additions and deletions converge at the next run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from emulator.core import Workspace
from emulator.seed import seed_workspace
from emulator.testing import running_emulator
from sync_core import store
from sync_core.domain.models import RunStatus, SyncJob
from sync_core.runtime import Runtime
from sync_core.scheduling.watch import WatchOutcome
from sync_core.service import DirectoryJobSpec, JobEdit, JobInputError
from sync_core.service.changes import edit_job
from sync_core.service.create import create_directory_job
from sync_core.settings import GOOGLE_SCOPES_DIRECTORY, GOOGLE_SCOPES_DOMAIN_CONTACTS, GOOGLE_SCOPES_PEOPLE
from tests.conftest import Google
from tests.integration.helpers import as_user, make_runtime, ours

JSON = dict[str, Any]
MAPPING = ("Employment.Division=userDefined:Division,Employment.EmployeeNumber=nicknames,"
           "employeeId=userDefined:Employee id,locations=userDefined:Desk,Employment.Languages=userDefined:Languages")
SHARED = {"reception@example.com", "helpdesk@example.com", "orders@acme.example"}


def create(rt: Runtime, *targets: str, **kw: Any) -> str:
    spec = DirectoryJobSpec(name=kw.pop("name", "Staff"), domains=["example.com", "example.org"],
                            targets=list(targets), **kw)
    return create_directory_job(
        rt.db, spec=spec, directory=rt.directory(), max_contacts=rt.settings.max_contacts_per_account
    ).name


def cards(google: Google, email: str) -> dict[str, JSON]:
    return {p["emailAddresses"][0]["value"]: p for p in ours(google, email).values()}


def user_defined(card: JSON) -> dict[str, str]:
    return {e["key"]: e["value"] for e in card.get("userDefined", [])}


def job(rt: Runtime, name: str = "Staff") -> SyncJob:
    with store.session_scope(rt.db) as session:
        found = session.exec(select(SyncJob).where(SyncJob.name == name)).one()
        session.expunge(found)
        return found


def test_custom_schema_fields_land_and_changes_and_removals_converge(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", directory_fields=[MAPPING])
    assert rt.engine.run("Staff").status is RunStatus.ok
    carol = cards(google, "bob@example.com")["carol@example.com"]
    values = google.ws.user_by_key("carol@example.com")["customSchemas"]["Employment"]  # type: ignore[index]
    fields = user_defined(carol)
    assert fields["Division"] == values["Division"]
    assert fields["Employee id"].startswith("E10")
    assert fields["Desk"].startswith("HQ, floor ")
    assert [n["value"] for n in carol["nicknames"]] == [str(values["EmployeeNumber"])]

    control = google.handle.control
    control.set_custom_schema_values("carol@example.com", {"Employment": {"Division": "Moonbase",
                                                                           "Languages": [{"value": "de"}]}})
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok and report.total("updated") == 1, report
    carol = cards(google, "bob@example.com")["carol@example.com"]
    assert user_defined(carol)["Division"] == "Moonbase", "a changed value converges"
    assert user_defined(carol)["Languages"] == "de", "a new value converges"
    assert "nicknames" not in carol, "a removed value converges (EmployeeNumber is no longer set)"

    control.set_custom_schema_values("carol@example.com", {"Employment": None})
    rt.engine.run("Staff")
    assert set(user_defined(cards(google, "bob@example.com")["carol@example.com"])) == {"Employee id", "Desk"}


def test_an_unknown_schema_or_field_is_refused_naming_the_valid_ones(google: Google, rt: Runtime) -> None:
    with pytest.raises(JobInputError, match="the schemas are Employment") as refused:
        create(rt, "email:bob@example.com", directory_fields=["Payroll.Grade=nicknames"])
    assert refused.value.field == "directory_fields"
    with pytest.raises(JobInputError, match="Employment.EmployeeNumber, Employment.Division"):
        create(rt, "email:bob@example.com", directory_fields=["Employment.Grade=nicknames"])
    with pytest.raises(JobInputError, match="choose from nicknames"):
        create(rt, "email:bob@example.com", directory_fields=["costCenter=names"])
    with pytest.raises(JobInputError, match="readable only by admins and the user"):
        create(rt, "email:bob@example.com", directory_fields=["Employment.StartDate=userDefined:Start"])
    with store.session_scope(rt.db) as session:
        assert store.job_names(session) == [], "nothing stored"


def test_an_edit_changes_the_mapping_and_the_next_run_follows(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", directory_fields=["costCenter=userDefined:Cost center"])
    rt.engine.run("Staff")
    assert user_defined(cards(google, "bob@example.com")["carol@example.com"]) == {"Cost center": "CC-Sales"}
    edit_job(rt.db, name="Staff", edit=JobEdit(directory_fields=["Employment.Division=userDefined:Division"]),
             actor="test", directory=rt.directory(), people_for=rt.people)
    assert job(rt).directory_fields == ["Employment.Division=userDefined:Division"]
    rt.engine.run("Staff")
    assert set(user_defined(cards(google, "bob@example.com")["carol@example.com"])) == {"Division"}
    with pytest.raises(JobInputError, match="the schemas are Employment"):
        edit_job(rt.db, name="Staff", edit=JobEdit(directory_fields=["Nope.X=nicknames"]), actor="test",
                 directory=rt.directory(), people_for=rt.people)
    assert job(rt).directory_fields == ["Employment.Division=userDefined:Division"], "nothing stored"


def test_shared_contacts_join_and_additions_edits_deletions_converge(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", include_shared_contacts=True)
    assert rt.engine.run("Staff").status is RunStatus.ok
    bob = cards(google, "bob@example.com")
    assert set(bob) >= SHARED
    assert bob["reception@example.com"]["phoneNumbers"][0]["value"] == "+1 415-555-0100"
    assert job(rt).source_sync_token, "the shared contacts' sync token is kept for the next run"

    control = google.handle.control
    shared = {p["emailAddresses"][0]["value"]: p["resourceName"] for p in control.domain_contacts()}
    control.add_domain_contacts([{"names": [{"givenName": "Front", "familyName": "Gate"}],
                                  "emailAddresses": [{"value": "gate@example.com", "type": "work"}]}])
    control.update_domain_contact(shared["helpdesk@example.com"],
                                  {"phoneNumbers": [{"value": "+1 415-555-0199", "type": "work"}]})
    control.delete_domain_contact(shared["orders@acme.example"])
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok, report
    assert tuple(report.total(k) for k in ("created", "updated", "deleted")) == (1, 1, 1), report
    bob = cards(google, "bob@example.com")
    assert "gate@example.com" in bob and "orders@acme.example" not in bob
    assert bob["helpdesk@example.com"]["phoneNumbers"][0]["value"] == "+1 415-555-0199"

    # Bob deletes a shared contact's card: the next run (the shared contacts read since its token, the rest as
    # the store kept them) writes it again whole.
    as_user(rt, "bob@example.com").people().deleteContact(
        resourceName=bob["reception@example.com"]["resourceName"]).execute()
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok and report.total("created") == 1, report
    assert cards(google, "bob@example.com")["reception@example.com"]["phoneNumbers"][0]["value"] == "+1 415-555-0100"

    # A sync token Google no longer knows: the shared contacts are read in full, and nothing changes.
    with store.session_scope(rt.db) as session:
        row = session.exec(select(SyncJob).where(SyncJob.name == "Staff")).one()
        row.source_sync_token = "expired"
        session.add(row)
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok, report
    assert tuple(report.total(k) for k in ("created", "updated", "deleted")) == (0, 0, 0), report
    assert SHARED - {"orders@acme.example"} | {"gate@example.com"} <= set(cards(google, "bob@example.com"))


def test_without_the_option_no_shared_contact_is_read(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com")
    rt.engine.run("Staff")
    assert not SHARED & set(cards(google, "bob@example.com"))
    assert job(rt).source_sync_token is None


def test_the_readme_scopes_are_enough_for_mappings_and_shared_contacts(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    scopes = [*GOOGLE_SCOPES_PEOPLE, *GOOGLE_SCOPES_DIRECTORY, *GOOGLE_SCOPES_DOMAIN_CONTACTS]
    assert all(scope in readme for scope in scopes)
    ws = Workspace()
    seed = seed_workspace(ws, contacts=5)
    with running_emulator(ws, tmp_path, scopes=scopes) as handle:
        google = Google(handle, seed)
        rt = make_runtime(google, f"sqlite:///{tmp_path / 'cs.db'}")
        create(rt, "email:bob@example.com", directory_fields=[MAPPING], include_shared_contacts=True)
        report = rt.engine.run("Staff")
        assert report.status is RunStatus.ok, report
        assert set(cards(google, "bob@example.com")) >= SHARED


def test_the_watch_sees_a_mapped_value_and_a_shared_contact_change(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", directory_fields=["Employment.Division=userDefined:Division"],
           include_shared_contacts=True)
    rt.engine.run("Staff")
    job_id = job(rt).id
    assert job_id is not None
    watcher = rt.watcher()
    google.handle.control.reset_calls()
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged
    calls = google.handle.control.calls()["byMethod"]
    assert calls.get("people.people.listDirectoryPeople") == 1, calls  # the changes since the token: none

    control = google.handle.control
    control.set_custom_schema_values("carol@example.com", {"Employment": {"Division": "Moonbase"}})
    assert watcher.check(job_id).outcome is WatchOutcome.changed
    rt.engine.run("Staff")
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged

    (reception,) = (p for p in control.domain_contacts() if p["names"][0]["givenName"] == "Reception")
    control.update_domain_contact(reception["resourceName"], {"biographies": [{"value": "Ground floor"}]})
    assert watcher.check(job_id).outcome is WatchOutcome.changed
    rt.engine.run("Staff")
    assert watcher.check(job_id).outcome is WatchOutcome.unchanged


ISSUE_22 = "Employment.CostCenter=userDefined:Cost center,Employment.Nickname=nicknames,externalIds=externalIds"


def test_the_issue_example_lands_converges_and_then_writes_nothing(google: Google, rt: Runtime) -> None:
    """Issue 22's own mapping: a custom schema field into a labelled field, another into nicknames, and the
    directory's external ids into People's externalIds (a field outside the default set, copied because the
    mapping targets it)."""
    from emulator.schema_store import update_schema
    from emulator.seed import CUSTOM_SCHEMA

    update_schema(google.ws, "Employment", {"fields": [
        *CUSTOM_SCHEMA["fields"], {"fieldName": "CostCenter", "fieldType": "STRING"},
        {"fieldName": "Nickname", "fieldType": "STRING"}]})
    control = google.handle.control
    control.set_custom_schema_values("carol@example.com", {"Employment": {"CostCenter": "4711", "Nickname": "Caz"}})
    create(rt, "email:bob@example.com", directory_fields=[ISSUE_22])
    assert rt.engine.run("Staff").status is RunStatus.ok
    carol = cards(google, "bob@example.com")["carol@example.com"]
    assert user_defined(carol)["Cost center"] == "4711"
    assert [n["value"] for n in carol["nicknames"]] == ["Caz"]
    directory_ids = google.ws.user_by_key("carol@example.com")["externalIds"]  # type: ignore[index]
    assert [{k: e[k] for k in ("value", "type")} for e in carol["externalIds"]] == directory_ids

    ids = [{"value": "E-42", "type": "organization"}, {"value": "B-7", "type": "custom", "customType": "badge"}]
    control.update_user("carol@example.com", {"externalIds": ids})
    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok and report.total("updated") == 1, report
    carol = cards(google, "bob@example.com")["carol@example.com"]
    assert [(e["value"], e.get("type")) for e in carol["externalIds"]] == [("E-42", "organization"), ("B-7", "badge")]

    report = rt.engine.run("Staff")
    assert report.status is RunStatus.ok, report
    assert tuple(report.total(k) for k in ("created", "updated", "deleted")) == (0, 0, 0), report


def test_a_mapping_to_locations_lands_in_peoples_locations(google: Google, rt: Runtime) -> None:
    create(rt, "email:bob@example.com", directory_fields=["locations=locations"])
    assert rt.engine.run("Staff").status is RunStatus.ok
    carol = cards(google, "bob@example.com")["carol@example.com"]
    (desk,) = google.ws.user_by_key("carol@example.com")["locations"]  # type: ignore[index]
    assert [{k: v for k, v in e.items() if k != "metadata"} for e in carol["locations"]] == [
        {"value": desk["area"], "type": "desk", "buildingId": desk["buildingId"], "floor": desk["floorName"],
         "deskCode": desk["deskCode"]}]
    report = rt.engine.run("Staff")
    assert tuple(report.total(k) for k in ("created", "updated", "deleted")) == (0, 0, 0), report
