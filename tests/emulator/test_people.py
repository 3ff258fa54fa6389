"""People API v1 through the real googleapiclient + google-auth, against the emulator."""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from emulator.people import create_contact, create_group
from emulator.testing import EmulatorHandle

CONTACTS_READONLY = "https://www.googleapis.com/auth/contacts.readonly"
ALICE_ID = "100000000000000000002"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def error_of(exc: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    return dict(json.loads(exc.value.content)["error"])


def new_contact(people: Any, given: str, **extra: Any) -> dict[str, Any]:
    body = {"names": [{"givenName": given, "familyName": "Test"}], **extra}
    return dict(
        people.people().createContact(body=body, personFields="names,memberships,clientData").execute()
    )


def group_names(person: dict[str, Any]) -> list[str]:
    return [m["contactGroupMembership"]["contactGroupResourceName"] for m in person.get("memberships", [])]


# --- plain functions used by the seed ---------------------------------------------------------------
def test_create_group_and_contact_functions_store_google_shaped_data(
    emulator: EmulatorHandle, people: Any
) -> None:
    group = create_group(emulator.ws, ALICE_ID, "Clients", [{"key": "job", "value": "1"}])
    person = create_contact(
        emulator.ws,
        ALICE_ID,
        {
            "names": [{"givenName": "Ann"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}],
        },
    )
    assert person["resourceName"].startswith("people/c")
    assert group_names(person) == [group["resourceName"]]
    plain = create_contact(emulator.ws, ALICE_ID, {"names": [{"givenName": "Ben"}]})
    assert group_names(plain) == ["contactGroups/myContacts"]
    got = (
        people.contactGroups()
        .get(resourceName=group["resourceName"], maxMembers=10, groupFields="name,memberCount,clientData")
        .execute()
    )
    assert got["memberCount"] == 1 and got["memberResourceNames"] == [person["resourceName"]]
    assert got["clientData"] == [{"key": "job", "value": "1"}]


# --- create / get / update / delete -----------------------------------------------------------------
def test_create_contact_defaults_to_my_contacts_and_has_metadata(people: Any) -> None:
    created = (
        people.people()
        .createContact(
            body={
                "names": [{"givenName": "Zoe", "familyName": "Quinn"}],
                "clientData": [{"key": "k", "value": "v"}],
            }
        )
        .execute()
    )
    assert created["resourceName"].startswith("people/c")
    assert created["etag"]
    assert created["metadata"]["objectType"] == "PERSON"
    assert created["metadata"]["sources"][0]["type"] == "CONTACT"
    assert group_names(created) == ["contactGroups/myContacts"]
    assert created["names"][0]["displayName"] == "Zoe Quinn"
    assert created["clientData"][0]["key"] == "k"


def test_get_honours_person_fields(people: Any) -> None:
    rn = new_contact(people, "Gil", emailAddresses=[{"value": "gil@x.test"}])["resourceName"]
    got = people.people().get(resourceName=rn, personFields="emailAddresses").execute()
    assert set(got) == {"resourceName", "etag", "emailAddresses"}


def test_get_without_person_fields_is_400(people: Any) -> None:
    rn = new_contact(people, "Gil")["resourceName"]
    with pytest.raises(HttpError) as exc:
        people.people().get(resourceName=rn).execute()
    err = error_of(exc)
    assert err["code"] == 400 and err["status"] == "INVALID_ARGUMENT"
    assert "personFields mask is required" in err["message"]


def test_unknown_person_field_is_400_naming_it(people: Any) -> None:
    rn = new_contact(people, "Gil")["resourceName"]
    with pytest.raises(HttpError) as exc:
        people.people().get(resourceName=rn, personFields="names,shoeSize").execute()
    assert '"shoeSize"' in error_of(exc)["message"]


def test_get_missing_contact_is_404(people: Any) -> None:
    with pytest.raises(HttpError) as exc:
        people.people().get(resourceName="people/c123", personFields="names").execute()
    assert error_of(exc)["status"] == "NOT_FOUND"


def test_get_people_me_is_the_users_profile(people: Any) -> None:
    me = people.people().get(resourceName="people/me", personFields="emailAddresses").execute()
    assert me["emailAddresses"][0]["value"] == "alice@example.com"


def test_update_replaces_and_clears_masked_fields_and_changes_etag(people: Any) -> None:
    person = new_contact(
        people, "Una", emailAddresses=[{"value": "u@x.test"}], clientData=[{"key": "a", "value": "1"}]
    )
    body = {"etag": person["etag"], "names": [{"givenName": "Una", "familyName": "Renamed"}]}
    updated = (
        people.people()
        .updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names,emailAddresses",
            body=body,
            personFields="names,emailAddresses,clientData",
        )
        .execute()
    )
    assert updated["etag"] != person["etag"]
    assert updated["names"][0]["familyName"] == "Renamed"
    assert "emailAddresses" not in updated  # in the mask, absent from the body: cleared
    assert updated["clientData"][0]["value"] == "1"  # not in the mask: kept


