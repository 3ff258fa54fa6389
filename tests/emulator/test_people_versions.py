"""What a contact's version looks like: the person etag and `metadata.sources[]` (CONTACT, id, etag,
updateTime). Every change gives new ones (update, membership change, photo); reads never do; batch writes
return them too."""

from __future__ import annotations

import base64
from typing import Any

from emulator.core import Workspace
from emulator.people_store import format_time, next_update_time

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 16).decode()


def version(person: dict[str, Any]) -> tuple[str, str, str]:
    (source,) = person["metadata"]["sources"]
    return person["etag"], source["etag"], source["updateTime"]


def read(people: Any, resource_name: str) -> dict[str, Any]:
    person: dict[str, Any] = people.people().get(resourceName=resource_name, personFields="metadata,names").execute()
    return person


def test_a_contact_read_with_metadata_shows_its_contact_source(people: Any) -> None:
    created = people.people().createContact(body={"names": [{"givenName": "Vera"}]}).execute()
    person = read(people, created["resourceName"])
    (source,) = person["metadata"]["sources"]
    assert set(source) == {"type", "id", "etag", "updateTime"}
    assert source["type"] == "CONTACT"
    assert created["resourceName"] == f"people/c{int(source['id'], 16)}"
    assert person["etag"].startswith("%") and source["etag"].startswith("#")
    assert source["updateTime"].endswith("Z") and "T" in source["updateTime"]
    assert person["metadata"]["objectType"] == "PERSON"
    without = people.people().get(resourceName=created["resourceName"], personFields="names").execute()
    assert "metadata" not in without and without["etag"] == person["etag"]


def test_reads_do_not_change_the_version(people: Any) -> None:
    created = people.people().createContact(body={"names": [{"givenName": "Vera"}]}).execute()
    first = read(people, created["resourceName"])
    people.people().connections().list(resourceName="people/me", personFields="names").execute()
    people.people().getBatchGet(resourceNames=[created["resourceName"]], personFields="names").execute()
    assert version(read(people, created["resourceName"])) == version(first)


def test_every_kind_of_change_gives_a_new_etag_and_a_later_update_time(people: Any) -> None:
    created = people.people().createContact(
        body={"names": [{"givenName": "Vera"}]}, personFields="metadata"
    ).execute()
    rn = created["resourceName"]
    versions = [version(created)]
    person = people.people().updateContact(
        resourceName=rn, updatePersonFields="names", personFields="metadata",
        body={"etag": created["etag"], "names": [{"givenName": "Vera2"}]},
    ).execute()
    versions.append(version(person))
    group = people.contactGroups().create(body={"contactGroup": {"name": "Editors"}}).execute()
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": [rn]}
    ).execute()
    versions.append(version(read(people, rn)))
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToRemove": [rn]}
    ).execute()
    versions.append(version(read(people, rn)))
    photo = people.people().updateContactPhoto(
        resourceName=rn, body={"photoBytes": PNG, "personFields": "metadata"}
    ).execute()["person"]
    versions.append(version(photo))
    gone = people.people().deleteContactPhoto(resourceName=rn, personFields="metadata").execute()["person"]
    versions.append(version(gone))
    person_etags = [v[0] for v in versions]
    source_etags = [v[1] for v in versions]
    times = [v[2] for v in versions]
    assert len(set(person_etags)) == len(versions) and len(set(source_etags)) == len(versions)
    assert times == sorted(times) and len(set(times)) == len(versions)  # strictly later each time
    assert version(read(people, rn)) == versions[-1]


def test_batch_writes_return_the_new_versions(people: Any) -> None:
    created = people.people().batchCreateContacts(body={
        "contacts": [{"contactPerson": {"names": [{"givenName": f"B{i}"}]}} for i in range(3)],
        "readMask": "metadata,names",
    }).execute()["createdPeople"]
    for item in created:
        etag, source_etag, update_time = version(item["person"])
        assert etag and source_etag and update_time
    updated = people.people().batchUpdateContacts(body={
        "contacts": {c["person"]["resourceName"]: {"etag": c["person"]["etag"], "names": [{"givenName": "X"}]}
                     for c in created},
        "updateMask": "names",
        "readMask": "metadata",
    }).execute()["updateResult"]
    for item in created:
        rn = item["person"]["resourceName"]
        before, after = version(item["person"]), version(updated[rn]["person"])
        assert after[0] != before[0] and after[1] != before[1] and after[2] > before[2]
        assert version(read(people, rn)) == after


def test_update_time_is_strictly_later_even_within_one_millisecond() -> None:
    ws = Workspace()
    now = format_time(ws.now())
    ahead = format_time(ws.now() + 5)  # e.g. the clock was moved back after a write
    assert next_update_time(ws, now) > now
    assert next_update_time(ws, ahead) > ahead
    assert next_update_time(ws, None) <= format_time(ws.now())
