"""Admin SDK Directory v1, read-only, as the configured Workspace admin."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import Any

from sync_core.google.calls import Executor
from sync_core.google.errors import NotFound

JSON = dict[str, Any]

USERS_PAGE = 500
MEMBERS_PAGE = 200


class DirectoryClient:
    def __init__(self, service: Any, executor: Executor, *, customer: str = "my_customer") -> None:
        self._svc = service
        self._ex = executor
        self.customer = customer

    def _pages(self, make_request: Any, method: str, items_key: str, **params: Any) -> Iterator[JSON]:
        token: str | None = None
        while True:
            if token:
                params["pageToken"] = token
            page = self._ex.execute(make_request(**params), method)
            yield from page.get(items_key, [])
            token = page.get("nextPageToken")
            if not token:
                return

    # --- users -----------------------------------------------------------------------------------
    def get_user(self, user_key: str) -> JSON | None:
        """By primary address, alias or immutable id; None when Google knows no such user."""
        try:
            return dict(self._ex.execute(self._svc.users().get(userKey=user_key), "directory.users.get"))
        except NotFound:
            return None

    def iter_users(
        self, *, domain: str | None = None, query: str | None = None, custom_schemas: Sequence[str] = ()
    ) -> Iterator[JSON]:
        """`custom_schemas`: the custom schemas whose values each user should carry (`customSchemas`); none
        asks for the basic projection, as every read did before field mappings."""
        params: JSON = {"maxResults": USERS_PAGE, "orderBy": "email"}
        if custom_schemas:
            params["projection"] = "custom"
            params["customFieldMask"] = ",".join(custom_schemas)
        if domain:
            params["domain"] = domain
        else:
            params["customer"] = self.customer
        if query:
            params["query"] = query
        yield from self._pages(self._svc.users().list, "directory.users.list", "users", **params)

    def get_photo(self, user_key: str) -> bytes | None:
        """The user's directory photo, or None when they have none."""
        try:
            photo = self._ex.execute(self._svc.users().photos().get(userKey=user_key), "directory.users.photos.get")
        except NotFound:
            return None
        data = str(photo.get("photoData", ""))
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)) if data else None

    # --- custom user schemas -----------------------------------------------------------------------
    def list_schemas(self) -> list[JSON]:
        """The customer's custom user schemas (each with its `fields`): needs admin.directory.userschema.readonly."""
        answer = self._ex.execute(self._svc.schemas().list(customerId=self.customer), "directory.schemas.list")
        return list(answer.get("schemas", []))

    # --- groups, roles, OUs, domains ---------------------------------------------------------------
    def iter_groups(self) -> Iterator[JSON]:
        yield from self._pages(
            self._svc.groups().list, "directory.groups.list", "groups", customer=self.customer, maxResults=200
        )

    def get_group(self, group_key: str) -> JSON | None:
        try:
            return dict(self._ex.execute(self._svc.groups().get(groupKey=group_key), "directory.groups.get"))
        except NotFound:
            return None

    def iter_group_members(self, group_key: str) -> Iterator[JSON]:
        """Every member, nested groups expanded into their users (includeDerivedMembership)."""
        yield from self._pages(
            self._svc.members().list,
            "directory.members.list",
            "members",
            groupKey=group_key,
            includeDerivedMembership=True,
            maxResults=MEMBERS_PAGE,
        )

    def list_roles(self) -> list[JSON]:
        return list(
            self._pages(self._svc.roles().list, "directory.roles.list", "items", customer=self.customer)
        )

    def iter_role_assignments(self, role_id: str) -> Iterator[JSON]:
        yield from self._pages(
            self._svc.roleAssignments().list,
            "directory.roleAssignments.list",
            "items",
            customer=self.customer,
            roleId=role_id,
        )

    def list_orgunits(self) -> list[JSON]:
        answer = self._ex.execute(
            self._svc.orgunits().list(customerId=self.customer, type="all"), "directory.orgunits.list"
        )
        return list(answer.get("organizationUnits", []))

    def list_domains(self) -> list[JSON]:
        answer = self._ex.execute(self._svc.domains().list(customer=self.customer), "directory.domains.list")
        return list(answer.get("domains", []))