def test_update_with_stale_etag_is_failed_precondition(people: Any) -> None:
    person = new_contact(people, "Eve")
    people.people().updateContact(
        resourceName=person["resourceName"],
        updatePersonFields="names",
        body={"etag": person["etag"], "names": [{"givenName": "Eve2"}]},
    ).execute()
    with pytest.raises(HttpError) as exc:
        people.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names",
            body={"etag": person["etag"], "names": [{"givenName": "Eve3"}]},
        ).execute()
    err = error_of(exc)
    assert err["code"] == 400 and err["status"] == "FAILED_PRECONDITION"


def test_update_needs_update_person_fields_and_an_etag(people: Any) -> None:
    person = new_contact(people, "Ned")
    with pytest.raises(HttpError) as exc:
        people.people().updateContact(
            resourceName=person["resourceName"], body={"etag": person["etag"], "names": []}
        ).execute()
    assert "updatePersonFields mask is required" in error_of(exc)["message"]
    with pytest.raises(HttpError) as exc:
        people.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="names",
            body={"names": [{"givenName": "x"}]},
        ).execute()
    assert error_of(exc)["status"] == "INVALID_ARGUMENT"


def test_update_memberships_through_the_mask(people: Any) -> None:
    group = people.contactGroups().create(body={"contactGroup": {"name": "VIP"}}).execute()
    person = new_contact(people, "Mo")
    memberships = [{"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}]
    updated = (
        people.people()
        .updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="memberships",
            body={"etag": person["etag"], "memberships": memberships},
            personFields="memberships",
        )
        .execute()
    )
    assert group_names(updated) == [group["resourceName"]]
    with pytest.raises(HttpError) as exc:  # a contact keeps at least one membership
        people.people().updateContact(
            resourceName=person["resourceName"],
            updatePersonFields="memberships",
            body={"etag": updated["etag"], "memberships": []},
        ).execute()
    assert error_of(exc)["code"] == 400


def test_delete_contact(people: Any) -> None:
    rn = new_contact(people, "Del")["resourceName"]
    assert people.people().deleteContact(resourceName=rn).execute() == {}
    with pytest.raises(HttpError) as exc:
        people.people().deleteContact(resourceName=rn).execute()
    assert error_of(exc)["code"] == 404


# --- batches ------------------------------------------------------------------------------------------
def test_batch_create_update_delete(people: Any) -> None:
    created = (
        people.people()
        .batchCreateContacts(
            body={
                "contacts": [{"contactPerson": {"names": [{"givenName": f"B{i}"}]}} for i in range(3)],
                "readMask": "names",
            }
        )
        .execute()["createdPeople"]
    )
    assert [c["httpStatusCode"] for c in created] == [200, 200, 200]
    assert all(c["requestedResourceName"] == c["person"]["resourceName"] for c in created)
    changes = {
        c["person"]["resourceName"]: {"etag": c["person"]["etag"], "names": [{"givenName": "New"}]}
        for c in created
    }
    result = (
        people.people()
        .batchUpdateContacts(body={"contacts": changes, "updateMask": "names", "readMask": "names"})
        .execute()["updateResult"]
    )
    assert set(result) == set(changes)
    assert all(r["person"]["names"][0]["givenName"] == "New" for r in result.values())
    people.people().batchDeleteContacts(body={"resourceNames": list(changes)}).execute()
    listing = people.people().connections().list(resourceName="people/me", personFields="names").execute()
    assert "connections" not in listing


def test_batch_limits_and_required_masks(people: Any) -> None:
    too_many = [{"contactPerson": {"names": [{"givenName": "x"}]}}] * 201
    with pytest.raises(HttpError) as exc:
        people.people().batchCreateContacts(body={"contacts": too_many, "readMask": "names"}).execute()
    assert error_of(exc)["code"] == 400
    with pytest.raises(HttpError) as exc:
        people.people().batchCreateContacts(body={"contacts": too_many[:1]}).execute()
    assert "readMask mask is required" in error_of(exc)["message"]
    with pytest.raises(HttpError) as exc:
        people.people().batchDeleteContacts(body={"resourceNames": ["people/c1"] * 501}).execute()
    assert error_of(exc)["code"] == 400
    with pytest.raises(HttpError) as exc:
        people.people().batchUpdateContacts(
            body={"contacts": {"people/c1": {}}, "readMask": "names"}
        ).execute()
    assert "updateMask mask is required" in error_of(exc)["message"]


def test_batch_update_with_one_stale_etag_writes_nothing(people: Any) -> None:
    a, b = new_contact(people, "A"), new_contact(people, "B")
    body = {
        "contacts": {
            a["resourceName"]: {"etag": a["etag"], "names": [{"givenName": "A2"}]},
            b["resourceName"]: {"etag": "%stale", "names": [{"givenName": "B2"}]},
        },
        "updateMask": "names",
        "readMask": "names",
    }
    with pytest.raises(HttpError) as exc:
        people.people().batchUpdateContacts(body=body).execute()
    assert error_of(exc)["status"] == "FAILED_PRECONDITION"
    again = people.people().get(resourceName=a["resourceName"], personFields="names").execute()
    assert again["etag"] == a["etag"]


def test_get_batch_get_reports_each_name(people: Any) -> None:
    rn = new_contact(people, "Bat")["resourceName"]
    answer = people.people().getBatchGet(resourceNames=[rn, "people/c999"], personFields="names").execute()
    ok, missing = answer["responses"]
    assert (
        ok["httpStatusCode"] == 200
        and ok["person"]["resourceName"] == rn
        and ok["requestedResourceName"] == rn
    )
    assert missing["httpStatusCode"] == 404 and missing["status"]["code"] == 5
    with pytest.raises(HttpError) as exc:
        people.people().getBatchGet(resourceNames=[rn] * 201, personFields="names").execute()
    assert error_of(exc)["code"] == 400


# --- connections.list: pages, sort, sync tokens ---------------------------------------------------------
def test_connections_pages_cover_everything_once(people: Any) -> None:
    made = {new_contact(people, f"P{i}")["resourceName"] for i in range(5)}
    seen: list[str] = []
    token = None
    while True:
        page = (
            people.people()
            .connections()
            .list(resourceName="people/me", personFields="names", pageSize=2, pageToken=token)
            .execute()
        )
        assert page["totalItems"] == 5
        seen += [p["resourceName"] for p in page["connections"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert sorted(seen) == sorted(made)


def test_connections_page_size_and_page_token_params_are_checked(people: Any) -> None:
    for i in range(3):
        new_contact(people, f"S{i}")
    with pytest.raises(HttpError) as exc:
        people.people().connections().list(
            resourceName="people/me", personFields="names", pageSize=1001
        ).execute()
    assert error_of(exc)["code"] == 400
    page = (
        people.people()
        .connections()
        .list(resourceName="people/me", personFields="names", pageSize=1)
        .execute()
    )
    with pytest.raises(HttpError) as exc:  # a page token must come with the same parameters
        people.people().connections().list(
            resourceName="people/me",
            personFields="emailAddresses",
            pageSize=1,
            pageToken=page["nextPageToken"],
        ).execute()
    assert error_of(exc)["status"] == "INVALID_ARGUMENT"


def test_connections_sort_orders(people: Any) -> None:
    for given in ("Carl", "Abe", "Bea"):
        new_contact(people, given)

    def order(sort: str) -> list[str]:
        page = (
            people.people()
            .connections()
            .list(resourceName="people/me", personFields="names", sortOrder=sort)
            .execute()
        )
        return [p["names"][0]["givenName"] for p in page["connections"]]

    assert order("FIRST_NAME_ASCENDING") == ["Abe", "Bea", "Carl"]
    assert order("LAST_MODIFIED_ASCENDING") == ["Carl", "Abe", "Bea"]
    assert order("LAST_MODIFIED_DESCENDING") == ["Bea", "Abe", "Carl"]


def full_sync(people: Any, **params: Any) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = (
            people.people()
            .connections()
            .list(
                resourceName="people/me",
                personFields="names",
                requestSyncToken=True,
                pageToken=token,
                **params,
            )
            .execute()
        )
        items += page.get("connections", [])
        token = page.get("nextPageToken")
        if not token:
            return items, page["nextSyncToken"]


def test_sync_token_returns_only_changes_and_deletions(people: Any) -> None:
    keep, change, drop = (new_contact(people, n) for n in ("Keep", "Change", "Drop"))
    items, sync = full_sync(people, pageSize=2)
    assert len(items) == 3
    people.people().updateContact(
        resourceName=change["resourceName"],
        updatePersonFields="names",
        body={"etag": change["etag"], "names": [{"givenName": "Changed"}]},
    ).execute()
    people.people().deleteContact(resourceName=drop["resourceName"]).execute()
    added = new_contact(people, "Added")
    delta, sync2 = full_sync(people, syncToken=sync)
    by_name = {p["resourceName"]: p for p in delta}
    assert set(by_name) == {change["resourceName"], drop["resourceName"], added["resourceName"]}
    assert by_name[drop["resourceName"]]["metadata"]["deleted"] is True
    assert by_name[change["resourceName"]]["names"][0]["givenName"] == "Changed"
    assert keep["resourceName"] not in by_name
    nothing, _ = full_sync(people, syncToken=sync2)
    assert nothing == []


def test_sync_token_expires_seven_days_after_the_full_sync(emulator: EmulatorHandle, people: Any) -> None:
    new_contact(people, "Old")
    _, sync = full_sync(people)
    emulator.control.advance_clock(6 * 24 * 3600)
    _, sync2 = full_sync(people, syncToken=sync)  # still valid, and the chain keeps its start time
    emulator.control.advance_clock(2 * 24 * 3600)
    with pytest.raises(HttpError) as exc:
        full_sync(people, syncToken=sync2)
    err = error_of(exc)
    assert err["code"] == 400 and err["status"] == "FAILED_PRECONDITION"
    assert err["details"][0]["reason"] == "EXPIRED_SYNC_TOKEN"
    items, _ = full_sync(people)  # the documented recovery: a full sync
    assert len(items) == 1


def test_unknown_sync_token_and_mismatched_params(people: Any) -> None:
    with pytest.raises(HttpError) as exc:
        full_sync(people, syncToken="garbage")
    assert error_of(exc)["details"][0]["reason"] == "EXPIRED_SYNC_TOKEN"
    _, sync = full_sync(people)
    with pytest.raises(HttpError) as exc:
        people.people().connections().list(
            resourceName="people/me", personFields="emailAddresses", syncToken=sync
        ).execute()
    assert error_of(exc)["status"] == "INVALID_ARGUMENT"


# --- photos -------------------------------------------------------------------------------------------
def test_contact_photo_is_stored_served_and_deleted(people: Any) -> None:
    rn = new_contact(people, "Pic")["resourceName"]
    answer = (
        people.people()
        .updateContactPhoto(
            resourceName=rn, body={"photoBytes": base64.b64encode(PNG).decode(), "personFields": "photos"}
        )
        .execute()
    )
    url = answer["person"]["photos"][0]["url"]
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == PNG and resp.headers["Content-Type"] == "image/png"
    people.people().deleteContactPhoto(resourceName=rn).execute()
    got = people.people().get(resourceName=rn, personFields="photos").execute()
    assert "photos" not in got


# --- contact groups -----------------------------------------------------------------------------------
def test_group_list_has_system_and_user_groups(people: Any) -> None:
    people.contactGroups().create(body={"contactGroup": {"name": "Team"}}).execute()
    groups = people.contactGroups().list().execute()["contactGroups"]
    types = {g["name"]: g["groupType"] for g in groups}
    for system in (
        "myContacts",
        "starred",
        "all",
        "friends",
        "family",
        "coworkers",
        "chatBuddies",
        "blocked",
    ):
        assert types[system] == "SYSTEM_CONTACT_GROUP"
    assert types["Team"] == "USER_CONTACT_GROUP"


def test_group_list_pages_and_sync(people: Any) -> None:
    first = people.contactGroups().list(pageSize=5).execute()
    second = people.contactGroups().list(pageSize=5, pageToken=first["nextPageToken"]).execute()
    assert len(first["contactGroups"]) + len(second["contactGroups"]) == first["totalItems"]
    sync = second["nextSyncToken"]
    team = people.contactGroups().create(body={"contactGroup": {"name": "Later"}}).execute()
    delta = people.contactGroups().list(syncToken=sync).execute()
    assert [g["resourceName"] for g in delta["contactGroups"]] == [team["resourceName"]]
    people.contactGroups().delete(resourceName=team["resourceName"]).execute()
    delta2 = people.contactGroups().list(syncToken=delta["nextSyncToken"]).execute()
    assert delta2["contactGroups"][0]["metadata"]["deleted"] is True


def test_group_create_duplicate_name_is_409(people: Any) -> None:
    people.contactGroups().create(body={"contactGroup": {"name": "Dup"}}).execute()
    with pytest.raises(HttpError) as exc:
        people.contactGroups().create(body={"contactGroup": {"name": "Dup"}}).execute()
    err = error_of(exc)
    assert err["code"] == 409 and err["status"] == "ALREADY_EXISTS"


def test_group_get_and_batch_get_members(people: Any) -> None:
    group = people.contactGroups().create(body={"contactGroup": {"name": "G"}}).execute()
    members = [new_contact(people, f"M{i}")["resourceName"] for i in range(3)]
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": members}
    ).execute()
    plain = people.contactGroups().get(resourceName=group["resourceName"]).execute()
    assert plain["memberCount"] == 3 and "memberResourceNames" not in plain
    some = people.contactGroups().get(resourceName=group["resourceName"], maxMembers=2).execute()
    assert len(some["memberResourceNames"]) == 2
    batch = (
        people.contactGroups()
        .batchGet(resourceNames=[group["resourceName"], "contactGroups/nope"], maxMembers=5)
        .execute()["responses"]
    )
    assert batch[0]["contactGroup"]["memberResourceNames"] == members
    assert batch[1]["status"]["code"] == 5
    with pytest.raises(HttpError) as exc:
        people.contactGroups().get(resourceName="contactGroups/nope").execute()
    assert error_of(exc)["code"] == 404


def test_group_update_checks_etag_and_system_groups(people: Any) -> None:
    group = people.contactGroups().create(body={"contactGroup": {"name": "Before"}}).execute()
    updated = (
        people.contactGroups()
        .update(
            resourceName=group["resourceName"],
            body={
                "contactGroup": {
                    "name": "After",
                    "etag": group["etag"],
                    "clientData": [{"key": "j", "value": "2"}],
                },
                "updateGroupFields": "name,clientData",
                "readGroupFields": "name,clientData",
            },
        )
        .execute()
    )
    assert updated["name"] == "After" and updated["clientData"] == [{"key": "j", "value": "2"}]
    with pytest.raises(HttpError) as exc:
        people.contactGroups().update(
            resourceName=group["resourceName"], body={"contactGroup": {"name": "X", "etag": group["etag"]}}
        ).execute()
    assert error_of(exc)["status"] == "FAILED_PRECONDITION"
    my = people.contactGroups().get(resourceName="contactGroups/myContacts").execute()
    with pytest.raises(HttpError) as exc:
        people.contactGroups().update(
            resourceName="contactGroups/myContacts",
            body={"contactGroup": {"name": "Mine", "etag": my["etag"]}},
        ).execute()
    assert error_of(exc)["code"] == 400


def test_group_delete_keeps_or_deletes_contacts(people: Any) -> None:
    keep_group = people.contactGroups().create(body={"contactGroup": {"name": "K"}}).execute()
    drop_group = people.contactGroups().create(body={"contactGroup": {"name": "D"}}).execute()
    a, b = new_contact(people, "InK")["resourceName"], new_contact(people, "InD")["resourceName"]
    people.contactGroups().members().modify(
        resourceName=keep_group["resourceName"], body={"resourceNamesToAdd": [a]}
    ).execute()
    people.contactGroups().members().modify(
        resourceName=drop_group["resourceName"], body={"resourceNamesToAdd": [b]}
    ).execute()
    people.contactGroups().delete(resourceName=keep_group["resourceName"]).execute()
    still = people.people().get(resourceName=a, personFields="memberships").execute()
    assert group_names(still) == ["contactGroups/myContacts"]
    people.contactGroups().delete(resourceName=drop_group["resourceName"], deleteContacts=True).execute()
    with pytest.raises(HttpError):
        people.people().get(resourceName=b, personFields="names").execute()


def test_members_modify_rules(people: Any) -> None:
    group = people.contactGroups().create(body={"contactGroup": {"name": "Only"}}).execute()
    person = (
        people.people()
        .createContact(
            body={
                "names": [{"givenName": "Solo"}],
                "memberships": [
                    {"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}
                ],
            }
        )
        .execute()
    )
    answer = (
        people.contactGroups()
        .members()
        .modify(
            resourceName=group["resourceName"],
            body={
                "resourceNamesToAdd": ["people/c404"],
                "resourceNamesToRemove": [person["resourceName"]],
            },
        )
        .execute()
    )
    assert answer["notFoundResourceNames"] == ["people/c404"]
    assert answer["canNotRemoveLastContactGroupResourceNames"] == [person["resourceName"]]
    starred = (
        people.contactGroups()
        .members()
        .modify(resourceName="contactGroups/starred", body={"resourceNamesToAdd": [person["resourceName"]]})
        .execute()
    )
    assert starred == {}
    with pytest.raises(HttpError) as exc:
        people.contactGroups().members().modify(
            resourceName="contactGroups/friends", body={"resourceNamesToAdd": [person["resourceName"]]}
        ).execute()
    assert error_of(exc)["code"] == 400
    with pytest.raises(HttpError) as exc:
        people.contactGroups().members().modify(
            resourceName=group["resourceName"], body={"resourceNamesToAdd": ["people/c1"] * 1001}
        ).execute()
    assert error_of(exc)["code"] == 400


def test_read_only_scope_reads_but_cannot_write(people_as: Any) -> None:
    reader = people_as("alice@example.com", [CONTACTS_READONLY])
    assert (
        "connections"
        not in reader.people().connections().list(resourceName="people/me", personFields="names").execute()
    )
    with pytest.raises(HttpError) as exc:
        reader.people().createContact(body={"names": [{"givenName": "No"}]}).execute()
    err = error_of(exc)
    assert err["code"] == 403 and err["status"] == "PERMISSION_DENIED"


def test_each_user_sees_only_their_own_contacts(people_as: Any) -> None:
    alice, bob = people_as("alice@example.com"), people_as("bob@example.com")
    new_contact(alice, "AlicesFriend")
    listing = bob.people().connections().list(resourceName="people/me", personFields="names").execute()
    assert "connections" not in listing
