"""Field rules end to end (README "Field rules"): which fields a sync copies (--fields), which a target keeps
(--keep-target-fields), and adopting a target's own contacts instead of duplicating them (--match-existing)."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.runtime import Runtime
from sync_core.service import ContactsChoice, JobEdit, JobInputError, JobService
from tests.conftest import Google
from tests.integration.helpers import (
    TAG,
    as_user,
    by_email,
    contacts,
    create_job,
    group_named,
    groups_of,
    source_keys,
)

JSON = dict[str, Any]
BOB = "bob@example.com"


def first_email(person: JSON) -> str:
    return str(person["emailAddresses"][0]["value"])


def source_people(google: Google) -> dict[str, JSON]:
    keys = source_keys(google)
    return {rn: p for rn, p in contacts(google, google.seed.source_email).items() if rn in keys}


def own_contact(rt: Runtime, email: str, body: JSON) -> str:
    """A contact the user makes in Google Contacts (in My Contacts, as Google puts it); its resourceName."""
    made = as_user(rt, email).people().createContact(body=body).execute()
    return str(made["resourceName"])


def tagged(google: Google, email: str, uid: str) -> dict[str, JSON]:
    return {rn: p for rn, p in contacts(google, email).items()
            if any(d["key"] == TAG + uid for d in p.get("clientData", []))}


def in_label(google: Google, email: str, label: str) -> dict[str, JSON]:
    group = group_named(google, email, label)
    assert group is not None
    return {rn: p for rn, p in contacts(google, email).items() if group["resourceName"] in groups_of(p)}


# --- --match-existing email -------------------------------------------------------------------------------
def test_a_target_holding_some_of_the_label_ends_with_each_person_once_its_own_adopted_and_never_deleted(
    google: Google, rt: Runtime
) -> None:
    people = source_people(google)
    keys = sorted(people)
    with_email = [k for k in keys if people[k].get("emailAddresses")]
    mine = with_email[: max(3, len(keys) * 3 // 10)]  # about 30% of the label are already bob's own contacts
    own = {}
    for key in mine:
        # His copy holds the address in another case, after an address of his own, with a note of his own.
        address = first_email(people[key]).upper()
        own[key] = own_contact(rt, BOB, {
            "names": [{"givenName": "Own"}],
            "emailAddresses": [{"value": f"private-{key[-6:]}@home.test"}, {"value": address}],
            "biographies": [{"value": "met at the fair"}],
        })
    before = len(contacts(google, BOB))
    create_job(rt, google, f"email:{BOB}", match_existing="email")
    service = JobService(rt)
    job = service.find("Partners")

    report = service.run("Partners")
    bob = by_email(report)[BOB]
    assert (bob.adopted, bob.created) == (len(mine), len(keys) - len(mine))
    held = in_label(google, BOB, google.seed.source_group_name)
    assert len(held) == len(keys), "each of the label's people once"
    assert len(contacts(google, BOB)) == before + len(keys) - len(mine), "no second copy of his own"
    for key, rn in own.items():
        adopted = held[rn]
        assert first_email(adopted).casefold() == first_email(people[key]).casefold()
        assert "contactGroups/myContacts" in groups_of(adopted), "his other groups stay"
        given = [n.get("givenName") for n in adopted.get("names", [])]
        assert given == [n.get("givenName") for n in people[key].get("names", [])], "a listed field: the source's"
    assert service.detail("Partners").adopted == len(mine)

    # The source drops an adopted person: released, not deleted.
    dropped = mine[0]
    alice = as_user(rt, google.seed.source_email).people()
    alice.deleteContact(resourceName=dropped).execute()
    report = service.run("Partners")
    assert by_email(report)[BOB].released == 1 and by_email(report)[BOB].deleted == 0
    still = contacts(google, BOB)[own[dropped]]
    assert not any(d["key"].startswith(TAG) for d in still.get("clientData", [])), "our tag and mark are gone"
    assert groups_of(still) == {"contactGroups/myContacts"}, "out of the label, still in My Contacts"

    # Deleting the job with its contacts removes what it made and releases what it adopted.
    service.delete("Partners", actor="test", contacts=ContactsChoice.remove)
    left = contacts(google, BOB)
    assert all(rn in left for rn in own.values()), "an adopted contact is never deleted"
    assert not tagged(google, BOB, job.uid)
    assert len(left) == before


def test_two_own_contacts_for_one_person_are_ambiguous_and_left_alone(google: Google, rt: Runtime) -> None:
    people = source_people(google)
    key = sorted(k for k in people if people[k].get("emailAddresses"))[0]
    address = first_email(people[key])
    twins = [own_contact(rt, BOB, {"names": [{"givenName": f"Twin {i}"}], "emailAddresses": [{"value": address}]})
             for i in range(2)]
    before = {rn: contacts(google, BOB)[rn]["etag"] for rn in twins}
    create_job(rt, google, f"email:{BOB}", match_existing="email")
    report = JobService(rt).run("Partners")
    bob = by_email(report)[BOB]
    assert bob.ambiguous == 1 and bob.adopted == 0
    assert {rn: contacts(google, BOB)[rn]["etag"] for rn in twins} == before, "never modified"
    assert len(in_label(google, BOB, google.seed.source_group_name)) == len(people)


# --- --keep-target-fields ---------------------------------------------------------------------------------
def test_a_targets_own_note_on_a_shared_contact_survives_ten_runs(google: Google, rt: Runtime) -> None:
    create_job(rt, google, f"email:{BOB}", keep_target_fields="notes")
    service = JobService(rt)
    uid = service.find("Partners").uid
    service.run("Partners")
    copies = {p["clientData"][0]["value"]: (rn, p) for rn, p in tagged(google, BOB, uid).items()}
    key = sorted(copies)[0]
    rn, person = copies[key]
    bob = as_user(rt, BOB).people()
    bob.updateContact(resourceName=rn, updatePersonFields="biographies",
                      body={"etag": person["etag"], "biographies": [{"value": "Bob's own note"}]}).execute()
    alice = as_user(rt, google.seed.source_email).people()
    for i in range(10):
        src = alice.get(resourceName=key, personFields="names,biographies").execute()
        alice.updateContact(resourceName=key, updatePersonFields="names,biographies", body={
            "etag": src["etag"], "names": [{"givenName": f"Run{i}"}], "biographies": [{"value": f"source {i}"}],
        }).execute()
        assert service.run("Partners").status.value == "ok"
        copy = contacts(google, BOB)[rn]
        assert copy["biographies"][0]["value"] == "Bob's own note", f"run {i}"
        assert copy["names"][0]["givenName"] == f"Run{i}", "the fields not kept still follow the source"

    # Emptied at the target, a kept field is filled again from the source.
    copy = contacts(google, BOB)[rn]
    bob.updateContact(resourceName=rn, updatePersonFields="biographies",
                      body={"etag": copy["etag"], "biographies": []}).execute()
    service.run("Partners")
    assert contacts(google, BOB)[rn]["biographies"][0]["value"] == "source 9"


# --- --fields ---------------------------------------------------------------------------------------------
def test_a_sync_copying_names_and_phones_writes_nothing_else_and_a_rule_change_converges(
    google: Google, rt: Runtime
) -> None:
    create_job(rt, google, f"email:{BOB}", fields="names,phones")
    service = JobService(rt)
    uid = service.find("Partners").uid
    service.run("Partners")
    copies = tagged(google, BOB, uid)
    assert len(copies) == google.seed.contact_count
    written = {k for p in copies.values() for k in p if k not in ("resourceName", "etag", "metadata")}
    assert written <= {"names", "phoneNumbers", "memberships", "clientData"}, written

    service.edit("Partners", JobEdit(fields="names,phones,emails"), actor="test")
    preview = service.run("Partners", dry_run=True)
    assert by_email(preview)[BOB].updated == google.seed.contact_count
    assert not any("emailAddresses" in p for p in tagged(google, BOB, uid).values()), "a dry run writes nothing"
    service.run("Partners")
    people = source_people(google)
    with_email = {k for k, p in people.items() if p.get("emailAddresses")}
    gained = {p["clientData"][0]["value"] for p in tagged(google, BOB, uid).values() if p.get("emailAddresses")}
    assert with_email and gained == with_email
    assert by_email(service.run("Partners"))[BOB].updated == 0, "converged"


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"fields": "names,shoesize"}, "fields", "choose from"),
        ({"fields": "names,phones", "keep_target_fields": "notes"}, "keep_target_fields", "must also be copied"),
        ({"match_existing": "phone"}, "match_existing", "choose from email"),
        ({"fields": "names", "match_existing": "email"}, "match_existing", "needs emailAddresses"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_stored(
    google: Google, rt: Runtime, kw: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(JobInputError) as refused:
        create_job(rt, google, f"email:{BOB}", **kw)
    assert refused.value.field == field and words in refused.value.message
    assert JobService(rt).list_jobs() == []


def test_matching_costs_no_call_at_a_first_sync_nor_after(google: Google, rt: Runtime) -> None:
    people = source_people(google)
    key = sorted(k for k in people if people[k].get("emailAddresses"))[0]
    own_contact(rt, BOB, {"emailAddresses": [{"value": first_email(people[key])}]})
    create_job(rt, google, f"email:{BOB}", match_existing="email")
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert by_email(report)[BOB].adopted == 1
    calls = google.handle.control.calls()["byMethod"]
    assert calls["people.people.connections.list"] == 2, calls  # the source and the target, as without matching
    assert "people.people.getBatchGet" not in calls
    assert calls["people.people.batchUpdateContacts"] == 1  # the adoption, in the batch an update would take
    google.handle.control.reset_calls()
    report = rt.engine.run("Partners")
    assert by_email(report)[BOB].unchanged == len(people)
    calls = google.handle.control.calls()["byMethod"]
    assert calls["people.people.connections.list"] == 2 and "people.people.getBatchGet" not in calls, calls


# --- externalIds and locations: copied only when asked ----------------------------------------------------
def test_external_ids_and_locations_are_copied_only_once_listed_and_converge(google: Google, rt: Runtime) -> None:
    source = google.seed.source_email
    key = sorted(source_people(google))[0]

    def set_on_source(**fields: Any) -> None:
        people = as_user(rt, source).people()
        etag = people.get(resourceName=key, personFields="metadata").execute()["etag"]
        people.updateContact(resourceName=key, updatePersonFields=",".join(fields),
                             body={"etag": etag, **fields}).execute()

    create_job(rt, google, f"email:{BOB}")
    service = JobService(rt)
    uid = service.find("Partners").uid
    service.run("Partners")
    set_on_source(externalIds=[{"value": "V-1", "type": "vendor"}],
                  locations=[{"value": "Dock 4", "type": "desk", "buildingId": "B2", "floor": "1"}])
    assert by_email(service.run("Partners"))[BOB].updated == 0, "a default sync does not copy them"
    copy = next(p for p in tagged(google, BOB, uid).values() if p["clientData"][0]["value"] == key)
    assert "externalIds" not in copy and "locations" not in copy

    service.edit("Partners", JobEdit(fields=["names,emails,phones,externalIds,locations"]), actor="test")
    service.run("Partners")
    copy = next(p for p in tagged(google, BOB, uid).values() if p["clientData"][0]["value"] == key)
    assert [(e["value"], e["type"]) for e in copy["externalIds"]] == [("V-1", "vendor")]
    assert [(e["value"], e["buildingId"], e["floor"]) for e in copy["locations"]] == [("Dock 4", "B2", "1")]

    set_on_source(externalIds=[{"value": "V-2", "type": "vendor"}])
    assert by_email(service.run("Partners"))[BOB].updated == 1, "a change converges (read since the token)"
    copy = next(p for p in tagged(google, BOB, uid).values() if p["clientData"][0]["value"] == key)
    assert [e["value"] for e in copy["externalIds"]] == ["V-2"]
    assert by_email(service.run("Partners"))[BOB].updated == 0, "converged"
