"""Custom user schemas: schemas.list/get through the real Directory client, users' customSchemas by
projection (basic, custom + customFieldMask, full) and view, and the controls that set them up."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from emulator.testing import EmulatorHandle
from tests.emulator.conftest import DIRECTORY_USER_READONLY, build_service

USERSCHEMA_READONLY = "https://www.googleapis.com/auth/admin.directory.userschema.readonly"

EMPLOYMENT: dict[str, Any] = {
    "schemaName": "Employment",
    "displayName": "Employment data",
    "fields": [
        {"fieldName": "EmployeeNumber", "fieldType": "INT64"},
        {"fieldName": "Division", "fieldType": "STRING"},
        {"fieldName": "Salary", "fieldType": "DOUBLE", "readAccessType": "ADMINS_AND_SELF"},
        {"fieldName": "Languages", "fieldType": "STRING", "multiValued": True},
    ],
}
TRAVEL: dict[str, Any] = {"schemaName": "Travel", "fields": [{"fieldName": "Hub", "fieldType": "STRING"}]}


def admin(handle: EmulatorHandle, scopes: list[str]) -> Any:
    return build_service(handle, "admin", "directory_v1", "admin@example.com", scopes)


def setup(handle: EmulatorHandle) -> None:
    handle.control.add_schema(EMPLOYMENT)
    handle.control.add_schema(TRAVEL)
    handle.control.set_custom_schema_values("alice@example.com", {
        "Employment": {"EmployeeNumber": 1001, "Division": "Sales", "Salary": 1.5,
                       "Languages": [{"value": "fr", "type": "work"}, {"value": "de"}]},
        "Travel": {"Hub": "LHR"},
    })


def test_schemas_list_and_get_answer_googles_shape(emulator: EmulatorHandle) -> None:
    directory = admin(emulator, [USERSCHEMA_READONLY])
    empty = directory.schemas().list(customerId="my_customer").execute()
    assert empty["kind"] == "admin#directory#schemas" and "schemas" not in empty
    setup(emulator)
    listed = directory.schemas().list(customerId="my_customer").execute()
    assert [s["schemaName"] for s in listed["schemas"]] == ["Employment", "Travel"]
    employment = listed["schemas"][0]
    assert employment["kind"] == "admin#directory#schema" and employment["schemaId"] and employment["etag"]
    assert employment["displayName"] == "Employment data"
    fields = {f["fieldName"]: f for f in employment["fields"]}
    assert fields["Languages"]["multiValued"] is True and fields["Division"]["multiValued"] is False
    assert fields["Salary"]["readAccessType"] == "ADMINS_AND_SELF"
    assert fields["Division"]["readAccessType"] == "ALL_DOMAIN_USERS"
    assert all(f["kind"] == "admin#directory#schema#fieldspec" and f["fieldId"] for f in fields.values())
    by_name = directory.schemas().get(customerId="my_customer", schemaKey="Travel").execute()
    by_id = directory.schemas().get(customerId="my_customer", schemaKey=by_name["schemaId"]).execute()
    assert by_name == by_id
    with pytest.raises(HttpError) as missing:
        directory.schemas().get(customerId="my_customer", schemaKey="Nope").execute()
    assert missing.value.resp.status == 404
    with pytest.raises(HttpError) as bad_customer:
        directory.schemas().list(customerId="C999").execute()
    assert bad_customer.value.resp.status == 400


def test_schemas_list_needs_a_userschema_scope(emulator: EmulatorHandle) -> None:
    with pytest.raises(HttpError) as exc:
        admin(emulator, [DIRECTORY_USER_READONLY]).schemas().list(customerId="my_customer").execute()
    assert exc.value.resp.status == 403
    assert "insufficient authentication scopes" in str(exc.value.reason)


def test_schemas_list_needs_an_administrator(emulator: EmulatorHandle) -> None:
    bob = build_service(emulator, "admin", "directory_v1", "bob@example.com", [USERSCHEMA_READONLY])
    with pytest.raises(HttpError) as exc:
        bob.schemas().list(customerId="my_customer").execute()
    assert exc.value.resp.status == 403


def test_projection_decides_which_custom_schemas_a_user_carries(emulator: EmulatorHandle) -> None:
    setup(emulator)
    users = admin(emulator, [DIRECTORY_USER_READONLY]).users()
    basic = users.get(userKey="alice@example.com").execute()
    assert "customSchemas" not in basic
    full = users.get(userKey="alice@example.com", projection="full").execute()["customSchemas"]
    assert set(full) == {"Employment", "Travel"}
    assert full["Employment"]["Languages"] == [{"value": "fr", "type": "work"}, {"value": "de"}]
    custom = users.get(userKey="alice@example.com", projection="custom", customFieldMask="Travel").execute()
    assert custom["customSchemas"] == {"Travel": {"Hub": "LHR"}}
    listed = users.list(customer="my_customer", projection="custom", customFieldMask="Employment").execute()
    alice = next(u for u in listed["users"] if u["primaryEmail"] == "alice@example.com")
    assert set(alice["customSchemas"]) == {"Employment"}
    assert all("customSchemas" not in u for u in listed["users"] if u["primaryEmail"] != "alice@example.com")
    with pytest.raises(HttpError) as exc:
        users.get(userKey="alice@example.com", projection="custom").execute()
    assert exc.value.resp.status == 400


def test_domain_public_view_shows_only_fields_every_user_may_read(emulator: EmulatorHandle) -> None:
    setup(emulator)
    users = admin(emulator, [DIRECTORY_USER_READONLY]).users()
    public = users.get(userKey="alice@example.com", projection="full", viewType="domain_public").execute()
    assert "Salary" not in public["customSchemas"]["Employment"]
    assert public["customSchemas"]["Employment"]["Division"] == "Sales"


def test_users_carry_directory_mapping_fields_as_stored(emulator: EmulatorHandle) -> None:
    fields = {
        "externalIds": [{"value": "E-1001", "type": "organization"}],
        "locations": [{"type": "desk", "area": "HQ", "buildingId": "B1", "floorName": "3", "deskCode": "3-14"}],
        "organizations": [{"name": "Example Corp", "costCenter": "CC-42", "primary": True}],
        "relations": [{"value": "admin@example.com", "type": "manager"}],
    }
    emulator.control.update_user("alice@example.com", fields)
    user = admin(emulator, [DIRECTORY_USER_READONLY]).users().get(userKey="alice@example.com").execute()
    for name, value in fields.items():
        assert user[name] == value
    with pytest.raises(RuntimeError, match="400"):
        emulator.control.update_user("alice@example.com", {"isAdmin": True})


def test_schema_controls_validate_and_edits_reach_users(emulator: EmulatorHandle) -> None:
    setup(emulator)
    control = emulator.control
    with pytest.raises(RuntimeError, match="409"):
        control.add_schema(TRAVEL)
    with pytest.raises(RuntimeError, match="400"):
        control.add_schema({"schemaName": "Bad", "fields": [{"fieldName": "X", "fieldType": "TEXT"}]})
    for bad in (
        {"Employment": {"EmployeeNumber": "twelve"}},
        {"Employment": {"Nope": "x"}},
        {"Employment": {"Languages": "fr"}},
        {"Unknown": {"X": "y"}},
    ):
        with pytest.raises(RuntimeError, match="400"):
            control.set_custom_schema_values("alice@example.com", bad)
    control.update_schema("Employment", {"fields": [{"fieldName": "Division", "fieldType": "STRING"}]})
    control.delete_schema("Travel")
    users = admin(emulator, [DIRECTORY_USER_READONLY]).users()
    alice = users.get(userKey="alice@example.com", projection="full").execute()
    assert alice["customSchemas"] == {"Employment": {"Division": "Sales"}}
    control.set_custom_schema_values("alice@example.com", {"Employment": None})
    assert "customSchemas" not in users.get(userKey="alice@example.com", projection="full").execute()


def test_the_demo_tenant_has_a_schema_values_mapping_fields_and_domain_contacts(tmp_path: Any) -> None:
    from emulator.core import Workspace
    from emulator.seed import seed_workspace
    from emulator.testing import running_emulator

    ws = Workspace()
    info = seed_workspace(ws, contacts=5)
    with running_emulator(ws, tmp_path) as handle:
        directory = admin(handle, [USERSCHEMA_READONLY, DIRECTORY_USER_READONLY])
        schemas = directory.schemas().list(customerId="my_customer").execute()["schemas"]
        assert [s["schemaName"] for s in schemas] == [info.custom_schema_name]
        alice = directory.users().get(userKey=info.source_email, projection="full").execute()
        assert alice["customSchemas"][info.custom_schema_name]["Division"] == "Sales"
        assert alice["externalIds"][0]["type"] == "organization" and alice["locations"][0]["deskCode"]
        assert alice["organizations"][0]["costCenter"] == "CC-Sales"
        people = build_service(handle, "people", "v1", info.source_email,
                               ["https://www.googleapis.com/auth/directory.readonly"])
        listed = people.people().listDirectoryPeople(
            sources=["DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"], readMask="names").execute()["people"]
        assert len(listed) == info.domain_contact_count
