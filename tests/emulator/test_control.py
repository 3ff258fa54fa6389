"""The /_emulator controls, observed through the real Google clients."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator.core import Workspace
from emulator.quota import CONTACT_GROUP_READS
from emulator.testing import EmulatorHandle, running_emulator

CONTACTS = "https://www.googleapis.com/auth/contacts"
USER_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"


def service(handle: EmulatorHandle, api: str, version: str, subject: str, scope: str) -> Any:
    creds = service_account.Credentials.from_service_account_file(
        str(handle.credentials_file), scopes=[scope]
    ).with_subject(subject)
    return build(
        api,
        version,
        credentials=creds,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": handle.url},
    )


def test_rename_keeps_id_alias_and_contacts(emulator: EmulatorHandle) -> None:
    emulator.control.add_contacts("alice@example.com", [{"names": [{"givenName": "Kept"}]}])
    emulator.control.rename_user("alice@example.com", "alice2@example.com")
    user = emulator.ws.user_by_key("alice2@example.com")
    assert user is not None and user["id"] == "100000000000000000002"
    assert "alice@example.com" in user["aliases"]
    people = service(emulator, "people", "v1", "alice2@example.com", CONTACTS)
    listing = people.people().connections().list(resourceName="people/me", personFields="names").execute()
    assert listing["connections"][0]["names"][0]["givenName"] == "Kept"


def test_suspend_unsuspend_and_delete(emulator: EmulatorHandle) -> None:
    emulator.control.suspend_user("bob@example.com")
    assert emulator.ws.user_by_key("bob@example.com")["suspended"] is True  # type: ignore[index]
    emulator.control.unsuspend_user("bob@example.com")
    assert emulator.ws.user_by_key("bob@example.com")["suspended"] is False  # type: ignore[index]
    emulator.ws.directory["groups"]["g1"] = {"id": "g1", "email": "team@example.com"}
    emulator.ws.directory["members"]["g1"] = [{"id": "100000000000000000003", "email": "bob@example.com"}]
    emulator.control.delete_user("bob@example.com")
    assert emulator.ws.user_by_key("bob@example.com") is None
    assert "100000000000000000003" in emulator.ws.directory["deleted_users"]
    assert emulator.ws.directory["members"]["g1"] == []


def test_a_hire_is_a_new_user_of_the_directory_who_can_sign_in(emulator: EmulatorHandle) -> None:
    hire = emulator.control.add_user("newbie@example.com", "New", "Hire", "/Engineering")
    admin = service(emulator, "admin", "directory_v1", "admin@example.com", USER_READONLY)
    listed = admin.users().get(userKey="newbie@example.com").execute()
    assert listed["id"] == hire["id"] and listed["orgUnitPath"] == "/Engineering"
    assert listed["name"]["fullName"] == "New Hire"
    people = service(emulator, "people", "v1", "newbie@example.com", CONTACTS)
    assert people.people().connections().list(resourceName="people/me", personFields="names").execute() == {}
    with pytest.raises(RuntimeError, match="409"):
        emulator.control.add_user("NEWBIE@example.com", "Other", "One")
    with pytest.raises(RuntimeError, match="400.*primaryEmail"):
        emulator.control.add_user("not-an-address", "No", "Address")
    assert len({emulator.control.add_user(f"h{i}@example.com", "H", str(i))["id"] for i in range(3)}) == 3


def test_add_contacts_and_groups_as_a_user(emulator: EmulatorHandle) -> None:
    group = emulator.control.add_group("bob@example.com", "Partners")
    created = emulator.control.add_contacts(
        "bob@example.com",
        [
            {
                "names": [{"givenName": "P"}],
                "memberships": [
                    {"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}
                ],
            },
        ],
    )
    people = service(emulator, "people", "v1", "bob@example.com", CONTACTS)
    got = people.contactGroups().get(resourceName=group["resourceName"], maxMembers=5).execute()
    assert got["memberResourceNames"] == [created[0]["resourceName"]]


def test_injected_429_with_retry_after_then_recovers(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", "alice@example.com", CONTACTS)
    emulator.control.inject_fault(
        "people.contactGroups.list", count=2, code=429, retry_after=7, user="alice@example.com"
    )
    for _ in range(2):
        with pytest.raises(HttpError) as exc:
            people.contactGroups().list().execute()
        assert exc.value.resp.status == 429 and exc.value.resp["retry-after"] == "7"
        err = json.loads(exc.value.content)["error"]
        assert err["status"] == "RESOURCE_EXHAUSTED"
        assert f"Quota exceeded for quota metric '{CONTACT_GROUP_READS}'" in err["message"]
    assert people.contactGroups().list().execute()["contactGroups"]
    calls = emulator.control.calls()
    assert calls["byMethod"]["people.contactGroups.list"] == 1
    assert calls["faulted"]["people.contactGroups.list"] == 2


def test_faults_match_user_and_can_be_cleared(emulator: EmulatorHandle) -> None:
    alice = service(emulator, "people", "v1", "alice@example.com", CONTACTS)
    bob = service(emulator, "people", "v1", "bob@example.com", CONTACTS)
    emulator.control.inject_fault("people.contactGroups.list", count=5, code=503, user="bob@example.com")
    alice.contactGroups().list().execute()
    with pytest.raises(HttpError) as exc:
        bob.contactGroups().list().execute()
    assert exc.value.resp.status == 503
    emulator.control.clear_faults()
    bob.contactGroups().list().execute()


def test_directory_fault_uses_the_legacy_shape(emulator: EmulatorHandle) -> None:
    directory = service(emulator, "admin", "directory_v1", "admin@example.com", USER_READONLY)
    emulator.control.inject_fault("directory.users.get", code=500)
    with pytest.raises(HttpError) as exc:
        directory.users().get(userKey="bob@example.com").execute()
    assert json.loads(exc.value.content)["error"]["errors"][0]["reason"] == "backendError"


def test_calls_are_counted_per_method_and_user_and_reset(emulator: EmulatorHandle) -> None:
    alice = service(emulator, "people", "v1", "alice@example.com", CONTACTS)
    bob = service(emulator, "people", "v1", "bob@example.com", CONTACTS)
    alice.contactGroups().list().execute()
    alice.contactGroups().list().execute()
    bob.contactGroups().list().execute()
    calls = emulator.control.calls()
    assert calls["byMethod"] == {"people.contactGroups.list": 3}
    assert calls["byMethodAndUser"]["people.contactGroups.list"] == {
        "alice@example.com": 2,
        "bob@example.com": 1,
    }
    emulator.control.reset_calls()
    assert emulator.control.calls()["total"] == 0


def test_latency_is_applied(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", "alice@example.com", CONTACTS)
    people.contactGroups().list().execute()  # token fetched before timing
    emulator.control.set_latency(150)
    start = time.monotonic()
    people.contactGroups().list().execute()
    assert time.monotonic() - start >= 0.15
    emulator.control.set_latency(0)


def test_clock_advances_emulated_time(emulator: EmulatorHandle) -> None:
    before = emulator.ws.now()
    emulator.control.advance_clock(3600)
    assert emulator.ws.now() - before >= 3600


def test_dump_and_load_state_round_trip(emulator: EmulatorHandle, tmp_path: Path) -> None:
    emulator.control.add_contacts("alice@example.com", [{"names": [{"givenName": "Saved"}]}])
    state = emulator.control.dump_state()
    with running_emulator(Workspace(), tmp_path) as other:
        other.control.load_state(state)
        # the loaded state replaced the service accounts too: register this emulator's key again
        other.ws.data["service_accounts"].update(emulator.ws.data["service_accounts"])
        assert other.ws.user_by_key("alice@example.com") is not None
        people_data = other.ws.people_of("100000000000000000002")["contacts"]
        assert [p["names"][0]["givenName"] for p in people_data.values()] == ["Saved"]
