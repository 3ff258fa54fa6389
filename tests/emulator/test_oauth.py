"""The token endpoint and API authentication, through google-auth and googleapiclient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google.auth.transport.requests
import httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator.core import Workspace
from emulator.keys import generate_key
from emulator.testing import EmulatorHandle, running_emulator

CONTACTS = "https://www.googleapis.com/auth/contacts"
CONTACTS_READONLY = "https://www.googleapis.com/auth/contacts.readonly"
USER_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"


def delegated(handle: EmulatorHandle, subject: str, scopes: list[str], key_file: Path | None = None) -> Any:
    path = str(key_file or handle.credentials_file)
    return service_account.Credentials.from_service_account_file(path, scopes=scopes).with_subject(subject)


def refresh(creds: Any) -> Any:
    creds.refresh(google.auth.transport.requests.Request())
    return creds


def service(handle: EmulatorHandle, api: str, version: str, creds: Any = None, http: Any = None) -> Any:
    return build(
        api,
        version,
        credentials=creds,
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": handle.url},
    )


def error_of(exc: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    return dict(json.loads(exc.value.content)["error"])


def test_token_for_a_current_user(emulator: EmulatorHandle) -> None:
    creds = refresh(delegated(emulator, "alice@example.com", [CONTACTS]))
    assert creds.token.startswith("ya29.")
    assert creds.valid


@pytest.mark.parametrize("subject", ["nobody@example.com", "admin@other.test"])
def test_unknown_subject_is_invalid_grant(emulator: EmulatorHandle, subject: str) -> None:
    with pytest.raises(RefreshError) as exc:
        refresh(delegated(emulator, subject, [CONTACTS]))
    assert "invalid_grant" in str(exc.value) and "Invalid email or User ID" in str(exc.value)


def test_renamed_user_old_address_is_invalid_grant_new_one_works(emulator: EmulatorHandle) -> None:
    emulator.control.rename_user("alice@example.com", "alice.new@example.com")
    with pytest.raises(RefreshError) as exc:
        refresh(delegated(emulator, "alice@example.com", [CONTACTS]))
    assert "invalid_grant" in str(exc.value)
    assert refresh(delegated(emulator, "alice.new@example.com", [CONTACTS])).valid


@pytest.mark.parametrize("action", ["suspend_user", "delete_user"])
def test_suspended_or_deleted_subject_is_invalid_grant(emulator: EmulatorHandle, action: str) -> None:
    getattr(emulator.control, action)("bob@example.com")
    with pytest.raises(RefreshError) as exc:
        refresh(delegated(emulator, "bob@example.com", [CONTACTS]))
    assert "invalid_grant" in str(exc.value)


def test_scope_not_delegated_is_unauthorized_client(small_ws: Workspace, tmp_path: Path) -> None:
    with running_emulator(small_ws, tmp_path, scopes=[CONTACTS_READONLY]) as handle:
        assert refresh(delegated(handle, "alice@example.com", [CONTACTS_READONLY])).valid
        with pytest.raises(RefreshError) as exc:
            refresh(delegated(handle, "alice@example.com", [CONTACTS]))
    assert "unauthorized_client" in str(exc.value)


def test_jwt_signed_with_another_key_is_rejected(emulator: EmulatorHandle, tmp_path: Path) -> None:
    rogue = generate_key(emulator.service_account_email)
    rogue_file = rogue.write(tmp_path / "rogue.json", emulator.url + "/token")
    with pytest.raises(RefreshError) as exc:
        refresh(delegated(emulator, "alice@example.com", [CONTACTS], rogue_file))
    assert "Invalid JWT Signature" in str(exc.value)


def test_unregistered_service_account_is_rejected(emulator: EmulatorHandle, tmp_path: Path) -> None:
    other = generate_key("someone@else.iam.gserviceaccount.com")
    with pytest.raises(RefreshError) as exc:
        refresh(
            delegated(
                emulator,
                "alice@example.com",
                [CONTACTS],
                other.write(tmp_path / "o.json", emulator.url + "/token"),
            )
        )
    assert "invalid_grant" in str(exc.value)


def test_api_call_without_credentials_is_401(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", http=httplib2.Http())
    with pytest.raises(HttpError) as exc:
        people.people().connections().list(resourceName="people/me", personFields="names").execute()
    err = error_of(exc)
    assert err["code"] == 401 and err["status"] == "UNAUTHENTICATED"
    assert err["message"].startswith("Request is missing required authentication credential")


def test_api_call_with_unknown_token_is_401(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", http=httplib2.Http())
    request = people.people().connections().list(resourceName="people/me", personFields="names")
    request.headers["authorization"] = "Bearer ya29.bogus"
    with pytest.raises(HttpError) as exc:
        request.execute()
    assert error_of(exc)["message"].startswith("Request had invalid authentication credentials")


def test_client_refreshes_and_retries_when_the_token_is_forgotten(emulator: EmulatorHandle) -> None:
    creds = delegated(emulator, "alice@example.com", [CONTACTS])
    people = service(emulator, "people", "v1", creds)
    people.contactGroups().list().execute()
    first = creds.token
    emulator.server.tokens.revoke_all()
    people.contactGroups().list().execute()  # google-auth refreshes on 401 and retries once
    assert creds.token != first


def test_token_of_a_user_suspended_later_stops_working(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", delegated(emulator, "bob@example.com", [CONTACTS]))
    people.contactGroups().list().execute()
    emulator.control.suspend_user("bob@example.com")
    with pytest.raises((HttpError, RefreshError)):
        people.contactGroups().list().execute()


def test_directory_needs_an_admin_subject(emulator: EmulatorHandle) -> None:
    as_alice = service(
        emulator, "admin", "directory_v1", delegated(emulator, "alice@example.com", [USER_READONLY])
    )
    with pytest.raises(HttpError) as exc:
        as_alice.users().get(userKey="bob@example.com").execute()
    err = error_of(exc)
    assert err["code"] == 403
    assert err["errors"][0]["reason"] == "forbidden"
    assert err["message"] == "Not Authorized to access this resource/api"


def test_directory_needs_a_directory_scope(emulator: EmulatorHandle) -> None:
    as_admin = service(
        emulator, "admin", "directory_v1", delegated(emulator, "admin@example.com", [CONTACTS])
    )
    with pytest.raises(HttpError) as exc:
        as_admin.users().get(userKey="bob@example.com").execute()
    err = error_of(exc)
    assert err["code"] == 403 and err["errors"][0]["reason"] == "insufficientPermissions"


def test_people_needs_a_contacts_scope(emulator: EmulatorHandle) -> None:
    people = service(emulator, "people", "v1", delegated(emulator, "alice@example.com", [USER_READONLY]))
    with pytest.raises(HttpError) as exc:
        people.contactGroups().list().execute()
    err = error_of(exc)
    assert err["code"] == 403 and err["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
