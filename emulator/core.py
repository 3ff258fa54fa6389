"""Shared types of the emulator: the workspace state, the call context, errors, the handler registry.

The state is kept as Google-shaped JSON (Directory `User`, People `Person`, ...) so that it can be
dumped, loaded and compared as-is. Every handler runs under the workspace lock: the emulator
serialises mutations the way one Google account would.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

_ATOMS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any) -> Any:
    """A deep copy of plain JSON data, several times faster than `copy.deepcopy` (which pays for its memo
    and type dispatch on every node): the emulator copies every contact it stores and answers. Anything
    that is not a dict, list, string, number, bool or None is handed to `copy.deepcopy`. Unlike deepcopy it
    does not keep two references to one object as one: parsed JSON never has them."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else json_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else json_copy(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


class ApiError(Exception):
    """An error answered in Google's JSON error shape.

    People API (one-platform) errors carry `status` and optional `details`; Admin SDK errors carry the
    legacy `errors: [{message, domain, reason}]` list. Both carry `code` and `message`.
    """

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        reason: str | None = None,
        domain: str = "global",
        details: list[JSON] | None = None,
        legacy: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.reason = reason
        self.domain = domain
        self.details = details
        self.legacy = legacy
        self.headers = headers or {}

    def to_json(self) -> JSON:
        err: JSON = {"code": self.code, "message": self.message}
        if self.legacy or self.reason:
            err["errors"] = [
                {"message": self.message, "domain": self.domain, "reason": self.reason or "invalid"}
            ]
        if self.status:
            err["status"] = self.status
        if self.details:
            err["details"] = self.details
        return {"error": err}


def invalid_argument(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


def failed_precondition(
    message: str, reason: str | None = None, domain: str = "people.googleapis.com"
) -> ApiError:
    details = None
    if reason:
        details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": domain}]
    return ApiError(400, message, "FAILED_PRECONDITION", details=details)


def directory_error(code: int, message: str, reason: str) -> ApiError:
    """Admin SDK Directory errors use the legacy shape: {"error": {code, message, errors: [...]}}."""
    return ApiError(code, message, reason=reason, legacy=True)


def empty_state() -> JSON:
    """The layout of the state document (also the --state FILE.json format).

    directory:
      customer: {"id": "C0..."}
      domains: [Directory `Domains` resources]
      users: {user id: Directory `User` (primaryEmail, aliases, name, suspended, archived, isAdmin,
              orgUnitPath, phones, organizations, addresses, relations, includeInGlobalAddressList, ...)}
      deleted_users: {user id: User}       # kept so `undelete`/tests can see them; never answered by get
      photos: {user id: UserPhoto}
      groups: {group id: Directory `Group`}
      members: {group id: [Directory `Member` (id, email, role, type USER|GROUP|CUSTOMER, status)]}
      orgunits: {orgUnitPath: Directory `OrgUnit`}
      roles: {roleId (str): Directory `Role`}
      role_assignments: {roleAssignmentId: Directory `RoleAssignment`
                         (roleId, assignedTo, scopeType, orgUnitId)}
      schemas: {schemaId: Directory `Schema` (schemaName, displayName, fields: [SchemaFieldSpec])};
               users carry their values in `customSchemas` {schemaName: {fieldName: value | [{value}]}}
    domain_contacts: {resourceName: Person}  # domain shared contacts (source DOMAIN_CONTACT)
    people: {user id: {"contacts": {resourceName: Person}, "groups": {resourceName: ContactGroup},
                       "log": [[seq, resourceName]], "seq": int}}
    service_accounts: {client_email: {"public_key": PEM, "client_id": str,
                                      "scopes": [granted domain-wide-delegation scopes] | null (= all)}}
    clock_offset: seconds added to the real clock (tests move time forward, e.g. to expire sync tokens)
    """
    return {
        "directory": {
            "customer": {"id": "C01emul8r"},
            "domains": [],
            "users": {},
            "deleted_users": {},
            "photos": {},
            "groups": {},
            "members": {},
            "orgunits": {},
            "roles": {},
            "role_assignments": {},
            "schemas": {},
        },
        "domain_contacts": {},
        "people": {},
        "service_accounts": {},
        "clock_offset": 0.0,
    }


class Workspace:
    """The whole emulated tenant. All access goes through `lock`."""

    def __init__(self, data: JSON | None = None) -> None:
        self.lock = threading.RLock()
        self.data: JSON = data if data is not None else empty_state()
        # listDirectoryPeople's sync points ({id: snapshot}); server memory, not state: a restarted
        # emulator answers an old directory sync token as expired
        self.directory_snapshots: dict[str, JSON] = {}

    # --- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Workspace:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def dump(self) -> JSON:
        with self.lock:
            return copy.deepcopy(self.data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.dump(), indent=1, ensure_ascii=False), encoding="utf-8")

    def now(self) -> float:
        """The emulated wall clock (epoch seconds); tests advance it through the control API."""
        return time.time() + float(self.data.get("clock_offset", 0.0))

    # --- directory look-ups ------------------------------------------------------------------
    @property
    def directory(self) -> JSON:
        return self.data["directory"]

    def user_by_key(self, key: str) -> JSON | None:
        """users.get semantics: primary address, alias (case-insensitive) or immutable id."""
        users: dict[str, JSON] = self.directory["users"]
        if key in users:
            return users[key]
        k = key.lower()
        for user in users.values():
            if user["primaryEmail"].lower() == k:
                return user
        for user in users.values():
            if k in (a.lower() for a in user.get("aliases", [])):
                return user
        return None

    def user_by_primary(self, email: str) -> JSON | None:
        """OAuth `sub` semantics: only a current primary address (or the id) names a user."""
        users: dict[str, JSON] = self.directory["users"]
        if email in users:
            return users[email]
        e = email.lower()
        return next((u for u in users.values() if u["primaryEmail"].lower() == e), None)

    def people_of(self, user_id: str) -> JSON:
        """The People API data of one user, created empty on first use."""
        return self.data["people"].setdefault(
            user_id, {"contacts": {}, "groups": {}, "log": [], "seq": 0}
        )


@dataclass
class Call:
    """One authorised API call, as a handler sees it."""

    method_id: str  # the discovery id, e.g. "people.people.connections.list"
    path_params: dict[str, str]
    query: dict[str, list[str]]  # every query parameter, repeated ones kept in order
    body: Any  # parsed JSON body, or None
    user: JSON  # the Directory User the access token was issued for
    ws: Workspace
    headers: dict[str, str] = field(default_factory=dict)
    # The server encodes the answer before it releases the workspace lock, so a handler may answer stored
    # values as they are instead of copies: nothing can change them before they are written out.
    live: bool = False
    # The request's parsed `fields` filter (live calls only). A handler that applies it itself, while it
    # renders, sets `fields_applied`; otherwise the server applies it to the answer.
    fields: Any = None
    fields_applied: bool = False

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def q_all(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


Handler = Callable[[Call], Any]  # returns a JSON body (status 200) or (status, body)
HANDLERS: dict[str, Handler] = {}


def handles(method_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[method_id] = fn
        return fn

    return register
