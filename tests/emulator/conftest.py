"""Fixtures for the emulator's tests.

`emulator` yields an `EmulatorHandle` (see emulator/testing.py) over a small workspace:
  domain example.com; users admin@example.com (isAdmin), alice@example.com, bob@example.com
  (ids "100000000000000000001".."...03"); the service account may use every scope.
People quotas are off unless a test asks for them by parametrizing the fixture indirectly:
  @pytest.mark.parametrize("emulator", [QuotaConfig.google(window_seconds=5)], indirect=True)
(`people_as`/`people` then talk to that emulator).
`small_ws` is a fresh copy of that workspace for tests that start their own emulator.
`people_as(email, scopes=...)` builds a real googleapiclient People v1 service impersonating a user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build

from emulator.core import JSON, Workspace
from emulator.quota import QuotaConfig
from emulator.testing import EmulatorHandle, running_emulator

CONTACTS = "https://www.googleapis.com/auth/contacts"
CONTACTS_READONLY = "https://www.googleapis.com/auth/contacts.readonly"
DIRECTORY_USER_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"


def make_user(user_id: str, email: str, given: str, family: str, *, admin: bool = False) -> JSON:
    return {
        "kind": "admin#directory#user",
        "id": user_id,
        "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": f"{given} {family}"},
        "isAdmin": admin,
        "isDelegatedAdmin": False,
        "suspended": False,
        "archived": False,
        "aliases": [],
        "emails": [{"address": email, "primary": True}],
        "orgUnitPath": "/",
        "customerId": "C01emul8r",
        "includeInGlobalAddressList": True,
    }


def small_workspace() -> Workspace:
    ws = Workspace()
    directory = ws.directory
    directory["domains"] = [{"domainName": "example.com", "isPrimary": True, "verified": True}]
    for i, (email, given, family, admin) in enumerate(
        [
            ("admin@example.com", "Ada", "Admin", True),
            ("alice@example.com", "Alice", "Archer", False),
            ("bob@example.com", "Bob", "Baker", False),
        ],
        start=1,
    ):
        user_id = f"1000000000000000000{i:02d}"
        directory["users"][user_id] = make_user(user_id, email, given, family, admin=admin)
    return ws


@pytest.fixture
def small_ws() -> Workspace:
    """A fresh copy of the small workspace, for tests that start their own emulator."""
    return small_workspace()


@pytest.fixture
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorHandle]:
    quotas: QuotaConfig | None = getattr(request, "param", None)
    with running_emulator(small_workspace(), tmp_path, quotas=quotas) as handle:
        yield handle


def credentials_for(handle: EmulatorHandle, subject: str, scopes: list[str]) -> Any:
    creds = service_account.Credentials.from_service_account_file(str(handle.credentials_file), scopes=scopes)
    return creds.with_subject(subject)


def build_service(handle: EmulatorHandle, api: str, version: str, subject: str, scopes: list[str]) -> Any:
    return build(
        api,
        version,
        credentials=credentials_for(handle, subject, scopes),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": handle.url},
    )


@pytest.fixture
def people_as(emulator: EmulatorHandle) -> Callable[..., Any]:
    def make(email: str = "alice@example.com", scopes: list[str] | None = None) -> Any:
        return build_service(emulator, "people", "v1", email, scopes or [CONTACTS])

    return make


@pytest.fixture
def people(people_as: Callable[..., Any]) -> Any:
    """People v1 as alice@example.com with the contacts scope."""
    return people_as()
