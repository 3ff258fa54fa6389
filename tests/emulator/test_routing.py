"""Routing: the URLs googleapiclient builds reach the right method; everything else fails like Google.
Negative cases use raw HTTP; the rest go through the real client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import google.auth.transport.requests
import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator.routing import route_table
from emulator.testing import EmulatorHandle

CONTACTS = "https://www.googleapis.com/auth/contacts"


def token_for(handle: EmulatorHandle, subject: str = "alice@example.com") -> str:
    creds = service_account.Credentials.from_service_account_file(
        str(handle.credentials_file), scopes=[CONTACTS]
    ).with_subject(subject)
    creds.refresh(google.auth.transport.requests.Request())
    return str(creds.token)


def raw(
    handle: EmulatorHandle,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    all_headers = {"Authorization": f"Bearer {token_for(handle)}", **(headers or {})}
    req = urllib.request.Request(handle.url + path, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_route_table_covers_both_apis() -> None:
    table = route_table()
    route, params = table.match("GET", "/v1/people/c42")
    assert route.method_id == "people.people.get" and params["resourceName"] == "people/c42"
    assert table.match("GET", "/v1/people:batchGet")[0].method_id == "people.people.getBatchGet"
    assert (
        table.match("POST", "/v1/contactGroups/abc/members:modify")[1]["resourceName"] == "contactGroups/abc"
    )
    route, params = table.match("GET", "/admin/directory/v1/users/a%40example.com")
    assert route.method_id == "directory.users.get" and params["userKey"] == "a@example.com"
    route, params = table.match("GET", "/admin/directory/v1/customer/my_customer/orgunits/Sales/East")
    assert route.method_id == "directory.orgunits.get" and params["orgUnitPath"] == "Sales/East"


def test_unknown_path_and_wrong_method_are_404(emulator: EmulatorHandle) -> None:
    status, body = raw(emulator, "GET", "/v1/nothing/here")
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"
    status, body = raw(emulator, "PUT", "/v1/people:batchGet")
    assert status == 404 and body["error"]["code"] == 404


def test_unknown_query_parameter_is_400_like_google(emulator: EmulatorHandle) -> None:
    status, body = raw(emulator, "GET", "/v1/contactGroups?colour=blue")
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "colour": Cannot bind query parameter. '
        "Field 'colour' could not be found in request message."
    )


def test_global_parameters_are_accepted(emulator: EmulatorHandle) -> None:
    status, body = raw(
        emulator, "GET", "/v1/contactGroups?alt=json&prettyPrint=false&quotaUser=x&%24.xgafv=2"
    )
    assert status == 200 and body["contactGroups"]


def test_malformed_json_body_is_400(emulator: EmulatorHandle) -> None:
    status, body = raw(
        emulator, "POST", "/v1/people:createContact", b"{not json", {"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"


def test_route_without_handler_is_501(emulator: EmulatorHandle) -> None:
    status, body = raw(emulator, "GET", "/v1/people:searchContacts?query=a&readMask=names")
    assert status == 501 and body["error"]["status"] == "UNIMPLEMENTED"


def test_control_paths_do_not_leak_into_api_routes(emulator: EmulatorHandle) -> None:
    status, body = raw(emulator, "GET", "/_emulator/nope")
    assert status == 404


def people_service(handle: EmulatorHandle) -> Any:
    creds = service_account.Credentials.from_service_account_file(
        str(handle.credentials_file), scopes=[CONTACTS]
    ).with_subject("alice@example.com")
    return build(
        "people",
        "v1",
        credentials=creds,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": handle.url},
    )


def test_long_get_sent_as_post_with_method_override(emulator: EmulatorHandle) -> None:
    people = people_service(emulator)
    created = (
        people.people()
        .batchCreateContacts(
            body={
                "contacts": [{"contactPerson": {"names": [{"givenName": f"N{i}"}]}} for i in range(200)],
                "readMask": "names",
            }
        )
        .execute()["createdPeople"]
    )
    names = [c["person"]["resourceName"] for c in created]
    request = people.people().getBatchGet(resourceNames=names, personFields="names")
    answer = request.execute()
    assert request.method == "POST" and request.headers["x-http-method-override"] == "GET"
    assert [
        r["requestedResourceName"] for r in answer["responses"]
    ] == names  # repeated params kept, in order
    assert emulator.control.calls()["byMethod"]["people.people.getBatchGet"] == 1


def test_fields_partial_response(emulator: EmulatorHandle) -> None:
    people = people_service(emulator)
    people.people().createContact(body={"names": [{"givenName": "F"}]}).execute()
    answer = (
        people.people()
        .connections()
        .list(resourceName="people/me", personFields="names", fields="connections(resourceName),totalItems")
        .execute()
    )
    assert set(answer) == {"connections", "totalItems"}
    assert set(answer["connections"][0]) == {"resourceName"}


def test_unknown_parameter_through_the_client_is_an_http_error(emulator: EmulatorHandle) -> None:
    people = people_service(emulator)
    request = people.contactGroups().list()
    request.uri += "&bogus=1"
    with pytest.raises(HttpError) as exc:
        request.execute()
    assert exc.value.resp.status == 400
