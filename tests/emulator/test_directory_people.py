"""people.listDirectoryPeople: domain shared contacts (and domain profiles) through the real client, with
paging, sync tokens, scope enforcement and quota cost; domain contacts are set up through the controls."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from emulator.quota import QuotaConfig
from emulator.testing import EmulatorHandle
from tests.emulator.conftest import CONTACTS, build_service

DIRECTORY_READONLY = "https://www.googleapis.com/auth/directory.readonly"
DOMAIN_CONTACT = "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"
DOMAIN_PROFILE = "DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"


def directory_people(handle: EmulatorHandle, subject: str = "bob@example.com") -> Any:
    return build_service(handle, "people", "v1", subject, [DIRECTORY_READONLY])


def listing(service: Any, **params: Any) -> dict[str, Any]:
    params.setdefault("sources", [DOMAIN_CONTACT])
    params.setdefault("readMask", "names,emailAddresses,metadata")
    answer: dict[str, Any] = service.people().listDirectoryPeople(**params).execute()
    return answer


def all_pages(service: Any, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    people: list[dict[str, Any]] = []
    answer = listing(service, **params)
    people += answer.get("people", [])
    while "nextPageToken" in answer:
        answer = listing(service, **params, pageToken=answer["nextPageToken"])
        people += answer.get("people", [])
    return people, answer


def add(handle: EmulatorHandle, *names: str) -> list[dict[str, Any]]:
    return handle.control.add_domain_contacts(
        [{"names": [{"givenName": n, "familyName": "Vendor"}],
          "emailAddresses": [{"value": f"{n.lower()}@vendor.example"}]} for n in names]
    )


def test_domain_contacts_are_listed_with_their_domain_contact_source(emulator: EmulatorHandle) -> None:
    created = add(emulator, "Rita")[0]
    answer = listing(directory_people(emulator))
    (person,) = answer["people"]
    assert person["resourceName"] == created["resourceName"] and person["etag"] == created["etag"]
    (source,) = person["metadata"]["sources"]
    assert source["type"] == "DOMAIN_CONTACT" and source["id"] and source["etag"] and source["updateTime"]
    assert person["names"][0]["displayName"] == "Rita Vendor"
    assert person["names"][0]["metadata"]["source"] == {"type": "DOMAIN_CONTACT", "id": source["id"]}
    assert person["emailAddresses"][0]["value"] == "rita@vendor.example"
    assert "nextPageToken" not in answer and "nextSyncToken" not in answer


def test_read_mask_restricts_fields_and_is_required(emulator: EmulatorHandle) -> None:
    add(emulator, "Rita")
    service = directory_people(emulator)
    (person,) = listing(service, readMask="emailAddresses")["people"]
    assert set(person) == {"resourceName", "etag", "emailAddresses"}
    with pytest.raises(HttpError) as missing:
        service.people().listDirectoryPeople(sources=[DOMAIN_CONTACT]).execute()
    assert missing.value.resp.status == 400


def test_sources_are_required_and_select_what_is_listed(emulator: EmulatorHandle) -> None:
    add(emulator, "Rita")
    service = directory_people(emulator)
    with pytest.raises(HttpError) as missing:
        service.people().listDirectoryPeople(readMask="names").execute()
    assert missing.value.resp.status == 400
    profiles = listing(service, sources=[DOMAIN_PROFILE])["people"]
    assert {p["metadata"]["sources"][0]["type"] for p in profiles} == {"DOMAIN_PROFILE"}
    assert {p["emailAddresses"][0]["value"] for p in profiles} == {
        "admin@example.com", "alice@example.com", "bob@example.com"
    }
    both = listing(service, sources=[DOMAIN_CONTACT, DOMAIN_PROFILE])["people"]
    assert len(both) == 4


def test_domain_profile_carries_the_directory_fields(emulator: EmulatorHandle) -> None:
    emulator.control.update_user("alice@example.com", {
        "externalIds": [{"value": "E-1001", "type": "organization"}],
        "locations": [{"area": "HQ", "buildingId": "B1", "floorName": "3", "deskCode": "3-14", "type": "desk"}],
        "organizations": [{"name": "Example Corp", "title": "PM", "costCenter": "CC-42", "primary": True}],
        "relations": [{"value": "admin@example.com", "type": "manager"}],
    })
    profiles = listing(directory_people(emulator), sources=[DOMAIN_PROFILE],
                       readMask="externalIds,locations,organizations,relations")["people"]
    alice = next(p for p in profiles if p["resourceName"] == "people/100000000000000000002")
    assert alice["externalIds"][0]["value"] == "E-1001" and alice["externalIds"][0]["type"] == "organization"
    assert alice["locations"][0]["buildingId"] == "B1" and alice["locations"][0]["deskCode"] == "3-14"
    assert alice["organizations"][0]["costCenter"] == "CC-42"
    assert alice["relations"][0] == {
        "metadata": {"primary": True, "source": {"type": "DOMAIN_PROFILE", "id": "100000000000000000002"}},
        "person": "admin@example.com", "type": "manager",
    }


def test_pages_cover_everything_once_and_page_size_is_checked(emulator: EmulatorHandle) -> None:
    created = add(emulator, *(f"N{i:02d}" for i in range(7)))
    service = directory_people(emulator)
    first = listing(service, pageSize=3)
    assert len(first["people"]) == 3 and "nextPageToken" in first
    people, last = all_pages(service, pageSize=3)
    assert sorted(p["resourceName"] for p in people) == sorted(c["resourceName"] for c in created)
    assert "nextSyncToken" not in last  # only when asked for
    for bad in (-1, 1001):
        with pytest.raises(HttpError) as exc:
            listing(service, pageSize=bad)
        assert exc.value.resp.status == 400
    assert len(listing(service, pageSize=0)["people"]) == 7  # 0 means the default, 100
    with pytest.raises(HttpError) as mismatch:  # a page token with other parameters
        listing(service, pageSize=3, readMask="names", pageToken=first["nextPageToken"])
    assert mismatch.value.resp.status == 400
    with pytest.raises(HttpError) as garbage:
        listing(service, pageToken="not-a-token")
    assert garbage.value.resp.status == 400


def test_sync_token_returns_changed_new_and_deleted_people(emulator: EmulatorHandle) -> None:
    kept, changed, deleted = add(emulator, "Kept", "Changed", "Deleted")
    service = directory_people(emulator)
    people, last = all_pages(service, pageSize=2, requestSyncToken=True)
    assert len(people) == 3 and last["nextSyncToken"]
    token = last["nextSyncToken"]

    assert "people" not in listing(service, pageSize=2, syncToken=token, requestSyncToken=True)

    edited = emulator.control.update_domain_contact(changed["resourceName"], {"names": [{"givenName": "Edited"}]})
    emulator.control.delete_domain_contact(deleted["resourceName"])
    (new,) = add(emulator, "New")
    answer = listing(service, pageSize=2, syncToken=token, requestSyncToken=True)
    people = answer["people"]
    while "nextPageToken" in answer:
        answer = listing(service, pageSize=2, syncToken=token, requestSyncToken=True,
                         pageToken=answer["nextPageToken"])
        people += answer.get("people", [])
    by_name = {p["resourceName"]: p for p in people}
    assert set(by_name) == {changed["resourceName"], deleted["resourceName"], new["resourceName"]}
    assert by_name[changed["resourceName"]]["etag"] == edited["etag"] != changed["etag"]
    assert by_name[changed["resourceName"]]["names"][0]["givenName"] == "Edited"
    assert by_name[deleted["resourceName"]]["metadata"]["deleted"] is True
    assert "deleted" not in by_name[new["resourceName"]]["metadata"]
    assert kept["resourceName"] not in by_name

    again = listing(service, pageSize=2, syncToken=answer["nextSyncToken"], requestSyncToken=True)
    assert "people" not in again and again["nextSyncToken"]


def test_profile_changes_and_hidden_users_reach_a_sync(emulator: EmulatorHandle) -> None:
    service = directory_people(emulator)
    token = listing(service, sources=[DOMAIN_PROFILE], requestSyncToken=True)["nextSyncToken"]
    emulator.control.update_user("alice@example.com", {"externalIds": [{"value": "E-7", "type": "organization"}]})
    emulator.control.update_user("bob@example.com", {"includeInGlobalAddressList": False})
    changes = listing(service, sources=[DOMAIN_PROFILE], syncToken=token, requestSyncToken=True)["people"]
    by_name = {p["resourceName"]: p for p in changes}
    assert set(by_name) == {"people/100000000000000000002", "people/100000000000000000003"}
    assert by_name["people/100000000000000000003"]["metadata"]["deleted"] is True


def test_expired_or_unknown_sync_token_is_failed_precondition_like_google(emulator: EmulatorHandle) -> None:
    add(emulator, "Rita")
    service = directory_people(emulator)
    token = listing(service, requestSyncToken=True)["nextSyncToken"]
    for bad in ("bogus", token):
        if bad == token:
            emulator.control.advance_clock(7 * 24 * 3600 + 60)
        with pytest.raises(HttpError) as exc:
            listing(service, syncToken=bad)
        error = exc.value.error_details  # type: ignore[attr-defined]
        assert exc.value.resp.status == 400
        assert exc.value.reason == "Sync token is expired. Clear local cache and retry call without the sync token."
        assert any(d.get("reason") == "EXPIRED_SYNC_TOKEN" for d in error)


def test_sync_token_with_other_parameters_is_400(emulator: EmulatorHandle) -> None:
    service = directory_people(emulator)
    token = listing(service, requestSyncToken=True)["nextSyncToken"]
    with pytest.raises(HttpError) as exc:
        listing(service, syncToken=token, readMask="names")
    assert exc.value.resp.status == 400


def test_reads_do_not_change_etags_but_each_edit_does(emulator: EmulatorHandle) -> None:
    (created,) = add(emulator, "Rita")
    service = directory_people(emulator)
    first = listing(service)["people"][0]
    assert listing(service)["people"][0]["etag"] == first["etag"]
    edited = emulator.control.update_domain_contact(created["resourceName"], {"biographies": [{"value": "x"}]})
    twice = emulator.control.update_domain_contact(created["resourceName"], {"biographies": [{"value": "y"}]})
    etags = {first["etag"], edited["etag"], twice["etag"]}
    times = [p["metadata"]["sources"][0]["updateTime"] for p in (first, edited, twice)]
    assert len(etags) == 3 and times == sorted(times) and len(set(times)) == 3


def test_needs_the_directory_readonly_scope(emulator: EmulatorHandle) -> None:
    contacts_only = build_service(emulator, "people", "v1", "bob@example.com", [CONTACTS])
    with pytest.raises(HttpError) as exc:
        listing(contacts_only)
    assert exc.value.resp.status == 403
    assert "insufficient authentication scopes" in str(exc.value.reason)


@pytest.mark.parametrize("emulator", [QuotaConfig.google(window_seconds=60, critical_read=2)], indirect=True)
def test_costs_one_critical_read(emulator: EmulatorHandle) -> None:
    service = directory_people(emulator)
    listing(service)
    listing(service)
    with pytest.raises(HttpError) as exc:
        listing(service)
    assert exc.value.resp.status == 429
    assert emulator.control.calls()["quotaRejected"]["people.people.listDirectoryPeople"] == 1


def test_domain_contact_controls_check_their_input(emulator: EmulatorHandle) -> None:
    with pytest.raises(RuntimeError, match="400"):
        emulator.control.add_domain_contacts([{"names": [{"givenName": "Ok"}]}, {"memberships": []}])
    assert emulator.control.domain_contacts() == []  # nothing stored from a refused batch
    with pytest.raises(RuntimeError, match="404"):
        emulator.control.update_domain_contact("people/c1", {"names": [{"givenName": "X"}]})
    with pytest.raises(RuntimeError, match="404"):
        emulator.control.delete_domain_contact("people/c1")
