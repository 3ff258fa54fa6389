"""Test and demo controls under `/_emulator/...` (no auth; no Google client calls these), and
`EmulatorControl`, a small urllib client for them.

  GET|PUT /_emulator/state                      dump / replace the whole state document
  POST    /_emulator/users                      {"primaryEmail", "name": {"givenName", "familyName"},
                                                "orgUnitPath"?} a new user (a hire) with a new id
  POST    /_emulator/users/{key}:rename         {"newPrimaryEmail"}; the old address stays as an alias
  POST    /_emulator/users/{key}:suspend | :unsuspend | :delete
  POST    /_emulator/users/{key}:update         {Directory User fields} replaced field by field (externalIds,
                                                locations, organizations, relations, phones, ...)
  PUT     /_emulator/users/{key}/customSchemas  {schemaName: {field: value} | null} a user's custom values
  POST    /_emulator/schemas                    {Schema} create a custom user schema
  PATCH | DELETE /_emulator/schemas/{key}       {displayName?, fields?} edit (by id or name) / delete
  GET | POST /_emulator/domain-contacts         list / {"contacts": [Person]} create domain shared contacts
  PATCH | DELETE /_emulator/domain-contacts/{id}  {Person fields} edit (new etag, update time) / delete
  POST    /_emulator/people/{userKey}/contacts  {"contacts": [Person]} created as that user
  POST    /_emulator/people/{userKey}/groups    {"name", "clientData"?} a user contact group
  POST    /_emulator/faults                     {"method", "count", "code", "retryAfter"?, "user"?}
  DELETE  /_emulator/faults
  POST    /_emulator/latency                    {"ms"}
  POST    /_emulator/clock                      {"advanceSeconds"}
  GET|DELETE /_emulator/calls                   call counts per method id and per (method id, user); faulted
                                                and quotaRejected calls counted apart
  GET|PUT /_emulator/calls/log                  every API call since the last reset: user, method, when it was
                                                received, metered and answered, quota units, refused;
                                                PUT {"recording": bool} starts or stops keeping it (off by default)
  GET     /_emulator/quotas                     People quota config and the units each user spent in the window
  PUT     /_emulator/quotas                     {"enabled", "windowSeconds", "limits": {key: n}, "projectNumber"}
                                                replaces the config (absent fields: Google's defaults)
  DELETE  /_emulator/quotas/usage               forget every spent unit
  GET     /_emulator/photos/{userId}/{photoId}  a contact photo's bytes (the URL in `photos[].url`)
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from .core import JSON, ApiError, Workspace, invalid_argument, not_found
from .directory_people import (
    create_domain_contact,
    delete_domain_contact,
    domain_contacts,
    update_domain_contact,
)
from .people_store import create_contact, create_group, rfc3339, user_store
from .quota import QuotaConfig
from .runtime import Fault
from .schema_store import create_schema, delete_schema, set_custom_values, update_schema

if TYPE_CHECKING:
    from .server import EmulatorServer, Response


def _user(ws: Workspace, key: str) -> JSON:
    user = ws.user_by_key(key)
    if user is None:
        raise not_found(f"User not found: {key}")
    return user


def rename_user(ws: Workspace, key: str, new_primary: str) -> JSON:
    with ws.lock:
        user = _user(ws, key)
        if not new_primary or "@" not in new_primary:
            raise invalid_argument("newPrimaryEmail must be an email address.")
        other = ws.user_by_key(new_primary)
        if other is not None and other["id"] != user["id"]:
            raise ApiError(409, "Entity already exists.", "ALREADY_EXISTS")
        old = user["primaryEmail"]
        aliases = [a for a in user.get("aliases", []) if a.lower() != new_primary.lower()]
        if old.lower() != new_primary.lower():
            aliases.append(old)
        user["primaryEmail"] = new_primary
        user["aliases"] = aliases
        for entry in user.get("emails", []):
            if entry.get("primary"):
                entry["address"] = new_primary
        return user


def add_user(ws: Workspace, fields: JSON) -> JSON:
    """A hire: a new Directory user with a fresh 21-digit id, in `orgUnitPath` (default `/`), its address
    unused by any user's primary address or alias."""
    email = fields.get("primaryEmail")
    name = fields.get("name")
    if not isinstance(email, str) or "@" not in email:
        raise invalid_argument("primaryEmail must be an email address.")
    if not (isinstance(name, dict) and isinstance(name.get("givenName"), str)
            and isinstance(name.get("familyName"), str)):
        raise invalid_argument("name needs givenName and familyName.")
    unknown = sorted(set(fields) - UPDATABLE_USER_FIELDS - {"primaryEmail"})
    if unknown:
        raise invalid_argument(f"Cannot set {', '.join(unknown)} on a new user.")
    with ws.lock:
        if ws.user_by_key(email) is not None:
            raise ApiError(409, "Entity already exists.", "ALREADY_EXISTS")
        users = ws.directory["users"]
        user_id = str(10**20 + len(users))
        while user_id in users:
            user_id = str(int(user_id) + 1)
        full = f"{name['givenName']} {name['familyName']}"
        user = {**fields, "id": user_id, "name": {**name, "fullName": full}, "aliases": [],
                "orgUnitPath": fields.get("orgUnitPath") or "/", "creationTime": rfc3339(ws)}
        users[user_id] = user
        return user


def set_suspended(ws: Workspace, key: str, suspended: bool) -> JSON:
    with ws.lock:
        user = _user(ws, key)
        user["suspended"] = suspended
        if suspended:
            user["suspensionReason"] = "ADMIN"
        else:
            user.pop("suspensionReason", None)
        return user


def delete_user(ws: Workspace, key: str) -> JSON:
    with ws.lock:
        user = _user(ws, key)
        directory = ws.directory
        del directory["users"][user["id"]]
        directory["deleted_users"][user["id"]] = user
        for group_id, members in directory["members"].items():
            directory["members"][group_id] = [m for m in members if m.get("id") != user["id"]]
        return user


# Directory user fields a test may set with `users/{key}:update` (identity, status and admin rights have
# their own controls or come from the state).
UPDATABLE_USER_FIELDS = frozenset(
    {"name", "phones", "organizations", "addresses", "relations", "externalIds", "locations", "ims",
     "websites", "keywords", "gender", "languages", "posixAccounts", "sshPublicKeys", "notes",
     "includeInGlobalAddressList", "orgUnitPath", "recoveryEmail", "recoveryPhone"}
)


def update_user(ws: Workspace, key: str, fields: JSON) -> JSON:
    """Replace the named Directory fields of a user (null removes one)."""
    with ws.lock:
        user = _user(ws, key)
        unknown = sorted(set(fields) - UPDATABLE_USER_FIELDS)
        if unknown:
            raise invalid_argument(
                f"Cannot set {', '.join(unknown)} here (settable: {', '.join(sorted(UPDATABLE_USER_FIELDS))})."
            )
        for name, value in fields.items():
            if value is None:
                user.pop(name, None)
            else:
                user[name] = value
        return user


def _body(raw: bytes) -> JSON:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise invalid_argument(f"Invalid JSON payload received. {exc}") from exc
    if not isinstance(data, dict):
        raise invalid_argument("Expected a JSON object.")
    return data


def _photo(server: EmulatorServer, user_id: str, photo_id: str) -> Response:
    from .server import Response

    with server.ws.lock:
        store = server.ws.data["people"].get(user_id, {})
        encoded = store.get("photos", {}).get(f"people/{photo_id}")
    if encoded is None:
        raise not_found()
    data = base64.b64decode(encoded)
    content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(200, data, content_type)


def handle(
    server: EmulatorServer, method: str, path: str, query: dict[str, list[str]], raw: bytes
) -> Response:
    from .server import Response

    try:
        return _dispatch(server, method, unquote(path[len("/_emulator/") :]), raw) or Response.error(
            not_found(f"No emulator control {method} {path}")
        )
    except ApiError as err:
        return Response.error(err)


def _dispatch(server: EmulatorServer, method: str, path: str, raw: bytes) -> Response | None:
    from .server import Response

    ws, runtime = server.ws, server.runtime
    ok = Response.json
    if path == "state" and method == "GET":
        return ok(200, ws.dump())
    if path == "state" and method == "PUT":
        new_state = _body(raw)
        with ws.lock:
            ws.data.clear()
            ws.data.update(new_state)
        return ok(200, {})
    if path == "users" and method == "POST":
        return ok(200, add_user(ws, _body(raw)))
    if m := re.fullmatch(r"users/(.+):(rename|suspend|unsuspend|delete|update)", path):
        key, action = m.groups()
        if method != "POST":
            return None
        if action == "update":
            return ok(200, update_user(ws, key, _body(raw)))
        if action == "rename":
            return ok(200, rename_user(ws, key, str(_body(raw).get("newPrimaryEmail", ""))))
        if action == "delete":
            return ok(200, delete_user(ws, key))
        return ok(200, set_suspended(ws, key, action == "suspend"))
    if (m := re.fullmatch(r"people/(.+)/(contacts|groups)", path)) and method == "POST":
        body = _body(raw)
        with ws.lock:
            user = _user(ws, m.group(1))
            if m.group(2) == "groups":
                return ok(
                    200, create_group(ws, user["id"], str(body.get("name", "")), body.get("clientData"))
                )
            user_store(ws, user["id"])
            created = [create_contact(ws, user["id"], p) for p in body.get("contacts", [])]
        return ok(200, {"contacts": created})
    if (m := re.fullmatch(r"users/(.+)/customSchemas", path)) and method == "PUT":
        with ws.lock:
            return ok(200, set_custom_values(ws, _user(ws, m.group(1)), _body(raw)))
    if path == "schemas" and method == "POST":
        return ok(200, create_schema(ws, _body(raw)))
    if m := re.fullmatch(r"schemas/([^/]+)", path):
        if method == "PATCH":
            return ok(200, update_schema(ws, m.group(1), _body(raw)))
        if method == "DELETE":
            delete_schema(ws, m.group(1))
            return ok(200, {})
    if path == "domain-contacts" and method == "GET":
        with ws.lock:
            return ok(200, {"contacts": list(domain_contacts(ws).values())})
    if path == "domain-contacts" and method == "POST":
        people = _body(raw).get("contacts")
        if not isinstance(people, list):
            raise invalid_argument('Expected {"contacts": [Person, ...]}.')
        with ws.lock:  # all or nothing: a bad contact leaves the domain as it was
            before = dict(domain_contacts(ws))
            try:
                created = [create_domain_contact(ws, p) for p in people]
            except ApiError:
                domain_contacts(ws).clear()
                domain_contacts(ws).update(before)
                raise
        return ok(200, {"contacts": created})
    if m := re.fullmatch(r"domain-contacts/(?:people/)?([^/]+)", path):
        if method == "PATCH":
            return ok(200, update_domain_contact(ws, m.group(1), _body(raw)))
        if method == "DELETE":
            return ok(200, delete_domain_contact(ws, m.group(1)))
    if (m := re.fullmatch(r"photos/([^/]+)/([^/]+)", path)) and method == "GET":
        return _photo(server, m.group(1), m.group(2))
    if path == "faults" and method == "POST":
        body = _body(raw)
        code = int(body.get("code", 429))
        retry = body.get("retryAfter")
        runtime.add_fault(
            Fault(
                str(body.get("method", "*")),
                int(body.get("count", 1)),
                code,
                float(retry) if retry is not None else None,
                body.get("user"),
            )
        )
        return ok(200, {})
    if path == "faults" and method == "DELETE":
        runtime.clear_faults()
        return ok(200, {})
    if path == "latency" and method == "POST":
        runtime.latency_ms = int(_body(raw).get("ms", 0))
        return ok(200, {"ms": runtime.latency_ms})
    if path == "clock" and method == "POST":
        with ws.lock:
            ws.data["clock_offset"] = float(ws.data.get("clock_offset", 0.0)) + float(
                _body(raw).get("advanceSeconds", 0)
            )
            return ok(200, {"clockOffset": ws.data["clock_offset"], "now": ws.now()})
    if path == "calls" and method == "GET":
        return ok(200, runtime.calls())
    if path == "calls" and method == "DELETE":
        runtime.reset_calls()
        return ok(200, {})
    if path == "calls/log" and method == "GET":
        return ok(200, runtime.call_log())
    if path == "calls/log" and method == "PUT":
        runtime.recording = bool(_body(raw).get("recording", True))
        return ok(200, {"recording": runtime.recording})
    if path == "quotas" and method == "GET":
        return ok(200, _quotas(server))
    if path == "quotas" and method == "PUT":
        server.quotas.configure(QuotaConfig.from_json(_body(raw)))
        return ok(200, _quotas(server))
    if path == "quotas/usage" and method == "DELETE":
        server.quotas.reset()
        return ok(200, {})
    return None


def _quotas(server: EmulatorServer) -> JSON:
    """The config and, per user id, the units spent inside each metric's window now."""
    usage = server.quotas.usage()
    with server.ws.lock:
        users = server.ws.directory["users"]
        by_user = {
            user_id: {"email": users[user_id]["primaryEmail"] if user_id in users else None, "units": units}
            for user_id, units in usage.items()
        }
    return {**server.quotas.config.to_json(), "usage": by_user}


class EmulatorControl:
    """Drives the `/_emulator` controls of a running emulator (tests and demos)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.base_url}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")
            raise RuntimeError(f"{method} /_emulator/{path} -> {err.code}: {detail}") from err

    def add_user(self, primary_email: str, given_name: str, family_name: str, org_unit_path: str = "/") -> JSON:
        """A hire: a new Directory user (a new id)."""
        return self._request("POST", "users", {
            "primaryEmail": primary_email, "orgUnitPath": org_unit_path,
            "name": {"givenName": given_name, "familyName": family_name},
        })

    def rename_user(self, key: str, new_primary_email: str) -> JSON:
        return self._request("POST", f"users/{quote(key)}:rename", {"newPrimaryEmail": new_primary_email})

    def suspend_user(self, key: str) -> JSON:
        return self._request("POST", f"users/{quote(key)}:suspend", {})

    def unsuspend_user(self, key: str) -> JSON:
        return self._request("POST", f"users/{quote(key)}:unsuspend", {})

    def delete_user(self, key: str) -> JSON:
        return self._request("POST", f"users/{quote(key)}:delete", {})

    def update_user(self, key: str, fields: JSON) -> JSON:
        """Replace Directory fields of a user (externalIds, locations, organizations, relations, ...)."""
        return self._request("POST", f"users/{quote(key)}:update", fields)

    def set_custom_schema_values(self, key: str, values: JSON) -> JSON:
        """{schemaName: {field: value} | None}: set (or clear) a user's values of those schemas."""
        return self._request("PUT", f"users/{quote(key)}/customSchemas", values)

    def add_schema(self, schema: JSON) -> JSON:
        return self._request("POST", "schemas", schema)

    def update_schema(self, key: str, changes: JSON) -> JSON:
        return self._request("PATCH", f"schemas/{quote(key)}", changes)

    def delete_schema(self, key: str) -> None:
        self._request("DELETE", f"schemas/{quote(key)}")

    def domain_contacts(self) -> list[JSON]:
        return list(self._request("GET", "domain-contacts")["contacts"])

    def add_domain_contacts(self, contacts: list[JSON]) -> list[JSON]:
        return list(self._request("POST", "domain-contacts", {"contacts": contacts})["contacts"])

    def update_domain_contact(self, resource_name: str, fields: JSON) -> JSON:
        return self._request("PATCH", f"domain-contacts/{resource_name.removeprefix('people/')}", fields)

    def delete_domain_contact(self, resource_name: str) -> None:
        self._request("DELETE", f"domain-contacts/{resource_name.removeprefix('people/')}")

    def add_contacts(self, user_key: str, contacts: list[JSON]) -> list[JSON]:
        return list(
            self._request("POST", f"people/{quote(user_key)}/contacts", {"contacts": contacts})["contacts"]
        )

    def add_group(self, user_key: str, name: str, client_data: list[JSON] | None = None) -> JSON:
        body: JSON = {"name": name}
        if client_data:
            body["clientData"] = client_data
        return self._request("POST", f"people/{quote(user_key)}/groups", body)

    def inject_fault(
        self,
        method: str,
        count: int = 1,
        code: int = 429,
        *,
        retry_after: float | None = None,
        user: str | None = None,
    ) -> None:
        body: JSON = {"method": method, "count": count, "code": code}
        if retry_after is not None:
            body["retryAfter"] = retry_after
        if user is not None:
            body["user"] = user
        self._request("POST", "faults", body)

    def clear_faults(self) -> None:
        self._request("DELETE", "faults")

    def set_latency(self, ms: int) -> None:
        self._request("POST", "latency", {"ms": ms})

    def advance_clock(self, seconds: float) -> None:
        self._request("POST", "clock", {"advanceSeconds": seconds})

    def calls(self) -> JSON:
        return self._request("GET", "calls")

    def reset_calls(self) -> None:
        self._request("DELETE", "calls")

    def record_calls(self, recording: bool = True) -> None:
        """Start (or stop) keeping the call log that `call_log` returns."""
        self._request("PUT", "calls/log", {"recording": recording})

    def call_log(self) -> list[JSON]:
        """Every API call since the last `reset_calls` while recording, in arrival order: {"user", "method",
        "received" (request read), "started" (metered), "ended" (answer written): epoch seconds on the emulated
        clock, "units": {metric key: n}, "refused"}."""
        return list(self._request("GET", "calls/log")["calls"])

    def quotas(self) -> JSON:
        """{"enabled", "windowSeconds", "limits", "projectNumber", "metrics", "usage": {userId: {email, units}}}"""
        return self._request("GET", "quotas")

    def set_quotas(
        self,
        *,
        enabled: bool = True,
        window_seconds: float = 60.0,
        limits: dict[str, int] | None = None,
        project_number: str | None = None,
    ) -> JSON:
        """Replace the quota config; limits not named take Google's defaults."""
        body: JSON = {"enabled": enabled, "windowSeconds": window_seconds, "limits": limits or {}}
        if project_number is not None:
            body["projectNumber"] = project_number
        return self._request("PUT", "quotas", body)

    def reset_quota_usage(self) -> None:
        self._request("DELETE", "quotas/usage")

    def dump_state(self) -> JSON:
        return self._request("GET", "state")

    def load_state(self, state: JSON) -> None:
        self._request("PUT", "state", state)
